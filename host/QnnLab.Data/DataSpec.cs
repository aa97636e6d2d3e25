namespace QnnLab.Data;

/// <summary>
/// Parses the CLI's data spec, <c>scheme:location</c>, and loads the set:
/// <list type="bullet">
/// <item><c>cifar10:DIR</c> (test_batch.bin), <c>cifar10:DIR#data_batch_1.bin</c>, <c>cifar10:FILE.bin</c>,
/// or <c>cifar10:cifar-10-binary.tar.gz[#batch]</c> (read from the official archive without extracting)</item>
/// <item><c>mlperf:DIR</c>: MLPerf Tiny sample folder (raw .bin + y_labels.csv), in list order; <c>mlperf:DIR#interleave</c>
/// takes the classes in turn (vww01 lists one class first)</item>
/// <item><c>folder:DIR</c>: DIR/&lt;class&gt;/*.png|jpg|bmp</item>
/// <item><c>npy:X.npy,Y.npy</c>: NumPy arrays (float X in [0,1] becomes pixel units by default)</item>
/// <item><c>coffee:DIR</c> or <c>coffee:DIR#dataset-full.csv</c>: BRACOL coffee leaves</item>
/// </list>
/// </summary>
public static class DataSpec
{
    public static readonly string[] Schemes = ["cifar10", "mlperf", "folder", "npy", "coffee"];

    public static ImageSet Load(string spec, DataOptions? options = null)
    {
        options ??= DataOptions.Default;
        (string scheme, string location, string? selector) = Parse(spec);
        ImageSet set = scheme switch
        {
            "cifar10" => LoadCifar(location, selector, options),
            "mlperf" => selector == "interleave"
                ? MlperfSamples.ReadFolder(location, options, interleave: true)
                : NoSelector(scheme, selector, () => MlperfSamples.ReadFolder(location, options)),
            "folder" => NoSelector(scheme, selector, () => ImageFolder.Read(location, options)),
            "npy" => NoSelector(scheme, selector, () => LoadNpy(location, options)),
            "coffee" => CoffeeLeaf.Read(location, options, selector ?? CoffeeLeaf.DefaultCsv),
            _ => throw new InvalidOperationException(),
        };
        return set;
    }

    /// <summary>Splits a spec into scheme, location and the optional '#' selector; checks the scheme.</summary>
    public static (string Scheme, string Location, string? Selector) Parse(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        int colon = spec.IndexOf(':');
        if (colon <= 0)
        {
            throw new ArgumentException($"data spec '{spec}' has no scheme; use one of {string.Join(", ", Schemes.Select(s => s + ":..."))}");
        }
        string scheme = spec[..colon].Trim().ToLowerInvariant();
        if (!Schemes.Contains(scheme))
        {
            throw new ArgumentException($"data spec '{spec}': unknown scheme '{scheme}' (expected {string.Join(", ", Schemes)})");
        }
        string rest = spec[(colon + 1)..];
        string? selector = null;
        int hash = rest.LastIndexOf('#');
        if (hash >= 0)
        {
            selector = rest[(hash + 1)..];
            rest = rest[..hash];
            if (selector.Length == 0 || selector.Contains('/') || selector.Contains('\\'))
            {
                throw new ArgumentException($"data spec '{spec}': '#{selector}' is not a file name inside the location");
            }
        }
        if (rest.Length == 0)
        {
            throw new ArgumentException($"data spec '{spec}' names no location after '{scheme}:'");
        }
        return (scheme, rest, selector);
    }

    private static ImageSet NoSelector(string scheme, string? selector, Func<ImageSet> load)
        => selector is null ? load() : throw new ArgumentException($"data spec scheme '{scheme}' takes no '#{selector}' selector");

    private static ImageSet LoadCifar(string location, string? batch, DataOptions options)
    {
        ImageSet set;
        if (File.Exists(location))
        {
            bool archive = location.EndsWith(".tar.gz", StringComparison.OrdinalIgnoreCase) || location.EndsWith(".tgz", StringComparison.OrdinalIgnoreCase);
            if (archive)
            {
                set = Cifar10.ReadArchive(location, options.Limit, batch ?? "test_batch.bin");
            }
            else if (batch is null)
            {
                set = Cifar10.ReadBatch(location, options.Limit);
            }
            else
            {
                throw new ArgumentException($"{location}: a batch file takes no '#{batch}' selector (select batches of a folder or an archive)");
            }
        }
        else if (Directory.Exists(location))
        {
            // Accept the folder above cifar-10-batches-bin too (where the archive was extracted).
            string dir = location;
            string nested = Path.Combine(location, "cifar-10-batches-bin");
            if (!File.Exists(Path.Combine(dir, batch ?? "test_batch.bin")) && Directory.Exists(nested))
            {
                dir = nested;
            }
            set = Cifar10.ReadFolder(dir, options.Limit, batch ?? "test_batch.bin");
        }
        else
        {
            throw new FileNotFoundException($"{location}: no such CIFAR-10 folder, batch file or archive", location);
        }
        return options.TargetSize is (int h, int w) ? ImageResize.Resize(set, h, w, options.Resize) : set;
    }

    private static ImageSet LoadNpy(string location, DataOptions options)
    {
        string[] parts = location.Split(',');
        if (parts.Length != 2 || parts.Any(p => p.Trim().Length == 0))
        {
            throw new ArgumentException($"npy data spec '{location}' is not X.npy,Y.npy (images and labels)");
        }
        return NpyImages.Load(parts[0].Trim(), parts[1].Trim(), options);
    }
}
