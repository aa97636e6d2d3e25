using QnnLab.Attacks.Targets;

namespace QnnLab.Attacks.Attacks;

/// <summary>
/// ZOO — Chen, Zhang, Sharma, Yi, Hsieh, "ZOO: Zeroth Order Optimization Based Black-box Attacks to Deep Neural
/// Networks without Training Substitute Models", AISec 2017. Norm: L2 (minimised). Gray-box (scores only). ART's
/// ZooAttack without resizing (the paper's use_resize=False): per iteration nb_parallel coordinates drawn without
/// replacement, each gradient estimated by the symmetric difference (f(x + h e_i) − f(x − h e_i)) / 2h of the C&amp;W-style
/// loss c · max(p_y − max_{j≠y} p_j + confidence, 0) + ‖x_adv − x‖² on the target's scores, ADAM per coordinate (reset
/// for an image once it first becomes adversarial), early abort when the loss stops falling, and a binary search on c
/// over binary_search_steps. The best adversarial example (smallest L2) over all steps is kept; else x itself.
/// Differences from ART, both deliberate: ART clips the perturbation itself (not x + perturbation) to [0, 1], so it can
/// only brighten pixels, here x + perturbation is kept in [0, 1]; ART's importance sampling only switches on for
/// images wider than 32 after resizing, so for CIFAR-10 both draw uniformly, and here always (VWW / coffee differ).
/// Table 14's "Epsilon" (1 / 2 / 2) has no counterpart in the paper's zoo.py, which passes only the three below.
/// Queries per image: 2 · nb_parallel + 1 per iteration run (binary_search_steps · max_iter of them without early abort).
/// Defaults (ART ZooAttack): confidence=0, learning_rate=0.01, max_iter=10, binary_search_steps=1, initial_const=0.001,
/// abort_early=true, nb_parallel=128, variable_h=0.0001.
/// Paper (run_*_attacks.sh): initial_const 0.01; CIFAR-10 max_iter 10, binary_search_steps 5; VWW 50 / 1; coffee 10 / 2.
/// </summary>
public sealed class Zoo : Attack
{
    public sealed class Options : AttackParameters
    {
        [Param("confidence", "margin the adversarial class must win by")]
        public double Confidence { get; set; }

        [Param("learning_rate", "ADAM step size")]
        public double LearningRate { get; set; } = 0.01;

        [Param("max_iter", "iterations per binary search step")]
        public int MaxIter { get; set; } = 10;

        [Param("binary_search_steps", "binary search steps on the constant c")]
        public int BinarySearchSteps { get; set; } = 1;

        [Param("initial_const", "first c")]
        public double InitialConst { get; set; } = 0.001;

        [Param("abort_early", "stop a binary search step once the loss stops falling")]
        public bool AbortEarly { get; set; } = true;

        [Param("nb_parallel", "coordinates estimated and updated per iteration")]
        public int NbParallel { get; set; } = 128;

        [Param("variable_h", "finite-difference step h")]
        public double VariableH { get; set; } = 0.0001;
    }

    public Options Config { get; } = new();
    public override string Name => "zoo";
    public override string Norm => "L2";
    public override TargetCapabilities Needs => TargetCapabilities.Scores;
    public override AttackParameters Parameters => Config;

    public override IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> Presets { get; } =
        new Dictionary<string, IReadOnlyDictionary<string, string>>
        {
            ["cifar10"] = new Dictionary<string, string> { ["max_iter"] = "10", ["binary_search_steps"] = "5", ["initial_const"] = "0.01" },
            ["vww"] = new Dictionary<string, string> { ["max_iter"] = "50", ["binary_search_steps"] = "1", ["initial_const"] = "0.01" },
            ["coffee"] = new Dictionary<string, string> { ["max_iter"] = "10", ["binary_search_steps"] = "2", ["initial_const"] = "0.01" },
        };

    private const double Beta1 = 0.9, Beta2 = 0.999;

    protected override float[] Run(AttackTarget target, float[] x, int[] y, int n, int seed)
    {
        Options o = Config;
        if (o.MaxIter < 1 || o.BinarySearchSteps < 1 || o.InitialConst <= 0 || o.LearningRate <= 0 || o.NbParallel < 1 || o.VariableH <= 0 || o.Confidence < 0)
        {
            throw new ArgumentException($"zoo: parameters out of range ({o})");
        }
        int size = target.ImageSize;
        if (o.NbParallel > size)
        {
            throw new ArgumentException($"zoo: nb_parallel {o.NbParallel} is more than the {size} input values (ART: too many samples for the random indices)");
        }
        float[] result = (float[])x.Clone();
        var searches = new IEnumerable<Query>[n];
        for (int i = 0; i < n; i++)
        {
            int image = i;
            searches[i] = Search(x.AsMemory(i * size, size), y[i], target.Classes, QueryDriver.ImageRandom(seed, i), adv => adv.CopyTo(result, image * size));
        }
        QueriesPerImage = QueryDriver.Run(target, searches, scores: true);
        return result;
    }

    /// <summary>ART's loss of one image: c · max(p_y − max_{j≠y} p_j + confidence, 0) + ‖x_adv − x‖², with its two terms.</summary>
    public static (double Loss, double L2Squared, bool Adversarial) Loss(ReadOnlySpan<float> scores, int label, double c, double confidence,
        ReadOnlySpan<float> x, ReadOnlySpan<float> adv)
    {
        double other = double.NegativeInfinity;
        int arg = 0;
        for (int k = 0; k < scores.Length; k++)
        {
            if (k != label && scores[k] > other)
            {
                other = scores[k];
            }
            if (scores[k] > scores[arg])
            {
                arg = k;
            }
        }
        double d2 = 0;
        for (int j = 0; j < x.Length; j++)
        {
            double d = adv[j] - (double)x[j];
            d2 += d * d;
        }
        return ((c * Math.Max(scores[label] - other + confidence, 0)) + d2, d2, arg != label);
    }

    /// <summary>The 2·k probes of coordinates <paramref name="coords"/>: adv + h e_i, then adv − h e_i, for each.</summary>
    public static float[][] Probes(ReadOnlySpan<float> adv, int[] coords, double h)
    {
        var probes = new float[2 * coords.Length][];
        for (int k = 0; k < coords.Length; k++)
        {
            probes[2 * k] = adv.ToArray();
            probes[(2 * k) + 1] = adv.ToArray();
            probes[2 * k][coords[k]] = (float)(adv[coords[k]] + h);
            probes[(2 * k) + 1][coords[k]] = (float)(adv[coords[k]] - h);
        }
        return probes;
    }

    /// <summary>The symmetric-difference estimates of the loss's partial derivatives from the probes' scores.</summary>
    public static double[] Gradients(float[] scores, int classes, float[][] probes, int label, double c, double confidence, ReadOnlySpan<float> x, double h)
    {
        var g = new double[probes.Length / 2];
        for (int k = 0; k < g.Length; k++)
        {
            double plus = Loss(scores.AsSpan(2 * k * classes, classes), label, c, confidence, x, probes[2 * k]).Loss;
            double minus = Loss(scores.AsSpan(((2 * k) + 1) * classes, classes), label, c, confidence, x, probes[(2 * k) + 1]).Loss;
            g[k] = (plus - minus) / (2 * h);
        }
        return g;
    }

    private IEnumerable<Query> Search(ReadOnlyMemory<float> original, int label, int classes, Random rng, Action<float[]> done)
    {
        Options o = Config;
        int size = original.Length;
        double c = o.InitialConst, lower = 0, upper = 1e10;
        double bestOverall = double.PositiveInfinity;
        float[] bestAttack = original.ToArray();
        int earlyStop = o.MaxIter >= 10 ? o.MaxIter / 10 : o.MaxIter;
        var mean = new double[size];
        var variance = new double[size];
        var epochs = new int[size];
        var noise = new double[size];
        for (int bss = 0; bss < o.BinarySearchSteps; bss++)
        {
            Array.Clear(mean);
            Array.Clear(variance);
            Array.Fill(epochs, 1);
            Array.Clear(noise);
            float[] adv = original.ToArray();
            bool fineTuning = false;
            double prevLoss = 1e6, prevL2 = 0, bestDist = double.PositiveInfinity;
            bool success = false;
            for (int it = 0; it < o.MaxIter; it++)
            {
                int[] coords = Sample(size, o.NbParallel, rng);
                float[][] probes = Probes(adv, coords, o.VariableH);
                var q = new Query(probes);
                yield return q;
                double[] grads = Gradients(q.Scores, classes, probes, label, c, o.Confidence, original.Span, o.VariableH);
                for (int k = 0; k < coords.Length; k++)
                {
                    int j = coords[k];
                    mean[j] = (Beta1 * mean[j]) + ((1 - Beta1) * grads[k]);
                    variance[j] = (Beta2 * variance[j]) + ((1 - Beta2) * grads[k] * grads[k]);
                    double corr = Math.Sqrt(1 - Math.Pow(Beta2, epochs[j])) / (1 - Math.Pow(Beta1, epochs[j]));
                    noise[j] -= o.LearningRate * corr * mean[j] / (Math.Sqrt(variance[j]) + 1e-8);
                    // keep x + noise inside [0, 1] (ART clips the noise itself to [0, 1])
                    noise[j] = Math.Clamp(noise[j], -original.Span[j], 1 - original.Span[j]);
                    epochs[j]++;
                }
                for (int j = 0; j < size; j++)
                {
                    adv[j] = (float)(original.Span[j] + noise[j]);
                }
                var current = new Query([(float[])adv.Clone()]);
                yield return current;
                (double loss, double l2, bool wrong) = Loss(current.Scores, label, c, o.Confidence, original.Span, current.Candidates[0]);
                // Reset ADAM once the image first becomes adversarial (the margin term vanished), to avoid overshooting.
                if (!fineTuning && loss == l2 && prevLoss != prevL2)
                {
                    fineTuning = true;
                    Array.Clear(mean);
                    Array.Clear(variance);
                    Array.Fill(epochs, 1);
                }
                prevL2 = l2;
                if (o.AbortEarly && it % earlyStop == 0)
                {
                    if (loss > 0.9999 * prevLoss)
                    {
                        break;
                    }
                    prevLoss = loss;
                }
                if (wrong && l2 < bestDist)
                {
                    bestDist = l2;
                    success = true;
                    if (l2 < bestOverall)
                    {
                        bestOverall = l2;
                        bestAttack = (float[])current.Candidates[0].Clone();
                    }
                }
            }
            // ART's update of c: halve towards the bounds after a success, grow tenfold while no upper bound is known.
            if (success)
            {
                upper = Math.Min(upper, c);
                if (upper < 1e9)
                {
                    c = (lower + upper) / 2;
                }
            }
            else
            {
                lower = Math.Max(lower, c);
                c = upper < 1e9 ? (lower + upper) / 2 : c * 10;
            }
        }
        done(bestAttack);
    }

    /// <summary><paramref name="k"/> distinct coordinates of <paramref name="size"/>, uniformly (partial Fisher-Yates).</summary>
    private static int[] Sample(int size, int k, Random rng)
    {
        int[] all = [.. Enumerable.Range(0, size)];
        for (int i = 0; i < k; i++)
        {
            int j = rng.Next(i, size);
            (all[i], all[j]) = (all[j], all[i]);
        }
        return all[..k];
    }
}
