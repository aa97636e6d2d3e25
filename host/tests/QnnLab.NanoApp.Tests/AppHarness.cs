using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using QnnLab.NanoApp;
using QnnLab.Protocol;

namespace QnnLab.NanoApp.Tests;

/// <summary>
/// The app's UART, wired to an in-memory host stream. Faults: every <c>failEvery</c>-th call throws; with
/// <c>cutWrites</c>, also every <c>failEvery</c>-th write delivers half of its bytes, then throws (what a pulled
/// cable does mid-frame).
/// </summary>
internal sealed class PipeUart : ISerialLink
{
    private readonly Pipe _hostToApp = new();
    private readonly Pipe _appToHost = new();
    private readonly int _failEvery;
    private readonly bool _cutWrites;
    private int _calls;
    private int _writes;
    private readonly List<byte> _sentToHost = [];
    private readonly List<byte> _readFromHost = [];

    public PipeUart(int failEvery, bool cutWrites = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(failEvery, cutWrites ? 1 : 0);
        _failEvery = failEvery;
        _cutWrites = cutWrites;
        HostStream = new DuplexStream(_appToHost.Reader.AsStream(), _hostToApp.Writer.AsStream());
    }

    public Stream HostStream { get; }
    public bool IsOpen { get; private set; }
    public int CutWrites { get; private set; }

    /// <summary>Writes that threw, cut or not: each can leave the host one unterminated fragment.</summary>
    public int FailedWrites { get; private set; }

    public void Open() => IsOpen = true;

    public void Close() => IsOpen = false;

    public int Read(byte[] buffer, int offset, int count)
    {
        FailMaybe();
        if (!_hostToApp.Reader.TryRead(out ReadResult r))
        {
            return 0;
        }
        int n = (int)Math.Min(count, r.Buffer.Length);
        ReadOnlySequence<byte> part = r.Buffer.Slice(0, n);
        part.CopyTo(buffer.AsSpan(offset, n));
        _hostToApp.Reader.AdvanceTo(part.End);
        lock (_sentToHost)
        {
            _readFromHost.AddRange(buffer.AsSpan(offset, n));
        }
        return n;
    }

    public void Write(byte[] buffer, int offset, int count)
    {
        try
        {
            FailMaybe();
        }
        catch (IOException)
        {
            FailedWrites++;
            throw;
        }
        if (_cutWrites && ++_writes % _failEvery == 0 && count > 1)
        {
            Send(buffer, offset, count / 2);
            CutWrites++;
            FailedWrites++;
            throw new IOException("injected UART fault mid-write");
        }
        Send(buffer, offset, count);
    }

    /// <summary>Every byte that crossed the UART so far, both ways.</summary>
    public (byte[] ToHost, byte[] FromHost) Recorded()
    {
        lock (_sentToHost)
        {
            return ([.. _sentToHost], [.. _readFromHost]);
        }
    }

    private void Send(byte[] buffer, int offset, int count)
    {
        lock (_sentToHost)
        {
            _sentToHost.AddRange(buffer.AsSpan(offset, count));
        }
        _appToHost.Writer.Write(buffer.AsSpan(offset, count));
        _appToHost.Writer.FlushAsync().AsTask().GetAwaiter().GetResult();
    }

    private void FailMaybe()
    {
        if (!IsOpen)
        {
            throw new IOException("UART closed");
        }
        if (_failEvery > 0 && ++_calls % _failEvery == 0)
        {
            throw new IOException("injected UART fault");
        }
    }
}

/// <summary>Checks on what crossed the app's UART, independent of the host driver's bookkeeping.</summary>
internal static class Wire
{
    /// <summary>
    /// Every request the host sent reached the board and its first answer reached the host whole: for each request
    /// (seq, type) there is an intact answer without the REPLAY flag. Answers the host asked for again carry REPLAY,
    /// so an original answer lost on the way cannot hide behind a retransmission. An answer that appears twice
    /// without REPLAY (a cut write's resend) must be the same bytes: the same answer sent again, not a second run.
    /// </summary>
    public static void AssertEveryRequestAnsweredOnce(byte[] toHost, byte[] fromHost)
    {
        var requests = Decode(fromHost).Where(f => !f.IsResponse && f.Type < (byte)MessageType.Boot && !f.Flags.HasFlag(FrameFlags.Replay))
            .Select(f => (f.Seq, f.Type)).ToList();
        var answers = Decode(toHost).Where(f => f.IsResponse && !f.Flags.HasFlag(FrameFlags.Replay))
            .GroupBy(f => (f.Seq, Type: (byte)(f.Type & 0x7F))).ToDictionary(g => g.Key, g => g.ToList());
        Assert.IsNotEmpty(requests);
        foreach ((ushort seq, byte type) in requests)
        {
            Assert.IsTrue(answers.TryGetValue((seq, type), out List<Frame>? got), $"the first answer to {(MessageType)type} seq {seq} never arrived whole");
            foreach (Frame again in got!.Skip(1))
            {
                CollectionAssert.AreEqual(got[0].ToWire(), again.ToWire(), $"{(MessageType)type} seq {seq} answered twice, differently");
            }
        }
    }

    private static List<Frame> Decode(byte[] wire) =>
        [.. new FrameDecoder().PushAll(wire).Where(r => r.IsFrame).Select(r => r.Frame!)];
}

internal sealed class StopwatchClock : IMonotonicClock
{
    private readonly Stopwatch _sw = Stopwatch.StartNew();

    public long NowMs => _sw.ElapsedMilliseconds;
}

internal sealed class NoLeds : IStatusLeds
{
    public void Set(bool green, bool blue, bool red)
    {
    }
}

/// <summary>The app's main loop (Program.Main's) on a background thread: supervisor ticks until disposed.</summary>
internal sealed class AppLoop : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public AppLoop(IProtocolEngine engine, ISerialLink uart, int txBufferBytes = 512)
    {
        Pump = new FramePump(engine, 512, txBufferBytes, 4, Limits.MaxFrameBytes);
        Supervisor = new LinkSupervisor(uart, Pump, new StopwatchClock(), new BackoffPolicy(1, 8),
            new StatusIndicator(new NoLeds()), idleSleepMs: 1, stableAfterMs: 100);
        _loop = Task.Run(() =>
        {
            while (!_stop.IsCancellationRequested)
            {
                int sleep = Supervisor.Tick();
                if (sleep > 0)
                {
                    Thread.Sleep(Math.Min(sleep, 5));
                }
            }
        });
    }

    public FramePump Pump { get; }
    public LinkSupervisor Supervisor { get; }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        await _loop;
        _stop.Dispose();
    }
}
