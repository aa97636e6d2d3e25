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
        var pump = new FramePump(engine, 64, 48, 4, Limits.MaxFrameBytes);

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
        var pump = new FramePump(engine, 32, 32, 2, Limits.MaxFrameBytes);

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
        var pump = new FramePump(engine, 64, 64, 4, Limits.MaxFrameBytes);

        Assert.ThrowsExactly<TimeoutException>(() => pump.Step(link));
        byte[] response = ReversingEngine.ResponseTo(frame);
        Assert.AreEqual(response.Length, pump.PendingTransmit);

        pump.Step(link);
        Assert.AreEqual(0, pump.PendingTransmit);
        // The host sees the broken prefix ended by a delimiter (its parser drops it by CRC), then the whole response.
        CollectionAssert.AreEqual(response.Take(4).Append((byte)0).Concat(response).ToArray(), link.FromDevice);
    }

    [TestMethod]
    public void ACutWriteInTheMiddleOfALongFrameResendsThatFrameFromItsStart()
    {
        // Responses longer than the 16-byte poll buffer go out in several writes; the 6th write is cut after 3 bytes.
        byte[][] frames = Frames(12, 3);
        var engine = new ReversingEngine();
        var link = new ScriptedLink { FailWriteAtCall = 5, PartialBytesOnFailedWrite = 3 };
        link.Open();
        link.HostSends(Wire(frames));
        var pump = new FramePump(engine, 16, 16, 1, Limits.MaxFrameBytes);

        Assert.ThrowsExactly<TimeoutException>(() => PumpUntilQuiet(pump, link));
        PumpUntilQuiet(pump, link);

        // Split what the host received at the delimiters: every response arrives whole, in order, exactly as
        // the engine made it; the only other piece is the cut fragment, which no response equals.
        byte[][] responses = [.. frames.Select(ReversingEngine.ResponseTo)];
        Assert.AreEqual((byte)0, link.FromDevice[^1], "the stream ends on a delimiter");
        List<byte[]> pieces = Split([.. link.FromDevice]);
        var whole = pieces.Where(p => responses.Any(r => r.SequenceEqual(p))).ToList();
        Assert.HasCount(pieces.Count - 1, whole, "exactly one piece is the cut fragment");
        var distinct = new List<byte[]>();
        foreach (byte[] p in whole)
        {
            if (distinct.Count == 0 || !distinct[^1].SequenceEqual(p))
            {
                distinct.Add(p);
            }
        }
        Assert.HasCount(responses.Length, distinct, "every response whole, none lost");
        for (int i = 0; i < responses.Length; i++)
        {
            CollectionAssert.AreEqual(responses[i], distinct[i], $"response {i}");
        }
    }

    [TestMethod]
    public void WithoutTheDelimiterAndFrameStartTheCutFrameWouldBeLost()
    {
        // Guards the test above: the same cut, replayed the old way (the failed chunk rewritten alone), loses a response.
        byte[][] frames = Frames(12, 3);
        byte[] stream = [.. frames.SelectMany(ReversingEngine.ResponseTo)];
        int cutAt = 5 * 16;
        byte[] naive = [.. stream.Take(cutAt + 3), .. stream.Skip(cutAt)];
        int wholeResponses = frames.Select(ReversingEngine.ResponseTo).Count(r => Split(naive).Any(p => p.SequenceEqual(r)));
        Assert.IsLessThan(frames.Length, wholeResponses);
    }

    private static List<byte[]> Split(byte[] wire)
    {
        var pieces = new List<byte[]>();
        int start = 0;
        for (int i = 0; i < wire.Length; i++)
        {
            if (wire[i] == 0)
            {
                pieces.Add(wire[start..(i + 1)]);
                start = i + 1;
            }
        }
        return pieces;
    }

    [TestMethod]
    public void AnEngineExceptionDropsItsInputAndFlagsAFaultButThePumpCarriesOn()
    {
        var engine = new ReversingEngine { ThrowOnFeedCall = 0 };
        var link = new ScriptedLink();
        link.Open();
        var pump = new FramePump(engine, 64, 64, 4, Limits.MaxFrameBytes);
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
        var pump = new FramePump(engine, 16, 16, 1, Limits.MaxFrameBytes);
        Assert.AreEqual(PumpResult.Moved | PumpResult.EngineFault, pump.Step(link));
        Assert.AreEqual(1, pump.EngineFaults);
    }

    private sealed class LyingEngine : IProtocolEngine
    {
        public int Feed(byte[] rx, int count) => count + 1;

        public int Poll(byte[] tx) => 0;
    }
}
