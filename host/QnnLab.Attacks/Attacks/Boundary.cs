using QnnLab.Attacks.Targets;

namespace QnnLab.Attacks.Attacks;

/// <summary>
/// Boundary — Brendel, Rauber, Bethge, "Decision-Based Adversarial Attacks: Reliable Attacks Against Black-Box Machine
/// Learning Models", ICLR 2018. Norm: L2 (minimised). Black-box (labels only). ART's BoundaryAttack, untargeted: start
/// from a uniform-noise image the target labels differently from x (up to init_size draws), then per iteration try
/// sample_size orthogonal steps of relative size delta on the sphere around x (up to num_trial rounds, delta adapted
/// by step_adapt to keep 20-50 % of them adversarial), then steps of a fraction epsilon towards x from the adversarial
/// ones (epsilon adapted the same way), keeping the closest adversarial result. "Adversarial" means a label other
/// than x's own prediction (ART's rule). An image with no adversarial start is returned unchanged.
/// Queries per image: 1 (x) + the init draws + sample_size per orthogonal trial + one per kept candidate per epsilon
/// trial; each image searches on its own generator, all images' queries go to the target in shared batches.
/// Defaults (ART BoundaryAttack): delta=0.01, epsilon=0.01, step_adapt=0.667, max_iter=5000, num_trial=25,
/// sample_size=20, init_size=100, min_epsilon=0.
/// Paper (Table 14, run_*_attacks.sh): delta 0.1, epsilon 1.0, max_iter 500; init_size 100 (VWW 500).
/// </summary>
public sealed class Boundary : Attack
{
    public sealed class Options : AttackParameters
    {
        [Param("delta", "initial relative size of the orthogonal step")]
        public double Delta { get; set; } = 0.01;

        [Param("epsilon", "initial fraction of the step towards x")]
        public double Epsilon { get; set; } = 0.01;

        [Param("step_adapt", "factor by which delta and epsilon shrink (or grow by its inverse)")]
        public double StepAdapt { get; set; } = 0.667;

        [Param("max_iter", "iterations per image")]
        public int MaxIter { get; set; } = 5000;

        [Param("num_trial", "rounds per step before giving up")]
        public int NumTrial { get; set; } = 25;

        [Param("sample_size", "orthogonal candidates per round")]
        public int SampleSize { get; set; } = 20;

        [Param("init_size", "uniform-noise draws to find an adversarial start")]
        public int InitSize { get; set; } = 100;

        [Param("min_epsilon", "stop once epsilon falls below this")]
        public double MinEpsilon { get; set; }
    }

    public Options Config { get; } = new();
    public override string Name => "boundary";
    public override string Norm => "L2";
    public override TargetCapabilities Needs => TargetCapabilities.Labels;
    public override AttackParameters Parameters => Config;

    public override IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> Presets { get; } =
        new Dictionary<string, IReadOnlyDictionary<string, string>>
        {
            ["cifar10"] = Paper("100"),
            ["vww"] = Paper("500"),
            ["coffee"] = Paper("100"),
        };

    private static Dictionary<string, string> Paper(string initSize) => new()
    {
        ["delta"] = "0.1",
        ["epsilon"] = "1.0",
        ["max_iter"] = "500",
        ["init_size"] = initSize,
    };

    protected override float[] Run(AttackTarget target, float[] x, int[] y, int n, int seed)
    {
        Options o = Config;
        if (o.Delta <= 0 || o.Epsilon <= 0 || o.StepAdapt is <= 0 or >= 1 || o.MaxIter < 0 || o.NumTrial < 0 || o.SampleSize < 1 || o.InitSize < 1 || o.MinEpsilon < 0)
        {
            throw new ArgumentException($"boundary: parameters out of range ({o})");
        }
        int size = target.ImageSize;
        int[] predicted = target.Labels(x, n);
        float[] result = (float[])x.Clone();
        var searches = new IEnumerable<Query>[n];
        for (int i = 0; i < n; i++)
        {
            int image = i;
            searches[i] = Search(x.AsMemory(i * size, size), predicted[i], GaussianNoise.ForImage(seed, i), adv => adv.CopyTo(result, image * size));
        }
        // one query per image for its clean prediction, then its own search's
        QueriesPerImage = [.. QueryDriver.Run(target, searches).Select(q => q + 1)];
        return result;
    }

    private IEnumerable<Query> Search(ReadOnlyMemory<float> original, int own, GaussianNoise rng, Action<float[]> done)
    {
        Options o = Config;
        int size = original.Length;
        float[]? start = null;
        for (int k = 0; k < o.InitSize && start is null; k++)
        {
            var noise = new float[size];
            rng.FillUniform(noise);
            var q = new Query([noise]);
            yield return q;
            if (q.Labels[0] != own)
            {
                start = noise;
            }
        }
        if (start is null)
        {
            yield break; // no adversarial start: the image stays as it is
        }
        float[] adv = start;
        var direction = new double[size]; // one buffer for every orthogonal step's Gaussian
        double delta = o.Delta, epsilon = o.Epsilon;
        for (int it = 0; it < o.MaxIter; it++)
        {
            List<float[]>? kept = null;
            for (int trial = 0; trial < o.NumTrial && kept is null; trial++)
            {
                var candidates = new float[o.SampleSize][];
                for (int s = 0; s < candidates.Length; s++)
                {
                    candidates[s] = Orthogonal(adv, original.Span, delta, rng, direction);
                }
                var q = new Query(candidates);
                yield return q;
                List<float[]> ok = [.. candidates.Where((_, s) => q.Labels[s] != own)];
                delta = Adapt(delta, (double)ok.Count / candidates.Length, o.StepAdapt);
                if (ok.Count > 0)
                {
                    kept = ok;
                }
            }
            if (kept is null)
            {
                break; // ART: "adversarial example found but not optimal"
            }
            float[]? closer = null;
            for (int trial = 0; trial < o.NumTrial && closer is null; trial++)
            {
                float[][] candidates = [.. kept.Select(a => Towards(a, original.Span, epsilon))];
                var q = new Query(candidates);
                yield return q;
                float[][] ok = [.. candidates.Where((_, s) => q.Labels[s] != own)];
                epsilon = Adapt(epsilon, (double)ok.Length / candidates.Length, o.StepAdapt);
                if (ok.Length > 0)
                {
                    closer = Closest(ok, original.Span);
                }
            }
            if (closer is null)
            {
                adv = Closest([.. kept], original.Span);
                break;
            }
            adv = closer;
            if (epsilon < o.MinEpsilon)
            {
                break;
            }
        }
        done(adv);
    }

    /// <summary>ART's trust region: shrink when under 20 % of the trials succeed, grow when over 50 %.</summary>
    private static double Adapt(double step, double ratio, double factor) => ratio < 0.2 ? step * factor : ratio > 0.5 ? step / factor : step;

    /// <summary>
    /// ART's orthogonal step: a Gaussian direction of length delta·‖x − adv‖ with its component along x − adv removed,
    /// then moved back onto the sphere around x through which adv passes; clipped to [0, 1].
    /// </summary>
    private static float[] Orthogonal(float[] adv, ReadOnlySpan<float> x, double delta, GaussianNoise rng, double[] p)
    {
        int d = adv.Length;
        rng.FillNormal(p);
        double pn = 0, dot = 0, dist2 = 0;
        for (int j = 0; j < d; j++)
        {
            double diff = x[j] - (double)adv[j];
            pn += p[j] * p[j];
            dot += p[j] * diff;
            dist2 += diff * diff;
        }
        double dist = Math.Sqrt(dist2);
        double scale = delta * dist / Math.Sqrt(pn);
        // the scaled direction's component along the unit vector (x - adv) / dist
        double along = scale * dot / dist;
        double hyp = Math.Sqrt(1 + (delta * delta));
        var c = new float[d];
        for (int j = 0; j < d; j++)
        {
            double diff = x[j] - (double)adv[j];
            double ortho = (scale * p[j]) - (along * diff / dist);
            double step = ((-(1 - hyp) * diff) + ortho) / hyp;
            c[j] = (float)Math.Clamp(adv[j] + step, 0, 1);
        }
        return c;
    }

    private static float[] Towards(float[] adv, ReadOnlySpan<float> x, double epsilon)
    {
        var c = new float[adv.Length];
        for (int j = 0; j < c.Length; j++)
        {
            c[j] = (float)Math.Clamp(adv[j] + (epsilon * (x[j] - (double)adv[j])), 0, 1);
        }
        return c;
    }

    private static float[] Closest(float[][] candidates, ReadOnlySpan<float> x)
    {
        float[] best = candidates[0];
        double bestDistance = QueryDriver.L2(x, best);
        for (int k = 1; k < candidates.Length; k++)
        {
            double dist = QueryDriver.L2(x, candidates[k]);
            if (dist < bestDistance)
            {
                (best, bestDistance) = (candidates[k], dist);
            }
        }
        return best;
    }
}
