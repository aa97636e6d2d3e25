using System.Buffers.Binary;
using System.Text;
using QnnLab.TestSupport;

namespace QnnLab.Data.Tests;

[TestClass]
public sealed class NpyTests
{
    [TestMethod]
    public void HeaderFollowsNumpyFormatOne()
    {
        // numpy.lib.format: magic, version 1.0, little-endian u16 length, then the dict repr padded with
        // spaces and ended by '\n' so that the whole preamble is a multiple of 64 bytes.
        byte[] h = NpyWriter.Header(NpyType.Float32, [2, 3]);
        Assert.HasCount(128, h);
        CollectionAssert.AreEqual(new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0 }, h[..8]);
        Assert.AreEqual(118, BinaryPrimitives.ReadUInt16LittleEndian(h.AsSpan(8)));
        string text = Encoding.ASCII.GetString(h, 10, 118);
        Assert.StartsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", text);
        Assert.EndsWith("\n", text);
        Assert.AreEqual(string.Empty, text[59..^1].Trim(' '));

        // A one-dimensional shape is written as a one-element tuple, as Python's repr does.
        string oneD = Encoding.ASCII.GetString(NpyWriter.Header(NpyType.Int64, [7]));
        StringAssert.Contains(oneD, "'descr': '<i8', 'fortran_order': False, 'shape': (7,), }");
    }

    [TestMethod]
    public void RoundTripsEveryTypeAndShape()
    {
        string dir = TestData.TempDir();
        string f = Path.Combine(dir, "a.npy");

        byte[] u8 = [0, 1, 127, 128, 255, 42];
        NpyWriter.Write(f, u8, 2, 3);
        NpyArray a = NpyReader.Read(f);
        Assert.AreEqual(NpyType.UInt8, a.Type);
        CollectionAssert.AreEqual(new[] { 2, 3 }, a.Shape);
        CollectionAssert.AreEqual(u8, a.Data);

        float[] f32 = [0f, -1.5f, 3.25e-7f, float.MaxValue];
        NpyWriter.Write(f, f32, 4);
        a = NpyReader.Read(f);
        Assert.AreEqual(NpyType.Float32, a.Type);
        for (int i = 0; i < f32.Length; i++)
        {
            Assert.AreEqual((double)f32[i], a.Get(i));
        }

        double[] f64 = [Math.PI, -0.0, 1e300];
        NpyWriter.Write(f, f64, 1, 3);
        a = NpyReader.Read(f);
        Assert.AreEqual(NpyType.Float64, a.Type);
        for (int i = 0; i < f64.Length; i++)
        {
            Assert.AreEqual(f64[i], a.Get(i));
        }

        int[] i32 = [int.MinValue, -1, 0, int.MaxValue];
        NpyWriter.Write(f, i32, 2, 2);
        a = NpyReader.Read(f);
        Assert.AreEqual(NpyType.Int32, a.Type);
        for (int i = 0; i < i32.Length; i++)
        {
            Assert.AreEqual((double)i32[i], a.Get(i));
        }

        long[] i64 = [9, 0, 3];
        NpyWriter.Write(f, i64, 3);
        a = NpyReader.Read(f);
        Assert.AreEqual(NpyType.Int64, a.Type);
        CollectionAssert.AreEqual(new[] { 3 }, a.Shape);
        Assert.AreEqual(9.0, a.Get(0));
    }

    [TestMethod]
    public void ReadsFormatVersionTwoWithDoubleQuotesAndNoTrailingComma()
    {
        // Version 2.0 has a u32 header length; a hand-written dict with other spacing must parse too.
        string dict = "{\"descr\":\"|u1\",\"shape\":(1,2,2),\"fortran_order\":False}\n";
        var bytes = new List<byte> { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 2, 0 };
        bytes.AddRange(BitConverter.GetBytes((uint)dict.Length));
        bytes.AddRange(Encoding.ASCII.GetBytes(dict));
        bytes.AddRange(new byte[] { 10, 20, 30, 40 });
        string f = Path.Combine(TestData.TempDir(), "v2.npy");
        File.WriteAllBytes(f, bytes.ToArray());
        NpyArray a = NpyReader.Read(f);
        CollectionAssert.AreEqual(new[] { 1, 2, 2 }, a.Shape);
        CollectionAssert.AreEqual(new byte[] { 10, 20, 30, 40 }, a.Data);
    }

    [TestMethod]
    public void FloatImagesInUnitRangeBecomePixelUnitsAndExportRoundTrips()
    {
        string dir = TestData.TempDir();
        string x = Path.Combine(dir, "x.npy"), y = Path.Combine(dir, "y.npy");
        // Two 1x2 RGB images in [0,1].
        float[] values = [0f, 0.5f, 1f, 0.25f, 0.75f, 1f / 255f, 1f, 1f, 1f, 0f, 0f, 0f];
        NpyWriter.Write(x, values, 2, 1, 2, 3);
        NpyWriter.Write(y, new int[] { 3, 7 }, 2);

        ImageSet set = DataSpec.Load($"npy:{x},{y}");
        Assert.AreEqual(2, set.Count);
        Assert.AreEqual((1, 2, 3), (set.Height, set.Width, set.Channels));
        CollectionAssert.AreEqual(new[] { 3, 7 }, set.Labels);
        Assert.IsNull(set.Pixels);
        for (int i = 0; i < values.Length; i++)
        {
            Assert.AreEqual(values[i] * 255f, set.Values![i], 1e-4f, $"element {i}");
        }

        // Pixel units are taken as they are.
        NpyWriter.Write(x, values.Select(v => v * 255f).ToArray(), 2, 1, 2, 3);
        ImageSet px = DataSpec.Load($"npy:{x},{y}", new DataOptions { FloatRange = NpyFloatRange.PixelUnits });
        Assert.AreEqual(127.5f, px.Values![1], 1e-4f);

        // ...and in unit-range mode they are refused rather than multiplied by 255 again.
        var e = Assert.ThrowsExactly<InvalidDataException>(() => DataSpec.Load($"npy:{x},{y}"));
        StringAssert.Contains(e.Message, x);
        StringAssert.Contains(e.Message, "outside [0,1]");

        // Export: float32 in [0,1] and int64 labels, which read back to the same set.
        string x2 = Path.Combine(dir, "x2.npy"), y2 = Path.Combine(dir, "y2.npy");
        NpyWriter.WriteImageSet(set, x2, y2);
        NpyArray xa = NpyReader.Read(x2), ya = NpyReader.Read(y2);
        Assert.AreEqual(NpyType.Float32, xa.Type);
        CollectionAssert.AreEqual(new[] { 2, 1, 2, 3 }, xa.Shape);
        Assert.AreEqual(NpyType.Int64, ya.Type);
        ImageSet back = NpyImages.Load(x2, y2);
        CollectionAssert.AreEqual(set.Labels, back.Labels);
        for (int i = 0; i < values.Length; i++)
        {
            Assert.AreEqual(set.Values![i], back.Values![i], 1e-4f);
        }
    }

    [TestMethod]
    public void Uint8ChannelsFirstIsTransposedToHwcAndOneHotLabelsAreArgmaxed()
    {
        string dir = TestData.TempDir();
        string x = Path.Combine(dir, "x.npy"), y = Path.Combine(dir, "y.npy");
        // One 2x2 image, 3 channels, stored (N,C,H,W): channel c, pixel p holds 10*c + p.
        byte[] chw = [0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23];
        NpyWriter.Write(x, chw, 1, 3, 2, 2);
        NpyWriter.Write(y, new float[] { 0f, 0.2f, 0.7f, 0.1f }, 1, 4);

        ImageSet set = DataSpec.Load($"npy:{x},{y}", new DataOptions { ChannelsFirst = true });
        Assert.AreEqual((2, 2, 3), (set.Height, set.Width, set.Channels));
        CollectionAssert.AreEqual(new byte[] { 0, 10, 20, 1, 11, 21, 2, 12, 22, 3, 13, 23 }, set.Pixels);
        Assert.AreEqual(2, set.Labels[0]);

        // Without the option an (N,C,H,W) shape is caught, not read as 3 rows of 5x5-channel pixels.
        NpyWriter.Write(x, new byte[75], 1, 3, 5, 5);
        var e = Assert.ThrowsExactly<InvalidDataException>(() => DataSpec.Load($"npy:{x},{y}"));
        StringAssert.Contains(e.Message, "channels-first");
    }

    [TestMethod]
    public void BadFilesAreNamedWithTheProblem()
    {
        string dir = TestData.TempDir();
        string x = Path.Combine(dir, "x.npy"), y = Path.Combine(dir, "y.npy");
        NpyWriter.Write(x, new byte[12], 3, 2, 2, 1);
        NpyWriter.Write(y, new long[] { 0, 1 }, 2);

        var count = Assert.ThrowsExactly<InvalidDataException>(() => DataSpec.Load($"npy:{x},{y}"));
        StringAssert.Contains(count.Message, y);
        StringAssert.Contains(count.Message, "2 labels for 3 images");

        File.WriteAllBytes(x, Encoding.ASCII.GetBytes("PK\x03\x04 this is a zip"));
        var magic = Assert.ThrowsExactly<InvalidDataException>(() => NpyReader.Read(x));
        StringAssert.Contains(magic.Message, x);
        StringAssert.Contains(magic.Message, "bad npy header");

        byte[] header = NpyWriter.Header(NpyType.Float32, [4]);
        File.WriteAllBytes(x, [.. header, 1, 2, 3]);
        var truncated = Assert.ThrowsExactly<InvalidDataException>(() => NpyReader.Read(x));
        StringAssert.Contains(truncated.Message, "truncated");

        File.WriteAllBytes(x, Encoding.ASCII.GetBytes("\x93NUMPY").Concat(new byte[] { 1, 0 }).Concat(BitConverter.GetBytes((ushort)20)).Concat(Encoding.ASCII.GetBytes("{'descr': '<f4', }  \n")).ToArray());
        var missingKeys = Assert.ThrowsExactly<InvalidDataException>(() => NpyReader.Read(x));
        StringAssert.Contains(missingKeys.Message, "bad npy header");

        string big = Encoding.Latin1.GetString(NpyWriter.Header(NpyType.Float32, [1])).Replace("<f4", ">f4");
        File.WriteAllBytes(x, [.. Encoding.Latin1.GetBytes(big), 0, 0, 0, 0]);
        var endian = Assert.ThrowsExactly<InvalidDataException>(() => NpyReader.Read(x));
        StringAssert.Contains(endian.Message, "dtype '>f4' is not supported");

        string fortran = Encoding.Latin1.GetString(NpyWriter.Header(NpyType.UInt8, [1, 1])).Replace("False", "True ");
        File.WriteAllBytes(x, [.. Encoding.Latin1.GetBytes(fortran), 0]);
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => NpyReader.Read(x)).Message, "Fortran");

        Assert.ThrowsExactly<ArgumentException>(() => DataSpec.Load($"npy:{x}"));
        Assert.ThrowsExactly<FileNotFoundException>(() => DataSpec.Load($"npy:{dir}/nope.npy,{y}"));
    }
}
