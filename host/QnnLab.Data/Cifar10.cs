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
        using FileStream fs = File.OpenRead(file);
        return ReadRecords(fs, len, file, limit);
    }

    /// <summary>Reads <paramref name="length"/> bytes of records from a stream (a file or a tar entry).</summary>
    public static ImageSet ReadRecords(Stream stream, long length, string source, int? limit = null)
    {
        if (length == 0 || length % RecordSize != 0)
        {
            throw new InvalidDataException($"{source}: {length} bytes is not a whole number of CIFAR-10 records of {RecordSize} bytes (wrong image size or truncated)");
        }
        int count = (int)(length / RecordSize);
        if (limit is int l && l < count)
        {
            count = Math.Max(l, 0);
        }
        var labels = new int[count];
        var pixels = new byte[count * 3072];
        var record = new byte[RecordSize];
        for (int i = 0; i < count; i++)
        {
            stream.ReadExactly(record);
            labels[i] = record[0];
            if (record[0] > 9)
            {
                throw new InvalidDataException($"{source}: record {i} has label {record[0]}, outside 0..9");
            }
            Span<byte> dst = pixels.AsSpan(i * 3072, 3072);
            for (int p = 0; p < 1024; p++)
            {
                dst[p * 3] = record[1 + p];
                dst[p * 3 + 1] = record[1 + 1024 + p];
                dst[p * 3 + 2] = record[1 + 2048 + p];
            }
        }
        return new ImageSet(source, 32, 32, 3, labels, pixels, classNames: ClassNames);
    }

    /// <summary>
    /// Reads one batch straight out of the official cifar-10-binary.tar.gz (entry
    /// cifar-10-batches-bin/&lt;batch&gt;), without extracting the archive.
    /// </summary>
    public static ImageSet ReadArchive(string tarGz, int? limit = null, string batch = "test_batch.bin")
    {
        using FileStream fs = File.OpenRead(tarGz);
        using var gz = new System.IO.Compression.GZipStream(fs, System.IO.Compression.CompressionMode.Decompress);
        using var tar = new System.Formats.Tar.TarReader(gz);
        var seen = new List<string>();
        try
        {
            while (tar.GetNextEntry() is { } entry)
            {
                string name = entry.Name.Replace('\\', '/');
                if (entry.EntryType is System.Formats.Tar.TarEntryType.RegularFile or System.Formats.Tar.TarEntryType.V7RegularFile)
                {
                    seen.Add(name);
                    if (Path.GetFileName(name) == batch && entry.DataStream is { } data)
                    {
                        return ReadRecords(data, entry.Length, $"{tarGz}#{name}", limit);
                    }
                }
            }
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or EndOfStreamException && e.Message.IndexOf(tarGz, StringComparison.Ordinal) < 0)
        {
            throw new InvalidDataException($"{tarGz}: not a readable .tar.gz ({e.Message})", e);
        }
        throw new FileNotFoundException($"{tarGz}: the archive has no {batch} (it holds: {string.Join(", ", seen.Take(10))})", tarGz);
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
