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
        // Errors downstream name the model: make that the file's name (a Keras config name is often just "model").
        m.Name = Path.GetFileNameWithoutExtension(path);
        // A float model's file says nothing about its input scaling: known files get theirs by hash.
        if (preprocessing is null && m.Precision == Precision.Float && KnownFloatInputs.TryGetValue(Sha256(path), out InputPreprocessing? known))
        {
            m.Preprocessing = known;
        }
        return m;
    }

    /// <summary>
    /// Float models whose input is not pixels/255, by SHA-256: MLPerf Tiny's ResNet-8 float files were trained
    /// on raw 0..255 pixels (their int8 sibling has input scale 1.0), and score ~11 % on pixels/255.
    /// </summary>
    private static readonly Dictionary<string, InputPreprocessing> KnownFloatInputs = new()
    {
        ["5f938a8eea605438cc7360aa13c987bc6d7bd0c8d931b2917361ae7ae4eeda2f"] = InputPreprocessing.Raw, // pretrainedResnet.h5
        ["b5c0046d6e0328b4956afd6baa29555a29b1f1c65bdd45aaed75b7cd484d9f79"] = InputPreprocessing.Raw, // pretrainedResnet.tflite
        ["fb17ae9c1b6d0e5bd97f0f35024f207556261d7310b249716c87cc0628214b0e"] = InputPreprocessing.Raw, // pretrainedResnet_large_float.tflite
    };

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
