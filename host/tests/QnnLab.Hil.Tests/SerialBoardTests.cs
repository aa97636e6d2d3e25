using QnnLab.Hil;
using QnnLab.Protocol;
using QnnLab.TestSupport;

namespace QnnLab.Hil.Tests;

/// <summary>
/// The serial-port path a NUCLEO takes (--board /dev/ttyACM0), exercised on a sim started at the board's boot
/// rate and opened by its pty path, as a real port would be.
/// </summary>
[TestClass]
public sealed class SerialBoardTests
{
    private static Task<SimBoard> StartSimAt115200() =>
        SimBoard.StartAsync(SimBoard.Build(TestData.RepoRoot), new SimBoardOptions { Baud = 115_200 });

    [TestMethod]
    public async Task AnotherBaud_IsReachedWithSetBaudAfterTheHandshakeAtTheBootRate()
    {
        await using SimBoard sim = await StartSimAt115200();
        await using BoardSession s = await BoardSession.OpenAsync(BoardTarget.Parse(sim.PtyPath!), new BoardLaunchOptions { Baud = 921_600 });
        Assert.AreEqual(BoardKind.Serial, s.Target.Kind);
        Assert.AreEqual(921_600, s.LineBaud);
        StringAssert.Contains(s.LinkDescription, "switched from 115200");
        HelloInfo h = await s.Connection.PingAsync();
        Assert.AreEqual(921_600u, h.CurrentBaud, "the board runs at the new rate");
        await s.Connection.GetInfoAsync(); // and answers there
    }

    [TestMethod]
    public async Task ABaudTheBoardDoesNotOffer_IsRefusedNamingTheOffers()
    {
        await using SimBoard sim = await StartSimAt115200();
        InvalidOperationException e = await Assert.ThrowsExactlyAsync<InvalidOperationException>(() =>
            BoardSession.OpenAsync(BoardTarget.Parse(sim.PtyPath!), new BoardLaunchOptions { Baud = 12_345 }));
        StringAssert.Contains(e.Message, "--baud 12345");
        StringAssert.Contains(e.Message, "921600");
    }

    [TestMethod]
    public async Task WithoutBaud_TheBootRateIsKept()
    {
        await using SimBoard sim = await StartSimAt115200();
        await using BoardSession s = await BoardSession.OpenAsync(BoardTarget.Parse(sim.PtyPath!));
        Assert.AreEqual(115_200, s.LineBaud);
        Assert.AreEqual(115_200u, s.Connection.Hello.CurrentBaud);
    }
}
