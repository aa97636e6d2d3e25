using QnnLab.Attacks.Targets;

namespace QnnLab.Attacks.Attacks;

/// <summary>
/// The random search shared by Square-Linf and Square-L2 (Andriushchenko, Croce, Flammarion, Hein, "Square Attack: a
/// query-efficient black-box adversarial attack via random search", ECCV 2020): per image, propose a square-shaped
/// change of the current best, keep it when the margin p[y] − max_{j≠y} p[j] of the target's scores drops, stop at the
/// first success. Queries are batched over the images still being attacked: one per image for the clean input, one
/// per restart's initialisation, one per iteration; nothing else (ART also predicts x_adv once more per iteration).
/// Each image draws from its own generator seeded by the batch seed and its position, so an image's search does not
/// depend on how long the others in its batch take (and a board oracle gets the same proposals as the host engine).
/// </summary>
public static class SquareSearch
{
    /// <summary>One norm's proposals for one image (NHWC, values in [0, 1]).</summary>
    public interface IProposal
    {
        /// <summary>The restart's first candidate, from the clean image.</summary>
        void Init(ReadOnlySpan<float> x, Random rng, Span<float> candidate);

        /// <summary>A candidate from the current best with squares of side from the fraction <paramref name="p"/>.</summary>
        void Step(ReadOnlySpan<float> x, ReadOnlySpan<float> best, double p, Random rng, Span<float> candidate);
    }

    /// <summary>ART's schedule of the fraction of pixels a square covers: p_init halved at 0.1 %, 0.5 %, 2 %, ... of max_iter.</summary>
    public static double Fraction(double pInit, int iteration, int maxIter)
    {
        ReadOnlySpan<double> bounds = [0.001, 0.005, 0.02, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8];
        double at = (double)iteration / maxIter;
        int halvings = 0;
        // bisect_left: the count of bounds strictly below `at`
        while (halvings < bounds.Length && bounds[halvings] < at)
        {
            halvings++;
        }
        return pInit / (1 << halvings);
    }

    /// <summary>Side of a square covering the fraction <paramref name="p"/> of an h·w image, at least <paramref name="min"/>, below h.</summary>
    public static int Side(double p, int height, int width, int min) =>
        Math.Clamp((int)Math.Round(Math.Sqrt(p * height * width), MidpointRounding.ToEven), min, Math.Max(1, Math.Min(height, width) - 1));

    /// <returns>The adversarial examples and the queries each image cost.</returns>
    public static (float[] Adversarial, long[] Queries) Run(AttackTarget target, float[] x, int[] y, int n, int maxIter, int restarts, double pInit, int seed, IProposal proposal)
    {
        if (maxIter < 1 || restarts < 1 || pInit is <= 0 or >= 1)
        {
            throw new ArgumentException($"square: max_iter {maxIter} and nb_restarts {restarts} must be >= 1, p_init {pInit} in (0, 1)");
        }
        int size = target.ImageSize, classes = target.Classes;
        var rngs = new Random[n];
        for (int i = 0; i < n; i++)
        {
            rngs[i] = QueryDriver.ImageRandom(seed, i);
        }
        float[] best = (float[])x.Clone();
        var margin = new double[n];
        var fooled = new bool[n];
        float[] clean = target.Scores(x, n);
        long[] queries = [.. Enumerable.Repeat(1L, n)];
        var cleanMargin = new double[n];
        for (int i = 0; i < n; i++)
        {
            (cleanMargin[i], fooled[i]) = Margin(clean.AsSpan(i * classes, classes), y[i]);
        }
        for (int r = 0; r < restarts; r++)
        {
            int[] active = [.. Enumerable.Range(0, n).Where(i => !fooled[i])];
            if (active.Length == 0)
            {
                break;
            }
            foreach (int i in active)
            {
                x.AsSpan(i * size, size).CopyTo(best.AsSpan(i * size, size));
                margin[i] = cleanMargin[i];
            }
            Propose(active, (i, cand) => proposal.Init(x.AsSpan(i * size, size), rngs[i], cand));
            for (int it = 0; it < maxIter; it++)
            {
                active = [.. active.Where(i => !fooled[i])];
                if (active.Length == 0)
                {
                    break;
                }
                double p = Fraction(pInit, it, maxIter);
                Propose(active, (i, cand) => proposal.Step(x.AsSpan(i * size, size), best.AsSpan(i * size, size), p, rngs[i], cand));
            }
        }
        return (best, queries);

        // Asks the target about one candidate per active image; keeps each that lowers its image's margin.
        void Propose(int[] active, CandidateWriter write)
        {
            var candidates = new float[active.Length * size];
            for (int k = 0; k < active.Length; k++)
            {
                write(active[k], candidates.AsSpan(k * size, size));
            }
            float[] scores = target.Scores(candidates, active.Length);
            for (int k = 0; k < active.Length; k++)
            {
                int i = active[k];
                queries[i]++;
                (double m, bool wrong) = Margin(scores.AsSpan(k * classes, classes), y[i]);
                if (m < margin[i] || (wrong && !fooled[i]))
                {
                    margin[i] = m;
                    fooled[i] = wrong;
                    candidates.AsSpan(k * size, size).CopyTo(best.AsSpan(i * size, size));
                }
            }
        }
    }

    private delegate void CandidateWriter(int image, Span<float> candidate);

    /// <summary>ART's loss: the true class's score minus the highest other; and whether the label (ties to the lowest class) is wrong.</summary>
    private static (double Margin, bool Wrong) Margin(ReadOnlySpan<float> s, int label)
    {
        int arg = 0;
        float other = float.NegativeInfinity;
        for (int c = 0; c < s.Length; c++)
        {
            if (s[c] > s[arg])
            {
                arg = c;
            }
            if (c != label && s[c] > other)
            {
                other = s[c];
            }
        }
        return ((double)s[label] - other, arg != label);
    }
}
