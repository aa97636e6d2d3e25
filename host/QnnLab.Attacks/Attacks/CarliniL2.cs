using QnnLab.Attacks.Targets;
using QnnLab.Torch;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace QnnLab.Attacks.Attacks;

/// <summary>
/// C&amp;W-L2 — Carlini, Wagner, "Towards Evaluating the Robustness of Neural Networks", IEEE S&amp;P 2017. Norm: L2
/// (minimised). In tanh space x' = (tanh(w) + 1) / 2 (always in [0, 1]; w starts at atanh((2x - 1) * 0.999999) as in
/// ART), per image minimise ||x' - x||_2^2 + c * max(Z_y(x') - max_{i != y} Z_i(x') + confidence, 0) over the logits Z
/// (ART's form; the paper's max(Z_y - max_{i != y} Z_i, -confidence) plus the constant c * confidence, so the same
/// minimiser and gradient: the hinge is zero exactly when another class leads by confidence). binary_search_steps runs of max_iter steps each restart from x; c per image starts at initial_const,
/// doubles while no success has been seen (as ART; Carlini's reference code multiplies by 10), and is bisected between
/// the largest failing and smallest succeeding c once one succeeded; c at or above 1e10 stops that image. Every
/// iterate that is misclassified with a margin of at least confidence is a success; per image the success with the
/// smallest L2 over all runs is kept, else the original image.
/// Defaults (ART CarliniL2Method): confidence=0.0, learning_rate=0.01, binary_search_steps=10, max_iter=10,
/// initial_const=0.01, max_halving=5, max_doubling=5.
/// Paper (Table 14, run_*_attacks.sh, all three data sets): max_iter 10, binary_search_steps 10, initial_const 0.01.
/// Deviation: the optimiser is Adam (beta1 0.9, beta2 0.999, eps 1e-8; state reset per binary-search step), as in
/// Carlini's reference code and torchattacks, with learning_rate its step size. ART instead takes plain gradient steps
/// with a per-image line search (halve learning_rate up to max_halving times until the loss drops, else double it up
/// to max_doubling times while it keeps dropping), one extra forward pass per trial; so max_halving and max_doubling
/// are accepted (ART configurations load) but have no effect here, and 10 Adam steps move an image less far than 10
/// line-searched steps can. Success is judged on the logits of the optimisation's own pass (for an +ste target, its
/// surrogate's), as ART judges it on its loss.
/// </summary>
public sealed class CarliniL2 : Attack
{
    public sealed class Options : AttackParameters
    {
        [Param("confidence", "margin by which another class's logit must lead for a success (kappa)")]
        public double Confidence { get; set; }

        [Param("learning_rate", "Adam step size in tanh space")]
        public double LearningRate { get; set; } = 0.01;

        [Param("binary_search_steps", "runs adjusting the constant c per image")]
        public int BinarySearchSteps { get; set; } = 10;

        [Param("max_iter", "optimisation steps per binary-search step")]
        public int MaxIter { get; set; } = 10;

        [Param("initial_const", "starting trade-off constant c between distance and the logit hinge")]
        public double InitialConst { get; set; } = 0.01;

        [Param("max_halving", "ART's line search only: no effect with Adam (accepted so ART configurations load)")]
        public int MaxHalving { get; set; } = 5;

        [Param("max_doubling", "ART's line search only: no effect with Adam (accepted so ART configurations load)")]
        public int MaxDoubling { get; set; } = 5;
    }

    public Options Config { get; } = new();
    public override string Name => "cw-l2";
    public override string Norm => "L2";
    public override TargetCapabilities Needs => TargetCapabilities.Gradients;
    public override AttackParameters Parameters => Config;

    public override IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> Presets { get; } =
        SamePreset(new Dictionary<string, string>
        {
            ["max_iter"] = "10",
            ["binary_search_steps"] = "10",
            ["initial_const"] = "0.01",
        });

    protected override float[] Run(AttackTarget target, float[] x, int[] y, int n, int seed)
    {
        Options o = Config;
        if (o.BinarySearchSteps < 0 || o.MaxIter < 0 || o.InitialConst < 0 || o.LearningRate <= 0)
        {
            throw new ArgumentException($"cw-l2: binary_search_steps, max_iter, initial_const must be >= 0 and learning_rate > 0 ({o})");
        }
        using var scope = NewDisposeScope();
        Tensor x0 = TensorOps.ToTensor(x, n, target.Height, target.Width, target.Channels);
        Tensor labels = TensorOps.Labels(y);
        Tensor w0 = Carlini.ToTanh(x0);
        Tensor best = x0.clone();
        Tensor bestL2 = full(n, double.PositiveInfinity, ScalarType.Float32);
        double[] c = Enumerable.Repeat(o.InitialConst, n).ToArray();
        double[] lower = new double[n];
        double[] upper = Enumerable.Repeat(Carlini.UpperBound, n).ToArray();
        for (int step = 0; step < o.BinarySearchSteps; step++)
        {
            if (c.All(v => v >= Carlini.UpperBound))
            {
                break;
            }
            using var bss = NewDisposeScope();
            Tensor cw = tensor(c.Select(v => v >= Carlini.UpperBound ? 0f : (float)v).ToArray());
            Tensor active = tensor(c.Select(v => v < Carlini.UpperBound).ToArray());
            Tensor w = w0.clone();
            var adam = new Carlini.Adam(w, o.LearningRate);
            Tensor succeeded = zeros(n, ScalarType.Bool);
            for (int i = 0; i <= o.MaxIter; i++)
            {
                using var iteration = NewDisposeScope();
                Tensor adv = Carlini.FromTanh(w);
                Tensor l2 = (adv - x0).square().reshape(n, -1).sum(1);
                Tensor g;
                Tensor logits;
                if (i < o.MaxIter)
                {
                    (g, _, logits) = target.Gradient(adv, z => cw * Carlini.Hinge(z, labels, o.Confidence));
                }
                else
                {
                    using var noGrad = no_grad();
                    logits = target.Logits(adv).detach();
                    g = zeros_like(adv);
                }
                Tensor success = Carlini.Success(logits, labels, o.Confidence).logical_and(active);
                Tensor improved = success.logical_and(l2 < bestL2);
                Carlini.Keep(best, adv, improved);
                bestL2.copy_(where(improved, l2, bestL2));
                succeeded.logical_or_(success);
                if (i < o.MaxIter)
                {
                    Tensor d = g + (2 * (adv - x0));
                    adam.Step(d * Carlini.TanhJacobian(w), active);
                }
            }
            bool[] ok = succeeded.data<bool>().ToArray();
            for (int k = 0; k < n; k++)
            {
                if (c[k] >= Carlini.UpperBound)
                {
                    continue;
                }
                if (ok[k])
                {
                    upper[k] = Math.Min(upper[k], c[k]);
                    c[k] = (lower[k] + upper[k]) / 2;
                }
                else
                {
                    lower[k] = Math.Max(lower[k], c[k]);
                    c[k] = upper[k] < Carlini.UpperBound ? (lower[k] + upper[k]) / 2 : c[k] * 2;
                }
            }
        }
        return TensorOps.ToArray(best);
    }
}

/// <summary>What C&amp;W-L2, C&amp;W-Linf and EAD share: the tanh box, the logit hinge, success, Adam, keeping the best.</summary>
internal static class Carlini
{
    /// <summary>ART's cap on the trade-off constant c (10e10): at or above it an image stops.</summary>
    public const double UpperBound = 1e10;

    /// <summary>ART's factor on atanh's argument, so that 0 and 1 map to finite values.</summary>
    public const double TanhSmoother = 0.999999;

    /// <summary>w = atanh((2x - 1) * 0.999999) (ART's original_to_tanh for the box [0, 1]).</summary>
    public static Tensor ToTanh(Tensor x) => ((x * 2) - 1).mul(TanhSmoother).atanh();

    /// <summary>x' = (tanh(w) + 1) / 2 (ART's tanh_to_original for [0, 1]).</summary>
    public static Tensor FromTanh(Tensor w) => (w.tanh() + 1) / 2;

    /// <summary>dx'/dw = (1 - tanh(w)^2) / 2.</summary>
    public static Tensor TanhJacobian(Tensor w) => (1 - w.tanh().square()) / 2;

    /// <summary>Z_y - max_{i != y} Z_i per image.</summary>
    public static Tensor Margin(Tensor logits, Tensor labels)
    {
        Tensor own = logits.gather(1, labels.unsqueeze(1)).squeeze(1);
        Tensor onehot = nn.functional.one_hot(labels, logits.shape[1]).to_type(ScalarType.Bool);
        Tensor other = logits.masked_fill(onehot, float.NegativeInfinity).amax([1L]);
        return own - other;
    }

    /// <summary>The untargeted C&amp;W loss max(Z_y - max_{i != y} Z_i + confidence, 0) per image.</summary>
    public static Tensor Hinge(Tensor logits, Tensor labels, double confidence) => (Margin(logits, labels) + confidence).clamp_min(0);

    /// <summary>Misclassified (argmax, ties to the lowest class, is not y) with another class leading by at least confidence.</summary>
    public static Tensor Success(Tensor logits, Tensor labels, double confidence)
        => logits.argmax(1).ne(labels).logical_and(Margin(logits, labels) <= -confidence);

    /// <summary>best[k] = candidate[k] where mask[k] (in place).</summary>
    public static void Keep(Tensor best, Tensor candidate, Tensor mask)
    {
        Tensor m = mask.reshape([mask.shape[0], .. Enumerable.Repeat(1L, (int)best.dim() - 1)]);
        best.copy_(where(m, candidate, best));
    }

    /// <summary>Per-image L-inf distance.</summary>
    public static Tensor LInf(Tensor a, Tensor b) => (a - b).abs().reshape(a.shape[0], -1).amax([1L]);

    /// <summary>
    /// Adam (Kingma &amp; Ba; beta1 0.9, beta2 0.999, eps 1e-8, bias-corrected; ART's art.optimizers.Adam and
    /// torch.optim.Adam alike) on a tensor updated in place; an image outside <c>active</c> keeps its value and state.
    /// </summary>
    public sealed class Adam(Tensor parameter, double learningRate)
    {
        private readonly Tensor _m = zeros_like(parameter);
        private readonly Tensor _v = zeros_like(parameter);
        private int _t;

        public void Step(Tensor gradient, Tensor? active = null)
        {
            using var scope = NewDisposeScope();
            _t++;
            Tensor g = gradient.detach();
            if (active is not null)
            {
                g = g * active.reshape([active.shape[0], .. Enumerable.Repeat(1L, (int)g.dim() - 1)]).to_type(g.dtype);
            }
            // Held Scalars (the same values): TorchSharp's per-call temporaries can be finalized mid-operator.
            _m.mul_(Scalars.Of(0.9)).add_(g * Scalars.Of(0.1), Scalars.One);
            _v.mul_(Scalars.Of(0.999)).add_(g.square() * Scalars.Of(0.001), Scalars.One);
            Tensor mHat = _m / Scalars.Of(1 - Math.Pow(0.9, _t));
            Tensor vHat = _v / Scalars.Of(1 - Math.Pow(0.999, _t));
            Tensor update = mHat / vHat.sqrt().add(Scalars.Of(1e-8), Scalars.One) * Scalars.Of(learningRate);
            if (active is not null)
            {
                // Inactive images: zero gradient leaves m and v decaying but update must not move them at all.
                update = update * active.reshape([active.shape[0], .. Enumerable.Repeat(1L, (int)g.dim() - 1)]).to_type(g.dtype);
            }
            parameter.sub_(update);
        }
    }
}
