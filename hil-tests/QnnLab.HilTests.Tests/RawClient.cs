using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Threading.Channels;
using QnnLab.Hil;
using QnnLab.Protocol;

namespace QnnLab.HilTests.Tests;

/// <summary>
/// Frame-level access to a board for conformance checks: writes any bytes (broken frames included) and reads
/// the board's frames in order, without the retries and recovery of <see cref="BoardConnection"/>.
/// </summary>
internal sealed class RawClient : IAsyncDisposable
{
    private readonly RawBoardLink _link;
    private readonly Channel<DecodeResult> _received = Channel.CreateUnbounded<DecodeResult>();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _reader;
    private readonly TimeSpan _answerTimeout;
    private ushort _seq = 1000;

    private RawClient(RawBoardLink link, TimeSpan answerTimeout)
    {
        _link = link;
        _answerTimeout = answerTimeout;
        _reader = Task.Run(ReadLoopAsync);
    }

    public HelloInfo Hello { get; private set; } = null!;

    public static async Task<RawClient> OpenAsync()
    {
        RawBoardLink link = await HilBoard.OpenRawAsync();
        var c = new RawClient(link, HilBoard.Target.Kind == BoardKind.Qemu ? TimeSpan.FromSeconds(30) : TimeSpan.FromSeconds(5));
        try
        {
            await c.WriteAsync([0]); // end whatever partial frame the board holds
            c.Hello = HelloInfo.Parse(Ok(await c.RequestAsync(MessageType.Hello, Payloads.Hello())).Payload);
            return c;
        }
        catch
        {
            await c.DisposeAsync();
            throw;
        }
    }

    public ushort NextSeq() => _seq = (ushort)(_seq == ushort.MaxValue ? 1 : _seq + 1);

    public Task WriteAsync(byte[] bytes) => _link.Stream.WriteAsync(bytes).AsTask();

    /// <summary>Sends a request frame and returns the board's answer to its seq (unsolicited frames in between are skipped).</summary>
    public async Task<Frame> RequestAsync(MessageType type, byte[] payload, ushort? seq = null, FrameFlags flags = FrameFlags.None) =>
        await RequestAsync(new Frame((byte)type, flags, StatusCode.Ok, seq ?? NextSeq(), payload)).ConfigureAwait(false);

    public async Task<Frame> RequestAsync(Frame request)
    {
        await WriteAsync(request.ToWire()).ConfigureAwait(false);
        return await NextAsync(f => f.IsResponse && f.Seq == request.Seq, $"an answer to seq {request.Seq} (type 0x{request.Type:X2})").ConfigureAwait(false);
    }

    /// <summary>The next frame the board sends that matches; malformed frames from the board fail the test.</summary>
    public async Task<Frame> NextAsync(Func<Frame, bool> match, string what)
    {
        using var timeout = new CancellationTokenSource(_answerTimeout);
        while (true)
        {
            DecodeResult r;
            try
            {
                r = await _received.Reader.ReadAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"board {HilBoard.Target} sent no {what} within {_answerTimeout.TotalSeconds:F0} s");
            }
            Assert.IsTrue(r.IsFrame, $"the board sent a malformed frame ({r.Error})");
            if (match(r.Frame!))
            {
                return r.Frame!;
            }
        }
    }

    public Task<Frame> NextNakAsync() => NextAsync(f => f.Type == (byte)MessageType.Nak, "NAK");

    /// <summary>Frames that arrived and were not consumed (none expected after a request/answer exchange).</summary>
    public int Pending => _received.Reader.Count;

    public static Frame Ok(Frame f)
    {
        Assert.AreEqual(StatusCode.Ok, f.Status, $"answer {f}");
        return f;
    }

    public async Task<DeviceStats> StatsAsync() => DeviceStats.Parse(Ok(await RequestAsync(MessageType.Stats, [])).Payload);

    /// <summary>UPLOAD_BEGIN / CHUNK... / END, each chunk acknowledged before the next; returns END's answer.</summary>
    public async Task<Frame> UploadAsync(byte[] blob, byte[]? claimedHash = null)
    {
        byte[] hash = claimedHash ?? SHA256.HashData(blob);
        Frame begin = Ok(await RequestAsync(MessageType.UploadBegin, Payloads.UploadBegin((uint)blob.Length, hash)));
        int offset = (int)BinaryPrimitives.ReadUInt32LittleEndian(begin.Payload);
        int chunk = Hello.MaxPayload - 4;
        while (offset < blob.Length)
        {
            int n = Math.Min(chunk, blob.Length - offset);
            Frame ack = Ok(await RequestAsync(MessageType.UploadChunk, Payloads.OffsetChunk((uint)offset, blob.AsSpan(offset, n))));
            offset = (int)BinaryPrimitives.ReadUInt32LittleEndian(ack.Payload);
        }
        return await RequestAsync(MessageType.UploadEnd, []);
    }

    private async Task ReadLoopAsync()
    {
        var decoder = new FrameDecoder();
        var buf = new byte[4096];
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                int n = await _link.Stream.ReadAsync(buf, _stop.Token).ConfigureAwait(false);
                if (n == 0)
                {
                    break;
                }
                foreach (DecodeResult r in decoder.PushAll(buf[..n]))
                {
                    _received.Writer.TryWrite(r);
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException or InvalidOperationException)
        {
        }
        _received.Writer.TryComplete();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _link.DisposeAsync();
        await _reader.WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(_ => { }, TaskScheduler.Default);
        _stop.Dispose();
    }
}
