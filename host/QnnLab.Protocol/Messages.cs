using System.Buffers.Binary;
using System.Text;

namespace QnnLab.Protocol;

[Flags]
public enum Capabilities : uint
{
    None = 0,
    Upload = 1 << 0,
    Squeeze = 1 << 1,
    Detector = 1 << 2,
    Benchmark = 1 << 3,
    SetBaud = 1 << 4,
    InputTensor = 1 << 5,
    Reset = 1 << 6,
}

public enum TimingUnit : byte
{
    Cycles = 0,
    Nanoseconds = 1,
    Instructions = 2,
}

/// <summary>A device error answer (or a request the device refused).</summary>
public sealed class ProtocolException : Exception
{
    public ProtocolException(StatusCode status, string message) : base($"{message}: {status}") => Status = status;

    public StatusCode Status { get; }
}

/// <summary>HELLO/BOOT payload: the device's limits and identity for this boot.</summary>
public sealed record HelloInfo(byte ProtocolVersion, int MaxPayload, int MaxInflight, int CacheEntries, uint BootId,
    Capabilities Capabilities, uint ArenaBytes, uint CurrentBaud, uint[] SupportedBauds)
{
    public static HelloInfo Parse(byte[] p)
    {
        var r = new WireReader(p);
        byte version = r.U8();
        r.U8();
        int maxPayload = r.U16();
        int inflight = r.U8();
        int cache = r.U8();
        r.U16();
        uint boot = r.U32();
        var caps = (Capabilities)r.U32();
        uint arena = r.U32();
        uint baud = r.U32();
        var bauds = new uint[r.U8()];
        for (int i = 0; i < bauds.Length; i++)
        {
            bauds[i] = r.U32();
        }
        return new HelloInfo(version, maxPayload, inflight, cache, boot, caps, arena, baud, bauds);
    }
}

/// <summary>A model the board holds (SPEC.md "model").</summary>
public sealed record ModelDescriptor(byte[] Hash, uint BlobBytes, byte Precision, int Height, int Width, int Channels,
    int InputElementBytes, int OutputCount, int OutputElementBytes, string Name)
{
    public int PixelBytes => Height * Width * Channels;
    public int TensorBytes => PixelBytes * InputElementBytes;
    public string HashHex => Convert.ToHexStringLower(Hash);

    internal static ModelDescriptor Read(ref WireReader r)
    {
        byte[] hash = r.Bytes(32);
        return new ModelDescriptor(hash, r.U32(), r.U8(), r.U16(), r.U16(), r.U16(), r.U8(), r.U16(), r.U8(), r.Str());
    }

    public static ModelDescriptor Parse(byte[] p)
    {
        var r = new WireReader(p);
        return Read(ref r);
    }
}

/// <summary>INFO payload.</summary>
public sealed record BoardInfo(uint ClockHz, TimingUnit TimingUnit, uint TimingResolution, string Board, string Backend,
    string BuildId, byte[]? SelectedModel, IReadOnlyList<ModelDescriptor> Models)
{
    public static BoardInfo Parse(byte[] p)
    {
        var r = new WireReader(p);
        uint clock = r.U32();
        var unit = (TimingUnit)r.U8();
        uint res = r.U32();
        string board = r.Str(), backend = r.Str(), build = r.Str();
        bool has = r.U8() != 0;
        byte[] sel = r.Bytes(32);
        int n = r.U8();
        var models = new List<ModelDescriptor>();
        for (int i = 0; i < n; i++)
        {
            models.Add(ModelDescriptor.Read(ref r));
        }
        return new BoardInfo(clock, unit, res, board, backend, build, has ? sel : null, models);
    }
}

/// <summary>Feature Squeezing settings on the device (bit depth 0 = off; median size 0/1 = off).</summary>
public sealed record SqueezeConfig(byte BitDepth, byte MedianSize, bool Detector, float Threshold)
{
    public static readonly SqueezeConfig Off = new(0, 0, false, 0f);

    public byte[] ToPayload()
    {
        var p = new byte[8];
        p[0] = BitDepth;
        p[1] = MedianSize;
        p[2] = (byte)(Detector ? 1 : 0);
        BinaryPrimitives.WriteSingleLittleEndian(p.AsSpan(4), Threshold);
        return p;
    }
}

/// <summary>One input's answer: label, detector verdict, per-stage times (in the board's unit) and logits.</summary>
public sealed record InferResult(int Label, bool Adversarial, ulong[] StageTimes, float DetectorScore, int LogitBytes, int[] Logits)
{
    /// <summary>Stage indices (SPEC.md `results`): non-overlapping, 0 where a stage did not run.</summary>
    public const int Quantize = 0, SqueezeBitDepth = 1, SqueezeMedian = 2, Inference = 3, InferenceBitDepth = 4, InferenceMedian = 5, Compare = 6;
    public const int StageCount = 7;

    public ulong TotalTime => StageTimes.Aggregate(0UL, (a, b) => a + b);

    public static InferResult[] ParseAll(byte[] p)
    {
        var r = new WireReader(p);
        var results = new InferResult[r.U8()];
        for (int i = 0; i < results.Length; i++)
        {
            int label = r.U16();
            bool adv = (r.U8() & 1) != 0;
            int stages = r.U8();
            if (stages != StageCount)
            {
                throw new ProtocolException(StatusCode.BadPayload, $"results: {stages} stages, protocol {Frame.ProtocolVersion} has {StageCount}");
            }
            var times = new ulong[stages];
            for (int s = 0; s < times.Length; s++)
            {
                times[s] = r.U64();
            }
            float score = r.F32();
            var logits = new int[r.U16()];
            int k = r.U8();
            for (int j = 0; j < logits.Length; j++)
            {
                logits[j] = k switch
                {
                    1 => (sbyte)r.U8(),
                    2 => (short)r.U16(),
                    _ => (int)r.U32(),
                };
            }
            results[i] = new InferResult(label, adv, times, score, k, logits);
        }
        return results;
    }
}

public sealed record BenchmarkResult(int Repetitions, int Label, ulong Min, ulong Median, ulong Max)
{
    public static BenchmarkResult Parse(byte[] p)
    {
        var r = new WireReader(p);
        return new BenchmarkResult(r.U16(), r.U16(), r.U64(), r.U64(), r.U64());
    }
}

/// <summary>The device's STATS counters, in wire order.</summary>
public sealed record DeviceStats(uint FramesOk, uint BadCrc, uint BadCobs, uint Runt, uint Oversize, uint BadLength,
    uint BadVersion, uint UnknownType, uint Replays, uint NaksSent, uint Inferences, uint BytesReceived)
{
    public uint FramesDropped => BadCrc + BadCobs + Runt + Oversize + BadLength;

    public static DeviceStats Parse(byte[] p)
    {
        var r = new WireReader(p);
        return new DeviceStats(r.U32(), r.U32(), r.U32(), r.U32(), r.U32(), r.U32(), r.U32(), r.U32(), r.U32(), r.U32(), r.U32(), r.U32());
    }
}

/// <summary>Little-endian reader over a payload; running past the end is a protocol error.</summary>
internal ref struct WireReader
{
    private readonly ReadOnlySpan<byte> _p;
    private int _at;

    public WireReader(ReadOnlySpan<byte> p)
    {
        _p = p;
        _at = 0;
    }

    private ReadOnlySpan<byte> Take(int n)
    {
        if (_at + n > _p.Length)
        {
            throw new ProtocolException(StatusCode.BadPayload, $"answer payload too short ({_p.Length} bytes)");
        }
        ReadOnlySpan<byte> s = _p.Slice(_at, n);
        _at += n;
        return s;
    }

    public byte U8() => Take(1)[0];
    public ushort U16() => BinaryPrimitives.ReadUInt16LittleEndian(Take(2));
    public uint U32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));
    public ulong U64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));
    public float F32() => BinaryPrimitives.ReadSingleLittleEndian(Take(4));
    public byte[] Bytes(int n) => Take(n).ToArray();
    public string Str() => Encoding.UTF8.GetString(Take(U8()));
}

/// <summary>Request payload builders.</summary>
public static class Payloads
{
    public static byte[] Hello(ushort hostMaxPayload = ushort.MaxValue) => [Frame.ProtocolVersion, Frame.ProtocolVersion, (byte)hostMaxPayload, (byte)(hostMaxPayload >> 8)];

    /// <summary>INFER: flags (bit 0 input tensor, bit 1 no logits), count, offset of the data in the input.</summary>
    public static byte[] Infer(ReadOnlySpan<byte> data, bool inputTensor = false, bool noLogits = false, int count = 1, uint offset = 0)
    {
        var p = new byte[8 + data.Length];
        p[0] = (byte)((inputTensor ? 1 : 0) | (noLogits ? 2 : 0));
        p[1] = checked((byte)count);
        BinaryPrimitives.WriteUInt32LittleEndian(p.AsSpan(4), offset);
        data.CopyTo(p.AsSpan(8));
        return p;
    }

    public static byte[] Benchmark(ReadOnlySpan<byte> data, int repetitions, bool inputTensor = false, uint offset = 0)
    {
        var p = new byte[8 + data.Length];
        BinaryPrimitives.WriteUInt16LittleEndian(p, checked((ushort)repetitions));
        p[2] = (byte)(inputTensor ? 1 : 0);
        BinaryPrimitives.WriteUInt32LittleEndian(p.AsSpan(4), offset);
        data.CopyTo(p.AsSpan(8));
        return p;
    }

    /// <summary>u32 offset followed by bytes (INPUT_CHUNK, UPLOAD_CHUNK).</summary>
    public static byte[] OffsetChunk(uint offset, ReadOnlySpan<byte> data)
    {
        var p = new byte[4 + data.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(p, offset);
        data.CopyTo(p.AsSpan(4));
        return p;
    }

    public static byte[] UploadBegin(uint size, ReadOnlySpan<byte> hash)
    {
        var p = new byte[36];
        BinaryPrimitives.WriteUInt32LittleEndian(p, size);
        hash.CopyTo(p.AsSpan(4));
        return p;
    }

    public static byte[] U32(uint v)
    {
        var p = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(p, v);
        return p;
    }
}
