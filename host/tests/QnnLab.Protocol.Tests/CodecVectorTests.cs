using System.Text.Json;
using QnnLab.Protocol;
using QnnLab.TestSupport;

namespace QnnLab.Protocol.Tests;

/// <summary>The C# codec against shared/protocol/vectors/frames.json (generated independently in Python).</summary>
[TestClass]
public sealed class CodecVectorTests
{
    private static JsonElement Vectors { get; } = JsonDocument.Parse(File.ReadAllText(
        Path.Combine(TestData.RepoRoot, "shared", "protocol", "vectors", "frames.json"))).RootElement;

    private static byte[] Hex(JsonElement e, string name) => Convert.FromHexString(e.GetProperty(name).GetString()!);

    [TestMethod]
    public void Crc32MatchesZlib()
    {
        int n = 0;
        foreach (JsonElement v in Vectors.GetProperty("crc32").EnumerateArray())
        {
            Assert.AreEqual(v.GetProperty("crc32").GetUInt32(), Crc32.Compute(Hex(v, "data")));
            n++;
        }
        Assert.IsGreaterThanOrEqualTo(4, n);
        Assert.AreEqual(0xCBF43926u, Crc32.Compute("123456789"u8));
    }

    [TestMethod]
    public void CobsEncodesAndDecodesEveryVector()
    {
        foreach (JsonElement v in Vectors.GetProperty("cobs").EnumerateArray())
        {
            byte[] data = Hex(v, "data"), enc = Hex(v, "encoded");
            CollectionAssert.AreEqual(enc, Cobs.Encode(data), $"encode {v.GetProperty("data").GetString()![..Math.Min(16, data.Length * 2)]}");
            var back = new byte[data.Length + 1];
            int n = Cobs.Decode(enc, back);
            Assert.AreEqual(data.Length, n);
            CollectionAssert.AreEqual(data, back[..n]);
        }
    }

    [TestMethod]
    public void FramesEncodeToTheVectorWireBytes()
    {
        foreach (JsonElement v in Vectors.GetProperty("frames").EnumerateArray())
        {
            var f = new Frame((byte)v.GetProperty("type").GetInt32(), (FrameFlags)v.GetProperty("flags").GetInt32(),
                (StatusCode)v.GetProperty("status").GetInt32(), (ushort)v.GetProperty("seq").GetInt32(), Hex(v, "payload"),
                (byte)v.GetProperty("version").GetInt32());
            CollectionAssert.AreEqual(Hex(v, "wire"), f.ToWire(), v.GetProperty("name").GetString());
        }
    }

    [TestMethod]
    public void FramesDecodeFromTheVectorWireBytes()
    {
        foreach (JsonElement v in Vectors.GetProperty("frames").EnumerateArray())
        {
            string name = v.GetProperty("name").GetString()!;
            var d = new FrameDecoder(4096);
            List<DecodeResult> got = d.PushAll(Hex(v, "wire")).ToList();
            Assert.HasCount(1, got, name);
            Frame f = got[0].Frame!;
            Assert.IsNotNull(f, name);
            Assert.AreEqual(v.GetProperty("type").GetInt32(), f.Type, name);
            Assert.AreEqual(v.GetProperty("flags").GetInt32(), (int)f.Flags, name);
            Assert.AreEqual(v.GetProperty("status").GetInt32(), (int)f.Status, name);
            Assert.AreEqual(v.GetProperty("seq").GetInt32(), f.Seq, name);
            Assert.AreEqual(v.GetProperty("version").GetInt32(), f.Version, name);
            CollectionAssert.AreEqual(Hex(v, "payload"), f.Payload, name);
        }
    }

    [TestMethod]
    public void MalformedStreamsGiveTheVectorEvents()
    {
        var classes = new HashSet<string>();
        foreach (JsonElement v in Vectors.GetProperty("malformed").EnumerateArray())
        {
            string name = v.GetProperty("name").GetString()!;
            var d = new FrameDecoder(v.GetProperty("max_payload").GetInt32());
            List<string> got = d.PushAll(Hex(v, "wire")).Select(r => r.Frame is { } f ? $"ok:{f.Seq}" : $"err:{Upper(r.Error)}").ToList();
            List<string> want = v.GetProperty("events").EnumerateArray().Select(e => e.GetString()!).ToList();
            CollectionAssert.AreEqual(want, got, $"{name}: got {string.Join(",", got)}");
            classes.UnionWith(want.Where(w => w.StartsWith("err:", StringComparison.Ordinal)));
        }
        Assert.HasCount(5, classes, "every malformed-frame class is covered");
    }

    [TestMethod]
    public void EverySingleBitFlipIsRejected()
    {
        byte[] raw = Frame.Request(MessageType.Infer, 77, Enumerable.Range(0, 300).Select(i => (byte)i).ToArray()).ToRaw();
        for (int bit = 0; bit < raw.Length * 8; bit++)
        {
            raw[bit / 8] ^= (byte)(1 << (bit % 8));
            var wire = new byte[Cobs.MaxEncodedLength(raw.Length) + 1];
            int n = Cobs.Encode(raw, wire);
            wire[n] = 0;
            Assert.IsFalse(new FrameDecoder().PushAll(wire[..(n + 1)]).Any(r => r.IsFrame), $"bit {bit}");
            raw[bit / 8] ^= (byte)(1 << (bit % 8));
        }
    }

    private static string Upper(StatusCode s) => s switch
    {
        StatusCode.BadCrc => "BAD_CRC",
        StatusCode.BadCobs => "BAD_COBS",
        StatusCode.Runt => "RUNT",
        StatusCode.Oversize => "OVERSIZE",
        StatusCode.BadLength => "BAD_LENGTH",
        _ => s.ToString(),
    };
}
