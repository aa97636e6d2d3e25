using QnnLab.Data;
using QnnLab.Model;
using QnnLab.Quantization;

namespace QnnLab.Inference;

/// <summary>Picks the engine for a model and a wanted precision.</summary>
public static class Classifiers
{
    /// <summary>
    /// int models run on the integer engine at their own precision, or as their dequantized float view;
    /// float models run on the float engine, or are quantized first (which needs a calibration set).
    /// <paramref name="threads"/> integer engines share the batches (the float engine keeps its own setting).
    /// </summary>
    public static IClassifier Create(QnnModel model, Precision? wanted = null, ImageSet? calibration = null, int threads = 1)
    {
        Precision own = model.Precision;
        Precision p = wanted ?? own;
        if (p == Precision.Float)
        {
            return new FloatClassifier(model);
        }
        if (own == p)
        {
            return new IntegerClassifier(model, threads: threads);
        }
        if (own != Precision.Float)
        {
            throw new ModelException($"{model.Name}: is a {ModelFiles.Name(own)} model and cannot run as {ModelFiles.Name(p)} (quantize the float model instead)");
        }
        if (calibration is null)
        {
            throw new ArgumentException($"{model.Name}: is a float model; running it as {ModelFiles.Name(p)} needs a calibration set (--calibration SPEC) or a model quantized with 'qnnlab quantize'");
        }
        return new IntegerClassifier(Quantize(model, p, calibration), threads: threads);
    }

    /// <summary>TFLite-style post-training quantization of a float model, calibrated on <paramref name="calibration"/>.</summary>
    public static QnnModel Quantize(QnnModel floatModel, Precision precision, ImageSet calibration)
    {
        TensorRanges ranges = Calibrator.Collect(floatModel, calibration);
        return PostTrainingQuantizer.Quantize(floatModel, ranges, precision);
    }
}
