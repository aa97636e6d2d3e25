using QnnLab.Data;
using QnnLab.TestSupport;

namespace QnnLab.Data.Tests;

[TestClass]
public sealed class Cifar10Tests
{
    [TestMethod]
    public void ReadsTestBatchAsHwcWithLabels()
    {
        string dir = TestData.Require("cifar10/cifar-10-batches-bin");
        ImageSet set = Cifar10.ReadFolder(dir);
        Assert.AreEqual(10000, set.Count);
        Assert.AreEqual(3072, set.ImageSize);
        // Every class appears, about 1000 times each.
        int[] perClass = new int[10];
        foreach (int l in set.Labels)
        {
            perClass[l]++;
        }
        Assert.IsTrue(perClass.All(c => c is > 900 and < 1100), string.Join(",", perClass));

        // HWC: pixel (0,0) red is the first byte after the label of record 0; green 1024 bytes later.
        byte[] raw = new byte[Cifar10.RecordSize];
        using (FileStream fs = File.OpenRead(Path.Combine(dir, "test_batch.bin")))
        {
            fs.ReadExactly(raw);
        }
        Assert.AreEqual(raw[0], (byte)set.Labels[0]);
        Assert.AreEqual(raw[1], set.Pixels![0]);
        Assert.AreEqual(raw[1 + 1024], set.Pixels[1]);
        Assert.AreEqual(raw[1 + 2048 + 5], set.Pixels[5 * 3 + 2]);
    }

    [TestMethod]
    public void TruncatedBatchNamesFileAndProblem()
    {
        string dir = TestData.TempDir();
        string f = Path.Combine(dir, "test_batch.bin");
        File.WriteAllBytes(f, new byte[Cifar10.RecordSize * 2 + 100]);
        var e = Assert.ThrowsExactly<InvalidDataException>(() => Cifar10.ReadFolder(dir));
        StringAssert.Contains(e.Message, f);
        StringAssert.Contains(e.Message, "not a whole number");
    }
}
