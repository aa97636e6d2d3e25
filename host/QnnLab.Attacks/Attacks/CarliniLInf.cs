using QnnLab.Attacks.Targets;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace QnnLab.Attacks.Attacks;

/// <summary>
/// C&amp;W-Linf — Carlini, Wagner, "Towards Evaluating the Robustness of Neural Networks", IEEE S&amp;P 2017, as ART 1.10
/// defines CarliniLInfMethod. Norm: Linf (minimised). The paper's Linf scheme: the perturbation is bounded softly by
/// a limit tau, minimising c * max(Z_y - max_{i != y} Z_i + confidence, 0) + sum_j max(|x'_j - x_j| - tau, 0) in tanh
/// space x' = (tanh(w) + 1) / 2. Per image tau starts at 1; each round tries c = initial_const, initial_const *
/// const_factor, ... while c &lt; largest_const, each a fresh run from x of at most max_iter Adam steps (learning_rate,
/// beta1 0.9, beta2 0.999) that stops early once the loss is below 0.001 (ART's loss_converged). A misclassified result
/// with an Linf below the best so far (initially 1) is kept. After a round tau becomes min(tau, Linf of the kept example)
/// * decrease_factor; the rounds end when a round keeps nothing new or tau &lt;= 1/256. No success: the original image.
/// Defaults (ART CarliniLInfMethod): confidence=0.0, learning_rate=0.01, max_iter=10, decrease_factor=0.9,
/// initial_const=1e-5, largest_const=20.0, const_factor=2.0.
/// Paper (Table 14, run_*_attacks.sh, all three data sets): max_iter 10, learning_rate 0.01 (the rest ART's defaults).
/// Deviations: ART 1.10 writes the gradient by hand as grad(Z_y) - grad(Z_other) plus the tau term, dropping the factor
/// c and ignoring that the hinge is flat once the margin is reached; here the stated loss is differentiated as written
/// (c weighs the logit term, the hinge's gradient vanishes past the margin). Images of a call run batched, each with
/// its own tau, early stop and Adam state, so the result is the per-image algorithm's. Success is judged on the logits
/// of the optimisation's pass (for an +ste target, its surrogate's) with the margin confidence (ART: argmax only, the
/// same for confidence 0).
/// </summary>
public sealed class CarliniLInf : Attack
{
    public sealed class Options : AttackParameters
    {
        [Param("confidence", "margin by which another class's logit must lead for a success (kappa)")]
        public double Confidence { get; set; }

        [Param("learning_rate", "Adam step size in tanh space")]
        public double LearningRate { get; set; } = 0.01;

        [Param("max_iter", "Adam steps per (tau, c) run (stops early once the loss is below 0.001)")]
        public int MaxIter { get; set; } = 10;

        [Param("decrease_factor", "factor shrinking tau after each round, in (0, 1)")]
        public double DecreaseFactor { get; set; } = 0.9;

        [Param("initial_const", "first constant c of each round")]
        public double InitialConst { get; set; } = 1e-5;

        [Param("largest_const", "c is multiplied by const_factor while below this")]
        public double LargestConst { get; set; } = 20.0;

        [Param("const_factor", "factor increasing c within a round, > 1")]
        public double ConstFactor { get; set; } = 2.0;
    }

    /// <summary>ART's loss_converged: a run stops once its loss is below this.</summary>
    private const double LossConverged = 0.001;

    public Options Config { get; } = new();
    public override string Name => "cw-linf";
    public override string Norm => "Linf";
    public override TargetCapabilities Needs => TargetCapabilities.Gradients;
    public override AttackParameters Parameters => Config;

    public override IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> Presets { get; } =
        SamePreset(new Dictionary<string, string>
        {
            ["max_iter"] = "10",
            ["learning_rate"] = "0.01",
        });

    protected override float[] Run(AttackTarget target, float[] x, int[] y, int n, int seed)
    {
        Options o = Config;
        if (o.MaxIter < 0 || o.LearningRate <= 0 || o.DecreaseFactor is <= 0 or >= 1 || o.InitialConst <= 0 || o.ConstFactor <= 1)
        {
            throw new ArgumentException($"cw-linf: needs max_iter >= 0, learning_rate > 0, 0 < decrease_factor < 1, initial_const > 0, const_factor > 1 ({o})");
        }
        var consts = new List<double>();
        for (double c = o.InitialConst; c < o.LargestConst; c *= o.ConstFactor)
        {
            consts.Add(c);
        }
        using var scope = NewDisposeScope();
        Tensor x0 = TensorOps.ToTensor(x, n, target.Height, target.Width, target.Channels);
        Tensor labels = TensorOps.Labels(y);
        Tensor best = x0.clone();
        double[] tau = Enumerable.Repeat(1.0, n).ToArray();
        double[] bestDelta = Enumerable.Repeat(1.0, n).ToArray();
        bool[] done = new bool[n];
        while (true)
        {
            long[] idx = Enumerable.Range(0, n).Where(k => !done[k] && tau[k] > 1.0 / 256.0).Select(k => (long)k).ToArray();
            if (idx.Length == 0)
            {
                break;
            }
            using var round = NewDisposeScope();
            Tensor at = tensor(idx);
            Tensor xs = x0.index_select(0, at);
            Tensor ls = labels.index_select(0, at);
            Tensor taus = tensor(idx.Select(k => (float)tau[k]).ToArray()).reshape([idx.Length, .. Enumerable.Repeat(1L, (int)x0.dim() - 1)]);
            var improved = new bool[idx.Length];
            foreach (double c in consts)
            {
                using var run = NewDisposeScope();
                (Tensor adv, Tensor logits) = Single(target, xs, ls, c, taus, o);
                bool[] success = Carlini.Success(logits, ls, o.Confidence).data<bool>().ToArray();
                float[] delta = Carlini.LInf(adv, xs).data<float>().ToArray();
                for (int j = 0; j < idx.Length; j++)
                {
                    int k = (int)idx[j];
                    if (success[j] && delta[j] < bestDelta[k])
                    {
                        best[k].copy_(adv[j]);
                        bestDelta[k] = delta[j];
                        improved[j] = true;
                    }
                }
            }
            float[] actual = Carlini.LInf(best.index_select(0, at), xs).data<float>().ToArray();
            for (int j = 0; j < idx.Length; j++)
            {
                int k = (int)idx[j];
                done[k] = !improved[j];
                tau[k] = Math.Min(tau[k], actual[j]) * o.DecreaseFactor;
            }
        }
        return TensorOps.ToArray(best);
    }

    /// <summary>One (tau, c) run per image from x: Adam in tanh space, each image stopping once its loss is below 0.001.</summary>
    private static (Tensor Adv, Tensor Logits) Single(AttackTarget target, Tensor xs, Tensor labels, double c, Tensor tau, Options o)
    {
        int m = (int)xs.shape[0];
        Tensor w = Carlini.ToTanh(xs);
        var adam = new Carlini.Adam(w, o.LearningRate);
        Tensor result = xs.clone();
        Tensor resultLogits = zeros(m, target.Classes);
        bool[] running = Enumerable.Repeat(true, m).ToArray();
        for (int i = 0; i <= o.MaxIter; i++)
        {
            using var iteration = NewDisposeScope();
            long[] idx = Enumerable.Range(0, m).Where(j => running[j]).Select(j => (long)j).ToArray();
            if (idx.Length == 0)
            {
                break;
            }
            Tensor at = tensor(idx);
            Tensor ws = w.index_select(0, at);
            Tensor adv = Carlini.FromTanh(ws);
            Tensor x = xs.index_select(0, at);
            Tensor l = labels.index_select(0, at);
            Tensor t = tau.index_select(0, at);
            Tensor d = adv - x;
            Tensor over = (d.abs() - t).clamp_min(0);
            Tensor g;
            Tensor logits;
            Tensor logitLoss;
            if (i < o.MaxIter)
            {
                (g, logitLoss, logits) = target.Gradient(adv, z => c * Carlini.Hinge(z, l, o.Confidence));
            }
            else
            {
                using var noGrad = no_grad();
                logits = target.Logits(adv).detach();
                logitLoss = c * Carlini.Hinge(logits, l, o.Confidence);
                g = zeros_like(adv);
            }
            float[] loss = (logitLoss + over.reshape(idx.Length, -1).sum(1)).data<float>().ToArray();
            var stop = new bool[idx.Length];
            for (int j = 0; j < idx.Length; j++)
            {
                // ART checks the loss after each step, so a run takes at least one step (max_iter > 0).
                stop[j] = i == o.MaxIter || (i > 0 && loss[j] < LossConverged);
            }
            if (stop.Any(s => s))
            {
                Tensor stopping = tensor(stop);
                Carlini.Keep(result, zeros_like(result).index_copy(0, at, adv), zeros(m, ScalarType.Bool).index_copy(0, at, stopping));
                resultLogits.copy_(where(zeros(m, ScalarType.Bool).index_copy(0, at, stopping).unsqueeze(1), zeros_like(resultLogits).index_copy(0, at, logits.to_type(ScalarType.Float32)), resultLogits));
                for (int j = 0; j < idx.Length; j++)
                {
                    if (stop[j])
                    {
                        running[idx[j]] = false;
                    }
                }
            }
            if (i < o.MaxIter && !stop.All(s => s))
            {
                Tensor gradX = g + over.gt(0).to_type(d.dtype) * d.sign();
                Tensor gradW = zeros_like(w).index_copy(0, at, gradX * Carlini.TanhJacobian(ws));
                adam.Step(gradW, tensor(running));
            }
        }
        return (result, resultLogits);
    }
}
