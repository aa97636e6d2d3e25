using QnnLab.Attacks.Targets;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace QnnLab.Attacks.Attacks;

/// <summary>
/// APGD-CE — Croce, Hein, "Reliable evaluation of adversarial robustness with an ensemble of diverse parameter-free
/// attacks", ICML 2020 (Auto-PGD, Algorithm 1) on the cross-entropy loss. Norm: Linf. The first component of
/// AutoAttack's "standard" version. Defaults (official fra31/auto-attack, version standard): eps=8/255, n_iter=100,
/// n_restarts=1, rho=0.75 (momentum alpha 0.75, initial step 2 eps). Paper presets (QNN-Attacks run scripts' AutoAttack
/// eps): cifar10 and vww 0.004, coffee 0.009. Only images the target classifies correctly are attacked; an image is
/// returned at the first point found misclassified, else unchanged.
/// </summary>
public sealed class ApgdCe : Attack
{
    public sealed class Options : AttackParameters
    {
        [Param("norm", "Linf (the only norm implemented)")]
        public string Norm { get; set; } = "Linf";

        [Param("eps", "Linf budget (inputs in [0, 1])")]
        public double Eps { get; set; } = 8.0 / 255;

        [Param("n_iter", "iterations per restart")]
        public int NIter { get; set; } = 100;

        [Param("n_restarts", "random restarts (on the images still robust)")]
        public int NRestarts { get; set; } = 1;

        [Param("rho", "step-size checkpoint condition: halve when fewer than rho of the steps since the last checkpoint raised the loss")]
        public double Rho { get; set; } = 0.75;
    }

    public Options Config { get; } = new();
    public override string Name => "apgd-ce";
    public override string Norm => "Linf";
    public override TargetCapabilities Needs => TargetCapabilities.Gradients;
    public override AttackParameters Parameters => Config;
    public override IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> Presets => AutoAttackShared.EpsPresets;

    protected override float[] Run(AttackTarget target, float[] x, int[] y, int n, int seed)
    {
        AutoAttackShared.RequireLinf(Name, Config.Norm);
        return Apgd.Run(target, x, y, n, Config.Eps, Config.NIter, Config.NRestarts, Config.Rho, targetClasses: 0, seed);
    }
}

/// <summary>
/// Auto-PGD (Croce and Hein 2020, Algorithm 1), Linf, shared by apgd-ce (cross-entropy) and apgd-t (targeted DLR):
/// a random start on the surface of the eps-cube, a first plain step of eta = 2 eps, then momentum steps
/// x(k+1) = P(x(k) + alpha (z(k+1) - x(k)) + (1 - alpha) (x(k) - x(k-1))) with z(k+1) = P(x(k) + eta sign(grad)),
/// alpha = 0.75. At the checkpoints w_j = ceil(p_j N) with p_0 = 0, p_1 = 0.22,
/// p_(j+1) = p_j + max(p_j - p_(j-1) - 0.03, 0.06) the step of an image is halved, and it restarts from its best point,
/// when (1) fewer than rho (w_j - w_(j-1)) of the steps since the last checkpoint raised its loss, or (2) its step was
/// not halved at the last checkpoint and its best loss has not improved since.
/// </summary>
internal static class Apgd
{
    private const double Alpha = 0.75;

    /// <param name="targetClasses">0: untargeted cross-entropy; k: targeted DLR against the classes of logit rank 2 .. k + 1.</param>
    public static float[] Run(AttackTarget target, float[] x, int[] y, int n, double eps, int nIter, int nRestarts, double rho, int targetClasses, int seed)
    {
        int size = target.ImageSize, classes = target.Classes;
        var rng = new Random(seed);
        float[] adv = (float[])x.Clone();
        float[] clean = AutoAttackShared.Logits(target, x, n);
        bool[] robust = Enumerable.Range(0, n).Select(i => AutoAttackShared.ArgMax(clean, i, classes) == y[i]).ToArray();
        if (targetClasses > 0 && classes < 4)
        {
            throw new ArgumentException($"apgd-t: the DLR loss needs at least 4 classes (the target has {classes})");
        }
        int rounds = targetClasses > 0 ? Math.Min(targetClasses, classes - 1) : 1;
        for (int t = 0; t < rounds; t++)
        {
            for (int r = 0; r < Math.Max(1, nRestarts); r++)
            {
                int[] idx = Enumerable.Range(0, n).Where(i => robust[i]).ToArray();
                if (idx.Length == 0)
                {
                    return adv;
                }
                int[] ySub = idx.Select(i => y[i]).ToArray();
                int[]? yTarget = targetClasses > 0 ? idx.Select(i => AutoAttackShared.ClassOfRank(clean, i, classes, t + 1)).ToArray() : null;
                float[] xSub = AutoAttackShared.Gather(x, idx, size);
                (float[] found, bool[] fooled) = SingleRun(target, xSub, ySub, yTarget, idx.Length, eps, nIter, rho, rng);
                for (int k = 0; k < idx.Length; k++)
                {
                    if (fooled[k])
                    {
                        AutoAttackShared.CopyImage(found, k, adv, idx[k], size);
                        robust[idx[k]] = false;
                    }
                }
            }
        }
        return adv;
    }

    /// <summary>The checkpoints w_1, w_2, ... (iteration counts at which the step size is reconsidered).</summary>
    public static int[] Checkpoints(int nIter)
    {
        var p = new List<double> { 0, 0.22 };
        while (true)
        {
            double next = p[^1] + Math.Max(p[^1] - p[^2] - 0.03, 0.06);
            if (next > 1)
            {
                break;
            }
            p.Add(next);
        }
        return [.. p.Select(v => (int)Math.Ceiling((v * nIter) - 1e-9)).Where(w => w > 0 && w <= nIter).Distinct()];
    }

    private static (float[] Adversarial, bool[] Fooled) SingleRun(AttackTarget target, float[] x0, int[] y, int[]? yTarget, int m, double eps, int nIter,
        double rho, Random rng)
    {
        int size = target.ImageSize, classes = target.Classes, len = m * size;
        float feps = (float)eps;
        Func<Tensor, Tensor> loss = yTarget is null
            ? logits => nn.functional.cross_entropy(logits, TensorOps.Labels(y), reduction: nn.Reduction.None)
            : logits => DlrTargeted(logits, TensorOps.Labels(y), TensorOps.Labels(yTarget));

        // Random start: uniform noise scaled so its largest value per image is eps (the official start), in the box.
        float[] u = TensorOps.Uniform(rng, len);
        float[] xk = new float[len];
        for (int i = 0; i < m; i++)
        {
            float max = 1e-12f;
            for (int j = i * size; j < (i + 1) * size; j++)
            {
                max = Math.Max(max, Math.Abs(u[j]));
            }
            for (int j = i * size; j < (i + 1) * size; j++)
            {
                xk[j] = Math.Clamp(x0[j] + (feps * u[j] / max), 0f, 1f);
            }
        }

        float[] found = (float[])x0.Clone();
        bool[] fooled = new bool[m];
        void Check(float[] logits, float[] point)
        {
            for (int i = 0; i < m; i++)
            {
                if (!fooled[i] && AutoAttackShared.ArgMax(logits, i, classes) != y[i])
                {
                    fooled[i] = true;
                    AutoAttackShared.CopyImage(point, i, found, i, size);
                }
            }
        }

        (float[] g, float[] l, float[] lg) = AutoAttackShared.Gradient(target, xk, m, loss);
        Check(lg, xk);
        float[] xPrev = (float[])xk.Clone();
        float[] xBest = (float[])xk.Clone();
        float[] gBest = (float[])g.Clone();
        double[] best = l.Select(v => (double)v).ToArray();
        double[] eta = Enumerable.Repeat(2 * eps, m).ToArray();
        var history = new double[nIter + 1][];
        history[0] = [.. best];
        int[] checkpoints = Checkpoints(nIter);
        int nextCheck = 0, lastCheck = 0;
        bool[] reducedLast = new bool[m];
        double[] bestAtLast = [.. best];
        float[] xNext = new float[len];

        for (int k = 0; k < nIter; k++)
        {
            for (int i = 0; i < m; i++)
            {
                float step = (float)eta[i];
                for (int j = i * size; j < (i + 1) * size; j++)
                {
                    float lo = Math.Max(x0[j] - feps, 0f), hi = Math.Min(x0[j] + feps, 1f);
                    float z = Math.Clamp(xk[j] + (step * Math.Sign(g[j])), lo, hi);
                    xNext[j] = k == 0 ? z : Math.Clamp(xk[j] + (float)(Alpha * (z - xk[j])) + (float)((1 - Alpha) * (xk[j] - xPrev[j])), lo, hi);
                }
            }
            (xPrev, xk, xNext) = (xk, xNext, xPrev);
            (g, l, lg) = AutoAttackShared.Gradient(target, xk, m, loss);
            Check(lg, xk);
            history[k + 1] = l.Select(v => (double)v).ToArray();
            for (int i = 0; i < m; i++)
            {
                if (l[i] > best[i])
                {
                    best[i] = l[i];
                    AutoAttackShared.CopyImage(xk, i, xBest, i, size);
                    AutoAttackShared.CopyImage(g, i, gBest, i, size);
                }
            }
            if (nextCheck < checkpoints.Length && k + 1 == checkpoints[nextCheck])
            {
                int w = checkpoints[nextCheck];
                for (int i = 0; i < m; i++)
                {
                    int increases = 0;
                    for (int s = lastCheck; s < w; s++)
                    {
                        increases += history[s + 1][i] > history[s][i] ? 1 : 0;
                    }
                    bool condition1 = increases < rho * (w - lastCheck);
                    bool condition2 = !reducedLast[i] && bestAtLast[i] >= best[i];
                    reducedLast[i] = condition1 || condition2;
                    bestAtLast[i] = best[i];
                    if (reducedLast[i])
                    {
                        eta[i] /= 2;
                        AutoAttackShared.CopyImage(xBest, i, xk, i, size);
                        AutoAttackShared.CopyImage(gBest, i, g, i, size);
                    }
                }
                lastCheck = w;
                nextCheck++;
            }
        }
        return (found, fooled);
    }

    /// <summary>
    /// The targeted Difference of Logits Ratio: -(z_y - z_t) / (z_pi1 - (z_pi3 + z_pi4) / 2), pi the logits sorted in
    /// decreasing order (shift- and scale-invariant in the logits).
    /// </summary>
    public static Tensor DlrTargeted(Tensor logits, Tensor y, Tensor t)
    {
        Tensor sorted = logits.sort(1, descending: true).Values;
        Tensor zy = logits.gather(1, y.unsqueeze(1)).squeeze(1);
        Tensor zt = logits.gather(1, t.unsqueeze(1)).squeeze(1);
        Tensor scale = sorted.select(1, 0) - ((sorted.select(1, 2) + sorted.select(1, 3)) * 0.5) + 1e-12;
        return -(zy - zt) / scale;
    }
}
