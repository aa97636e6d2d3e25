using QnnLab.Model;

namespace QnnLab.Quantization;

/// <summary>
/// Runs a quantized model in float: weights and biases dequantized, every activation rounded to its
/// quantization grid and clamped to its integer range. It approximates the integer engine (not bit for
/// bit: requantization and softmax differ in the last step) and needs none of it, so the quantizer's
/// accuracy can be judged on its own.
/// </summary>
public sealed class FakeQuantSimulation
{
    private readonly QnnModel _quantized;
    private readonly FloatReference _reference;

    public FakeQuantSimulation(QnnModel quantized)
    {
        _quantized = quantized;
        var f = new QnnModel { Name = quantized.Name + "_dequantized", Inputs = quantized.Inputs, Outputs = quantized.Outputs, Preprocessing = quantized.Preprocessing };
        foreach (Tensor t in quantized.Tensors)
        {
            f.Tensors.Add(Dequantize(t));
        }
        f.Operators.AddRange(quantized.Operators);
        _reference = new FloatReference(f);
    }

    /// <summary>The real-valued output for a real-valued input (the input is quantized first, as the device would).</summary>
    public float[] Run(ReadOnlySpan<float> input) => _reference.RunAll(input, Snap)[_quantized.Outputs[0]]!;

    private void Snap(int index, float[] values)
    {
        Tensor t = _quantized.Tensors[index];
        if (t.Quant is null)
        {
            return;
        }
        (long qmin, long qmax) = t.Type switch
        {
            ElementType.Int8 => (-128L, 127L),
            ElementType.Int16 => (-32768L, 32767L),
            _ => throw new ModelException($"{_quantized.Name}: activation {t} has unsupported type"),
        };
        float scale = t.Quant.Scale;
        long zp = t.Quant.ZeroPoint;
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = scale * (QuantizationMath.QuantizeValue(values[i], t.Quant, qmin, qmax) - zp);
        }
    }

    private static Tensor Dequantize(Tensor t)
    {
        if (t.Type == ElementType.Float32 || (t.IsConstant && t.Quant is null))
        {
            return t;
        }
        if (!t.IsConstant)
        {
            return new Tensor(t.Name, ElementType.Float32, t.Shape);
        }
        QuantParams q = t.Quant!;
        double[] raw = t.Type switch
        {
            ElementType.Int8 => t.DataAs<sbyte>().ToArray().Select(v => (double)v).ToArray(),
            ElementType.Int16 => t.DataAs<short>().ToArray().Select(v => (double)v).ToArray(),
            ElementType.Int32 => t.DataAs<int>().ToArray().Select(v => (double)v).ToArray(),
            ElementType.Int64 => t.DataAs<long>().ToArray().Select(v => (double)v).ToArray(),
            _ => throw new ModelException($"cannot dequantize {t}"),
        };
        int axis = q.QuantizedDimension;
        int channels = q.PerChannel ? t.Shape[axis] : 1;
        int inner = 1;
        for (int d = axis + 1; d < t.Shape.Length; d++)
        {
            inner *= t.Shape[d];
        }
        var values = new float[raw.Length];
        for (int i = 0; i < raw.Length; i++)
        {
            int c = q.PerChannel ? (i / inner) % channels : 0;
            values[i] = (float)(q.Scales[c] * (raw[i] - q.ZeroPoints[c]));
        }
        return Tensor.FromArray(t.Name, ElementType.Float32, t.Shape, values);
    }
}
