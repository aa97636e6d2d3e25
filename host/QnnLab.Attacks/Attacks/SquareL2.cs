using QnnLab.Attacks.Targets;

namespace QnnLab.Attacks.Attacks;

/// <summary>
/// Square-L2 — Andriushchenko, Croce, Flammarion, Hein, "Square Attack: a query-efficient black-box adversarial attack
/// via random search", ECCV 2020. Norm: L2. Gray-box (scores only). Starts from a 5x5 grid of pseudo-Gaussian bumps
/// (one sign per bump and channel) scaled to L2 = eps; each iteration moves the perturbation's mass of a second square
/// into a first one, as a new bump plus the first square's old content, renormalised so that the whole perturbation
/// keeps L2 = eps (then clipped to [0, 1]). Window positions are drawn per image.
/// ART 1.10 divides the new square by sqrt(available mass) where the original code multiplies by it; this follows the
/// original (the perturbation's L2 is eps either way: both renormalise the whole delta before clipping).
/// Queries per image: 1 + nb_restarts · (1 + iterations run), at most 1 + nb_restarts · (1 + max_iter).
/// Defaults (ART SquareAttack, norm=2): eps=0.3, max_iter=100, p_init=0.8, nb_restarts=1.
/// Paper (Table 14, run_*_attacks.sh): p_init 0.8; CIFAR-10 eps 1.0, max_iter 2000; VWW eps 2.0, max_iter 1000;
/// coffee eps 2.0, max_iter 2000.
/// </summary>
public sealed class SquareL2 : Attack
{
    public sealed class Options : AttackParameters
    {
        [Param("eps", "L2 budget (inputs in [0, 1])")]
        public double Eps { get; set; } = 0.3;

        [Param("max_iter", "iterations (queries) per restart and image")]
        public int MaxIter { get; set; } = 100;

        [Param("p_init", "initial fraction of the image a square covers")]
        public double PInit { get; set; } = 0.8;

        [Param("nb_restarts", "restarts from x for images not yet fooled")]
        public int NbRestarts { get; set; } = 1;
    }

    public Options Config { get; } = new();
    public override string Name => "square-l2";
    public override string Norm => "L2";
    public override TargetCapabilities Needs => TargetCapabilities.Scores;
    public override AttackParameters Parameters => Config;

    public override IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> Presets { get; } =
        new Dictionary<string, IReadOnlyDictionary<string, string>>
        {
            ["cifar10"] = new Dictionary<string, string> { ["eps"] = "1.0", ["max_iter"] = "2000", ["p_init"] = "0.8" },
            ["vww"] = new Dictionary<string, string> { ["eps"] = "2.0", ["max_iter"] = "1000", ["p_init"] = "0.8" },
            ["coffee"] = new Dictionary<string, string> { ["eps"] = "2.0", ["max_iter"] = "2000", ["p_init"] = "0.8" },
        };

    protected override float[] Run(AttackTarget target, float[] x, int[] y, int n, int seed)
    {
        if (Config.Eps <= 0)
        {
            throw new ArgumentException($"square-l2: eps {Config.Eps} must be > 0");
        }
        (float[] adv, long[] queries) = SquareSearch.Run(target, x, y, n, Config.MaxIter, Config.NbRestarts, Config.PInit, seed,
            new Proposal(target.Height, target.Width, target.Channels, Config.Eps));
        QueriesPerImage = queries;
        return adv;
    }

    private sealed class Proposal(int height, int width, int channels, double eps) : SquareSearch.IProposal
    {
        private const int Tiles = 5;

        public void Init(ReadOnlySpan<float> x, Random rng, Span<float> candidate)
        {
            var delta = new double[x.Length];
            int s = height / Tiles;
            int offset = (height - (s * Tiles)) / 2;
            for (int th = 0; th < Tiles; th++)
            {
                for (int tw = 0; tw < Tiles; tw++)
                {
                    double[,] bump = Bump(s, rng);
                    for (int c = 0; c < channels; c++)
                    {
                        double sign = rng.Next(2) == 0 ? -1 : 1;
                        for (int h = 0; h < s; h++)
                        {
                            for (int w = 0; w < s; w++)
                            {
                                delta[Index(offset + (th * s) + h, offset + (tw * s) + w, c)] += sign * bump[h, w];
                            }
                        }
                    }
                }
            }
            Write(x, delta, candidate);
        }

        public void Step(ReadOnlySpan<float> x, ReadOnlySpan<float> best, double p, Random rng, Span<float> candidate)
        {
            int s = SquareSearch.Side(p, height, width, 3);
            if (s % 2 == 0)
            {
                s = s + 1 < Math.Min(height, width) ? s + 1 : s - 1;
            }
            int top1 = rng.Next(height - s), left1 = rng.Next(width - s);
            int top2 = rng.Next(height - s), left2 = rng.Next(width - s);
            var delta = new double[x.Length];
            for (int i = 0; i < delta.Length; i++)
            {
                delta[i] = best[i] - (double)x[i];
            }
            double image = Math.Sqrt(delta.Sum(v => v * v));
            // per channel: the first window's norm, and the norm over both windows (the mass the update may place)
            var window1 = new double[channels];
            var windows = new double[channels];
            for (int h = 0; h < height; h++)
            {
                for (int w = 0; w < width; w++)
                {
                    bool in1 = Inside(h, w, top1, left1, s), in2 = Inside(h, w, top2, left2, s);
                    for (int c = 0; c < channels; c++)
                    {
                        double d2 = delta[Index(h, w, c)] * delta[Index(h, w, c)];
                        window1[c] += in1 ? d2 : 0;
                        windows[c] += in1 || in2 ? d2 : 0;
                    }
                }
            }
            double[,] bump = Bump(s, rng);
            double free = Math.Max((eps * eps) - (image * image), 0) / channels;
            var update = new double[s * s * channels];
            for (int c = 0; c < channels; c++)
            {
                double sign = rng.Next(2) == 0 ? -1 : 1;
                double oldNorm = Math.Sqrt(window1[c]) + 1e-10, norm = 0;
                for (int h = 0; h < s; h++)
                {
                    for (int w = 0; w < s; w++)
                    {
                        double v = (sign * bump[h, w]) + (delta[Index(top1 + h, left1 + w, c)] / oldNorm);
                        update[(((h * s) + w) * channels) + c] = v;
                        norm += v * v;
                    }
                }
                double scale = Math.Sqrt(free + windows[c]) / Math.Max(Math.Sqrt(norm), 1e-12);
                for (int k = c; k < update.Length; k += channels)
                {
                    update[k] *= scale;
                }
            }
            for (int h = 0; h < s; h++)
            {
                for (int w = 0; w < s; w++)
                {
                    for (int c = 0; c < channels; c++)
                    {
                        delta[Index(top2 + h, left2 + w, c)] = 0;
                    }
                }
            }
            for (int h = 0; h < s; h++)
            {
                for (int w = 0; w < s; w++)
                {
                    for (int c = 0; c < channels; c++)
                    {
                        delta[Index(top1 + h, left1 + w, c)] = update[(((h * s) + w) * channels) + c];
                    }
                }
            }
            Write(x, delta, candidate);
        }

        private int Index(int h, int w, int c) => (((h * width) + w) * channels) + c;

        private static bool Inside(int h, int w, int top, int left, int s) => h >= top && h < top + s && w >= left && w < left + s;

        /// <summary>x + eps · delta / ‖delta‖₂, clipped to [0, 1].</summary>
        private void Write(ReadOnlySpan<float> x, double[] delta, Span<float> candidate)
        {
            double norm = Math.Sqrt(delta.Sum(v => v * v));
            double k = norm > 0 ? eps / norm : 0;
            for (int i = 0; i < x.Length; i++)
            {
                candidate[i] = (float)Math.Clamp(x[i] + (k * delta[i]), 0, 1);
            }
        }

        /// <summary>
        /// The original's "meta pseudo-Gaussian" square: an upper and a lower half, each rings of weight 1/(r+1)²
        /// around its centre, of opposite signs, unit L2 norm, transposed with probability 1/2.
        /// </summary>
        private static double[,] Bump(int s, Random rng)
        {
            var d = new double[s, s];
            int upper = s / 2;
            AddRings(d, 0, upper, s, 1);
            AddRings(d, upper, s - upper, s, -1);
            Normalise(d);
            if (rng.NextDouble() > 0.5)
            {
                var t = new double[s, s];
                for (int i = 0; i < s; i++)
                {
                    for (int j = 0; j < s; j++)
                    {
                        t[i, j] = d[j, i];
                    }
                }
                d = t;
            }
            return d;
        }

        /// <summary>Rows [row0, row0 + rows) of <paramref name="d"/>: nested rectangles around the centre, each adding 1/(r+1)², unit norm, times sign.</summary>
        private static void AddRings(double[,] d, int row0, int rows, int cols, double sign)
        {
            if (rows <= 0)
            {
                return;
            }
            var part = new double[rows, cols];
            int cr = rows / 2, cc = cols / 2;
            for (int r = 0; r < Math.Max((rows / 2) + 1, (cols / 2) + 1); r++)
            {
                for (int i = Math.Max(cr - r, 0); i < Math.Min(cr - r + (2 * r) + 1, rows); i++)
                {
                    for (int j = Math.Max(cc - r, 0); j < Math.Min(cc - r + (2 * r) + 1, cols); j++)
                    {
                        part[i, j] += 1.0 / ((r + 1) * (r + 1));
                    }
                }
            }
            Normalise(part);
            for (int i = 0; i < rows; i++)
            {
                for (int j = 0; j < cols; j++)
                {
                    d[row0 + i, j] = sign * part[i, j];
                }
            }
        }

        private static void Normalise(double[,] d)
        {
            double sum = 0;
            foreach (double v in d)
            {
                sum += v * v;
            }
            double k = sum > 0 ? 1 / Math.Sqrt(sum) : 0;
            for (int i = 0; i < d.GetLength(0); i++)
            {
                for (int j = 0; j < d.GetLength(1); j++)
                {
                    d[i, j] *= k;
                }
            }
        }
    }
}
