using System.Security.Cryptography;
using System.Text;

namespace QnnLab.Protocol.Tests;

/// <summary>
/// The fake executor's "model", written here from its documented formula (firmware/protocol/fake/qnn_fake_device.h),
/// so every answer of the board can be checked element by element.
/// </summary>
internal static class FakeModel
{
    public static readonly byte[] CifarHash = SHA256.HashData(Encoding.ASCII.GetBytes("qnnlab fake model: cifar 32x32x3 int8, 10 classes"));
    public static readonly byte[] VwwHash = SHA256.HashData(Encoding.ASCII.GetBytes("qnnlab fake model: vww 96x96x3 int16, 2 classes"));

    public static int[] Logits(ReadOnlySpan<byte> x, int outputs, int elementBytes, int bits = 0)
    {
        var sums = new long[outputs];
        int mask = bits == 0 ? 0xFF : (0xFF << (8 - bits)) & 0xFF;
        for (int i = 0; i < x.Length; i++)
        {
            sums[i % outputs] += x[i] & mask;
        }
        return sums.Select(s => elementBytes == 1 ? (int)(s % 256) - 128 : (int)(s % 65536) - 32768).ToArray();
    }

    public static int Label(int[] logits)
    {
        int best = 0;
        for (int i = 1; i < logits.Length; i++)
        {
            if (logits[i] > logits[best])
            {
                best = i;
            }
        }
        return best;
    }

    public static byte[] Input(int length, int seed)
    {
        var x = new byte[length];
        new Random(seed).NextBytes(x);
        return x;
    }

    /// <summary>A blob the fake executor accepts as an uploaded model.</summary>
    public static byte[] Blob(int h, int w, int c, int outputs, string name, int padding)
    {
        var b = new List<byte>();
        b.AddRange("FAKEQNN1"u8.ToArray());
        foreach (int v in new[] { h, w, c, outputs })
        {
            b.Add((byte)v);
            b.Add((byte)(v >> 8));
        }
        b.AddRange([1, 1, 1]);
        b.AddRange(Encoding.ASCII.GetBytes(name));
        b.AddRange(Enumerable.Range(0, padding).Select(i => (byte)(i * 13 + 5)));
        return b.ToArray();
    }

    public static void AssertMatches(InferResult r, ReadOnlySpan<byte> input, int outputs, int elementBytes, int bits = 0)
    {
        int[] want = Logits(input, outputs, elementBytes, bits);
        CollectionAssert.AreEqual(want, r.Logits);
        Assert.AreEqual(Label(want), r.Label);
        Assert.AreEqual(elementBytes, r.LogitBytes);
        Assert.AreEqual((ulong)input.Length, r.StageTimes[InferResult.Quantize]);
    }
}
