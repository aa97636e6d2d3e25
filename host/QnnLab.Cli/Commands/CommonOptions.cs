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
        Description = "Model file (.tflite int8/int16/float, or Keras .h5)",
        Required = required,
    };

    public static Option<string> Data(string name = "--data", bool required = true) => new(name)
    {
        Description = "Data spec: cifar10:DIR, mlperf:DIR, folder:DIR, npy:X.npy,Y.npy or coffee:DIR",
        Required = required,
    };

    public static Option<int?> Limit() => new("--limit", "-n") { Description = "Use only the first N images" };

    public static Option<bool> Json() => new("--json") { Description = "Print one JSON object as the last line" };

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

    /// <summary>
    /// Loads a data set for a model: image folders and coffee leaves are resized to the model's input;
    /// other schemes must already match it (checked when classifying).
    /// </summary>
    public static ImageSet LoadData(string spec, QnnModel model, int? limit)
    {
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
