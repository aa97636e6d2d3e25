using QnnLab.TestSupport;

namespace QnnLab.Data.Tests;

[TestClass]
public sealed class MlperfSamplesTests
{
    [TestMethod]
    public void Ic01HasTwoHundredListedCifarImages()
    {
        string dir = TestData.Require("mlperf-tiny/samples/ic01");
        ImageSet set = DataSpec.Load($"mlperf:{dir}");
        Assert.AreEqual(200, set.Count);
        Assert.AreEqual((32, 32, 3), (set.Height, set.Width, set.Channels));
        CollectionAssert.AreEqual(Cifar10.ClassNames, set.ClassNames);
        // Histogram counted from y_labels.csv with cut | sort | uniq -c.
        CollectionAssert.AreEqual(new[] { 21, 17, 28, 25, 14, 22, 14, 17, 26, 16 }, Histogram(set, 10));

        // Order and bytes follow the list: the first listed file is lippizaner_s_000613.bin, label 7.
        Assert.AreEqual(7, set.Labels[0]);
        byte[] raw = File.ReadAllBytes(Path.Combine(dir, "lippizaner_s_000613.bin"));
        CollectionAssert.AreEqual(raw, set.Pixels![..3072]);
    }

    [TestMethod]
    public void Vww01InterleavedTakesTheClassesInTurnSoAnyFirstNIsBalanced()
    {
        string dir = TestData.Require("mlperf-tiny/samples/vww01");
        ImageSet listed = DataSpec.Load($"mlperf:{dir}");
        Assert.IsTrue(listed.Labels[..500].All(l => l == 1), "the list gives the 500 person images first");
        ImageSet mixed = DataSpec.Load($"mlperf:{dir}#interleave");
        Assert.AreEqual(1000, mixed.Count);
        for (int i = 0; i < 1000; i++)
        {
            Assert.AreEqual(i % 2, mixed.Labels[i], $"image {i}");
        }
        // the first no-person image of the list, then the first person image (000000343218.bin)
        int firstNoPerson = Array.IndexOf(listed.Labels, 0);
        CollectionAssert.AreEqual(listed.Pixels![(firstNoPerson * 27648)..((firstNoPerson + 1) * 27648)], mixed.Pixels![..27648]);
        CollectionAssert.AreEqual(File.ReadAllBytes(Path.Combine(dir, "000000343218.bin")), mixed.Pixels[27648..(2 * 27648)]);
        // a limit applies after interleaving: 5 images, classes 0 1 0 1 0
        ImageSet few = DataSpec.Load($"mlperf:{dir}#interleave", new DataOptions { Limit = 5 });
        CollectionAssert.AreEqual(new[] { 0, 1, 0, 1, 0 }, few.Labels);
        var e = Assert.ThrowsExactly<ArgumentException>(() => DataSpec.Load($"mlperf:{dir}#shuffled"));
        StringAssert.Contains(e.Message, "#shuffled");
    }

    [TestMethod]
    public void InterleaveTakesTheClassesInTurnAndKeepsTheRestOfALargerClassAtTheEnd()
    {
        List<(string Name, int Classes, int Label)> order = MlperfSamples.Interleave(
            [("a", 3, 2), ("b", 3, 2), ("c", 3, 0), ("d", 3, 2), ("e", 3, 1), ("f", 3, 0)]);
        CollectionAssert.AreEqual(new[] { "c", "e", "a", "f", "b", "d" }, order.Select(o => o.Name).ToArray());
    }

    [TestMethod]
    public void Vww01ReadsOnlyTheThousandListedFiles()
    {
        string dir = TestData.Require("mlperf-tiny/samples/vww01");
        // The folder holds 1,002 .bin files; y_labels.csv lists 1,000, 500 per class.
        Assert.AreEqual(1002, Directory.GetFiles(dir, "*.bin").Length);
        ImageSet set = DataSpec.Load($"mlperf:{dir}");
        Assert.AreEqual(1000, set.Count);
        Assert.AreEqual((96, 96, 3), (set.Height, set.Width, set.Channels));
        CollectionAssert.AreEqual(new[] { 500, 500 }, Histogram(set, 2));
        byte[] raw = File.ReadAllBytes(Path.Combine(dir, "000000343218.bin"));
        CollectionAssert.AreEqual(raw, set.Pixels![..27648]);

        ImageSet few = DataSpec.Load($"mlperf:{dir}", new DataOptions { Limit = 3 });
        Assert.AreEqual(3, few.Count);
        CollectionAssert.AreEqual(set.Pixels[..(3 * 27648)], few.Pixels);
    }

    [TestMethod]
    public void MissingLabelFileIsNamed()
    {
        string dir = TestData.TempDir();
        File.WriteAllBytes(Path.Combine(dir, "a.bin"), new byte[3072]);
        var e = Assert.ThrowsExactly<FileNotFoundException>(() => DataSpec.Load($"mlperf:{dir}"));
        StringAssert.Contains(e.Message, dir);
        StringAssert.Contains(e.Message, "y_labels.csv");
    }

    [TestMethod]
    public void WrongImageSizeInAnIc01FolderIsNamed()
    {
        string dir = TestData.TempDir();
        File.WriteAllBytes(Path.Combine(dir, "good.bin"), new byte[3072]);
        File.WriteAllBytes(Path.Combine(dir, "short.bin"), new byte[3000]);
        File.WriteAllText(Path.Combine(dir, "y_labels.csv"), "good.bin,10,1\nshort.bin,10,2\n");
        var e = Assert.ThrowsExactly<InvalidDataException>(() => DataSpec.Load($"mlperf:{dir}"));
        StringAssert.Contains(e.Message, Path.Combine(dir, "short.bin"));
        StringAssert.Contains(e.Message, "3000 bytes");
        StringAssert.Contains(e.Message, "32x32x3");

        // First in the list, the odd file cannot set the shape either.
        File.WriteAllText(Path.Combine(dir, "y_labels.csv"), "short.bin,10,2\ngood.bin,10,1\n");
        e = Assert.ThrowsExactly<InvalidDataException>(() => DataSpec.Load($"mlperf:{dir}"));
        StringAssert.Contains(e.Message, "3000 bytes");

        // A given shape is enforced.
        File.WriteAllText(Path.Combine(dir, "y_labels.csv"), "good.bin,10,1\n");
        e = Assert.ThrowsExactly<InvalidDataException>(() => DataSpec.Load($"mlperf:{dir}", new DataOptions { ImageShape = new ImageShape(96, 96, 3) }));
        StringAssert.Contains(e.Message, "96x96x3");
    }

    [TestMethod]
    public void ListedButMissingFileAndBadLinesAreNamed()
    {
        string dir = TestData.TempDir();
        File.WriteAllText(Path.Combine(dir, "y_labels.csv"), "gone.bin,10,1\n");
        var missing = Assert.ThrowsExactly<FileNotFoundException>(() => DataSpec.Load($"mlperf:{dir}"));
        StringAssert.Contains(missing.Message, "gone.bin");

        File.WriteAllBytes(Path.Combine(dir, "a.bin"), new byte[3072]);
        File.WriteAllText(Path.Combine(dir, "y_labels.csv"), "a.bin,10,1\na.bin,ten,1\n");
        var bad = Assert.ThrowsExactly<InvalidDataException>(() => DataSpec.Load($"mlperf:{dir}"));
        StringAssert.Contains(bad.Message, "y_labels.csv:2");

        File.WriteAllText(Path.Combine(dir, "y_labels.csv"), "a.bin,10,10\n");
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => DataSpec.Load($"mlperf:{dir}")).Message, "outside 0..9");

        // A header line is skipped.
        File.WriteAllText(Path.Combine(dir, "y_labels.csv"), "file,num_classes,label\na.bin,10,4\n");
        Assert.AreEqual(4, DataSpec.Load($"mlperf:{dir}").Labels.Single());
    }

    internal static int[] Histogram(ImageSet set, int classes)
    {
        var h = new int[classes];
        foreach (int l in set.Labels)
        {
            h[l]++;
        }
        return h;
    }
}
