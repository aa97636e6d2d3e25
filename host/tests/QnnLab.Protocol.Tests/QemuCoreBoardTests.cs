using QnnLab.Protocol;
using QnnLab.TestSupport;

namespace QnnLab.Protocol.Tests;

/// <summary>
/// The real device core on the Cortex-M33 (QEMU image built inside the firmware tree), driven from C#: a model
/// blob uploaded over the link, then inference and the Feature Squeezing detector. The blob is the hand-derived
/// test model of firmware/protocol/tests/test_core_device.c (written by its --write-blob), whose logits are
/// worked out by hand there: pixels 64/65 alternating give [64, 127, -65], label 1.
/// </summary>
[TestClass]
public sealed class QemuCoreBoardTests
{
    private static readonly Lazy<(string? Elf, string? BlobTool, string? Why)> Built = new(() =>
    {
        string root = TestData.RepoRoot;
        string fw = Path.Combine(root, "firmware");
        try
        {
            string arm = Path.Combine(root, "build", "tests", "fw-qemu");
            SimBoard.RunTool("cmake", ["-S", fw, "-B", arm, $"-DCMAKE_TOOLCHAIN_FILE={Path.Combine(fw, "cmake", "arm-none-eabi.cmake")}",
                "-DCMAKE_BUILD_TYPE=Release", "-DQNN_BOARD=qemu-mps2-an505", "-DQNN_ARENA_SIZE=1048576", "-DBUILD_TESTING=OFF"]);
            SimBoard.RunTool("cmake", ["--build", arm, "--target", "qnn-qemu-mps2-an505"]);
            string host = Path.Combine(root, "build", "tests", "fw-host");
            SimBoard.RunTool("cmake", ["-S", fw, "-B", host, "-DCMAKE_BUILD_TYPE=Release", "-DBUILD_TESTING=ON"]);
            SimBoard.RunTool("cmake", ["--build", host, "--target", "test_core_device"]);
            return (Path.Combine(arm, "boards", "qemu-mps2-an505", "qnn-qemu-mps2-an505.elf"), Path.Combine(host, "protocol", "test_core_device"), null);
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return (null, null, e.Message);
        }
    });

    private static byte[] Blob(bool softmax)
    {
        string path = Path.Combine(TestData.TempDir(), "tiny.qnnb");
        var args = new List<string> { "--write-blob", path };
        if (softmax)
        {
            args.Add("softmax");
        }
        SimBoard.RunTool(Built.Value.BlobTool!, [.. args]);
        return File.ReadAllBytes(path);
    }

    private static readonly byte[] Pixels64 = Enumerable.Range(0, 16).Select(i => (byte)(64 + (i % 2))).ToArray();

    [TestMethod]
    [Timeout(600_000, CooperativeCancellation = true)]
    public async Task UploadedBlobRunsOnTheCortexM33WithHandDerivedLogits()
    {
        (string? elf, _, string? why) = Built.Value;
        if (elf is null)
        {
            Assert.Inconclusive($"cannot build the firmware tree for QEMU and the host (needs cmake, gcc, arm-none-eabi-gcc): {why}");
        }
        await using QemuBoard qemu = await QemuBoard.StartAsync(elf!);
        await using BoardConnection c = await SerialLink.ConnectAsync(qemu.PtyPath, 115200,
            new BoardConnectionOptions { ResponseTimeout = TimeSpan.FromSeconds(10) });
        BoardInfo info = await c.GetInfoAsync();
        Assert.AreEqual("qemu-mps2-an505", info.Board);
        Assert.IsTrue(c.Hello.Capabilities.HasFlag(Capabilities.Upload));

        ModelDescriptor m = await c.UploadModelAsync(Blob(softmax: false));
        Assert.AreEqual(3, m.OutputCount);
        Assert.AreEqual(16, m.PixelBytes);
        InferResult r = await c.InferAsync(Pixels64);
        CollectionAssert.AreEqual(new[] { 64, 127, -65 }, r.Logits);
        Assert.AreEqual(1, r.Label);
        Assert.AreEqual(0UL, r.StageTimes[InferResult.Inference] % 50, "instruction counts come in SysTick ticks of 50");
        Assert.IsGreaterThan(0UL, r.StageTimes[InferResult.Inference]);

        // 1-bit squeeze: every pixel becomes level 0 -> logits [0, 0, 0], a tie broken to label 0
        await c.SetSqueezeAsync(new SqueezeConfig(1, 0, false, 0f));
        r = await c.InferAsync(Pixels64);
        CollectionAssert.AreEqual(new[] { 0, 0, 0 }, r.Logits);
        Assert.AreEqual(0, r.Label);

        // detector on the softmax model: L1 ~340 output steps against threshold 100 -> flagged, label from the original
        await c.UploadModelAsync(Blob(softmax: true));
        await c.SetSqueezeAsync(new SqueezeConfig(1, 3, true, 100f));
        r = await c.InferAsync(Pixels64);
        Assert.IsTrue(r.Adversarial);
        Assert.IsTrue(r.DetectorScore is >= 337f and <= 343f, $"score {r.DetectorScore}");
        Assert.AreEqual(1, r.Label);
        CollectionAssert.AreEqual(new[] { -128, 127, -128 }, r.Logits);
    }
}
