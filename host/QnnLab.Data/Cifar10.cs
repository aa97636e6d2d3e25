namespace QnnLab.Data;

/// <summary>
/// CIFAR-10 binary layout: records of 1 label byte + 1024 R + 1024 G + 1024 B bytes (CHW planes),
/// converted here to HWC.
/// </summary>
public static class Cifar10
{
    public const int RecordSize = 1 + 3072;
    public static readonly string[] ClassNames = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

    /// <summary>Reads one batch file (e.g. test_batch.bin).</summary>
    public static ImageSet ReadBatch(string file, int? limit = null)
    {
        long len = new FileInfo(file).Length;
        if (len == 0 || len % RecordSize != 0)
        {
            throw new InvalidDataException($"{file}: {len} bytes is not a whole number of CIFAR-10 records of {RecordSize} bytes (wrong image size or truncated)");
        }
        int count = (int)(len / RecordSize);
        if (limit is int l && l < count)
        {
            count = l;
        }
        var labels = new int[count];
        var pixels = new byte[count * 3072];
        var record = new byte[RecordSize];
        using FileStream fs = File.OpenRead(file);
        for (int i = 0; i < count; i++)
        {
            fs.ReadExactly(record);
            labels[i] = record[0];
            if (record[0] > 9)
            {
                throw new InvalidDataException($"{file}: record {i} has label {record[0]}, outside 0..9");
            }
            Span<byte> dst = pixels.AsSpan(i * 3072, 3072);
            for (int p = 0; p < 1024; p++)
            {
                dst[p * 3] = record[1 + p];
                dst[p * 3 + 1] = record[1 + 1024 + p];
                dst[p * 3 + 2] = record[1 + 2048 + p];
            }
        }
        return new ImageSet(file, 32, 32, 3, labels, pixels, classNames: ClassNames);
    }

    /// <summary>A folder in the official layout: the test batch (test_batch.bin) is what evaluation uses.</summary>
    public static ImageSet ReadFolder(string dir, int? limit = null, string batch = "test_batch.bin")
    {
        string file = Path.Combine(dir, batch);
        if (!File.Exists(file))
        {
            throw new FileNotFoundException($"{dir}: no {batch} (expected the CIFAR-10 binary layout)", file);
        }
        return ReadBatch(file, limit);
    }
}
