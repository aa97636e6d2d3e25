using QnnLab.NanoApp;

namespace QnnLab.NanoApp.Tests;

internal sealed class FakeClock : IMonotonicClock
{
    public long NowMs { get; set; }
}

internal sealed class LedRecorder : IStatusLeds
{
    public List<(bool Green, bool Blue, bool Red)> Writes { get; } = [];

    public (bool Green, bool Blue, bool Red) Last => Writes[^1];

    public void Set(bool green, bool blue, bool red) => Writes.Add((green, blue, red));
}

/// <summary>
/// The host end of a UART, in memory, with fault injection: open failures, a read that throws, and a
/// write that delivers only part of its bytes before throwing (what a pulled cable does mid-frame).
/// </summary>
internal sealed class ScriptedLink : ISerialLink
{
    private readonly Queue<byte> _toDevice = new();

    public List<byte> FromDevice { get; } = [];
    public int FailNextOpens { get; set; }
    public int FailReadAtCall { get; set; } = -1;
    public int FailWriteAtCall { get; set; } = -1;
    public int PartialBytesOnFailedWrite { get; set; }
    public int ReadCalls { get; private set; }
    public int WriteCalls { get; private set; }
    public int OpenCalls { get; private set; }
    public int CloseCalls { get; private set; }
    public bool IsOpen { get; private set; }

    public void HostSends(IEnumerable<byte> bytes)
    {
        foreach (byte b in bytes)
        {
            _toDevice.Enqueue(b);
        }
    }

    public void Open()
    {
        OpenCalls++;
        if (FailNextOpens > 0)
        {
            FailNextOpens--;
            throw new IOException("port not present");
        }
        IsOpen = true;
    }

    public void Close()
    {
        CloseCalls++;
        IsOpen = false;
    }

    public int Read(byte[] buffer, int offset, int count)
    {
        Assert.IsTrue(IsOpen, "read on a closed port");
        if (ReadCalls++ == FailReadAtCall)
        {
            throw new IOException("framing error");
        }
        int n = 0;
        while (n < count && _toDevice.Count > 0)
        {
            buffer[offset + n++] = _toDevice.Dequeue();
        }
        return n;
    }

    public void Write(byte[] buffer, int offset, int count)
    {
        Assert.IsTrue(IsOpen, "write on a closed port");
        if (WriteCalls++ == FailWriteAtCall)
        {
            FromDevice.AddRange(buffer.Skip(offset).Take(Math.Min(PartialBytesOnFailedWrite, count)));
            throw new TimeoutException("write timed out");
        }
        FromDevice.AddRange(buffer.Skip(offset).Take(count));
    }
}

/// <summary>
/// A stand-in protocol engine with the real one's byte contract: it takes at most
/// <see cref="MaxAcceptPerFeed"/> bytes per call, splits its input into 0x00-delimited frames, and
/// answers each frame with 'R', the frame's bytes reversed, and a 0x00 delimiter, handed out in
/// pieces of at most the poll buffer's size.
/// </summary>
internal sealed class ReversingEngine : IProtocolEngine
{
    private readonly List<byte> _frame = [];
    private readonly Queue<byte> _out = new();

    public int MaxAcceptPerFeed { get; set; } = int.MaxValue;
    public List<byte> Consumed { get; } = [];
    public int ThrowOnFeedCall { get; set; } = -1;
    public int FeedCalls { get; private set; }

    public static byte[] ResponseTo(byte[] frame) => [(byte)'R', .. frame.Reverse(), 0];

    public int Feed(byte[] rx, int count)
    {
        if (FeedCalls++ == ThrowOnFeedCall)
        {
            throw new InvalidOperationException("QNN 100: protocol feed failed");
        }
        int take = Math.Min(count, MaxAcceptPerFeed);
        for (int i = 0; i < take; i++)
        {
            byte b = rx[i];
            Consumed.Add(b);
            if (b != 0)
            {
                _frame.Add(b);
                continue;
            }
            if (_frame.Count > 0)
            {
                foreach (byte r in ResponseTo([.. _frame]))
                {
                    _out.Enqueue(r);
                }
                _frame.Clear();
            }
        }
        return take;
    }

    public int Poll(byte[] tx)
    {
        int n = 0;
        while (n < tx.Length && _out.Count > 0)
        {
            tx[n++] = _out.Dequeue();
        }
        return n;
    }
}

internal static class Limits
{
    /// <summary>The protocol engine's largest frame on the wire: QNN_FRAME_MAX_ENCODED(4096) + the delimiter.</summary>
    public const int MaxFrameBytes = 4108 + ((4108 + 253) / 254) + 1;
}
