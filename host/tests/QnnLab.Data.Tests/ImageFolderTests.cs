using QnnLab.TestSupport;
using StbImageWriteSharp;

namespace QnnLab.Data.Tests;

[TestClass]
public sealed class ImageFolderTests
{
    private static byte[] Pattern(int h, int w, int seed)
    {
        var p = new byte[h * w * 3];
        for (int i = 0; i < p.Length; i++)
        {
            p[i] = (byte)(i * 37 + seed * 11);
        }
        return p;
    }

    private static void Save(string file, byte[] rgb, int h, int w)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        using FileStream fs = File.Create(file);
        var writer = new ImageWriter();
        switch (Path.GetExtension(file))
        {
            case ".png":
                writer.WritePng(rgb, w, h, StbImageWriteSharp.ColorComponents.RedGreenBlue, fs);
                break;
            case ".bmp":
                writer.WriteBmp(rgb, w, h, StbImageWriteSharp.ColorComponents.RedGreenBlue, fs);
                break;
            default:
                writer.WriteJpg(rgb, w, h, StbImageWriteSharp.ColorComponents.RedGreenBlue, fs, 95);
                break;
        }
    }

    [TestMethod]
    public void ClassesAreSortedFolderNamesAndLosslessImagesDecodeExactly()
    {
        string dir = TestData.TempDir();
        // Ordinal order: "Zebra" < "apple" < "banana" (upper case first, as Python's sorted()).
        byte[] z0 = Pattern(4, 5, 1), a0 = Pattern(4, 5, 2), a1 = Pattern(4, 5, 3), b0 = Pattern(4, 5, 4);
        Save(Path.Combine(dir, "banana", "0.png"), b0, 4, 5);
        Save(Path.Combine(dir, "apple", "b.bmp"), a1, 4, 5);
        Save(Path.Combine(dir, "apple", "a.png"), a0, 4, 5);
        Save(Path.Combine(dir, "Zebra", "z.png"), z0, 4, 5);
        File.WriteAllText(Path.Combine(dir, "apple", "notes.txt"), "not an image");

        ImageSet set = DataSpec.Load($"folder:{dir}");
        CollectionAssert.AreEqual(new[] { "Zebra", "apple", "banana" }, set.ClassNames);
        CollectionAssert.AreEqual(new[] { 0, 1, 1, 2 }, set.Labels);
        Assert.AreEqual((4, 5, 3), (set.Height, set.Width, set.Channels));
        CollectionAssert.AreEqual(z0.Concat(a0).Concat(a1).Concat(b0).ToArray(), set.Pixels);

        Assert.AreEqual(2, DataSpec.Load($"folder:{dir}", new DataOptions { Limit = 2 }).Count);
    }

    [TestMethod]
    public void JpegDecodesCloseToTheSourceAndMixedSizesNeedATargetSize()
    {
        string dir = TestData.TempDir();
        // A smooth gradient survives JPEG quality 95 within a few levels.
        var grad = new byte[16 * 16 * 3];
        for (int y = 0; y < 16; y++)
        {
            for (int x = 0; x < 16; x++)
            {
                grad[(y * 16 + x) * 3] = (byte)(x * 16);
                grad[(y * 16 + x) * 3 + 1] = (byte)(y * 16);
                grad[(y * 16 + x) * 3 + 2] = 128;
            }
        }
        Save(Path.Combine(dir, "a", "g.jpg"), grad, 16, 16);
        Save(Path.Combine(dir, "b", "small.png"), Pattern(8, 8, 0), 8, 8);

        var e = Assert.ThrowsExactly<InvalidDataException>(() => DataSpec.Load($"folder:{dir}"));
        StringAssert.Contains(e.Message, "small.png");
        StringAssert.Contains(e.Message, "8x8");
        StringAssert.Contains(e.Message, "target size");

        ImageSet set = DataSpec.Load($"folder:{dir}", new DataOptions { TargetSize = (16, 16) });
        Assert.AreEqual(2, set.Count);
        int worst = 0;
        for (int i = 0; i < grad.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs(grad[i] - set.Pixels![i]));
        }
        Assert.IsLessThan(12, worst, $"JPEG round trip differs by {worst}");
    }

    [TestMethod]
    public void EmptyOrBrokenFoldersAreNamed()
    {
        string dir = TestData.TempDir();
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => DataSpec.Load($"folder:{dir}")).Message, "no class folders");
        Directory.CreateDirectory(Path.Combine(dir, "a"));
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => DataSpec.Load($"folder:{dir}")).Message, "hold no");
        File.WriteAllText(Path.Combine(dir, "a", "x.png"), "not a png");
        var e = Assert.ThrowsExactly<InvalidDataException>(() => DataSpec.Load($"folder:{dir}"));
        StringAssert.Contains(e.Message, Path.Combine(dir, "a", "x.png"));
        StringAssert.Contains(e.Message, "cannot decode");
        Assert.ThrowsExactly<DirectoryNotFoundException>(() => DataSpec.Load($"folder:{dir}/missing"));
    }
}
