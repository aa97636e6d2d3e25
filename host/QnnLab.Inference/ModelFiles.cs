using System.Security.Cryptography;
using QnnLab.Keras;
using QnnLab.Model;
using QnnLab.Tflite;

namespace QnnLab.Inference;

/// <summary>Loads a model file by its extension (.tflite, .h5/.keras).</summary>
public static class ModelFiles
{
    public static QnnModel Load(string path, InputPreprocessing? preprocessing = null)
    {
        if (!File.Exists(path))
        {
            throw new ModelException($"{path}: model file not found");
        }
        string ext = Path.GetExtension(path).ToLowerInvariant();
        QnnModel m = ext switch
        {
            ".tflite" => TfliteReader.Read(path, preprocessing),
            ".h5" or ".hdf5" or ".keras" => KerasImporter.Load(path, preprocessing),
            _ => throw new ModelException($"{path}: unknown model format '{ext}' (expected .tflite or .h5)"),
        };
        return m;
    }

    /// <summary>SHA-256 of the file's bytes, hex: the identity a board's model is checked against.</summary>
    public static string Sha256(string path)
    {
        using FileStream fs = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(fs));
    }

    /// <summary>Parses "float", "int8", "int16" (also "16x8").</summary>
    public static Precision ParsePrecision(string text) => text.ToLowerInvariant() switch
    {
        "float" or "float32" or "fp32" => Precision.Float,
        "int8" => Precision.Int8,
        "int16" or "16x8" or "int16x8" => Precision.Int16,
        _ => throw new ArgumentException($"precision '{text}' is not float, int8 or int16"),
    };

    public static string Name(Precision p) => p switch
    {
        Precision.Float => "float",
        Precision.Int8 => "int8",
        _ => "int16",
    };
}
