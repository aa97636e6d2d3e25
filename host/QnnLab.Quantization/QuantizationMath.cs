using QnnLab.Model;

namespace QnnLab.Quantization;

/// <summary>
/// TFLite converter's quantization formulas, reproduced step for step including where it computes in
/// float32 and where in double, because scales must match the converter's bit for bit.
/// int8 follows the MLIR quantizer with <c>legacy_float_scale</c> (what TF 2.x's converter runs for
/// int8); 16x8 follows the older <c>tools/optimize</c> quantizer (what the converter runs for int16
/// activations).
/// </summary>
public static class QuantizationMath
{
    /// <summary>The MLIR quantizer's smallest range: narrower ranges are widened to straddle zero.</summary>
    public const double NearZeroTolerance = 1.0e-6;

    /// <summary>Rounds half away from zero (C's std::round / TfLiteRound).</summary>
    public static float Round(float v) => MathF.Round(v, MidpointRounding.AwayFromZero);

    /// <summary>
    /// int8 asymmetric activation parameters from a calibrated range: the range is widened to include
    /// 0, tiny ranges to at least 1e-6; scale = (max - min) / 255 in float32 (at least 1e-6); the zero
    /// point comes from the minimum, rounded half away from zero and clamped to [-128, 127].
    /// </summary>
    public static QuantParams Int8Activation(float min, float max)
    {
        double rmin = Math.Min(min, 0.0), rmax = Math.Max(max, 0.0);
        (rmin, rmax) = ExpandVerySmallRange(rmin, rmax);
        const int qmin = -128, qmax = 127;
        float scale = ((float)rmax - (float)rmin) / (qmax - qmin);
        long zeroPoint;
        if (scale < NearZeroTolerance)
        {
            // The converter forces the scale up and keeps the zero point its double-precision nudging gave.
            double dscale = (rmax - rmin) / (qmax - qmin);
            zeroPoint = NudgeZeroPoint(qmin - rmin / dscale, qmin, qmax);
            return QuantParams.PerTensor((float)NearZeroTolerance, zeroPoint);
        }
        float zeroPointFromMin = (float)(qmin - rmin / scale);
        zeroPoint = NudgeZeroPoint(zeroPointFromMin, qmin, qmax);
        return QuantParams.PerTensor(scale, zeroPoint);
    }

    /// <summary>int16 symmetric activation parameters: scale = max(|min|, |max|) / 32767 in float32, zero point 0.</summary>
    public static QuantParams Int16Activation(float min, float max)
    {
        min = MathF.Min(min, 0f);
        max = MathF.Max(max, 0f);
        float scale = MathF.Max(MathF.Abs(max), MathF.Abs(min)) / 32767f;
        // tools/optimize would write scale 0 for a tensor that is always 0; 1 keeps the model usable.
        return QuantParams.PerTensor(scale == 0f ? 1f : scale, 0);
    }

    private static (double Min, double Max) ExpandVerySmallRange(double min, double max)
        => max - min > NearZeroTolerance ? (min, max) : (Math.Min(min, -NearZeroTolerance / 2), Math.Max(max, NearZeroTolerance / 2));

    private static long NudgeZeroPoint(double zeroPointFromMin, long qmin, long qmax)
    {
        if (zeroPointFromMin < qmin)
        {
            return qmin;
        }
        if (zeroPointFromMin > qmax)
        {
            return qmax;
        }
        return (long)Math.Round(zeroPointFromMin, MidpointRounding.AwayFromZero);
    }

    /// <summary>
    /// Symmetric int8 weights per output channel ([-127, 127], zero point 0). <paramref name="axis"/> is
    /// the channel dimension of <paramref name="shape"/> (0 for conv OHWI, 3 for depthwise 1HWC).
    /// </summary>
    public static (QuantParams Params, sbyte[] Values) PerChannelWeights(ReadOnlySpan<float> w, int[] shape, int axis, Precision precision)
    {
        int channels = shape[axis];
        int inner = 1;
        for (int d = axis + 1; d < shape.Length; d++)
        {
            inner *= shape[d];
        }
        var maxAbs = new float[channels];
        for (int i = 0; i < w.Length; i++)
        {
            int c = (i / inner) % channels;
            maxAbs[c] = MathF.Max(maxAbs[c], MathF.Abs(w[i]));
        }
        var scales = new float[channels];
        var inverse = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            if (precision == Precision.Int8)
            {
                // MLIR: range widened if tiny, scale = 2m/254 in float (>= 1e-6), values times (float)(1.0/scale).
                double m = maxAbs[c];
                if (2 * m <= NearZeroTolerance)
                {
                    m = Math.Max(m, NearZeroTolerance / 2);
                }
                float scale = ((float)m - (float)-m) / 254;
                scales[c] = scale < NearZeroTolerance ? (float)NearZeroTolerance : scale;
                inverse[c] = (float)(1.0 / scales[c]);
            }
            else
            {
                // tools/optimize: scale = m/127, values times 127/m (0 for an all-zero channel).
                scales[c] = maxAbs[c] / 127f;
                inverse[c] = maxAbs[c] == 0f ? 0f : 127f / maxAbs[c];
            }
        }
        var q = new sbyte[w.Length];
        for (int i = 0; i < w.Length; i++)
        {
            int c = (i / inner) % channels;
            q[i] = (sbyte)Math.Clamp((int)Round(w[i] * inverse[c]), -127, 127);
        }
        return (new QuantParams(scales, new long[channels], axis), q);
    }

    /// <summary>
    /// Symmetric int8 weights, one scale for the tensor (fully connected): scale = max|w| / 127, values
    /// times 127 / max|w| (TFLite's SymmetricQuantizeFloats; the MLIR path computes the same scale).
    /// </summary>
    public static (QuantParams Params, sbyte[] Values) PerTensorWeights(ReadOnlySpan<float> w, Precision precision)
    {
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        foreach (float v in w)
        {
            min = MathF.Min(min, v);
            max = MathF.Max(max, v);
        }
        float range = MathF.Max(MathF.Abs(min), MathF.Abs(max));
        var q = new sbyte[w.Length];
        float scale;
        if (precision == Precision.Int8)
        {
            double m = range;
            if (2 * m <= NearZeroTolerance)
            {
                m = Math.Max(m, NearZeroTolerance / 2);
            }
            scale = ((float)m - (float)-m) / 254;
            scale = scale < NearZeroTolerance ? (float)NearZeroTolerance : scale;
        }
        else
        {
            scale = range == 0f ? 1f : range / 127f;
        }
        if (range != 0f)
        {
            float inverse = 127f / range;
            for (int i = 0; i < w.Length; i++)
            {
                q[i] = (sbyte)Math.Clamp((int)Round(w[i] * inverse), -127, 127);
            }
        }
        return (QuantParams.PerTensor(scale, 0), q);
    }

    /// <summary>
    /// Bias scales input_scale * weight_scale (a float32 product, which equals the MLIR quantizer's double
    /// product rounded to float) and values round(b * (1 / scale)), clamped to +-(2^31 - 1) for int32
    /// or +-(2^63 - 1) for int64.
    /// </summary>
    public static (QuantParams Params, long[] Values) Bias(ReadOnlySpan<float> bias, float inputScale, float[] weightScales, bool int64)
    {
        int n = bias.Length;
        var scales = new float[n];
        var q = new long[n];
        for (int i = 0; i < n; i++)
        {
            float scale = inputScale * weightScales[weightScales.Length == 1 ? 0 : i];
            scales[i] = scale;
            float inverse = 1f / scale;
            float r = Round(bias[i] * inverse);
            long limit = int64 ? long.MaxValue : int.MaxValue;
            q[i] = r >= limit ? limit : r <= -limit ? -limit : (long)r;
        }
        float[] paramScales = weightScales.Length == 1 ? [scales[0]] : scales;
        return (new QuantParams(paramScales, new long[paramScales.Length], 0), q);
    }

    /// <summary>Quantizes one real value with the given per-tensor parameters, rounding half away from zero.</summary>
    public static long QuantizeValue(float real, QuantParams p, long qmin, long qmax)
        => Math.Clamp((long)Round(real / p.Scale) + p.ZeroPoint, qmin, qmax);
}
