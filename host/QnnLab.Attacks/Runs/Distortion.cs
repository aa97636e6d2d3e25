namespace QnnLab.Attacks.Runs;

/// <summary>
/// Distortion of one adversarial image against its original (values in [0, 1]): L0 counts the changed values out of
/// H*W*C (the paper's CIFAR figures of ~3,056 of 3,072), L1 / L2 / Linf the usual norms of x_adv - x.
/// </summary>
public readonly record struct Distortion(double L0, double L1, double L2, double Linf)
{
    public static Distortion Of(ReadOnlySpan<float> original, ReadOnlySpan<float> adversarial)
    {
        double l0 = 0, l1 = 0, l2 = 0, linf = 0;
        for (int i = 0; i < original.Length; i++)
        {
            double d = Math.Abs((double)adversarial[i] - original[i]);
            if (d > 0)
            {
                l0++;
                l1 += d;
                l2 += d * d;
                linf = Math.Max(linf, d);
            }
        }
        return new Distortion(l0, l1, Math.Sqrt(l2), linf);
    }

    /// <summary>Mean of each norm over the given distortions (zeros when there are none).</summary>
    public static Distortion Mean(IReadOnlyCollection<Distortion> items)
        => items.Count == 0
            ? default
            : new Distortion(items.Average(d => d.L0), items.Average(d => d.L1), items.Average(d => d.L2), items.Average(d => d.Linf));
}
