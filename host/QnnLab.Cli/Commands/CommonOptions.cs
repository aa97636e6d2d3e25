using System.CommandLine;
using QnnLab.Data;
using QnnLab.Inference;
using QnnLab.Model;

namespace QnnLab.Cli;

/// <summary>Options several commands share, and how they turn into models and data sets.</summary>
public static class CommonOptions
{
    public static Option<string> Model(bool required = true) => new("--model", "-m")
    {
        Description = "Model file (.tflite int8/int16/float, or Keras .h5), or a named model fetched into the cache: mlperf:ic-int8, mlperf:ic-float, mlperf:vww-int8, ...",
        Required = required,
    };

    public static Option<string> Data(string name = "--data", bool required = true) => new(name)
    {
        Description = "Data spec: cifar10:DIR, mlperf:DIR, folder:DIR, npy:X.npy,Y.npy or coffee:DIR",
        Required = required,
    };

    public static Option<int?> Limit() => new("--limit", "-n") { Description = "Use only the first N images" };

    public static Option<bool> Json() => new("--json") { Description = "Print one JSON object as the last line" };

    /// <summary>Integer engine threads for batched work: default all cores; results equal one thread's.</summary>
    public static Option<int> Threads(int? fallback = null) => new("--threads")
    {
        Description = "Integer engine threads for int8/int16 targets' query batches (default: all cores); results equal one thread's",
        DefaultValueFactory = _ => fallback ?? Environment.ProcessorCount,
    };

    /// <summary>The --threads value, refused below 1.</summary>
    public static int ThreadsOf(ParseResult parse, Option<int> threads)
    {
        int n = parse.GetValue(threads);
        return n >= 1 ? n : throw new ArgumentException($"--threads {n}: must be 1 or more");
    }

    public static Option<string?> Precision() => new("--precision", "-p") { Description = "float, int8 or int16 (default: the model's own)" };

    public static Option<string?> PixelRange() => new("--pixels")
    {
        Description = "Override the model's input preprocessing: 'unit' (pixels/255) or 'raw' (0..255)",
    };

    public static InputPreprocessing? ParsePixelRange(string? text) => text?.ToLowerInvariant() switch
    {
        null => null,
        "unit" or "0-1" => InputPreprocessing.UnitRange,
        "raw" or "0-255" => InputPreprocessing.Raw,
        _ => throw new ArgumentException($"--pixels '{text}' is not 'unit' or 'raw'"),
    };

    /// <summary>Models that `--model` accepts by name, fetched from their official source into the cache.</summary>
    public static readonly IReadOnlyDictionary<string, RemoteFile> NamedModels = new Dictionary<string, RemoteFile>
    {
        ["mlperf:ic-int8"] = KnownFiles.MlperfIcInt8,
        ["mlperf:ic-float"] = KnownFiles.MlperfIcFloat,
        ["mlperf:ic-keras"] = KnownFiles.MlperfIcKeras,
        ["mlperf:vww-int8"] = KnownFiles.MlperfVwwInt8,
        ["mlperf:vww-float"] = KnownFiles.MlperfVwwFloat,
        ["mlperf:vww-keras"] = KnownFiles.MlperfVwwKeras,
    };

    /// <summary>A model file path, or a named model (e.g. mlperf:ic-int8) made local through the cache.</summary>
    public static string ResolveModel(string model, CancellationToken cancel = default)
    {
        if (!NamedModels.TryGetValue(model, out RemoteFile? remote))
        {
            return model;
        }
        return new DatasetCache().GetFileAsync(remote, DownloadProgress(), cancel).GetAwaiter().GetResult();
    }

    /// <summary>
    /// A data spec with its location filled in: a bare "cifar10:" (or "cifar10:#data_batch_1.bin", a batch of it) means CIFAR-10 from $QNN_DATA or the cache,
    /// downloaded from the official source (checksum-verified) when neither has it.
    /// </summary>
    public static string ResolveData(string spec, CancellationToken cancel = default)
    {
        // "cifar10:#data_batch_1.bin" selects a batch of that same folder.
        string bare = spec.Trim();
        string selector = "";
        if (bare.StartsWith("cifar10:#", StringComparison.OrdinalIgnoreCase))
        {
            selector = bare[8..];
            bare = "cifar10";
        }
        if (bare.TrimEnd(':').Equals("cifar10", StringComparison.OrdinalIgnoreCase))
        {
            return "cifar10:" + new DatasetCache().GetCifar10Async(DownloadProgress(), cancel).GetAwaiter().GetResult() + selector;
        }
        return spec;
    }

    private static Progress<DownloadProgress> DownloadProgress()
    {
        long lastMb = -1;
        return new Progress<DownloadProgress>(p =>
        {
            long mb = p.Bytes >> 20;
            if (mb != lastMb && mb % 10 == 0)
            {
                lastMb = mb;
                Console.Error.WriteLine($"downloading {p.File}: {mb} MiB{(p.Total is long t ? $" of {t >> 20} MiB" : "")}");
            }
        });
    }

    /// <summary>
    /// Loads a data set for a model: image folders and coffee leaves are resized to the model's input;
    /// other schemes must already match it (checked when classifying).
    /// </summary>
    public static ImageSet LoadData(string spec, QnnModel model, int? limit)
    {
        if (limit < 1)
        {
            throw new ArgumentException($"--limit {limit}: must be 1 or more");
        }
        spec = ResolveData(spec);
        int[] shape = model.InputTensor.Shape;
        (string scheme, _, _) = DataSpec.Parse(spec);
        var options = new DataOptions { Limit = limit };
        if (scheme is "folder" or "coffee" && shape.Length == 4)
        {
            options = options with { TargetSize = (shape[1], shape[2]) };
        }
        return DataSpec.Load(spec, options);
    }
}
