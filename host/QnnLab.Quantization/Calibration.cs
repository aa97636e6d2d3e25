using QnnLab.Data;
using QnnLab.Model;

namespace QnnLab.Quantization;

/// <summary>Per-tensor min/max of every activation tensor over a calibration set, as TFLite's calibrator logs them.</summary>
public sealed class TensorRanges
{
    private readonly Dictionary<int, (float Min, float Max)> _ranges = [];

    public int SampleCount { get; private set; }

    public IReadOnlyDictionary<int, (float Min, float Max)> Ranges => _ranges;

    public (float Min, float Max) this[int tensor] => _ranges.TryGetValue(tensor, out (float, float) r) ? r
        : throw new KeyNotFoundException($"no calibration range for tensor {tensor}");

    public void Set(int tensor, float min, float max) => _ranges[tensor] = (min, max);

    /// <summary>Widens the ranges with one sample's tensor values (running min and max, no averaging).</summary>
    public void Observe(QnnModel model, float[]?[] values)
    {
        for (int t = 0; t < values.Length; t++)
        {
            float[]? v = values[t];
            if (v is null || model.Tensors[t].IsConstant)
            {
                continue;
            }
            float min = float.PositiveInfinity, max = float.NegativeInfinity;
            foreach (float x in v)
            {
                min = MathF.Min(min, x);
                max = MathF.Max(max, x);
            }
            _ranges[t] = _ranges.TryGetValue(t, out (float Min, float Max) r) ? (MathF.Min(r.Min, min), MathF.Max(r.Max, max)) : (min, max);
        }
        SampleCount++;
    }
}

public static class Calibrator
{
    /// <summary>Runs the float reference over <paramref name="inputs"/> (model-ready real values) and logs every tensor's range.</summary>
    public static TensorRanges Collect(QnnModel floatModel, IEnumerable<float[]> inputs)
    {
        var reference = new FloatReference(floatModel);
        var ranges = new TensorRanges();
        foreach (float[] x in inputs)
        {
            ranges.Observe(floatModel, reference.RunAll(x));
        }
        if (ranges.SampleCount == 0)
        {
            throw new ArgumentException("the calibration set is empty");
        }
        return ranges;
    }

    /// <summary>Calibrates on images, each preprocessed as the model expects (e.g. pixels/255).</summary>
    public static TensorRanges Collect(QnnModel floatModel, ImageSet images)
        => Collect(floatModel, Enumerable.Range(0, images.Count).Select(i => FloatReference.Preprocess(floatModel, images, i)));
}
