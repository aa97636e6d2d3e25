using QnnLab.Attacks.Targets;
using QnnLab.Torch;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace QnnLab.Attacks.Attacks;

/// <summary>
/// The loop FGSM, BIM and PGD share (ART's FastGradientMethod / ProjectedGradientDescent): steps along the normalised
/// gradient of the cross-entropy of the true label, projection onto the eps-ball of the chosen norm around x, clip to
/// [0, 1]. Norm "inf" steps by sign(g); "2" by g / ||g||_2; "1" by g / ||g||_1 (ART's conventions).
/// </summary>
internal static class ProjectedGradient
{
    // Cached Scalars throughout: TorchSharp turns every number (and the alpha of a + b) into a Scalar that only the GC
    // frees, and a finalizer running while native code reads one fails c10's toFloat check (seen in PGD inside
    // adversarial training). See QnnLab.Torch.Scalars.
    private static readonly TorchSharp.Scalar Zero = Scalars.Of(0), Tiny = Scalars.Of(1e-12);

    public static float[] Run(AttackTarget target, float[] x, int[] y, int n, string norm, double eps, double epsStep, int maxIter,
        int randomInits, int seed)
    {
        double p = ParseNorm(norm);
        int h = target.Height, w = target.Width, c = target.Channels;
        using var scope = NewDisposeScope();
        Tensor x0 = TensorOps.ToTensor(x, n, h, w, c);
        Tensor labels = TensorOps.Labels(y);
        var rng = new Random(seed);
        float[]? best = null;
        bool[] fooled = new bool[n];
        double[] bestLoss = Enumerable.Repeat(double.NegativeInfinity, n).ToArray();
        int restarts = Math.Max(1, randomInits);
        for (int r = 0; r < restarts; r++)
        {
            using var inner = NewDisposeScope();
            Tensor adv = x0.clone();
            if (randomInits > 0)
            {
                adv = Project(x0.add(RandomStart(rng, x.Length, n, h, w, c, p, eps), Scalars.One), x0, p, eps).clamp(Zero, Scalars.One);
            }
            for (int i = 0; i < maxIter; i++)
            {
                (Tensor g, _, _) = target.Gradient(adv, logits => nn.functional.cross_entropy(logits, labels, reduction: nn.Reduction.None));
                adv = Project(adv.add(Direction(g, p).mul(Scalars.Of(epsStep)), Scalars.One), x0, p, eps).clamp(Zero, Scalars.One).detach();
            }
            float[] candidate = TensorOps.ToArray(adv);
            if (restarts == 1)
            {
                return candidate;
            }
            // Keep, per image, the first restart that fools the target, else the one with the highest loss.
            float[] scores = target.Has(TargetCapabilities.Scores) ? target.Scores(candidate, n) : [];
            int[] predicted = target.Labels(candidate, n);
            best ??= (float[])candidate.Clone();
            int size = target.ImageSize;
            for (int k = 0; k < n; k++)
            {
                if (fooled[k])
                {
                    continue;
                }
                double loss = scores.Length > 0 ? -Math.Log(Math.Max(scores[(k * target.Classes) + y[k]], 1e-30f)) : 0;
                bool fools = predicted[k] != y[k];
                if (fools || loss > bestLoss[k])
                {
                    Array.Copy(candidate, k * size, best, k * size, size);
                    bestLoss[k] = loss;
                    fooled[k] = fools;
                }
            }
        }
        return best!;
    }

    public static double ParseNorm(string norm) => norm switch
    {
        "inf" or "Linf" or "linf" => double.PositiveInfinity,
        "2" or "L2" or "l2" => 2,
        "1" or "L1" or "l1" => 1,
        _ => throw new ArgumentException($"norm '{norm}': use inf, 2 or 1"),
    };

    /// <summary>The step direction of ART's _apply_norm: sign for Linf, g over its L2 or L1 norm per image.</summary>
    public static Tensor Direction(Tensor g, double p)
    {
        if (double.IsPositiveInfinity(p))
        {
            return g.sign();
        }
        Tensor norms = TensorOps.Norms(g, p).clamp_min(Tiny).reshape(-1, 1, 1, 1);
        return g.div(norms);
    }

    /// <summary>Projects adv onto the eps-ball of norm p around x0 (ART's projection: clip for Linf, rescale for L1/L2).</summary>
    public static Tensor Project(Tensor adv, Tensor x0, double p, double eps)
    {
        Tensor d = adv.sub(x0);
        if (double.IsPositiveInfinity(p))
        {
            return x0.add(d.clamp(Scalars.Of(-eps), Scalars.Of(eps)), Scalars.One);
        }
        Tensor norms = TensorOps.Norms(d, p).reshape(-1, 1, 1, 1);
        Tensor factor = (Scalars.Of(eps) / norms.clamp_min(Tiny)).clamp_max(Scalars.One);
        return x0.add(d.mul(factor), Scalars.One);
    }

    /// <summary>A random start inside the eps-ball: uniform per value for Linf, a random direction scaled by a uniform radius otherwise.</summary>
    private static Tensor RandomStart(Random rng, int count, int n, int h, int w, int c, double p, double eps)
    {
        Tensor u = TensorOps.ToTensor(TensorOps.Uniform(rng, count), n, h, w, c);
        if (double.IsPositiveInfinity(p))
        {
            return u.mul(Scalars.Of(eps));
        }
        Tensor dir = u.div(TensorOps.Norms(u, p).clamp_min(Tiny).reshape(-1, 1, 1, 1));
        float[] radii = Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * eps)).ToArray();
        return dir.mul(tensor(radii).reshape(-1, 1, 1, 1));
    }
}
