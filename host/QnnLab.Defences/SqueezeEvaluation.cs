using QnnLab.Data;

namespace QnnLab.Defences;

/// <summary>
/// How the defence does on a set of images of one precision (paper Tables 10-11): accuracy undefended, after both
/// squeezers (the paper's column), after each squeezer alone (what a board does with one squeezer), and the detector:
/// the share of all images flagged, and of the misclassified ones (the attack's successes; on clean images the
/// share flagged is the false-positive rate).
/// </summary>
public sealed record SqueezeRates(int N, double Accuracy, double SqueezedAccuracy, double BitDepthAccuracy, double MedianAccuracy,
    double Flagged, int Misclassified, double? DetectedMisclassified)
{
    public static SqueezeRates Of(IReadOnlyList<SqueezeVerdict> v, IReadOnlyList<int> labels, double threshold)
    {
        if (v.Count != labels.Count || v.Count == 0)
        {
            throw new ArgumentException($"{v.Count} verdicts for {labels.Count} labels");
        }
        int n = v.Count, acc = 0, sq = 0, bits = 0, med = 0, flagged = 0, wrong = 0, caught = 0;
        for (int i = 0; i < n; i++)
        {
            int y = labels[i];
            acc += v[i].Label == y ? 1 : 0;
            sq += v[i].BothLabel == y ? 1 : 0;
            bits += v[i].BitDepthLabel == y ? 1 : 0;
            med += v[i].MedianLabel == y ? 1 : 0;
            bool f = v[i].Score > threshold;
            flagged += f ? 1 : 0;
            if (v[i].Label != y)
            {
                wrong++;
                caught += f ? 1 : 0;
            }
        }
        return new SqueezeRates(n, (double)acc / n, (double)sq / n, (double)bits / n, (double)med / n, (double)flagged / n,
            wrong, wrong == 0 ? null : (double)caught / wrong);
    }
}

/// <summary>Runs a <see cref="SqueezedModel"/> over images in batches, with progress.</summary>
public static class SqueezeEvaluation
{
    public const int Batch = 32;

    /// <summary>Verdicts of images given as one [0, 1] HWC array (an attack run's adversarial examples).</summary>
    public static SqueezeVerdict[] Verdicts(SqueezedModel m, float[] images, int n, IProgress<int>? progress = null, CancellationToken ct = default)
    {
        int size = m.ImageSize;
        if (images.Length != n * size)
        {
            throw new ArgumentException($"{images.Length} values for {n} images of {m.Height}x{m.Width}x{m.Channels}");
        }
        var all = new SqueezeVerdict[n];
        for (int b = 0; b < n; b += Batch)
        {
            ct.ThrowIfCancellationRequested();
            int k = Math.Min(Batch, n - b);
            m.Verdicts(images.AsSpan(b * size, k * size), k).CopyTo(all, b);
            progress?.Report(b + k);
        }
        return all;
    }

    /// <summary>Verdicts of the first n images of a data set.</summary>
    public static SqueezeVerdict[] Verdicts(SqueezedModel m, ImageSet set, int n, IProgress<int>? progress = null, CancellationToken ct = default)
    {
        n = Math.Min(n, set.Count);
        return Verdicts(m, set.UnitImages(n), n, progress, ct);
    }
}
