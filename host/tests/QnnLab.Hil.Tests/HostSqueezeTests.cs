using QnnLab.Hil;

namespace QnnLab.Hil.Tests;

[TestClass]
public sealed class HostSqueezeTests
{
    [TestMethod]
    public void BitDepthLevel_IsRintOfTheScaledPixel_ForEveryPixelAndDepth()
    {
        for (int bits = 1; bits <= 8; bits++)
        {
            int levels = (1 << bits) - 1;
            for (int p = 0; p < 256; p++)
            {
                // EvadeML: rint(x * L) with x = p / 255; never a tie since 255 is odd
                int expected = (int)Math.Round(p * (double)levels / 255.0, MidpointRounding.ToEven);
                Assert.AreEqual(expected, HostSqueeze.BitDepthLevel((byte)p, bits), $"p={p} bits={bits}");
            }
        }
        Assert.AreEqual(255f, HostSqueeze.BitDepth([255], 5)[0]);
        Assert.AreEqual((float)(255.0 * 16 / 31), HostSqueeze.BitDepth([128], 5)[0]); // 128*31/255 = 15.56 -> 16
    }

    [TestMethod]
    public void Median2x2_OfAHandWorkedImage()
    {
        // window of (y, x) covers rows y-1..y, columns x-1..x, -1 reflecting to 0 (scipy's origin for even sizes)
        byte[] img = [1, 2, 3, 4];
        CollectionAssert.AreEqual(new byte[] { 1, 2, 3, 3 }, HostSqueeze.Median(img, 2, 2, 1, 2));
    }

    [TestMethod]
    public void Median_EqualsAFilterOverAnExplicitlyReflectPaddedImage()
    {
        var rng = new Random(5);
        foreach ((int h, int w, int c) in new[] { (7, 5, 3), (5, 9, 1), (32, 32, 3) })
        {
            var img = new byte[h * w * c];
            rng.NextBytes(img);
            for (int k = 2; k <= 5; k++)
            {
                CollectionAssert.AreEqual(PaddedReference(img, h, w, c, k), HostSqueeze.Median(img, h, w, c, k), $"{h}x{w}x{c} k={k}");
            }
        }
    }

    /// <summary>numpy.pad(mode='symmetric') by k on every side, then the k x k window starting k/2 before each pixel.</summary>
    private static byte[] PaddedReference(byte[] img, int h, int w, int c, int k)
    {
        int ph = h + (2 * k), pw = w + (2 * k);
        var pad = new byte[ph * pw * c];
        int Sym(int i, int n) // mirror with the edge repeated, for |overhang| <= n
        {
            if (i < 0)
            {
                return -i - 1;
            }
            return i >= n ? (2 * n) - i - 1 : i;
        }
        for (int y = 0; y < ph; y++)
        {
            for (int x = 0; x < pw; x++)
            {
                for (int ch = 0; ch < c; ch++)
                {
                    pad[(((y * pw) + x) * c) + ch] = img[(((Sym(y - k, h) * w) + Sym(x - k, w)) * c) + ch];
                }
            }
        }
        var result = new byte[img.Length];
        var window = new List<byte>();
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++)
            {
                for (int ch = 0; ch < c; ch++)
                {
                    window.Clear();
                    for (int dy = 0; dy < k; dy++)
                    {
                        for (int dx = 0; dx < k; dx++)
                        {
                            window.Add(pad[((((y + k - (k / 2) + dy) * pw) + x + k - (k / 2) + dx) * c) + ch]);
                        }
                    }
                    window.Sort();
                    result[(((y * w) + x) * c) + ch] = window[k * k / 2];
                }
            }
        }
        return result;
    }

    [TestMethod]
    public void Settings_ParseAndRefuseNonsense()
    {
        Assert.AreEqual(new SqueezeSettings(5, 2), SqueezeSettings.Parse("bits=5,median=2"));
        Assert.IsTrue(SqueezeSettings.Parse("bits=5,median=2").Detector);
        Assert.IsFalse(SqueezeSettings.Parse("bits=5").Detector);
        Assert.AreEqual(0.5, SqueezeSettings.Parse("median=3,threshold=0.5").Threshold);
        Assert.ThrowsExactly<ArgumentException>(() => SqueezeSettings.Parse("bits=9"));
        Assert.ThrowsExactly<ArgumentException>(() => SqueezeSettings.Parse("median=1"));
        Assert.ThrowsExactly<ArgumentException>(() => SqueezeSettings.Parse("blur=2"));
        Assert.AreEqual(500, FaultSpec.Parse("drop=0.01,corrupt=0.01,duplicate=0.001,resets=2").ResetEvery);
        Assert.AreEqual(0.001, FaultSpec.Parse("duplicate=0.001").Duplicate);
        Assert.ThrowsExactly<ArgumentException>(() => FaultSpec.Parse("drop=2"));
        Assert.AreEqual(BoardKind.Serial, BoardTarget.Parse("/dev/ttyACM0").Kind);
        Assert.AreEqual("COM3", BoardTarget.Parse("COM3").Port);
        Assert.AreEqual(BoardTarget.Qemu, BoardTarget.Parse("QEMU"));
        Assert.ThrowsExactly<ArgumentException>(() => BoardTarget.Parse("nucleo"));
        Assert.AreEqual("/dev/pts/3", BoardSession.ParseQemuPty("char device redirected to /dev/pts/3 (label serial0)"));
    }
}
