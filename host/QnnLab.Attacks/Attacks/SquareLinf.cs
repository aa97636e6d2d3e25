using QnnLab.Attacks.Targets;

namespace QnnLab.Attacks.Attacks;

/// <summary>
/// Square-Linf — Andriushchenko, Croce, Flammarion, Hein, "Square Attack: a query-efficient black-box adversarial attack
/// via random search", ECCV 2020. Norm: Linf. Gray-box (scores only). Starts from vertical stripes of ±eps (kept when
/// they lower the margin, as ART does); each iteration sets one square of the current best to x ± eps, one sign per
/// channel, at a position drawn per image (ART draws one position for the whole batch; the original code, per image).
/// Squares shrink on ART's p_init schedule; an image stops at its first success.
/// Queries per image: 1 + nb_restarts · (1 + iterations run), at most 1 + nb_restarts · (1 + max_iter).
/// Defaults (ART SquareAttack): eps=0.3, max_iter=100, p_init=0.8, nb_restarts=1.
/// Paper (Table 14, run_*_attacks.sh): eps 0.015, max_iter 1000, p_init 0.05 on every data set.
/// </summary>
public sealed class SquareLinf : Attack
{
    public sealed class Options : AttackParameters
    {
        [Param("eps", "Linf budget (inputs in [0, 1])")]
        public double Eps { get; set; } = 0.3;

        [Param("max_iter", "iterations (queries) per restart and image")]
        public int MaxIter { get; set; } = 100;

        [Param("p_init", "initial fraction of the image a square covers")]
        public double PInit { get; set; } = 0.8;

        [Param("nb_restarts", "restarts from x for images not yet fooled")]
        public int NbRestarts { get; set; } = 1;
    }

    public Options Config { get; } = new();
    public override string Name => "square-linf";
    public override string Norm => "Linf";
    public override TargetCapabilities Needs => TargetCapabilities.Scores;
    public override AttackParameters Parameters => Config;

    public override IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> Presets { get; } =
        SamePreset(new Dictionary<string, string> { ["eps"] = "0.015", ["max_iter"] = "1000", ["p_init"] = "0.05" });

    protected override float[] Run(AttackTarget target, float[] x, int[] y, int n, int seed)
    {
        if (Config.Eps <= 0)
        {
            throw new ArgumentException($"square-linf: eps {Config.Eps} must be > 0");
        }
        (float[] adv, long[] queries) = SquareSearch.Run(target, x, y, n, Config.MaxIter, Config.NbRestarts, Config.PInit, seed,
            new Proposal(target.Height, target.Width, target.Channels, (float)Config.Eps));
        QueriesPerImage = queries;
        return adv;
    }

    private sealed class Proposal(int height, int width, int channels, float eps) : SquareSearch.IProposal
    {
        public void Init(ReadOnlySpan<float> x, Random rng, Span<float> candidate)
        {
            // one sign per column and channel, the same down the whole column
            var signs = new float[width * channels];
            for (int k = 0; k < signs.Length; k++)
            {
                signs[k] = rng.Next(2) == 0 ? -eps : eps;
            }
            for (int h = 0; h < height; h++)
            {
                for (int k = 0; k < signs.Length; k++)
                {
                    int at = (h * width * channels) + k;
                    candidate[at] = Math.Clamp(x[at] + signs[k], 0f, 1f);
                }
            }
        }

        public void Step(ReadOnlySpan<float> x, ReadOnlySpan<float> best, double p, Random rng, Span<float> candidate)
        {
            best.CopyTo(candidate);
            int s = SquareSearch.Side(p, height, width, 1);
            int top = rng.Next(height - s), left = rng.Next(width - s);
            Span<float> signs = stackalloc float[channels];
            // A square that would leave the best unchanged is drawn again (the original code's rule; bounded here).
            for (int attempt = 0; attempt < 16; attempt++)
            {
                for (int c = 0; c < channels; c++)
                {
                    signs[c] = rng.Next(2) == 0 ? -eps : eps;
                }
                if (Changes(x, best, signs, s, top, left))
                {
                    break;
                }
            }
            for (int h = top; h < top + s; h++)
            {
                for (int w = left; w < left + s; w++)
                {
                    int at = ((h * width) + w) * channels;
                    for (int c = 0; c < channels; c++)
                    {
                        candidate[at + c] = Math.Clamp(x[at + c] + signs[c], 0f, 1f);
                    }
                }
            }
        }

        private bool Changes(ReadOnlySpan<float> x, ReadOnlySpan<float> best, ReadOnlySpan<float> signs, int s, int top, int left)
        {
            for (int h = top; h < top + s; h++)
            {
                for (int w = left; w < left + s; w++)
                {
                    int at = ((h * width) + w) * channels;
                    for (int c = 0; c < channels; c++)
                    {
                        if (Math.Abs(Math.Clamp(x[at + c] + signs[c], 0f, 1f) - best[at + c]) >= 1e-7f)
                        {
                            return true;
                        }
                    }
                }
            }
            return false;
        }
    }
}
