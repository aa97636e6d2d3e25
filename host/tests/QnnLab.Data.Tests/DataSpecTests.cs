using System.Formats.Tar;
using System.IO.Compression;
using QnnLab.TestSupport;

namespace QnnLab.Data.Tests;

[TestClass]
public sealed class DataSpecTests
{
    [TestMethod]
    public void UnknownOrMissingSchemeIsRefusedWithTheChoices()
    {
        var unknown = Assert.ThrowsExactly<ArgumentException>(() => DataSpec.Load("imagenet:/data"));
        StringAssert.Contains(unknown.Message, "unknown scheme 'imagenet'");
        StringAssert.Contains(unknown.Message, "cifar10, mlperf, folder, npy, coffee");

        var none = Assert.ThrowsExactly<ArgumentException>(() => DataSpec.Load("/data/test_batch.bin"));
        StringAssert.Contains(none.Message, "has no scheme");

        Assert.ThrowsExactly<ArgumentException>(() => DataSpec.Load("cifar10:"));
        var selector = Assert.ThrowsExactly<ArgumentException>(() => DataSpec.Load("mlperf:/x#y_labels.csv"));
        StringAssert.Contains(selector.Message, "takes no");
        var missing = Assert.ThrowsExactly<FileNotFoundException>(() => DataSpec.Load("cifar10:/no/such/dir"));
        StringAssert.Contains(missing.Message, "/no/such/dir");
    }

    [TestMethod]
    public void CifarBatchSelectorAndBatchFileAndParentFolder()
    {
        string dir = TestData.Require("cifar10/cifar-10-batches-bin");
        ImageSet b1 = DataSpec.Load($"cifar10:{dir}#data_batch_1.bin", new DataOptions { Limit = 50 });
        ImageSet direct = Cifar10.ReadBatch(Path.Combine(dir, "data_batch_1.bin"), 50);
        CollectionAssert.AreEqual(direct.Labels, b1.Labels);
        CollectionAssert.AreEqual(direct.Pixels, b1.Pixels);

        ImageSet file = DataSpec.Load($"cifar10:{Path.Combine(dir, "test_batch.bin")}", new DataOptions { Limit = 20 });
        ImageSet parent = DataSpec.Load($"cifar10:{Path.GetDirectoryName(dir)}", new DataOptions { Limit = 20 });
        CollectionAssert.AreEqual(file.Pixels, parent.Pixels);
        Assert.AreEqual(20, parent.Count);

        var e = Assert.ThrowsExactly<FileNotFoundException>(() => DataSpec.Load($"cifar10:{dir}#data_batch_9.bin"));
        StringAssert.Contains(e.Message, "data_batch_9.bin");
    }

    [TestMethod]
    public void CifarArchiveIsReadWithoutExtractingAndExtractsSafely()
    {
        string dir = TestData.TempDir();
        // Records whose label is i % 10 and whose R plane is all i, G all 100 + i, B all 200 + i.
        byte[] Records(int n, int offset)
        {
            var b = new byte[n * Cifar10.RecordSize];
            for (int i = 0; i < n; i++)
            {
                int v = offset + i;
                b[i * Cifar10.RecordSize] = (byte)(v % 10);
                b.AsSpan(i * Cifar10.RecordSize + 1, 1024).Fill((byte)v);
                b.AsSpan(i * Cifar10.RecordSize + 1025, 1024).Fill((byte)(100 + v));
                b.AsSpan(i * Cifar10.RecordSize + 2049, 1024).Fill((byte)(200 + v));
            }
            return b;
        }
        string tgz = Path.Combine(dir, "cifar-10-binary.tar.gz");
        WriteTarGz(tgz, ("cifar-10-batches-bin/batches.meta.txt", "airplane\n"u8.ToArray()),
            ("cifar-10-batches-bin/data_batch_1.bin", Records(3, 10)),
            ("cifar-10-batches-bin/test_batch.bin", Records(4, 0)));

        ImageSet test = DataSpec.Load($"cifar10:{tgz}");
        Assert.AreEqual(4, test.Count);
        CollectionAssert.AreEqual(new[] { 0, 1, 2, 3 }, test.Labels);
        // HWC: pixel 5 of image 2 is (2, 102, 202).
        CollectionAssert.AreEqual(new byte[] { 2, 102, 202 }, test.Pixels![(2 * 3072 + 15)..(2 * 3072 + 18)]);

        ImageSet train = DataSpec.Load($"cifar10:{tgz}#data_batch_1.bin", new DataOptions { Limit = 2 });
        CollectionAssert.AreEqual(new[] { 0, 1 }, train.Labels);
        Assert.AreEqual((byte)111, train.Pixels![3072 + 1]);

        var absent = Assert.ThrowsExactly<FileNotFoundException>(() => DataSpec.Load($"cifar10:{tgz}#data_batch_5.bin"));
        StringAssert.Contains(absent.Message, tgz);
        StringAssert.Contains(absent.Message, "data_batch_5.bin");

        // Extraction gives the official folder layout, which the folder reader then takes.
        string outDir = Path.Combine(dir, "out");
        DatasetCache.ExtractTarGz(tgz, outDir);
        ImageSet extracted = DataSpec.Load($"cifar10:{outDir}");
        CollectionAssert.AreEqual(test.Pixels, extracted.Pixels);
        Assert.IsEmpty(Directory.GetDirectories(outDir, ".extract-*"));

        string evil = Path.Combine(dir, "evil.tar.gz");
        WriteTarGz(evil, ("../escaped.txt", "x"u8.ToArray()));
        var e = Assert.ThrowsExactly<InvalidDataException>(() => DatasetCache.ExtractTarGz(evil, Path.Combine(dir, "evil")));
        StringAssert.Contains(e.Message, "outside");
        Assert.IsFalse(File.Exists(Path.Combine(dir, "escaped.txt")));

        string notGz = Path.Combine(dir, "broken.tar.gz");
        File.WriteAllBytes(notGz, new byte[100]);
        var broken = Assert.ThrowsExactly<InvalidDataException>(() => DataSpec.Load($"cifar10:{notGz}"));
        StringAssert.Contains(broken.Message, notGz);
    }

    [TestMethod]
    public void TargetSizeResizesAnySchemeWithTheChosenMode()
    {
        string dir = TestData.Require("mlperf-tiny/samples/ic01");
        ImageSet native = DataSpec.Load($"mlperf:{dir}", new DataOptions { Limit = 2 });
        ImageSet big = DataSpec.Load($"mlperf:{dir}", new DataOptions { Limit = 2, TargetSize = (64, 64) });
        Assert.AreEqual((64, 64), (big.Height, big.Width));
        // Nearest 2x upscale repeats each source pixel in a 2x2 block (Pillow: source = floor((x + 0.5) / 2)).
        for (int y = 0; y < 64; y++)
        {
            for (int x = 0; x < 64; x++)
            {
                for (int c = 0; c < 3; c++)
                {
                    Assert.AreEqual(native.Pixels![(y / 2 * 32 + x / 2) * 3 + c], big.Pixels![(y * 64 + x) * 3 + c]);
                }
            }
        }
    }

    internal static void WriteTarGz(string path, params (string Name, byte[] Data)[] files)
    {
        using FileStream fs = File.Create(path);
        using var gz = new GZipStream(fs, CompressionLevel.Fastest);
        using var tar = new TarWriter(gz, TarEntryFormat.Ustar);
        foreach ((string name, byte[] data) in files)
        {
            var entry = new UstarTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(data) };
            tar.WriteEntry(entry);
        }
    }
}
