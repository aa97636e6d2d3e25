using QnnLab.TestSupport;
using StbImageWriteSharp;

namespace QnnLab.Data.Tests;

[TestClass]
public sealed class CoffeeLeafTests
{
    [TestMethod]
    public void CsvListsLabelledLeavesAndEveryImageExists()
    {
        string dir = TestData.Require("coffee-leaf");
        // dataset.csv: 1,685 leaves with one predominant stress (wc -l minus the header); the folder has
        // 1,747 images, the 62 others being dataset-full.csv's class 5.
        List<(int Id, int Stress)> rows = CoffeeLeaf.ReadCsv(Path.Combine(dir, "dataset.csv"));
        Assert.HasCount(1685, rows);
        int[] perStress = new int[6];
        foreach ((_, int s) in rows)
        {
            perStress[s]++;
        }
        // Counted with cut -d, -f2 | sort | uniq -c.
        CollectionAssert.AreEqual(new[] { 272, 387, 531, 348, 147, 0 }, perStress);
        Assert.HasCount(1747, Directory.GetFiles(Path.Combine(dir, "leaf"), "*.jpg"));
        List<(int Id, int Stress)> full = CoffeeLeaf.ReadCsv(Path.Combine(dir, "dataset-full.csv"));
        Assert.HasCount(1747, full);
        Assert.AreEqual(62, full.Count(r => r.Stress == 5));
        Assert.IsTrue(rows.All(r => File.Exists(Path.Combine(dir, "leaf", $"{r.Id}.jpg"))));
    }

    [TestMethod]
    public void LoadsResizedLeavesWithTheClassMap()
    {
        string dir = TestData.Require("coffee-leaf");
        // The first rows of dataset.csv are healthy (stress 0).
        ImageSet set = DataSpec.Load($"coffee:{dir}", new DataOptions { Limit = 4, CoffeeClasses = CoffeeClassMap.AllStresses });
        Assert.AreEqual(4, set.Count);
        Assert.AreEqual((224, 224, 3), (set.Height, set.Width, set.Channels));
        CollectionAssert.AreEqual(new[] { 0, 0, 0, 0 }, set.Labels);
        CollectionAssert.AreEqual(new[] { "healthy", "miner", "rust", "phoma", "cercospora" }, set.ClassNames);

        // Resizing is the nearest-neighbour pick of the decoded 512x256 leaf.
        (byte[] raw, int h, int w) = ImageFolder.DecodeRgb(Path.Combine(dir, "leaf", "1.jpg"));
        Assert.AreEqual((256, 512), (h, w));
        int[] ys = ImageResize.PillowNearestIndex(h, 224), xs = ImageResize.PillowNearestIndex(w, 224);
        for (int y = 0; y < 224; y += 17)
        {
            for (int x = 0; x < 224; x += 13)
            {
                for (int c = 0; c < 3; c++)
                {
                    Assert.AreEqual(raw[(ys[y] * w + xs[x]) * 3 + c], set.Pixels![(y * 224 + x) * 3 + c]);
                }
            }
        }
    }

    [TestMethod]
    public void DefaultMapIsThePaperModelsFourClasses()
    {
        string dir = TestData.Require("coffee-leaf");
        ImageSet set = DataSpec.Load($"coffee:{dir}");
        // dataset.csv less its 147 cercospora leaves; model classes in stress order.
        Assert.AreEqual(1685 - 147, set.Count);
        CollectionAssert.AreEqual(new[] { "healthy", "miner", "rust", "phoma" }, set.ClassNames);
        CollectionAssert.AreEqual(new[] { 272, 387, 531, 348 }, MlperfSamplesTests.Histogram(set, 4));
        Assert.AreEqual((224, 224, 3), (set.Height, set.Width, set.Channels));
        Assert.AreEqual("0,1,2,3,drop,drop", CoffeeClassMap.Default.ToString());
        Assert.AreEqual("0,1,1,1,1,drop", CoffeeClassMap.HealthyVsDiseased.ToString());
    }

    [TestMethod]
    public void ClassMapDropsAndRenumbers()
    {
        string dir = TestData.TempDir();
        Directory.CreateDirectory(Path.Combine(dir, "leaf"));
        var rgb = new byte[8 * 4 * 3];
        for (int id = 1; id <= 6; id++)
        {
            using FileStream fs = File.Create(Path.Combine(dir, "leaf", $"{id}.jpg"));
            new ImageWriter().WriteJpg(rgb, 8, 4, StbImageWriteSharp.ColorComponents.RedGreenBlue, fs, 90);
        }
        File.WriteAllText(Path.Combine(dir, "dataset.csv"), "id,predominant_stress,miner,rust,phoma,cercospora,severity\n1,0,0,0,0,0,0\n2,1,1,0,0,0,1\n3,2,0,1,0,0,1\n4,3,0,0,1,0,1\n5,4,0,0,0,1,1\n");
        File.WriteAllText(Path.Combine(dir, "dataset-full.csv"), "id,predominant_stress\n1,0\n6,5\n");

        var map = CoffeeClassMap.Parse("drop,0,1,2,3");
        CollectionAssert.AreEqual(new[] { "miner", "rust", "phoma", "cercospora" }, map.ModelClassNames);
        ImageSet set = DataSpec.Load($"coffee:{dir}", new DataOptions { CoffeeClasses = map, TargetSize = (4, 8) });
        CollectionAssert.AreEqual(new[] { 0, 1, 2, 3 }, set.Labels);

        // Healthy vs diseased.
        ImageSet binary = DataSpec.Load($"coffee:{dir}", new DataOptions { CoffeeClasses = CoffeeClassMap.Parse("0,1,1,1,1"), TargetSize = (4, 8) });
        CollectionAssert.AreEqual(new[] { 0, 1, 1, 1, 1 }, binary.Labels);
        CollectionAssert.AreEqual(new[] { "healthy", "miner" }, binary.ClassNames);

        // dataset-full.csv's class 5 is dropped unless mapped.
        Assert.AreEqual(1, DataSpec.Load($"coffee:{dir}#dataset-full.csv", new DataOptions { CoffeeClasses = CoffeeClassMap.AllStresses }).Count);
        Assert.AreEqual(2, DataSpec.Load($"coffee:{dir}#dataset-full.csv", new DataOptions { CoffeeClasses = CoffeeClassMap.Parse("0,0,0,0,0,1") }).Count);

        Assert.ThrowsExactly<ArgumentException>(() => CoffeeClassMap.Parse("0,1,x,2,3"));
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => CoffeeClassMap.Parse("0,2,2,2,2")).Message, "model class 1");

        File.Delete(Path.Combine(dir, "leaf", "3.jpg"));
        var missing = Assert.ThrowsExactly<FileNotFoundException>(() => DataSpec.Load($"coffee:{dir}", new DataOptions { CoffeeClasses = CoffeeClassMap.AllStresses }));
        StringAssert.Contains(missing.Message, Path.Combine(dir, "leaf", "3.jpg"));

        File.WriteAllText(Path.Combine(dir, "dataset.csv"), "id,stress\n1,0\n");
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => DataSpec.Load($"coffee:{dir}")).Message, "predominant_stress");
        File.Delete(Path.Combine(dir, "dataset.csv"));
        StringAssert.Contains(Assert.ThrowsExactly<FileNotFoundException>(() => DataSpec.Load($"coffee:{dir}")).Message, "no dataset.csv");
    }
}
