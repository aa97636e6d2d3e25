using QnnLab.Attacks.Targets;

namespace QnnLab.Attacks.Attacks;

/// <summary>
/// GeoDA — Rahmati, Moosavi-Dezfooli, Frossard, Dai, "GeoDA: a geometric framework for black-box adversarial attacks",
/// CVPR 2020. Norm: L2 (also inf). Black-box (labels only). ART's GeometricDecisionBasedAttack, untargeted: a random
/// adversarial point (x plus Gaussian noise of growing size, step 0.02), a binary search to the boundary (until the
/// bracket is under bin_search_tol), then per iteration an estimate of the boundary's normal from labels of the
/// boundary point plus sigma-sized noise drawn in the low-frequency 2-D DCT subspace of sub_dim x sub_dim frequencies
/// (per channel), summed over iterations; a walk from x along it until the label changes, and a binary search back to
/// the boundary. ART walks in steps of 5 times the summed estimate, which for inputs in [0, 1] lands far outside the box
/// at once and leaves the direction to the clipping; here the walk follows the unit estimate in steps of a quarter of
/// the current boundary distance (at most 100), so the search runs along the estimated normal as the paper describes. The max_iter query budget is split over the iterations as ART does (the
/// first estimate gets 50-80 queries, later ones more, by lambda_param). Adversarial means a label other than y.
/// ART reshapes its DCT noise (channels-first) straight into NHWC, scrambling it for channels-last models; here each
/// channel gets its own low-frequency map, as the paper intends, drawn with the same distribution as ART's basis
/// times iid coefficients but from res x res Gaussians (ART's basis for sub_dim 75 on 32 x 32 images has 5,625 columns). Images already misclassified stay as they are.
/// Square images only. Defaults (ART): norm=2, sub_dim=10, max_iter=4000, bin_search_tol=0.1, lambda_param=0.6,
/// sigma=0.0002. Paper (Table 14, run_*_attacks.sh): bin_search_tol 0.0001 and sub_dim 75 (coffee: 0.01 and 10).
/// </summary>
public sealed class GeoDA : Attack
{
    public sealed class Options : AttackParameters
    {
        [Param("norm", "2 or inf: the geometry of the step along the estimated normal")]
        public string Norm { get; set; } = "2";

        [Param("sub_dim", "frequencies per axis of the 2-D DCT subspace the noise is drawn in")]
        public int SubDim { get; set; } = 10;

        [Param("max_iter", "query budget of the normal estimates per image")]
        public int MaxIter { get; set; } = 4000;

        [Param("bin_search_tol", "L2 width at which a binary search to the boundary stops")]
        public double BinSearchTol { get; set; } = 0.1;

        [Param("lambda_param", "growth of the per-iteration query share (ART's mu)")]
        public double LambdaParam { get; set; } = 0.6;

        [Param("sigma", "size of the probing noise around the boundary point")]
        public double Sigma { get; set; } = 0.0002;
    }

    private const double RandomStep = 0.02, WalkFraction = 0.25;
    private const int RandomDraws = 1000, WalkSteps = 100;

    public Options Config { get; } = new();
    public override string Name => "geoda";
    public override string Norm => Config.Norm == "inf" ? "Linf" : "L2";
    public override TargetCapabilities Needs => TargetCapabilities.Labels;
    public override AttackParameters Parameters => Config;

    public override IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> Presets { get; } =
        new Dictionary<string, IReadOnlyDictionary<string, string>>
        {
            ["cifar10"] = new Dictionary<string, string> { ["bin_search_tol"] = "0.0001", ["sub_dim"] = "75" },
            ["vww"] = new Dictionary<string, string> { ["bin_search_tol"] = "0.0001", ["sub_dim"] = "75" },
            ["coffee"] = new Dictionary<string, string> { ["bin_search_tol"] = "0.01", ["sub_dim"] = "10" },
        };

    protected override float[] Run(AttackTarget target, float[] x, int[] y, int n, int seed)
    {
        Options o = Config;
        if (o.Norm is not ("2" or "inf") || o.SubDim < 1 || o.MaxIter < 1 || o.BinSearchTol <= 0 || o.LambdaParam <= 0 || o.Sigma <= 0)
        {
            throw new ArgumentException($"geoda: parameters out of range ({o})");
        }
        if (target.Height != target.Width)
        {
            throw new ArgumentException($"geoda: needs square images; target '{target.Name}' takes {target.Height}x{target.Width}");
        }
        int[] schedule = QuerySchedule(o.MaxIter, o.LambdaParam);
        var dct = new DctNoise(target.Height, target.Channels, o.SubDim);
        int size = target.ImageSize;
        int[] clean = target.Labels(x, n);
        float[] result = (float[])x.Clone();
        var searches = new List<IEnumerable<Query>>();
        var searched = new List<int>();
        for (int i = 0; i < n; i++)
        {
            if (clean[i] != y[i])
            {
                continue;
            }
            int image = i;
            searched.Add(i);
            searches.Add(Search(x.AsMemory(i * size, size), y[i], schedule, dct, QueryDriver.ImageRandom(seed, i), adv => adv.CopyTo(result, image * size)));
        }
        long[] counts = QueryDriver.Run(target, searches);
        // one query per image for its clean label, then its own search's
        QueriesPerImage = [.. Enumerable.Repeat(1L, n)];
        for (int k = 0; k < searched.Count; k++)
        {
            QueriesPerImage[searched[k]] += counts[k];
        }
        return result;
    }

    private IEnumerable<Query> Search(ReadOnlyMemory<float> original, int label, int[] schedule, DctNoise dct, Random rng, Action<float[]> done)
    {
        Options o = Config;
        int size = original.Length;
        float[]? start = null;
        for (int k = 1; k <= RandomDraws && start is null; k++)
        {
            var c = new float[size];
            for (int j = 0; j < size; j++)
            {
                c[j] = (float)Math.Clamp(original.Span[j] + (k * RandomStep * QueryDriver.Gaussian(rng)), 0, 1);
            }
            var q = new Query([c]);
            yield return q;
            if (q.Labels[0] != label)
            {
                start = c;
            }
        }
        if (start is null)
        {
            yield break;
        }
        var bracket = new float[1][];
        foreach (Query q in ToBoundary(original, start, label, o.BinSearchTol, bracket))
        {
            yield return q;
        }
        float[] boundary = bracket[0];
        var normal = new double[size];
        foreach (int queries in schedule)
        {
            var noises = new double[queries][];
            var probes = new float[queries][];
            for (int k = 0; k < queries; k++)
            {
                noises[k] = dct.Draw(rng);
                probes[k] = new float[size];
                for (int j = 0; j < size; j++)
                {
                    probes[k][j] = (float)(boundary[j] + (o.Sigma * noises[k][j]));
                }
            }
            var q = new Query(probes);
            yield return q;
            // ART: a probe still labelled y pulls the estimate towards -noise, an adversarial one towards +noise.
            for (int k = 0; k < queries; k++)
            {
                double sign = q.Labels[k] == label ? -1.0 / queries : 1.0 / queries;
                for (int j = 0; j < size; j++)
                {
                    normal[j] += sign * noises[k][j];
                }
            }
            float[] walked = original.ToArray();
            double[] direction = Direction(normal);
            double stride = WalkFraction * QueryDriver.L2(original.Span, boundary);
            for (int step = 1; step <= WalkSteps; step++)
            {
                var c = new float[size];
                for (int j = 0; j < size; j++)
                {
                    c[j] = (float)Math.Clamp(original.Span[j] + (step * stride * direction[j]), 0, 1);
                }
                var w = new Query([c]);
                yield return w;
                walked = c;
                if (w.Labels[0] != label)
                {
                    break;
                }
            }
            foreach (Query b in ToBoundary(original, walked, label, o.BinSearchTol, bracket))
            {
                yield return b;
            }
            boundary = bracket[0];
        }
        done(boundary);
    }

    /// <summary>The unit L2 direction of the estimate (its sign vector for inf, also scaled to unit L2).</summary>
    private double[] Direction(double[] normal)
    {
        double[] d = Config.Norm == "inf" ? [.. normal.Select(v => (double)Math.Sign(v))] : normal;
        double norm = Math.Sqrt(d.Sum(v => v * v));
        return [.. d.Select(v => norm > 0 ? v / norm : 0)];
    }

    /// <summary>
    /// Halves the segment between x and <paramref name="adversarial"/> until it is shorter than <paramref name="tol"/>;
    /// leaves its adversarial end in <paramref name="result"/>[0] (the start itself when it is not adversarial: ART's
    /// walk may end on a point still labelled y, and its search then stays there).
    /// </summary>
    private static IEnumerable<Query> ToBoundary(ReadOnlyMemory<float> x, float[] adversarial, int label, double tol, float[][] result)
    {
        float[] adv = adversarial, cln = x.ToArray();
        while (QueryDriver.L2(adv, cln) >= tol)
        {
            var mid = new float[adv.Length];
            for (int j = 0; j < mid.Length; j++)
            {
                mid[j] = (cln[j] + adv[j]) / 2f;
            }
            var q = new Query([mid]);
            yield return q;
            if (q.Labels[0] != label)
            {
                adv = mid;
            }
            else
            {
                cln = mid;
            }
        }
        result[0] = adv;
    }

    /// <summary>
    /// ART's split of the budget: about max_iter / 500 iterations, 25 queries each reserved for the walks and searches,
    /// the rest shared as lambda^(-2i/3), the count of iterations adjusted until the first share is 50-80 queries.
    /// </summary>
    public static int[] QuerySchedule(int maxIter, double lambda)
    {
        int iterations = (int)Math.Round(maxIter / 500.0, MidpointRounding.ToEven);
        (int[] _, int t) = Optimal(maxIter - (iterations * 25), iterations, lambda, 0);
        (int[] shares, int _) = Optimal(maxIter - (t * 25), iterations, lambda, 0);
        return shares;
    }

    private static (int[] Shares, int Iterations) Optimal(int queries, int iterations, double lambda, int depth)
    {
        if (iterations < 1 || depth > 1000)
        {
            return ([Math.Max(queries, 1)], 1);
        }
        double[] c = [.. Enumerable.Range(0, iterations).Select(i => Math.Pow(lambda, -2.0 * i / 3))];
        double sum = c.Sum();
        int[] shares = [.. c.Select(v => (int)Math.Round(queries * v / sum, MidpointRounding.ToEven))];
        return shares[0] > 80 ? Optimal(queries, iterations + 1, lambda, depth + 1)
            : shares[0] < 50 ? Optimal(queries, iterations - 1, lambda, depth + 1)
            : (shares, iterations);
    }

    /// <summary>One draw of the probing noise (NHWC, res x res x channels) in the sub_dim x sub_dim DCT subspace.</summary>
    public static double[] SubspaceNoise(int res, int channels, int subDim, Random rng) => new DctNoise(res, channels, subDim).Draw(rng);

    /// <summary>
    /// Gaussian noise in the span of the lowest sub_dim x sub_dim 2-D DCT-II frequencies, one map per channel (NHWC):
    /// map = C W Cᵀ with C[p, u] = alpha(u) cos((2p + 1) u pi / 2N) (N = max(res, sub_dim), as ART) and W iid normal.
    /// With C = Rᵀ Qᵀ (QR of Cᵀ, Q with orthonormal columns), C W Cᵀ = Rᵀ (Qᵀ W Q) R and Qᵀ W Q is itself res x res iid
    /// normal: the same distribution from r² draws and products of r·res² (r = rank = min(res, sub_dim)), whatever
    /// sub_dim is.
    /// </summary>
    private sealed class DctNoise
    {
        private readonly int _res, _channels;
        private readonly double[] _r; // [res, res] upper triangular: Cᵀ = Q R
        private readonly int[] _rows; // R's non-zero rows (its rank: min(res, sub_dim)); only these take part

        public DctNoise(int res, int channels, int sub)
        {
            (_res, _channels) = (res, channels);
            int num = Math.Max(res, sub);
            // columns of Cᵀ: a_p = C[p, :] (length sub); modified Gram-Schmidt, dependent columns get a zero row in R
            var q = new double[res][];
            _r = new double[res * res];
            for (int p = 0; p < res; p++)
            {
                var a = new double[sub];
                for (int u = 0; u < sub; u++)
                {
                    a[u] = Math.Sqrt((u == 0 ? 1.0 : 2.0) / num) * Math.Cos((((2 * p) + 1) * u * Math.PI) / (2.0 * num));
                }
                for (int j = 0; j < p; j++)
                {
                    double dot = 0;
                    for (int u = 0; u < sub; u++)
                    {
                        dot += q[j][u] * a[u];
                    }
                    _r[(j * res) + p] = dot;
                    for (int u = 0; u < sub; u++)
                    {
                        a[u] -= dot * q[j][u];
                    }
                }
                double norm = Math.Sqrt(a.Sum(v => v * v));
                bool independent = norm > 1e-9;
                _r[(p * res) + p] = independent ? norm : 0;
                q[p] = [.. a.Select(v => independent ? v / norm : 0)];
            }
            _rows = [.. Enumerable.Range(0, res).Where(j => _r[(j * res) + j] != 0)];
        }

        public double[] Draw(Random rng)
        {
            int n = _res, r = _rows.Length;
            var image = new double[n * n * _channels];
            // map = Rᵀ Z R with Z iid normal; R's zero rows drop out, so Z is r x r and only r rows of Z R are needed
            var z = new double[r * r];
            var zr = new double[r * n];
            for (int c = 0; c < _channels; c++)
            {
                for (int k = 0; k < z.Length; k++)
                {
                    z[k] = QueryDriver.Gaussian(rng);
                }
                Array.Clear(zr);
                for (int a = 0; a < r; a++)
                {
                    for (int b = 0; b < r; b++)
                    {
                        double zab = z[(a * r) + b];
                        int row = _rows[b] * n;
                        for (int j = _rows[b]; j < n; j++)
                        {
                            zr[(a * n) + j] += zab * _r[row + j];
                        }
                    }
                }
                for (int py = 0; py < n; py++)
                {
                    for (int px = 0; px < n; px++)
                    {
                        double sum = 0;
                        for (int a = 0; a < r && _rows[a] <= py; a++)
                        {
                            sum += _r[(_rows[a] * n) + py] * zr[(a * n) + px];
                        }
                        image[(((py * n) + px) * _channels) + c] = sum;
                    }
                }
            }
            return image;
        }
    }
}
