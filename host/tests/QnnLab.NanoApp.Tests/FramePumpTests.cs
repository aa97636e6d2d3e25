using QnnLab.NanoApp;

namespace QnnLab.NanoApp.Tests;

[TestClass]
public sealed class FramePumpTests
{
    private static byte[][] Frames(int count, int seed)
    {
        var random = new Random(seed);
        var frames = new byte[count][];
        for (int i = 0; i < count; i++)
        {
            frames[i] = new byte[random.Next(1, 700)];
            for (int j = 0; j < frames[i].Length; j++)
            {
                frames[i][j] = (byte)random.Next(1, 256); // 0 is the delimiter
            }
        }
        return frames;
    }

    private static byte[] Wire(IEnumerable<byte[]> frames) => [.. frames.SelectMany(f => f.Append((byte)0))];

    private static void PumpUntilQuiet(FramePump pump, ScriptedLink link, int maxSteps = 10_000)
    {
        int quiet = 0;
        for (int i = 0; i < maxSteps && quiet < 3; i++)
        {
            quiet = pump.Step(link) == PumpResult.Idle ? quiet + 1 : 0;
        }
        Assert.IsTrue(quiet >= 3, "pump never went quiet");
    }

    [TestMethod]
    public void EveryByteReachesTheEngineOnceInOrderAndEveryAnswerComesBack()
    {
        byte[][] frames = Frames(40, 1);
        var engine = new ReversingEngine();
        var link = new ScriptedLink();
        link.Open();
        link.HostSends(Wire(frames));
        var pump = new FramePump(engine, 64, 48, 4);

        PumpUntilQuiet(pump, link);

        CollectionAssert.AreEqual(Wire(frames), engine.Consumed);
        CollectionAssert.AreEqual(frames.SelectMany(ReversingEngine.ResponseTo).ToArray(), link.FromDevice);
        Assert.AreEqual(Wire(frames).Length, pump.BytesReceived);
        Assert.AreEqual(link.FromDevice.Count, pump.BytesSent);
    }

    [TestMethod]
    public void AnEngineThatTakesFewBytesKeepsTheRestQueuedWithoutLoss()
    {
        byte[][] frames = Frames(25, 2);
        var engine = new ReversingEngine { MaxAcceptPerFeed = 7 };
        var link = new ScriptedLink();
        link.Open();
        link.HostSends(Wire(frames));
        var pump = new FramePump(engine, 32, 32, 2);

        PumpUntilQuiet(pump, link);

        CollectionAssert.AreEqual(Wire(frames), engine.Consumed);
        CollectionAssert.AreEqual(frames.SelectMany(ReversingEngine.ResponseTo).ToArray(), link.FromDevice);
        Assert.AreEqual(0, pump.PendingReceive);
    }

    [TestMethod]
    public void AFailedWriteKeepsTheResponseAndTheNextStepWritesItWhole()
    {
        byte[] frame = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        var engine = new ReversingEngine();
        var link = new ScriptedLink { FailWriteAtCall = 0, PartialBytesOnFailedWrite = 4 };
        link.Open();
        link.HostSends([.. frame, 0]);
        var pump = new FramePump(engine, 64, 64, 4);

        Assert.ThrowsExactly<TimeoutException>(() => pump.Step(link));
        byte[] response = ReversingEngine.ResponseTo(frame);
        Assert.AreEqual(response.Length, pump.PendingTransmit);

        pump.Step(link);
        Assert.AreEqual(0, pump.PendingTransmit);
        // The host sees the broken prefix, then the whole response: its parser drops the prefix by CRC.
        CollectionAssert.AreEqual(response.Take(4).Concat(response).ToArray(), link.FromDevice);
    }

    [TestMethod]
    public void AnEngineExceptionDropsItsInputAndFlagsAFaultButThePumpCarriesOn()
    {
        var engine = new ReversingEngine { ThrowOnFeedCall = 0 };
        var link = new ScriptedLink();
        link.Open();
        var pump = new FramePump(engine, 64, 64, 4);
        link.HostSends([9, 9, 9, 0]);

        int result = pump.Step(link);
        Assert.AreEqual(PumpResult.Moved | PumpResult.EngineFault, result);
        Assert.AreEqual(1, pump.EngineFaults);
        Assert.AreEqual(0, pump.PendingReceive);

        link.HostSends([5, 6, 0]);
        PumpUntilQuiet(pump, link);
        CollectionAssert.AreEqual(ReversingEngine.ResponseTo([5, 6]), link.FromDevice);
    }

    [TestMethod]
    public void AnEngineThatClaimsMoreThanOfferedIsAFault()
    {
        var engine = new LyingEngine();
        var link = new ScriptedLink();
        link.Open();
        link.HostSends([1, 2, 3]);
        var pump = new FramePump(engine, 16, 16, 1);
        Assert.AreEqual(PumpResult.Moved | PumpResult.EngineFault, pump.Step(link));
        Assert.AreEqual(1, pump.EngineFaults);
    }

    private sealed class LyingEngine : IProtocolEngine
    {
        public int Feed(byte[] rx, int count) => count + 1;

        public int Poll(byte[] tx) => 0;
    }
}
