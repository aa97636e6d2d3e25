using System.Buffers.Binary;
using System.IO.Pipes;
using QnnLab.Protocol;

namespace QnnLab.Protocol.Tests;

/// <summary>BoardConnection against scripted devices over in-memory pipes: cases a correct board never produces.</summary>
[TestClass]
public sealed class InMemoryBoardTests
{
    /// <summary>A device that answers each request frame with what <paramref name="answer"/> returns (wire bytes).</summary>
    private static (Stream Host, Task Device, CancellationTokenSource Stop) StartScripted(Func<Frame, IEnumerable<Frame>> answer)
    {
        var toDevice = new AnonymousPipeServerStream(PipeDirection.Out);
        var deviceIn = new AnonymousPipeClientStream(PipeDirection.In, toDevice.ClientSafePipeHandle);
        var toHost = new AnonymousPipeServerStream(PipeDirection.Out);
        var hostIn = new AnonymousPipeClientStream(PipeDirection.In, toHost.ClientSafePipeHandle);
        var stop = new CancellationTokenSource();
        Task device = Task.Run(async () =>
        {
            var decoder = new FrameDecoder();
            var buf = new byte[4096];
            try
            {
                while (true)
                {
                    int n = await deviceIn.ReadAsync(buf, stop.Token);
                    if (n == 0)
                    {
                        return;
                    }
                    foreach (DecodeResult r in decoder.PushAll(buf[..n]))
                    {
                        foreach (Frame reply in r.Frame is { } f ? answer(f) : [])
                        {
                            await toHost.WriteAsync(reply.ToWire(), stop.Token);
                        }
                    }
                }
            }
            catch (Exception e) when (e is OperationCanceledException or IOException)
            {
            }
        });
        return (new DuplexStream(hostIn, toDevice), device, stop);
    }

    private static byte[] HelloPayload(byte version, uint bootId)
    {
        var p = new byte[25];
        p[0] = version;
        BinaryPrimitives.WriteUInt16LittleEndian(p.AsSpan(2), 4096);
        p[4] = 2;
        p[5] = 8;
        BinaryPrimitives.WriteUInt32LittleEndian(p.AsSpan(8), bootId);
        return p;
    }

    private static Frame Answer(Frame request, byte[] payload, StatusCode status = StatusCode.Ok)
        => new((byte)(request.Type | Frame.ResponseBit), FrameFlags.None, status, request.Seq, payload);

    [TestMethod]
    [Timeout(30_000, CooperativeCancellation = true)]
    public async Task AnotherProtocolVersionIsRefusedAtHandshake()
    {
        (Stream host, Task device, CancellationTokenSource stop) = StartScripted(f => [Answer(f, HelloPayload(Frame.ProtocolVersion + 1, 1))]);
        ProtocolException e = await Assert.ThrowsExactlyAsync<ProtocolException>(() => BoardConnection.OpenAsync(host));
        Assert.AreEqual(StatusCode.BadVersion, e.Status);
        stop.Cancel();
        await device;
    }

    [TestMethod]
    [Timeout(30_000, CooperativeCancellation = true)]
    public async Task SilentBoardTimesOutTheHandshake()
    {
        (Stream host, Task device, CancellationTokenSource stop) = StartScripted(_ => []);
        await Assert.ThrowsAsync<OperationCanceledException>(() => BoardConnection.OpenAsync(host,
            new BoardConnectionOptions { HandshakeTimeout = TimeSpan.FromMilliseconds(500), ResponseTimeout = TimeSpan.FromMilliseconds(100) }));
        stop.Cancel();
        await device;
    }

    [TestMethod]
    [Timeout(30_000, CooperativeCancellation = true)]
    public async Task DuplicatedAnswersAreCountedOnceAndUnansweredRequestsFailAfterRetries()
    {
        int stats = 0;
        (Stream host, Task device, CancellationTokenSource stop) = StartScripted(f => (MessageType)f.Type switch
        {
            // every HELLO answered twice (a duplicating link)
            MessageType.Hello => [Answer(f, HelloPayload(Frame.ProtocolVersion, 7)), Answer(f, HelloPayload(Frame.ProtocolVersion, 7))],
            // STATS: counts how often the request arrived, never answers
            MessageType.Stats => Enumerable.Repeat(0, Interlocked.Increment(ref stats) * 0).Select(_ => Answer(f, [])),
            _ => [Answer(f, [], StatusCode.UnknownType)],
        });
        await using (BoardConnection c = await BoardConnection.OpenAsync(host, new BoardConnectionOptions
        {
            ResponseTimeout = TimeSpan.FromMilliseconds(100),
            MaxRetries = 3,
        }))
        {
            Assert.AreEqual(2, c.Window);
            HelloInfo h = await c.PingAsync();
            Assert.AreEqual(7u, h.BootId);
            Assert.IsGreaterThanOrEqualTo(1L, c.Counters.DuplicateAnswersIgnored);
            await Assert.ThrowsExactlyAsync<TimeoutException>(() => c.GetStatsAsync());
            Assert.AreEqual(1 + 3, Volatile.Read(ref stats), "sent once, then retransmitted MaxRetries times");
            ProtocolException e = await Assert.ThrowsExactlyAsync<ProtocolException>(() => c.GetInfoAsync());
            Assert.AreEqual(StatusCode.UnknownType, e.Status);
        }
        stop.Cancel();
        await device;
    }
}
