using QnnLab.Hil;

namespace QnnLab.Hil.Tests;

/// <summary>What the launchers read from their child processes.</summary>
[TestClass]
public sealed class LauncherParsingTests
{
    [TestMethod]
    [DataRow("char device redirected to /dev/pts/7 (label serial0)", "/dev/pts/7")]
    [DataRow("qemu-system-arm: -serial pty: char device redirected to /dev/pts/12 (label serial0)", "/dev/pts/12")]
    [DataRow("char device redirected to /dev/pts/3", "/dev/pts/3")]
    public void QemuPty_IsTheDeviceNamedInItsAnnouncement(string line, string pty)
    {
        Assert.AreEqual(pty, BoardSession.ParseQemuPty(line));
    }

    [TestMethod]
    public void QemuLinesWithoutTheAnnouncement_NameNoPty()
    {
        Assert.IsNull(BoardSession.ParseQemuPty("qemu-system-arm: warning: nic lan9118.0 has no peer"));
        Assert.IsNull(BoardSession.ParseQemuPty(""));
    }
}
