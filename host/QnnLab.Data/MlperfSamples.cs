using System.Globalization;

namespace QnnLab.Data;

/// <summary>
/// An MLPerf Tiny (EEMBC runner) sample folder: raw uint8 HWC RGB <c>.bin</c> files and
/// <c>y_labels.csv</c> with lines <c>file,num_classes,label</c>. Only listed files are read, in the
/// order listed (ic01 and vww01 hold .bin files that the list leaves out), or with <c>interleave</c> the classes taken
/// in turn (the first image of each class in list order, then the second of each, ...): vww01 lists its 500 person
/// images first, so its "first 100" in list order are all of one class.
/// </summary>
public static class MlperfSamples
{
    public const string LabelFile = "y_labels.csv";

    public static ImageSet ReadFolder(string dir, DataOptions? options = null, bool interleave = false)
    {
        options ??= DataOptions.Default;
        if (!Directory.Exists(dir))
        {
            throw new DirectoryNotFoundException($"{dir}: no such MLPerf sample folder");
        }
        string csv = Path.Combine(dir, LabelFile);
        if (!File.Exists(csv))
        {
            throw new FileNotFoundException($"{dir}: no {LabelFile} (an MLPerf sample folder lists its files as file,num_classes,label)", csv);
        }
        var entries = ReadLabels(csv);
        if (entries.Count == 0)
        {
            throw new InvalidDataException($"{csv}: lists no samples");
        }
        if (interleave)
        {
            entries = Interleave(entries);
        }
        if (options.Limit is int limit && limit < entries.Count)
        {
            entries = entries.Take(Math.Max(limit, 0)).ToList();
        }

        ImageShape? shape = options.ImageShape;
        var labels = new int[entries.Count];
        byte[]? pixels = null;
        for (int i = 0; i < entries.Count; i++)
        {
            (string name, int classes, int label) = entries[i];
            string file = Path.Combine(dir, name);
            if (!File.Exists(file))
            {
                throw new FileNotFoundException($"{file}: listed in {LabelFile} but missing", file);
            }
            long len = new FileInfo(file).Length;
            shape ??= InferShape(len, file);
            if (len != shape.Value.Bytes)
            {
                throw new InvalidDataException($"{file}: {len} bytes, but the images of this folder are {shape.Value} ({shape.Value.Bytes} bytes)");
            }
            pixels ??= new byte[entries.Count * shape.Value.Bytes];
            using (FileStream fs = File.OpenRead(file))
            {
                fs.ReadExactly(pixels.AsSpan(i * shape.Value.Bytes, shape.Value.Bytes));
            }
            labels[i] = label;
        }
        ImageShape s = shape!.Value;
        int numClasses = entries[0].Classes;
        string[]? names = (s, numClasses) switch
        {
            ({ Height: 32, Width: 32, Channels: 3 }, 10) => Cifar10.ClassNames,
            ({ Height: 96, Width: 96, Channels: 3 }, 2) => ["non_person", "person"],
            _ => null,
        };
        var set = new ImageSet(dir, s.Height, s.Width, s.Channels, labels, pixels!, classNames: names);
        return options.TargetSize is (int h, int w) ? ImageResize.Resize(set, h, w, options.Resize) : set;
    }

    /// <summary>The image shape of a raw sample from its length: ic01 (32x32x3), vww01 (96x96x3), else a square RGB image.</summary>
    public static ImageShape InferShape(long bytes, string file)
    {
        if (bytes == 3072)
        {
            return new ImageShape(32, 32, 3);
        }
        if (bytes == 27648)
        {
            return new ImageShape(96, 96, 3);
        }
        long side = (long)Math.Round(Math.Sqrt(bytes / 3.0));
        if (bytes > 0 && side * side * 3 == bytes)
        {
            return new ImageShape((int)side, (int)side, 3);
        }
        throw new InvalidDataException($"{file}: {bytes} bytes is not a square RGB image (ic01 samples are 3072 bytes, vww01 27648); give the image shape");
    }

    /// <summary>The classes in turn, each in list order; a class that runs out is left out of later turns.</summary>
    public static List<(string Name, int Classes, int Label)> Interleave(List<(string Name, int Classes, int Label)> entries)
    {
        var queues = entries.GroupBy(e => e.Label).OrderBy(g => g.Key).Select(g => new Queue<(string, int, int)>(g)).ToList();
        var result = new List<(string Name, int Classes, int Label)>(entries.Count);
        while (result.Count < entries.Count)
        {
            foreach (Queue<(string, int, int)> q in queues)
            {
                if (q.TryDequeue(out (string, int, int) e))
                {
                    result.Add(e);
                }
            }
        }
        return result;
    }

    private static List<(string Name, int Classes, int Label)> ReadLabels(string csv)
    {
        var list = new List<(string, int, int)>();
        int lineNo = 0;
        foreach (string raw in File.ReadLines(csv))
        {
            lineNo++;
            string line = raw.Trim();
            if (line.Length == 0)
            {
                continue;
            }
            string[] f = line.Split(',', StringSplitOptions.TrimEntries);
            if (f.Length < 3
                || !int.TryParse(f[1], NumberStyles.None, CultureInfo.InvariantCulture, out int classes)
                || !int.TryParse(f[2], NumberStyles.None, CultureInfo.InvariantCulture, out int label))
            {
                // A header line (file,num_classes,label) is allowed in first place only.
                if (lineNo == 1 && f.Length >= 3 && !int.TryParse(f[1], out _))
                {
                    continue;
                }
                throw new InvalidDataException($"{csv}:{lineNo}: '{line}' is not file,num_classes,label");
            }
            if (label >= classes)
            {
                throw new InvalidDataException($"{csv}:{lineNo}: label {label} is outside 0..{classes - 1}");
            }
            if (f[0].Contains('/') || f[0].Contains('\\') || f[0] == "..")
            {
                throw new InvalidDataException($"{csv}:{lineNo}: '{f[0]}' is not a plain file name");
            }
            list.Add((f[0], classes, label));
        }
        return list;
    }
}
