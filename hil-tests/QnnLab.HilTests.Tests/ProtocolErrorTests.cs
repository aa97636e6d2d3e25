using System.Buffers.Binary;
using System.Security.Cryptography;
using QnnLab.Data;
using QnnLab.Hil;
using QnnLab.Protocol;

namespace QnnLab.HilTests.Tests;

/// <summary>
/// Every status code of shared/protocol/SPEC.md section 5 that a host can provoke, garbage and partial frames
/// between requests, and a board that stops answering. NOT_CACHED is not provokable here: the device core's
/// answers all fit the 512-byte answer cache (the protocol's C tests cover it with an oversized answer).
/// </summary>
[TestClass]
public sealed class ProtocolErrorTests
{
    private static Frame Hello(ushort seq) => Frame.Request(MessageType.Hello, seq, Payloads.Hello());

    /// <summary>COBS + delimiter around raw bytes (header | payload | crc) that may be wrong on purpose.</summary>
    private static byte[] Wire(byte[] raw) => [.. Cobs.Encode(raw), 0];

    [TestMethod]
    public async Task MalformedFrames_AreNakedWithTheirClassAndCounted_AndTheBoardCarriesOn()
    {
        await using RawClient c = await RawClient.OpenAsync();
        DeviceStats before = await c.StatsAsync();

        byte[] badCrc = Hello(c.NextSeq()).ToRaw();
        badCrc[^1] ^= 0x5A;
        byte[] badLength = Hello(c.NextSeq()).ToRaw();
        BinaryPrimitives.WriteUInt16LittleEndian(badLength.AsSpan(6), (ushort)(badLength.Length - 12 + 1));
        BinaryPrimitives.WriteUInt32LittleEndian(badLength.AsSpan(badLength.Length - 4), Crc32.Compute(badLength.AsSpan(0, badLength.Length - 4)));
        var oversize = new byte[c.Hello.MaxPayload + 200];
        Array.Fill(oversize, (byte)0x55);
        (string Name, byte[] Wire, StatusCode Class)[] cases =
        [
            ("CRC flipped", Wire(badCrc), StatusCode.BadCrc),
            ("COBS code past the end", [0x05, 0x11, 0x00], StatusCode.BadCobs),
            ("6-byte frame", Wire([1, 2, 3, 4, 5, 6]), StatusCode.Runt),
            ("longer than the receive buffer", [.. oversize, 0], StatusCode.Oversize),
            ("len one more than the payload", Wire(badLength), StatusCode.BadLength),
        ];
        uint dropped = 0;
        foreach ((string name, byte[] wire, StatusCode cls) in cases)
        {
            await c.WriteAsync(wire);
            Frame nak = await c.NextNakAsync();
            Assert.AreEqual(cls, nak.Status, name);
            Assert.AreEqual(FrameFlags.Unsolicited, nak.Flags, name);
            Assert.AreEqual(0, nak.Seq, name);
            uint count = BinaryPrimitives.ReadUInt32LittleEndian(nak.Payload);
            Assert.IsGreaterThan(dropped, count, $"{name}: NAK's frames_dropped grows");
            dropped = count;
        }
        DeviceStats after = await c.StatsAsync();
        Assert.AreEqual(before.BadCrc + 1, after.BadCrc);
        Assert.AreEqual(before.BadCobs + 1, after.BadCobs);
        Assert.AreEqual(before.Runt + 1, after.Runt);
        Assert.AreEqual(before.Oversize + 1, after.Oversize);
        Assert.AreEqual(before.BadLength + 1, after.BadLength);
        Assert.AreEqual(before.NaksSent + 5, after.NaksSent);
        HelloInfo again = HelloInfo.Parse(RawClient.Ok(await c.RequestAsync(MessageType.Hello, Payloads.Hello())).Payload);
        Assert.AreEqual(c.Hello.BootId, again.BootId, "no reset");
    }

    [TestMethod]
    public async Task BadVersionAndUnknownTypes_AreAnsweredWithTheirStatusAndTheRequestsSeq()
    {
        await using RawClient c = await RawClient.OpenAsync();
        DeviceStats before = await c.StatsAsync();

        Frame v3 = await c.RequestAsync(Hello(c.NextSeq()) with { Version = 3 });
        Assert.AreEqual(StatusCode.BadVersion, v3.Status);
        CollectionAssert.AreEqual(new byte[] { 2, 2 }, v3.Payload, "u8 min, u8 max supported");

        foreach (byte type in new byte[] { 0x42, 0x6F, 0x81, 0x70, 0x71 })
        {
            Frame f = await c.RequestAsync(new Frame(type, FrameFlags.None, StatusCode.Ok, c.NextSeq(), []));
            Assert.AreEqual(StatusCode.UnknownType, f.Status, $"type 0x{type:X2}");
        }
        DeviceStats after = await c.StatsAsync();
        Assert.AreEqual(before.BadVersion + 1, after.BadVersion);
        Assert.AreEqual(before.UnknownType + 5, after.UnknownType);
    }

    [TestMethod]
    public async Task RequestErrors_OnABoardWithoutAModel()
    {
        await using RawClient c = await RawClient.OpenAsync();
        var pixels = new byte[32 * 32 * 3];

        Assert.AreEqual(StatusCode.BadPayload, (await c.RequestAsync(MessageType.SelectModel, new byte[5])).Status, "SELECT_MODEL with 5 bytes");
        Assert.AreEqual(StatusCode.BadPayload, (await c.RequestAsync(MessageType.Info, [1])).Status, "INFO with a payload");
        Assert.AreEqual(StatusCode.BadPayload, (await c.RequestAsync(MessageType.SetSqueeze, [9, 0, 0, 0, 0, 0, 0, 0])).Status, "9-bit squeezing");
        Assert.AreEqual(StatusCode.NoModel, (await c.RequestAsync(MessageType.Infer, Payloads.Infer(pixels))).Status);
        Assert.AreEqual(StatusCode.NoModel, (await c.RequestAsync(MessageType.Benchmark, Payloads.Benchmark(pixels, 1))).Status);
        Assert.AreEqual(StatusCode.UnknownModel, (await c.RequestAsync(MessageType.SelectModel, SHA256.HashData("none"u8))).Status);
        Assert.AreEqual(StatusCode.NoUpload, (await c.RequestAsync(MessageType.UploadChunk, Payloads.OffsetChunk(0, [1, 2, 3]))).Status);
        Assert.AreEqual(StatusCode.NoUpload, (await c.RequestAsync(MessageType.UploadEnd, [])).Status);
        Assert.AreEqual(StatusCode.NotSupported, (await c.RequestAsync(MessageType.SetBaud, Payloads.U32(12_345))).Status, "a baud rate no board lists");
        Frame huge = await c.RequestAsync(MessageType.UploadBegin, Payloads.UploadBegin(uint.MaxValue, new byte[32]));
        Assert.AreEqual(c.Hello.Capabilities.HasFlag(Capabilities.Upload) ? StatusCode.NoSpace : StatusCode.NotSupported, huge.Status, "a 4 GiB blob");
    }

    [TestMethod]
    public async Task RequestErrors_AroundUploadStagingAndReplays()
    {
        await using RawClient c = await RawClient.OpenAsync();
        if (!c.Hello.Capabilities.HasFlag(Capabilities.Upload))
        {
            Assert.Inconclusive($"board {HilBoard.Target} takes no uploads; these checks need one");
        }
        using var model = new EngineHilModel(HilBoard.Model("int8"));
        byte[] blob = model.Blob;

        // UPLOAD_OFFSET: a chunk beyond next_offset, and END before all bytes; the payload says where to resume
        Frame begin = RawClient.Ok(await c.RequestAsync(MessageType.UploadBegin, Payloads.UploadBegin((uint)blob.Length, model.BlobHash)));
        Assert.AreEqual(0u, BinaryPrimitives.ReadUInt32LittleEndian(begin.Payload), "a new upload starts at 0");
        Frame ahead = await c.RequestAsync(MessageType.UploadChunk, Payloads.OffsetChunk(1024, blob.AsSpan(1024, 100)));
        Assert.AreEqual(StatusCode.UploadOffset, ahead.Status);
        Assert.AreEqual(0u, BinaryPrimitives.ReadUInt32LittleEndian(ahead.Payload));
        RawClient.Ok(await c.RequestAsync(MessageType.UploadChunk, Payloads.OffsetChunk(0, blob.AsSpan(0, 100))));
        Frame early = await c.RequestAsync(MessageType.UploadEnd, []);
        Assert.AreEqual(StatusCode.UploadOffset, early.Status);
        Assert.AreEqual(100u, BinaryPrimitives.ReadUInt32LittleEndian(early.Payload));

        // HASH_MISMATCH: the bytes are not what UPLOAD_BEGIN announced
        byte[] wrongHash = SHA256.HashData(blob.AsSpan(1));
        Assert.AreEqual(StatusCode.HashMismatch, (await c.UploadAsync(blob, wrongHash)).Status);

        // a good upload is selected and described by its hash
        ModelDescriptor d = ModelDescriptor.Parse(RawClient.Ok(await c.UploadAsync(blob)).Payload);
        CollectionAssert.AreEqual(model.BlobHash, d.Hash);

        ImageSet set = HilBoard.Cifar(1);
        byte[] px = set.Pixels!.AsSpan(0, set.ImageSize).ToArray();
        byte[] expected = model.Expect(px, SqueezeSettings.Off).Logits;
        Assert.AreEqual(StatusCode.BadInputSize, (await c.RequestAsync(MessageType.Infer, Payloads.Infer(px.AsSpan(0, 100)))).Status);
        Assert.AreEqual(StatusCode.BadPayload, (await c.RequestAsync(MessageType.Benchmark, Payloads.Benchmark(px, 0))).Status, "0 repetitions");
        Assert.AreEqual(StatusCode.BadPayload, (await c.RequestAsync(MessageType.Benchmark, Payloads.Benchmark(px, 129))).Status, "129 repetitions");

        // NOT_STAGED: a tail whose head was never staged; then staged once, used once
        const int head = 2000;
        Assert.AreEqual(StatusCode.NotStaged, (await c.RequestAsync(MessageType.Infer, Payloads.Infer(px.AsSpan(head), offset: head))).Status);
        for (int off = 0; off < head; off += 500)
        {
            Frame ack = RawClient.Ok(await c.RequestAsync(MessageType.InputChunk, Payloads.OffsetChunk((uint)off, px.AsSpan(off, 500))));
            Assert.AreEqual((uint)(off + 500), BinaryPrimitives.ReadUInt32LittleEndian(ack.Payload), "staged_bytes");
        }
        DeviceStats before = await c.StatsAsync();
        var staged = Frame.Request(MessageType.Infer, c.NextSeq(), Payloads.Infer(px.AsSpan(head), offset: head));
        Frame answer = RawClient.Ok(await c.RequestAsync(staged));
        InferResult r = InferResult.ParseAll(answer.Payload)[0];
        CollectionAssert.AreEqual(expected, LogitBytes.Encode(r.Logits, r.LogitBytes), "a staged input runs as the whole input");

        // a retransmission (same seq) is answered from the cache, flagged REPLAY, and does not run again
        Frame replay = await c.RequestAsync(staged with { Flags = FrameFlags.Replay });
        Assert.AreEqual(StatusCode.Ok, replay.Status);
        Assert.IsTrue(replay.Flags.HasFlag(FrameFlags.Replay), "REPLAY flag");
        CollectionAssert.AreEqual(answer.Payload, replay.Payload);
        DeviceStats after = await c.StatsAsync();
        Assert.AreEqual(before.Inferences + 1, after.Inferences, "one inference for two copies of the request");
        Assert.AreEqual(before.Replays + 1, after.Replays);
        Assert.AreEqual(StatusCode.NotStaged, (await c.RequestAsync(MessageType.Infer, Payloads.Infer(px.AsSpan(head), offset: head))).Status,
            "a staged input is used once");

        // EXECUTOR: bytes with the right hash that the device core refuses as a model (payload: the core's status)
        byte[] junk = new byte[4096];
        new Random(7).NextBytes(junk);
        Frame bad = await c.UploadAsync(junk);
        Assert.AreEqual(StatusCode.Executor, bad.Status);
        Assert.AreEqual(4, bad.Payload.Length, "i32 executor error code");
        Assert.AreNotEqual(0, BinaryPrimitives.ReadInt32LittleEndian(bad.Payload));
        Assert.AreEqual(StatusCode.NoModel, (await c.RequestAsync(MessageType.Infer, Payloads.Infer(px))).Status,
            "the refused upload replaced the uploaded model");
    }

    [TestMethod]
    public async Task GarbageAndPartialFrames_BetweenRequests_TheBoardKeepsAnswering()
    {
        await using RawClient c = await RawClient.OpenAsync();
        var rng = new Random(42);
        var garbage = new byte[3000];
        rng.NextBytes(garbage);

        // garbage (zeros included) between two requests written in one go: both answered, in order
        Frame first = Hello(c.NextSeq()), second = Hello(c.NextSeq());
        await c.WriteAsync([.. first.ToWire(), .. garbage, 0, .. second.ToWire()]);
        RawClient.Ok(await c.NextAsync(f => f.IsResponse && f.Seq == first.Seq, "the first answer"));
        RawClient.Ok(await c.NextAsync(f => f.IsResponse && f.Seq == second.Seq, "the second answer"));

        // a partial frame swallows the next frame up to its delimiter: that one is lost (NAK), the one after is answered
        Frame cut = Hello(c.NextSeq()), swallowed = Hello(c.NextSeq()), after = Hello(c.NextSeq());
        byte[] cutWire = cut.ToWire();
        await c.WriteAsync([.. cutWire.AsSpan(0, cutWire.Length / 2), .. swallowed.ToWire(), .. after.ToWire()]);
        Frame nak = await c.NextNakAsync();
        Assert.AreNotEqual(StatusCode.Ok, nak.Status);
        Frame answer = await c.NextAsync(f => f.IsResponse, "an answer");
        Assert.AreEqual(after.Seq, answer.Seq, "neither the cut frame nor the one it swallowed was answered");

        // a frame cut short by a delimiter (as a host does before a retransmission), then the whole frame
        Frame retried = Hello(c.NextSeq());
        byte[] wire = retried.ToWire();
        await c.WriteAsync([.. wire.AsSpan(0, 5), 0, .. wire]);
        Assert.AreNotEqual(StatusCode.Ok, (await c.NextNakAsync()).Status);
        HelloInfo h = HelloInfo.Parse(RawClient.Ok(await c.NextAsync(f => f.IsResponse && f.Seq == retried.Seq, "the retried answer")).Payload);
        Assert.AreEqual(c.Hello.BootId, h.BootId, "garbage never reset the board");
    }

    [TestMethod]
    public async Task ABoardThatStopsAnswering_FailsTheRequestWithATimeout_AndDoesNotHang()
    {
        await using RawBoardLink link = await HilBoard.OpenRawAsync();
        var deaf = new DeafStream(link.Stream);
        var options = new BoardConnectionOptions
        {
            ResponseTimeout = TimeSpan.FromMilliseconds(HilBoard.Target.Kind == BoardKind.Qemu ? 2000 : 300),
            MaxRetries = 2,
            HandshakeTimeout = TimeSpan.FromSeconds(HilBoard.Target.Kind == BoardKind.Qemu ? 30 : 10),
        };
        await using BoardConnection c = await BoardConnection.OpenAsync(deaf, options, ownsStream: false);
        await c.GetInfoAsync();
        deaf.Deaf = true; // the host hears nothing more, as with a board that hung or a cut RX line
        Task<BoardInfo> info = c.GetInfoAsync();
        // a guard against hanging, not a performance figure
        Task done = await Task.WhenAny(info, Task.Delay(TimeSpan.FromMinutes(2)));
        Assert.AreSame(info, done, "the request neither completed nor failed");
        TimeoutException e = await Assert.ThrowsExactlyAsync<TimeoutException>(() => info);
        Assert.IsTrue(e.Message.Contains("info", StringComparison.OrdinalIgnoreCase), $"the error names the request: {e.Message}");
    }

    /// <summary>A link whose receive side can be cut: reads go on underneath but return nothing while deaf.</summary>
    private sealed class DeafStream(Stream inner) : Stream
    {
        public volatile bool Deaf;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            while (true)
            {
                int n = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
                if (n == 0 || !Deaf)
                {
                    return n;
                }
            }
        }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(buffer, cancellationToken);
        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
        public override void Flush() => inner.Flush();
        public override bool CanRead => true;
        public override bool CanWrite => true;
        public override bool CanSeek => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
