using QnnLab.Attacks.Targets;

namespace QnnLab.Attacks.Runs;

/// <summary>
/// Gradient masking diagnostic (paper A2): how often a finite-difference gradient estimate is exactly zero. For each
/// image and each input value j, the symmetric difference of the true class's score, p_y(x + h e_j) − p_y(x − h e_j)
/// (the cross-entropy's only dependence), is exactly zero when the model cannot see a change of size h there: an
/// integer model whose input quantization swallows h, or a float model whose output rounding does. The zero density is
/// the fraction of such values per image, averaged over images. 2·H·W·C queries per image, batched.
/// </summary>
public static class ZeroDensity
{
    /// <summary>Per image: the fraction (0..1) of input values whose symmetric difference at step h is exactly zero.</summary>
    public static double[] PerImage(AttackTarget target, ReadOnlySpan<float> x, int[] y, int n, double h, int chunk = 256, Action<int>? imageDone = null)
    {
        if (h <= 0)
        {
            throw new ArgumentException($"zero density: step h {h} must be > 0");
        }
        int size = target.ImageSize, classes = target.Classes;
        if (x.Length != n * size || y.Length != n)
        {
            throw new ArgumentException($"zero density: {x.Length} values and {y.Length} labels for {n} images of {size}");
        }
        chunk = Math.Max(1, chunk);
        var result = new double[n];
        var probes = new float[2 * chunk * size];
        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<float> image = x.Slice(i * size, size);
            int zeros = 0;
            for (int start = 0; start < size; start += chunk)
            {
                int k = Math.Min(chunk, size - start);
                for (int j = 0; j < k; j++)
                {
                    Span<float> plus = probes.AsSpan(2 * j * size, size), minus = probes.AsSpan(((2 * j) + 1) * size, size);
                    image.CopyTo(plus);
                    image.CopyTo(minus);
                    plus[start + j] = (float)(image[start + j] + h);
                    minus[start + j] = (float)(image[start + j] - h);
                }
                float[] scores = target.Scores(probes.AsSpan(0, 2 * k * size), 2 * k);
                for (int j = 0; j < k; j++)
                {
                    if (scores[(2 * j * classes) + y[i]] == scores[(((2 * j) + 1) * classes) + y[i]])
                    {
                        zeros++;
                    }
                }
            }
            result[i] = (double)zeros / size;
            imageDone?.Invoke(i + 1);
        }
        return result;
    }
}
