using QnnLab.Data;
using QnnLab.Inference;
using QnnLab.Model;

namespace QnnLab.Attacks.Targets;

/// <summary>
/// Builds targets by the names the CLI and reports use: float, dequantized, int8, int16, int8+ste, int16+ste. A float
/// model becomes an integer one by TFLite-style quantization on <c>calibration</c>; an integer model is used as is
/// (it must then have the precision asked for).
/// </summary>
public static class TargetFactory
{
    public static readonly IReadOnlyList<string> Names = ["float", "dequantized", "int8", "int16", "int8+ste", "int16+ste"];

    /// <summary>The target a model is attacked on when none is named: float for a float model, else its dequantized view.</summary>
    public static string DefaultFor(QnnModel model) => model.Precision == Precision.Float ? "float" : "dequantized";

    /// <param name="threads">Integer engine threads of an int8/int16 target (its query batches split across them).</param>
    public static AttackTarget Create(string name, QnnModel model, ImageSet? calibration, int threads = 1)
    {
        switch (name)
        {
            case "float":
                if (model.Precision != Precision.Float)
                {
                    throw new ArgumentException($"target 'float' needs a float model; {model.Name} is {ModelFiles.Name(model.Precision)} (use 'dequantized' for its float view)");
                }
                return new TorchTarget(model);
            case "dequantized":
                return new TorchTarget(IntegerModelFor(name, model, null, calibration));
            case "int8" or "int16":
                return new IntegerTarget(IntegerModelFor(name, model, ModelFiles.ParsePrecision(name), calibration), threads: threads);
            case "int8+ste" or "int16+ste":
                return new SteTarget(IntegerModelFor(name, model, ModelFiles.ParsePrecision(name[..^4]), calibration));
            default:
                throw new ArgumentException($"unknown target '{name}' (targets: {string.Join(", ", Names)}, board)");
        }
    }

    /// <summary>The integer model behind a target: the model itself, or the float model quantized on <paramref name="calibration"/>.</summary>
    public static QnnModel IntegerModelFor(string target, QnnModel model, Precision? precision, ImageSet? calibration)
    {
        if (model.Precision != Precision.Float)
        {
            if (precision is Precision p && p != model.Precision)
            {
                throw new ArgumentException($"target '{target}': {model.Name} is {ModelFiles.Name(model.Precision)}, not {ModelFiles.Name(p)}");
            }
            return model;
        }
        if (precision is null)
        {
            throw new ArgumentException($"target '{target}' needs an int8/int16 model; {model.Name} is float");
        }
        if (calibration is null)
        {
            throw new ArgumentException($"target '{target}': {model.Name} is float; quantizing it to {ModelFiles.Name(precision.Value)} needs a calibration set (--calibration SPEC), or pass a quantized model file");
        }
        return Classifiers.Quantize(model, precision.Value, calibration);
    }
}
