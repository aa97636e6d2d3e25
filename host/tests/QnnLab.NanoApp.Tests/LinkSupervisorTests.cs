using QnnLab.NanoApp;

namespace QnnLab.NanoApp.Tests;

[TestClass]
public sealed class LinkSupervisorTests
{
    private sealed class Rig
    {
        public FakeClock Clock { get; } = new();
        public ScriptedLink Link { get; } = new();
        public ReversingEngine Engine { get; } = new();
        public LedRecorder Leds { get; } = new();
        public FramePump Pump { get; }
        public LinkSupervisor Supervisor { get; }

        public Rig(int stableAfterMs = 2000)
        {
            Pump = new FramePump(Engine, 64, 64, 4, Limits.MaxFrameBytes);
            Supervisor = new LinkSupervisor(Link, Pump, Clock, new BackoffPolicy(50, 2000), new StatusIndicator(Leds), 5, stableAfterMs);
        }

        /// <summary>Runs the app loop, advancing the fake clock by whatever sleep the supervisor asks for.</summary>
        public void RunFor(long ms)
        {
            long end = Clock.NowMs + ms;
            while (Clock.NowMs < end)
            {
                int sleep = Supervisor.Tick();
                Clock.NowMs += Math.Max(sleep, 1);
            }
        }
    }

    [TestMethod]
    public void OpensOnTheFirstTickAndPumps()
    {
        var rig = new Rig();
        rig.Link.HostSends([1, 2, 0]);
        rig.RunFor(StatusIndicator.ActivityHoldMs + 20);
        Assert.AreEqual(1, rig.Supervisor.Opens);
        Assert.IsTrue(rig.Supervisor.IsLinkUp);
        CollectionAssert.AreEqual(ReversingEngine.ResponseTo([1, 2]), rig.Link.FromDevice);
        Assert.AreEqual((true, false, false), rig.Leds.Last, "green once the traffic hold is over");
    }

    [TestMethod]
    public void OpenFailuresBackOffExponentiallyToTheCap()
    {
        var rig = new Rig();
        rig.Link.FailNextOpens = 9;
        var attempts = new List<long>();
        while (rig.Supervisor.Opens == 0)
        {
            int opensBefore = rig.Link.OpenCalls;
            int sleep = rig.Supervisor.Tick();
            if (rig.Link.OpenCalls > opensBefore)
            {
                attempts.Add(rig.Clock.NowMs);
            }
            rig.Clock.NowMs += Math.Max(sleep, 1);
            Assert.IsLessThan(60_000L, rig.Clock.NowMs, "never reopened");
        }
        long[] gaps = [.. attempts.Zip(attempts.Skip(1), (a, b) => b - a)];
        // The loop sleeps at most 5 ms at a time and advances 1 ms after a failed tick, so each gap is
        // the backoff delay plus at most that 1 ms.
        long[] expected = [50, 100, 200, 400, 800, 1600, 2000, 2000, 2000];
        Assert.HasCount(expected.Length, gaps);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.IsTrue(gaps[i] >= expected[i] && gaps[i] <= expected[i] + 1, $"gap {i}: {gaps[i]} ms, expected {expected[i]}");
        }
        Assert.AreEqual(9, rig.Supervisor.TotalFailures);
    }

    [TestMethod]
    public void AReadErrorClosesReopensAndLosesNoByte()
    {
        var rig = new Rig();
        // Read 0 takes the first frame, read 1 finds nothing, read 2 fails with the second frame waiting.
        rig.Link.FailReadAtCall = 2;
        byte[] first = [10, 11, 12];
        byte[] second = [20, 21, 22, 23];
        rig.Link.HostSends([.. first, 0]);
        rig.RunFor(2);
        rig.Link.HostSends([.. second, 0]);
        rig.RunFor(500);

        Assert.AreEqual(1, rig.Supervisor.TotalFailures);
        Assert.AreEqual(2, rig.Supervisor.Opens);
        Assert.IsGreaterThanOrEqualTo(1, rig.Link.CloseCalls);
        CollectionAssert.AreEqual(ReversingEngine.ResponseTo(first).Concat(ReversingEngine.ResponseTo(second)).ToArray(), rig.Link.FromDevice);
        Assert.AreEqual(0, rig.Supervisor.ConsecutiveFailures, "traffic after the reopen proves the link healthy");
    }

    [TestMethod]
    public void AWriteCutMidResponseIsResentWholeAfterTheReopen()
    {
        var rig = new Rig();
        rig.Link.FailWriteAtCall = 0;
        rig.Link.PartialBytesOnFailedWrite = 3;
        byte[] frame = [1, 2, 3, 4, 5, 6, 7, 8];
        rig.Link.HostSends([.. frame, 0]);
        rig.RunFor(300);

        byte[] response = ReversingEngine.ResponseTo(frame);
        // The fragment is ended by a delimiter so the host's parser drops it alone, then the response comes whole.
        CollectionAssert.AreEqual(response.Take(3).Append((byte)0).Concat(response).ToArray(), rig.Link.FromDevice);
        Assert.AreEqual(2, rig.Supervisor.Opens);
    }

    [TestMethod]
    public void ALinkThatFailsRightAfterEveryOpenKeepsBackingOff()
    {
        // Opening works, the first read fails: without the stability rule this would reopen every 50 ms for ever.
        var rig = new Rig(stableAfterMs: 2000);
        var flaky = new FailingReadsLink();
        var supervisor = new LinkSupervisor(flaky, rig.Pump, rig.Clock, new BackoffPolicy(50, 2000), new StatusIndicator(rig.Leds), 5, 2000);
        for (int i = 0; i < 6; i++)
        {
            int sleep;
            do
            {
                sleep = supervisor.Tick();
                rig.Clock.NowMs += Math.Max(sleep, 1);
            }
            while (supervisor.TotalFailures == i);
        }
        Assert.AreEqual(6, supervisor.ConsecutiveFailures);
        Assert.AreEqual(6, flaky.Opens);
        Assert.AreEqual(rig.Clock.NowMs - 1 + 1600, supervisor.NextAttemptMs);
    }

    [TestMethod]
    public void FatalStopsPumpingAndShowsRed()
    {
        var rig = new Rig();
        rig.Supervisor.EnterFatal();
        rig.Link.HostSends([1, 0]);
        rig.RunFor(100);
        Assert.AreEqual(0, rig.Link.OpenCalls);
        Assert.IsEmpty(rig.Engine.Consumed);
        Assert.AreEqual((false, false, true), rig.Leds.Last);
    }

    private sealed class FailingReadsLink : ISerialLink
    {
        public int Opens { get; private set; }
        public bool IsOpen { get; private set; }

        public void Open()
        {
            Opens++;
            IsOpen = true;
        }

        public void Close() => IsOpen = false;

        public int Read(byte[] buffer, int offset, int count) => throw new IOException("overrun");

        public void Write(byte[] buffer, int offset, int count) => throw new IOException("overrun");
    }
}
