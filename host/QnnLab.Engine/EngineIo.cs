using QnnLab.Model;

namespace QnnLab.Engine;

/// <summary>Conversions around the integer engine: inputs from pixels, outputs to reals, probabilities and labels.</summary>
public static class EngineIo
{
    /// <summary>
    /// Quantizes images given in pixel units (0..255, possibly fractional) to the model's integer input:
    /// x = p * Scale + Offset (float32), q = round(x / inputScale) + zeroPoint as TFLite's AffineQuantize
    /// (float32 division, half away from zero), clamped to the type's range.
    /// </summary>
    public static void QuantizeInput(IntegerModel model, ReadOnlySpan<float> pixelUnits, InputPreprocessing preprocessing, Span<sbyte> destination)
    {
        RequireType(model, ElementType.Int8);
        (float scale, int zp) = model.InputQuantization;
        for (int i = 0; i < pixelUnits.Length; i++)
        {
            destination[i] = (sbyte)Quantize(pixelUnits[i], preprocessing, scale, zp, sbyte.MinValue, sbyte.MaxValue);
        }
    }

    /// <inheritdoc cref="QuantizeInput(IntegerModel, ReadOnlySpan{float}, InputPreprocessing, Span{sbyte})"/>
    public static void QuantizeInput(IntegerModel model, ReadOnlySpan<float> pixelUnits, InputPreprocessing preprocessing, Span<short> destination)
    {
        RequireType(model, ElementType.Int16);
        (float scale, int zp) = model.InputQuantization;
        for (int i = 0; i < pixelUnits.Length; i++)
        {
            destination[i] = (short)Quantize(pixelUnits[i], preprocessing, scale, zp, short.MinValue, short.MaxValue);
        }
    }

    /// <summary>One value: pixel units to the quantized integer (see <see cref="QuantizeInput(IntegerModel, ReadOnlySpan{float}, InputPreprocessing, Span{sbyte})"/>).</summary>
    public static int Quantize(float pixel, InputPreprocessing preprocessing, float scale, int zeroPoint, int min, int max)
    {
        float real = (pixel * preprocessing.Scale) + preprocessing.Offset;
        float q = Requantization.RoundF(real / scale);
        if (float.IsNaN(q))
        {
            throw new ArgumentException("input is NaN");
        }
        long v = (long)Math.Clamp(q, -1e9f, 1e9f) + zeroPoint;
        return (int)Math.Clamp(v, min, max);
    }

    private static void RequireType(IntegerModel model, ElementType t)
    {
        if (model.ActivationType != t)
        {
            throw new InvalidOperationException($"model '{model.Source.Name}' takes {model.ActivationType} inputs, not {t}");
        }
    }

    /// <summary>Real values of integer outputs: float(scale * (q - zeroPoint)) as TFLite's Dequantize (scale widened to double).</summary>
    public static float[] Dequantize(IntegerModel model, ReadOnlySpan<sbyte> outputs)
    {
        (float scale, int zp) = model.OutputDequantization;
        var r = new float[outputs.Length];
        for (int i = 0; i < r.Length; i++)
        {
            r[i] = (float)((double)scale * (outputs[i] - zp));
        }
        return r;
    }

    /// <inheritdoc cref="Dequantize(IntegerModel, ReadOnlySpan{sbyte})"/>
    public static float[] Dequantize(IntegerModel model, ReadOnlySpan<short> outputs)
    {
        (float scale, int zp) = model.OutputDequantization;
        var r = new float[outputs.Length];
        for (int i = 0; i < r.Length; i++)
        {
            r[i] = (float)((double)scale * (outputs[i] - zp));
        }
        return r;
    }

    /// <summary>
    /// Class probabilities: the dequantized softmax output when the model ends in a softmax; otherwise a
    /// float softmax of the dequantized logits.
    /// </summary>
    public static float[] Probabilities(IntegerModel model, ReadOnlySpan<sbyte> outputs) => ToProbabilities(model, Dequantize(model, outputs));

    /// <inheritdoc cref="Probabilities(IntegerModel, ReadOnlySpan{sbyte})"/>
    public static float[] Probabilities(IntegerModel model, ReadOnlySpan<short> outputs) => ToProbabilities(model, Dequantize(model, outputs));

    private static float[] ToProbabilities(IntegerModel model, float[] values)
    {
        if (model.EndsInSoftmax)
        {
            return values;
        }
        int classes = model.OutputSize;
        for (int start = 0; start < values.Length; start += classes)
        {
            Span<float> row = values.AsSpan(start, classes);
            float max = float.NegativeInfinity;
            foreach (float v in row)
            {
                max = Math.Max(max, v);
            }
            double sum = 0;
            for (int i = 0; i < row.Length; i++)
            {
                row[i] = MathF.Exp(row[i] - max);
                sum += row[i];
            }
            for (int i = 0; i < row.Length; i++)
            {
                row[i] = (float)(row[i] / sum);
            }
        }
        return values;
    }

    /// <summary>Argmax per image; ties go to the lowest class index (as numpy's argmax).</summary>
    public static int[] Labels(ReadOnlySpan<sbyte> outputs, int classes)
    {
        var labels = new int[outputs.Length / classes];
        for (int b = 0; b < labels.Length; b++)
        {
            labels[b] = ArgMax(outputs.Slice(b * classes, classes));
        }
        return labels;
    }

    /// <inheritdoc cref="Labels(ReadOnlySpan{sbyte}, int)"/>
    public static int[] Labels(ReadOnlySpan<short> outputs, int classes)
    {
        var labels = new int[outputs.Length / classes];
        for (int b = 0; b < labels.Length; b++)
        {
            labels[b] = ArgMax(outputs.Slice(b * classes, classes));
        }
        return labels;
    }

    public static int ArgMax<T>(ReadOnlySpan<T> row) where T : IComparable<T>
    {
        int best = 0;
        for (int i = 1; i < row.Length; i++)
        {
            if (row[i].CompareTo(row[best]) > 0)
            {
                best = i;
            }
        }
        return best;
    }
}
