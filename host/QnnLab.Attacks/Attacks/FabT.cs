using QnnLab.Attacks.Targets;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace QnnLab.Attacks.Attacks;

/// <summary>
/// FAB-T — Croce, Hein, "Minimally distorted Adversarial Examples with a Fast Adaptive Boundary Attack", ICML 2020, in
/// its targeted form as AutoAttack's third "standard" component. Norm: Linf. Per target class (the classes of the 2nd ..
/// (n_target_classes + 1)-th highest clean score) and per image still robust: linearise the difference of the target's
/// and the true class's logits at the current point, project both the current point and x onto that hyperplane within
/// [0, 1] (the minimal-Linf projection), step to a mix of the two (weight of x's projection alpha =
/// ‖d1‖/(‖d1‖ + ‖d2‖), at most alpha_max) with overshoot eta, and after every adversarial iterate keep it if it is
/// the closest so far and pull back towards x by beta. An image counts as broken when its closest adversarial point
/// lies within eps; otherwise it stays as it is. Restarts after the first start uniformly in the eps/2 box.
/// Queries per image and iteration: one gradient (with its forward) and one forward for the label.
/// Defaults (AutoAttack, version standard): eps=8/255, n_iter=100, n_restarts=1, n_target_classes=9 (capped at
/// classes - 1), alpha_max=0.1, eta=1.05, beta=0.9. Paper presets (run scripts' AutoAttack eps): cifar10 and vww 0.004,
/// coffee 0.009.
/// </summary>
public sealed class FabT : Attack
{
    public sealed class Options : AttackParameters
    {
        [Param("norm", "Linf (the only norm implemented)")]
        public string Norm { get; set; } = "Linf";

        [Param("eps", "Linf budget within which an adversarial point counts (inputs in [0, 1])")]
        public double Eps { get; set; } = 8.0 / 255;

        [Param("n_iter", "iterations per target class and restart")]
        public int NIter { get; set; } = 100;

        [Param("n_restarts", "starts per target class (the first from x itself)")]
        public int NRestarts { get; set; } = 1;

        [Param("n_target_classes", "target classes: the 2nd .. (n+1)-th highest clean score")]
        public int NTargetClasses { get; set; } = 9;

        [Param("alpha_max", "largest weight of the projection of x in a step")]
        public double AlphaMax { get; set; } = 0.1;

        [Param("eta", "overshoot of the projections")]
        public double Eta { get; set; } = 1.05;

        [Param("beta", "pull back towards x after an adversarial iterate")]
        public double Beta { get; set; } = 0.9;
    }

    public Options Config { get; } = new();
    public override string Name => "fab-t";
    public override string Norm => "Linf";
    public override TargetCapabilities Needs => TargetCapabilities.Gradients;
    public override AttackParameters Parameters => Config;
    public override IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> Presets => AutoAttackShared.EpsPresets;

    /// <summary>Per image of the last run: the Linf distance of the closest adversarial point found (infinity if none).</summary>
    public double[] MinimalLinf { get; private set; } = [];

    protected override float[] Run(AttackTarget target, float[] x, int[] y, int n, int seed)
    {
        Options o = Config;
        AutoAttackShared.RequireLinf(Name, o.Norm);
        if (o.NIter < 1 || o.NRestarts < 1 || o.NTargetClasses < 1 || o.Eps <= 0 || o.AlphaMax is < 0 or > 1 || o.Eta <= 0 || o.Beta is <= 0 or > 1)
        {
            throw new ArgumentException($"fab-t: parameters out of range ({o})");
        }
        int size = target.ImageSize, classes = target.Classes;
        float[] result = (float[])x.Clone();
        float[] clean = target.Scores(x, n);
        var best = Enumerable.Repeat(double.PositiveInfinity, n).ToArray();
        bool[] robust = [.. Enumerable.Range(0, n).Select(i => AutoAttackShared.ArgMax(clean, i, classes) == y[i])];
        var rng = new Random(seed);
        int targets = Math.Min(o.NTargetClasses, classes - 1);
        for (int rank = 1; rank <= targets; rank++)
        {
            for (int restart = 0; restart < o.NRestarts; restart++)
            {
                int[] idx = [.. Enumerable.Range(0, n).Where(i => robust[i])];
                if (idx.Length == 0)
                {
                    break;
                }
                int[] goal = [.. idx.Select(i => AutoAttackShared.ClassOfRank(clean, i, classes, rank))];
                (float[] adv, double[] dist) = Targeted(target, AutoAttackShared.Gather(x, idx, size), [.. idx.Select(i => y[i])], goal, restart > 0, rng);
                for (int k = 0; k < idx.Length; k++)
                {
                    int i = idx[k];
                    best[i] = Math.Min(best[i], dist[k]);
                    if (dist[k] <= o.Eps + 1e-7)
                    {
                        AutoAttackShared.CopyImage(adv, k, result, i, size);
                        robust[i] = false;
                    }
                }
            }
        }
        MinimalLinf = best;
        return result;
    }

    private (float[] Adversarial, double[] Distance) Targeted(AttackTarget target, float[] x0, int[] y, int[] goal, bool randomStart, Random rng)
    {
        Options o = Config;
        int m = y.Length, size = target.ImageSize;
        float[] x1 = (float[])x0.Clone();
        if (randomStart)
        {
            for (int j = 0; j < x1.Length; j++)
            {
                x1[j] = (float)Math.Clamp(x0[j] + (o.Eps / 2 * ((rng.NextDouble() * 2) - 1)), 0, 1);
            }
        }
        float[] adv = (float[])x0.Clone();
        double[] dist = [.. Enumerable.Repeat(double.PositiveInfinity, m)];
        long[] yl = [.. y.Select(v => (long)v)], gl = [.. goal.Select(v => (long)v)];
        var d1 = new double[size];
        var d2 = new double[size];
        for (int it = 0; it < o.NIter; it++)
        {
            (float[] grad, float[] diff, _) = AutoAttackShared.Gradient(target, x1, m, logits =>
            {
                Tensor own = logits.gather(1, tensor(yl).unsqueeze(1)).squeeze(1);
                Tensor other = logits.gather(1, tensor(gl).unsqueeze(1)).squeeze(1);
                return other - own;
            });
            for (int k = 0; k < m; k++)
            {
                ReadOnlySpan<float> w = grad.AsSpan(k * size, size);
                Span<float> cur = x1.AsSpan(k * size, size);
                ReadOnlySpan<float> orig = x0.AsSpan(k * size, size);
                // hyperplane w·z + b = 0 with b = f(x1) − w·x1 (f = z_goal − z_y, linearised at x1)
                double wx = 0;
                for (int j = 0; j < size; j++)
                {
                    wx += w[j] * (double)cur[j];
                }
                double b = diff[k] - wx;
                ProjectLinf(cur, w, b, d1);
                ProjectLinf(orig, w, b, d2);
                double a1 = Math.Max(MaxAbs(d1), 1e-8), a2 = Math.Max(MaxAbs(d2), 1e-8);
                double alpha = Math.Min(Math.Max(a1 / (a1 + a2), 0), o.AlphaMax);
                for (int j = 0; j < size; j++)
                {
                    double step = ((cur[j] + (o.Eta * d1[j])) * (1 - alpha)) + ((orig[j] + (o.Eta * d2[j])) * alpha);
                    cur[j] = (float)Math.Clamp(step, 0, 1);
                }
            }
            int[] labels = target.Labels(x1, m);
            for (int k = 0; k < m; k++)
            {
                if (labels[k] == y[k])
                {
                    continue;
                }
                double t = AutoAttackShared.LinfDistance(x1, x0, k, size);
                if (t < dist[k])
                {
                    dist[k] = t;
                    AutoAttackShared.CopyImage(x1, k, adv, k, size);
                }
                for (int j = k * size; j < (k + 1) * size; j++)
                {
                    x1[j] = (float)(x0[j] + ((x1[j] - (double)x0[j]) * o.Beta));
                }
            }
        }
        return (adv, dist);
    }

    private static double MaxAbs(double[] d)
    {
        double m = 0;
        foreach (double v in d)
        {
            m = Math.Max(m, Math.Abs(v));
        }
        return m;
    }

    /// <summary>
    /// The smallest-Linf displacement d with w·(t + d) + b = 0 and t + d in [0, 1]: every coordinate moves towards the
    /// hyperplane by min(λ, its room to the box), λ found on the sorted rooms (the covered change Σ |w_i| min(λ, room_i)
    /// is piecewise linear in λ). When even the box corner does not reach the hyperplane, d goes to that corner.
    /// </summary>
    public static void ProjectLinf(ReadOnlySpan<float> t, ReadOnlySpan<float> w, double b, Span<double> d)
    {
        int n = t.Length;
        double f = b;
        for (int j = 0; j < n; j++)
        {
            f += w[j] * (double)t[j];
        }
        d.Clear();
        if (f == 0)
        {
            return;
        }
        double need = Math.Abs(f);
        // moving coordinate j by +1 changes f by w_j: to lower |f| move against sign(f) * sign(w_j)
        var room = new double[n];
        var order = new int[n];
        int used = 0;
        double slope = 0, reach = 0;
        for (int j = 0; j < n; j++)
        {
            if (w[j] == 0)
            {
                continue;
            }
            bool up = (w[j] > 0) != (f > 0);
            room[j] = up ? 1 - t[j] : t[j];
            order[used++] = j;
            slope += Math.Abs(w[j]);
            reach += Math.Abs(w[j]) * room[j];
        }
        double lambda;
        if (reach <= need)
        {
            lambda = double.PositiveInfinity;
        }
        else
        {
            Array.Sort(order, 0, used, Comparer<int>.Create((p, q) => room[p].CompareTo(room[q])));
            double covered = 0, previous = 0;
            lambda = double.PositiveInfinity;
            for (int k = 0; k < used; k++)
            {
                int j = order[k];
                double gain = slope * (room[j] - previous);
                if (covered + gain >= need)
                {
                    lambda = previous + ((need - covered) / slope);
                    break;
                }
                covered += gain;
                slope -= Math.Abs(w[j]);
                previous = room[j];
            }
        }
        for (int k = 0; k < used; k++)
        {
            int j = order[k];
            bool up = (w[j] > 0) != (f > 0);
            double step = Math.Min(lambda, room[j]);
            d[j] = up ? step : -step;
        }
    }
}
