namespace QnnLab.Keras;

/// <summary>
/// Folds an inference-mode batch normalisation y = gamma * (x - mean) / sqrt(var + eps) + beta into the
/// weights and bias of the layer before it. Arithmetic is float32 in the order TensorFlow's converter
/// uses (BN becomes x * m + (beta - mean * m) with m = gamma * rsqrt(var + eps), then the multiply is
/// folded into the weights), so folded weights match the converter's to the last bit in most cases.
/// </summary>
public static class BatchNormFolding
{
    /// <summary>The per-channel multiplier m = gamma / sqrt(var + eps) and offset beta - mean * m.</summary>
    public static (float[] Multiplier, float[] Offset) Coefficients(
        ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, ReadOnlySpan<float> mean, ReadOnlySpan<float> variance, float epsilon)
    {
        int n = gamma.Length;
        if (beta.Length != n || mean.Length != n || variance.Length != n)
        {
            throw new ArgumentException($"batch-norm parameter lengths differ: gamma {n}, beta {beta.Length}, mean {mean.Length}, variance {variance.Length}");
        }
        var mult = new float[n];
        var offset = new float[n];
        for (int c = 0; c < n; c++)
        {
            float rsqrt = 1f / MathF.Sqrt(variance[c] + epsilon);
            mult[c] = gamma[c] * rsqrt;
            offset[c] = beta[c] - mean[c] * mult[c];
        }
        return (mult, offset);
    }

    /// <summary>
    /// Applies the coefficients in place. <paramref name="weights"/> is laid out so that the output
    /// channel of element i is <c>(i / innerSize) % channels</c>: OHWI or [out, in] have the channel
    /// outermost (innerSize = elements per channel), 1HWC has it innermost (innerSize = 1).
    /// </summary>
    public static void Apply(Span<float> weights, Span<float> bias, int channels, int innerSize, ReadOnlySpan<float> multiplier, ReadOnlySpan<float> offset)
    {
        if (bias.Length != channels || multiplier.Length != channels || offset.Length != channels)
        {
            throw new ArgumentException($"bias/multiplier/offset must have {channels} entries");
        }
        for (int i = 0; i < weights.Length; i++)
        {
            int c = (i / innerSize) % channels;
            weights[i] *= multiplier[c];
        }
        for (int c = 0; c < channels; c++)
        {
            bias[c] = bias[c] * multiplier[c] + offset[c];
        }
    }
}
