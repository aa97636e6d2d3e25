using System.Buffers.Binary;

namespace QnnLab.Protocol;

public enum MessageType : byte
{
    Hello = 0x01,
    Info = 0x02,
    SelectModel = 0x03,
    UploadBegin = 0x04,
    UploadChunk = 0x05,
    UploadEnd = 0x06,
    SetSqueeze = 0x07,
    InputChunk = 0x08,
    Infer = 0x09,
    Benchmark = 0x0A,
    Reset = 0x0B,
    SetBaud = 0x0C,
    Stats = 0x0D,
    Boot = 0x70,
    Nak = 0x71,
}

[Flags]
public enum FrameFlags : byte
{
    None = 0,
    Unsolicited = 0x01,
    Replay = 0x02,
}

/// <summary>Status codes (SPEC.md section 5); 1..5 are also the malformed-frame classes.</summary>
public enum StatusCode : byte
{
    Ok = 0,
    BadCrc = 1,
    BadCobs = 2,
    Runt = 3,
    Oversize = 4,
    BadLength = 5,
    BadVersion = 6,
    UnknownType = 7,
    BadPayload = 8,
    NoModel = 9,
    UnknownModel = 10,
    BadInputSize = 11,
    UploadOffset = 12,
    HashMismatch = 13,
    NoSpace = 14,
    NotSupported = 15,
    Executor = 16,
    NotCached = 17,
    NoUpload = 18,
    NotStaged = 19,
}

/// <summary>One decoded frame. A response has type = request | 0x80 (see <see cref="IsResponse"/>).</summary>
public sealed record Frame(byte Type, FrameFlags Flags, StatusCode Status, ushort Seq, byte[] Payload, byte Version = Frame.ProtocolVersion)
{
    public const byte ProtocolVersion = 2; // 2: seven stages per inference (SPEC.md `results`)
    public const int HeaderBytes = 8;
    public const int Overhead = 12;
    public const byte ResponseBit = 0x80;

    public bool IsResponse => (Type & ResponseBit) != 0;
    public MessageType RequestType => (MessageType)(Type & 0x7F);

    /// <summary>header | payload | CRC-32, before byte stuffing.</summary>
    public byte[] ToRaw()
    {
        var raw = new byte[Overhead + Payload.Length];
        raw[0] = Version;
        raw[1] = Type;
        raw[2] = (byte)Flags;
        raw[3] = (byte)Status;
        BinaryPrimitives.WriteUInt16LittleEndian(raw.AsSpan(4), Seq);
        BinaryPrimitives.WriteUInt16LittleEndian(raw.AsSpan(6), checked((ushort)Payload.Length));
        Payload.CopyTo(raw, HeaderBytes);
        BinaryPrimitives.WriteUInt32LittleEndian(raw.AsSpan(HeaderBytes + Payload.Length), Crc32.Compute(raw.AsSpan(0, HeaderBytes + Payload.Length)));
        return raw;
    }

    /// <summary>The bytes on the wire: COBS(raw) then the 0x00 delimiter.</summary>
    public byte[] ToWire()
    {
        byte[] raw = ToRaw();
        var wire = new byte[Cobs.MaxEncodedLength(raw.Length) + 1];
        int n = Cobs.Encode(raw, wire);
        wire[n] = 0;
        return wire.AsSpan(0, n + 1).ToArray();
    }

    public static Frame Request(MessageType type, ushort seq, byte[] payload, FrameFlags flags = FrameFlags.None)
        => new((byte)type, flags, StatusCode.Ok, seq, payload);

    public override string ToString() => $"type=0x{Type:X2} flags={Flags} status={Status} seq={Seq} len={Payload.Length}";
}

/// <summary>What the receiver made of the bytes up to a delimiter: a frame, or the class of a malformed one.</summary>
public readonly record struct DecodeResult(Frame? Frame, StatusCode Error)
{
    public bool IsFrame => Frame is not null;
}

/// <summary>Byte-at-a-time receiver, the same state machine as the device's (resynchronises on 0x00).</summary>
public sealed class FrameDecoder
{
    private readonly byte[] _buf;
    private int _n;
    private bool _overflow;

    /// <param name="maxPayload">largest payload accepted; longer frames are dropped as <see cref="StatusCode.Oversize"/>.</param>
    public FrameDecoder(int maxPayload = ushort.MaxValue)
    {
        int raw = Frame.Overhead + maxPayload;
        _buf = new byte[raw + (raw + 253) / 254];
    }

    /// <summary>Feeds one byte; returns a result when it completed a frame (empty frames are ignored).</summary>
    public DecodeResult? Push(byte b)
    {
        if (b != 0)
        {
            if (_n >= _buf.Length)
            {
                _overflow = true;
            }
            else
            {
                _buf[_n++] = b;
            }
            return null;
        }
        int n = _n;
        bool overflow = _overflow;
        _n = 0;
        _overflow = false;
        if (overflow)
        {
            return new DecodeResult(null, StatusCode.Oversize);
        }
        if (n == 0)
        {
            return null;
        }
        Span<byte> span = _buf.AsSpan(0, n);
        int rawLen = Cobs.Decode(span, span);
        if (rawLen < 0)
        {
            return new DecodeResult(null, StatusCode.BadCobs);
        }
        if (rawLen < Frame.Overhead)
        {
            return new DecodeResult(null, StatusCode.Runt);
        }
        ReadOnlySpan<byte> raw = span[..rawLen];
        int body = rawLen - 4;
        if (Crc32.Compute(raw[..body]) != BinaryPrimitives.ReadUInt32LittleEndian(raw[body..]))
        {
            return new DecodeResult(null, StatusCode.BadCrc);
        }
        int len = BinaryPrimitives.ReadUInt16LittleEndian(raw[6..]);
        if (len != body - Frame.HeaderBytes)
        {
            return new DecodeResult(null, StatusCode.BadLength);
        }
        var frame = new Frame(raw[1], (FrameFlags)raw[2], (StatusCode)raw[3], BinaryPrimitives.ReadUInt16LittleEndian(raw[4..]),
            raw.Slice(Frame.HeaderBytes, len).ToArray(), raw[0]);
        return new DecodeResult(frame, StatusCode.Ok);
    }

    public IEnumerable<DecodeResult> PushAll(byte[] data)
    {
        foreach (byte b in data)
        {
            DecodeResult? r = Push(b);
            if (r is not null)
            {
                yield return r.Value;
            }
        }
    }
}
