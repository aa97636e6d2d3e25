using System.Globalization;

namespace QnnLab.Data;

/// <summary>
/// BRACOL coffee leaf images (Esgario et al. 2020) in the layout of esgario/lara2018:
/// DIR/dataset.csv (<c>id,predominant_stress,...</c>) and DIR/leaf/&lt;id&gt;.jpg. Stress classes
/// 0 healthy, 1 miner, 2 rust, 3 phoma, 4 cercospora (dataset-full.csv adds 5 for leaves with no one
/// predominant stress); a <see cref="CoffeeClassMap"/> turns them into a model's classes.
/// </summary>
public static class CoffeeLeaf
{
    public const string DefaultCsv = "dataset.csv";

    /// <summary>
    /// The paper's coffee models take 224x224 RGB. Its loader is Keras flow_from_directory(target_size=(224, 224)),
    /// whose default interpolation is Pillow NEAREST, hence <see cref="ResizeMode.Nearest"/> by default (bilinear
    /// scores the same within one image of 1,538 on the paper's int8 model).
    /// </summary>
    public static readonly (int Height, int Width) DefaultTargetSize = (224, 224);

    /// <param name="dir">The folder with dataset.csv and leaf/.</param>
    /// <param name="csvName">dataset.csv (1,685 labelled leaves) or dataset-full.csv (1,747).</param>
    public static ImageSet Read(string dir, DataOptions? options = null, string csvName = DefaultCsv)
    {
        options ??= DataOptions.Default;
        if (!Directory.Exists(dir))
        {
            throw new DirectoryNotFoundException($"{dir}: no such coffee leaf folder");
        }
        string csv = Path.Combine(dir, csvName);
        if (!File.Exists(csv))
        {
            throw new FileNotFoundException($"{dir}: no {csvName} (expected the BRACOL layout: {csvName} + leaf/<id>.jpg)", csv);
        }
        CoffeeClassMap map = options.CoffeeClasses ?? CoffeeClassMap.Default;
        var files = new List<(string File, int Label)>();
        foreach ((int id, int stress) in ReadCsv(csv))
        {
            int label = map.MapStress(stress);
            if (label == CoffeeClassMap.Drop)
            {
                continue;
            }
            string file = Path.Combine(dir, "leaf", id.ToString(CultureInfo.InvariantCulture) + ".jpg");
            if (!File.Exists(file))
            {
                throw new FileNotFoundException($"{file}: leaf {id} is listed in {csvName} but its image is missing", file);
            }
            files.Add((file, label));
            if (options.Limit is int limit && files.Count >= limit)
            {
                break;
            }
        }
        var opts = options.TargetSize is null ? options with { TargetSize = DefaultTargetSize } : options;
        return ImageFolder.DecodeAll($"coffee:{dir}", files, map.ModelClassNames, opts);
    }

    /// <summary>(id, predominant stress) of every row, in file order.</summary>
    public static List<(int Id, int Stress)> ReadCsv(string csv)
    {
        var rows = new List<(int, int)>();
        using StreamReader reader = File.OpenText(csv);
        string? header = reader.ReadLine();
        string[] cols = header?.Split(',', StringSplitOptions.TrimEntries) ?? [];
        int idCol = Array.IndexOf(cols, "id");
        int stressCol = Array.IndexOf(cols, "predominant_stress");
        if (idCol < 0 || stressCol < 0)
        {
            throw new InvalidDataException($"{csv}: header '{header}' has no id and predominant_stress columns");
        }
        int lineNo = 1;
        while (reader.ReadLine() is { } line)
        {
            lineNo++;
            if (line.Trim().Length == 0)
            {
                continue;
            }
            string[] f = line.Split(',', StringSplitOptions.TrimEntries);
            if (f.Length <= Math.Max(idCol, stressCol)
                || !int.TryParse(f[idCol], NumberStyles.None, CultureInfo.InvariantCulture, out int id)
                || !int.TryParse(f[stressCol], NumberStyles.None, CultureInfo.InvariantCulture, out int stress))
            {
                throw new InvalidDataException($"{csv}:{lineNo}: '{line}' has no integer id and predominant_stress");
            }
            if (stress > 5)
            {
                throw new InvalidDataException($"{csv}:{lineNo}: predominant_stress {stress} is outside 0..5");
            }
            rows.Add((id, stress));
        }
        return rows;
    }
}
