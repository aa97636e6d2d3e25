using QnnLab.Attacks.Targets;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace QnnLab.Attacks.Attacks;

/// <summary>
/// JSMA — Papernot, McDaniel, Jha, Fredrikson, Celik, Swami, "The Limitations of Deep Learning in Adversarial
/// Settings", IEEE EuroS&amp;P 2016. Norm: L0 (few features changed). Targeted at heart; untargeted as the paper ran
/// it: each image gets a random target class other than its true one, drawn as ART's random_targets does (one draw per
/// class, in class order, so every image of a class shares its target; seeded here). Each iteration takes, per image,
/// the two features of the search space with the largest gradient of the target logit (ART's saliency map; with
/// theta &lt; 0 the smallest) and moves each by theta, clipped to [0, 1]. A feature leaves the search space once
/// changed (at most one change per feature) or at the bound; an image stops when its label is the target, when
/// ceil(gamma * features) features are changed, or when its search space is empty.
/// Defaults (ART SaliencyMapMethod): theta=0.1, gamma=1.0, batch_size=1 (batching does not change ART's result; here
/// the images of a call are one batch). Paper (Table 14, jsma.py / run_*_attacks.sh): theta 0.08, gamma 1.0, with
/// targets from random_targets(y_test).
/// Differs from ART 1.10: ART keeps a changed feature in the search space until it reaches the bound (so it may move
/// it by theta many times) and checks gamma before each pair (so it may change one or two features past gamma);
/// here a feature changes once and never more than ceil(gamma * features) features change.
/// </summary>
public sealed class Jsma : Attack
{
    public sealed class Options : AttackParameters
    {
        [Param("theta", "change of each chosen feature (> 0 increases, < 0 decreases; inputs in [0, 1])")]
        public double Theta { get; set; } = 0.1;

        [Param("gamma", "maximum fraction of the features changed, in (0, 1]")]
        public double Gamma { get; set; } = 1.0;
    }

    public Options Config { get; } = new();
    public override string Name => "jsma";
    public override string Norm => "L0";
    public override TargetCapabilities Needs => TargetCapabilities.Gradients;
    public override AttackParameters Parameters => Config;

    public override IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> Presets { get; } =
        new Dictionary<string, IReadOnlyDictionary<string, string>>
        {
            ["cifar10"] = new Dictionary<string, string> { ["theta"] = "0.08", ["gamma"] = "1.0" },
            ["vww"] = new Dictionary<string, string> { ["theta"] = "0.08", ["gamma"] = "1.0" },
            ["coffee"] = new Dictionary<string, string> { ["theta"] = "0.08", ["gamma"] = "1.0" },
        };

    /// <summary>The target class of each image of the last <see cref="Attack.Generate"/> call.</summary>
    public int[] TargetClasses { get; private set; } = [];

    /// <summary>The most features an image of <paramref name="features"/> values may have changed: ceil(gamma * features).</summary>
    public int Budget(int features) => Math.Clamp((int)Math.Ceiling((Config.Gamma * features) - 1e-9), 0, features);

    /// <summary>
    /// ART's random_targets: for each class in order one uniform draw among the other classes, the target of every
    /// image of that class.
    /// </summary>
    public static int[] RandomTargets(int[] y, int classes, int seed)
    {
        var rng = new Random(seed);
        var map = new int[classes];
        for (int k = 0; k < classes; k++)
        {
            int draw = rng.Next(classes - 1);
            map[k] = draw < k ? draw : draw + 1;
        }
        return y.Select(v => map[v]).ToArray();
    }

    protected override float[] Run(AttackTarget target, float[] x, int[] y, int n, int seed)
    {
        if (Config.Gamma is <= 0 or > 1)
        {
            throw new ArgumentException($"attack '{Name}': gamma {Config.Gamma} is not in (0, 1]");
        }
        int classes = target.Classes, d = target.ImageSize;
        if (y.Any(v => v < 0 || v >= classes))
        {
            throw new ArgumentException($"attack '{Name}': labels must be in [0, {classes})");
        }
        TargetClasses = classes > 1 ? RandomTargets(y, classes, seed) : (int[])y.Clone();
        float theta = (float)Config.Theta;
        if (classes < 2 || theta == 0)
        {
            return x;
        }
        bool increase = theta > 0;
        int budget = Budget(d);

        // Search space: the features that can still move toward the bound and have not been changed.
        var space = new bool[x.Length];
        var left = new int[n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < d; j++)
            {
                float v = x[(i * d) + j];
                bool free = increase ? v < 1f : v > 0f;
                space[(i * d) + j] = free;
                left[i] += free ? 1 : 0;
            }
        }
        var changed = new int[n];
        int[] predicted = target.Labels(x, n);
        bool[] active = Enumerable.Range(0, n).Select(i => predicted[i] != TargetClasses[i] && changed[i] < budget && left[i] > 0).ToArray();
        using var scope = NewDisposeScope();
        Tensor sign = tensor(increase ? 1f : -1f);
        Tensor blocked = tensor(float.NegativeInfinity);
        while (true)
        {
            int[] idx = Enumerable.Range(0, n).Where(i => active[i]).ToArray();
            if (idx.Length == 0)
            {
                break;
            }
            using var inner = NewDisposeScope();
            int na = idx.Length;
            var xa = new float[na * d];
            var sa = new bool[na * d];
            for (int a = 0; a < na; a++)
            {
                Array.Copy(x, idx[a] * d, xa, a * d, d);
                Array.Copy(space, idx[a] * d, sa, a * d, d);
            }
            Tensor t = tensor(idx.Select(i => (long)TargetClasses[i]).ToArray()).reshape(-1, 1);
            (Tensor g, _, _) = target.Gradient(TensorOps.ToTensor(xa, na, target.Height, target.Width, target.Channels),
                logits => logits.gather(1, t).squeeze(1));
            // Saliency of the free features (the target logit's gradient, signed by the direction); the rest is -inf.
            Tensor saliency = where(tensor(sa, [na, d]), g.reshape(na, d) * sign, blocked);
            (Tensor values, Tensor picks) = saliency.topk(Math.Min(2, d), dim: 1);
            float[] v2 = TensorOps.ToArray(values);
            long[] p2 = picks.contiguous().data<long>().ToArray();
            int k2 = v2.Length / na;
            for (int a = 0; a < na; a++)
            {
                int i = idx[a];
                for (int q = 0; q < k2 && changed[i] < budget; q++)
                {
                    if (float.IsNegativeInfinity(v2[(a * k2) + q]))
                    {
                        break;
                    }
                    int at = (i * d) + (int)p2[(a * k2) + q];
                    x[at] = increase ? Math.Min(1f, x[at] + theta) : Math.Max(0f, x[at] + theta);
                    space[at] = false;
                    left[i]--;
                    changed[i]++;
                }
            }
            var moved = new float[na * d];
            for (int a = 0; a < na; a++)
            {
                Array.Copy(x, idx[a] * d, moved, a * d, d);
            }
            int[] labels = target.Labels(moved, na);
            for (int a = 0; a < na; a++)
            {
                int i = idx[a];
                active[i] = labels[a] != TargetClasses[i] && changed[i] < budget && left[i] > 0;
            }
        }
        return x;
    }
}
