using QnnLab.Attacks.Targets;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace QnnLab.Attacks.Attacks;

/// <summary>
/// DeepFool — Moosavi-Dezfooli, Fawzi, Frossard, "DeepFool: a simple and accurate method to fool deep neural
/// networks", CVPR 2016. Norm: L2 (minimised). Each iteration linearises the logit differences f_k - f_k0 around the
/// current point (k0: the label of the clean image, k: the nb_grads top classes of the clean image's logits) and steps
/// onto the nearest linearised boundary, r = |f_k - f_k0| / ||w_k - w_k0||^2 * (w_k - w_k0) for the k of smallest
/// |f_k - f_k0| / ||w_k - w_k0|| (w: the logit gradients), clipped to [0, 1] after each step as ART does; an image
/// stops once its label leaves k0. The result is x + (1 + epsilon) * (x_T - x), clipped to [0, 1] (ART applies the
/// overshoot once, to the accumulated perturbation, not per step as the paper's 1 + eta).
/// Defaults (ART DeepFool): max_iter=100, epsilon=1e-6 (the overshoot), nb_grads=10, batch_size=1 (batching does not
/// change ART's result; here the images of a call are one batch).
/// Paper (Table 14, deepfool.py / run_*_attacks.sh): max_iter 100, epsilon 0.008, nb_grads = the number of classes.
/// As ART, the true labels are not used: k0 is the target's label of the clean image. <see cref="MinimalL2"/> is the
/// per-image L2 distance to the boundary it found (before the overshoot), the paper's measure of the point distance to
/// the decision boundary (Table 7).
/// </summary>
public sealed class DeepFool : Attack
{
    /// <summary>ART's guard against division by zero (10e-8), added to ||w|| and to ||w||^2.</summary>
    private const double Tol = 10e-8;

    public sealed class Options : AttackParameters
    {
        [Param("max_iter", "maximum number of iterations")]
        public int MaxIter { get; set; } = 100;

        [Param("epsilon", "overshoot: the accumulated perturbation is scaled by 1 + epsilon")]
        public double Epsilon { get; set; } = 1e-6;

        [Param("nb_grads", "class gradients per iteration: the top nb_grads classes of the clean prediction (its own label included)")]
        public int NbGrads { get; set; } = 10;
    }

    public Options Config { get; } = new();
    public override string Name => "deepfool";
    public override string Norm => "L2";
    public override TargetCapabilities Needs => TargetCapabilities.Gradients;
    public override AttackParameters Parameters => Config;

    public override IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> Presets { get; } =
        new Dictionary<string, IReadOnlyDictionary<string, string>>
        {
            ["cifar10"] = new Dictionary<string, string> { ["max_iter"] = "100", ["epsilon"] = "0.008", ["nb_grads"] = "10" },
            ["vww"] = new Dictionary<string, string> { ["max_iter"] = "100", ["epsilon"] = "0.008", ["nb_grads"] = "2" },
            ["coffee"] = new Dictionary<string, string> { ["max_iter"] = "100", ["epsilon"] = "0.008", ["nb_grads"] = "4" },
        };

    /// <summary>
    /// Per image of the last <see cref="Attack.Generate"/> call: the L2 norm of the perturbation DeepFool found, x_T - x
    /// (after the per-step clipping, before the overshoot), i.e. its estimate of the distance to the nearest boundary.
    /// Only meaningful where <see cref="CrossedBoundary"/> is true.
    /// </summary>
    public double[] MinimalL2 { get; private set; } = [];

    /// <summary>
    /// Per image of the last call: whether x_T's label left the clean label within max_iter. False also where x_T sits on
    /// the boundary in float32 (a step changed nothing); the overshoot then usually carries x_adv across.
    /// </summary>
    public bool[] CrossedBoundary { get; private set; } = [];

    /// <summary>Per image of the last call: the iterations it ran.</summary>
    public int[] Iterations { get; private set; } = [];

    protected override float[] Run(AttackTarget target, float[] x, int[] y, int n, int seed)
    {
        if (Config.MaxIter <= 0 || Config.NbGrads <= 0 || Config.Epsilon < 0)
        {
            throw new ArgumentException($"attack '{Name}': max_iter and nb_grads must be positive and epsilon not negative ({Config})");
        }
        int h = target.Height, w = target.Width, c = target.Channels, d = target.ImageSize;
        int classes = target.Classes;
        int m = Math.Min(Config.NbGrads, classes);
        using var scope = NewDisposeScope();
        Tensor x0 = TensorOps.ToTensor(x, n, h, w, c);

        // The clean label k0 (ART: the prediction, not y) and the candidate classes: k0 first, then the m - 1 classes
        // of highest clean logit (ART: the top nb_grads of the clean prediction, which holds k0).
        int[] k0 = target.Labels(x, n);
        long[] candidates = Candidates(target, x0, k0, n, classes, m);
        Tensor cand = tensor(candidates, [n, m]);

        Tensor adv = x0.clone();
        bool[] active = Enumerable.Repeat(m > 1, n).ToArray();
        int[] iterations = new int[n];
        bool[] crossed = new bool[n];
        for (int step = 0; step < Config.MaxIter; step++)
        {
            long[] idx = Enumerable.Range(0, n).Where(i => active[i]).Select(i => (long)i).ToArray();
            if (idx.Length == 0)
            {
                break;
            }
            using var inner = NewDisposeScope();
            Tensor rows = tensor(idx);
            Tensor xa = adv.index_select(0, rows);
            Tensor ca = cand.index_select(0, rows);
            Tensor own = ca[TensorIndex.Colon, TensorIndex.Slice(0, 1)];
            var grads = new Tensor[m - 1];
            var diffs = new Tensor[m - 1];
            for (int j = 1; j < m; j++)
            {
                Tensor other = ca[TensorIndex.Colon, TensorIndex.Slice(j, j + 1)];
                (Tensor g, Tensor f, _) = target.Gradient(xa, logits => (logits.gather(1, other) - logits.gather(1, own)).squeeze(1));
                grads[j - 1] = g.reshape(idx.Length, d);
                diffs[j - 1] = f.reshape(idx.Length);
            }
            Tensor wk = stack(grads, 1);                  // [na, m-1, D]: w_k - w_k0
            Tensor fk = stack(diffs, 1).to_type(ScalarType.Float64); // [na, m-1]: f_k - f_k0
            Tensor norms = linalg.vector_norm(wk, 2, [2L]).to_type(ScalarType.Float64);
            Tensor nearest = (fk.abs() / (norms + Tol)).argmin(1, keepdim: true);
            Tensor fSel = fk.gather(1, nearest).squeeze(1).abs();
            Tensor nSel = norms.gather(1, nearest).squeeze(1);
            Tensor wSel = wk.gather(1, nearest.unsqueeze(2).expand(-1, 1, d)).squeeze(1);
            Tensor scale = (fSel / (nSel.square() + Tol)).to_type(ScalarType.Float32).reshape(-1, 1);
            Tensor moved = (xa.reshape(idx.Length, d) + (scale * wSel)).clamp(0, 1).reshape(idx.Length, h, w, c);
            adv.index_copy_(0, rows, moved);
            // A step that changes nothing (float32 on the boundary: the remaining |f| is below one ulp of x) is a fixed
            // point: ART would repeat it until max_iter with the same result, so the image stops here.
            bool[] stuck = TensorOps.ToArray((moved == xa).reshape(idx.Length, -1).all(1).to_type(ScalarType.Float32)).Select(v => v > 0).ToArray();
            int[] labels = target.Labels(TensorOps.ToArray(moved), idx.Length);
            for (int a = 0; a < idx.Length; a++)
            {
                int i = (int)idx[a];
                iterations[i]++;
                crossed[i] = labels[a] != k0[i];
                active[i] = !crossed[i] && !stuck[a];
            }
        }

        Tensor r = adv - x0;
        MinimalL2 = TensorOps.ToArray(TensorOps.Norms(r, 2)).Select(v => (double)v).ToArray();
        CrossedBoundary = crossed;
        Iterations = iterations;
        return TensorOps.ToArray((x0 + ((1 + Config.Epsilon) * r)).clamp(0, 1));
    }

    /// <summary>Per image: k0, then the other classes by decreasing clean logit (ties to the lower class), m in all.</summary>
    private static long[] Candidates(AttackTarget target, Tensor x0, int[] k0, int n, int classes, int m)
    {
        float[] logits;
        using (no_grad())
        {
            logits = TensorOps.ToArray(target.Logits(x0));
        }
        var result = new long[n * m];
        for (int i = 0; i < n; i++)
        {
            int row = i * classes;
            int own = k0[i];
            int[] order = Enumerable.Range(0, classes).Where(k => k != own)
                .OrderByDescending(k => logits[row + k]).ThenBy(k => k).Take(m - 1).ToArray();
            result[i * m] = own;
            for (int j = 1; j < m; j++)
            {
                result[(i * m) + j] = order[j - 1];
            }
        }
        return result;
    }
}
