using QnnLab.Torch;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace QnnLab.Defences.Training;

/// <summary>
/// Entropic optimal transport between two point clouds (Cuturi 2013) and the Sinkhorn divergence built on it, as the
/// paper's Sinkhorn adversarial training uses them (QNN-Defenses/defenses/adv_sat_tf2/losses.py, after Bouniot et al.):
/// cost C_ij = ||x_i - y_j||_2^2, uniform marginals, log-domain Sinkhorn iterations
///   u = eps (log(mu + 1e-8) - logsumexp_j M) + u,  v = eps (log(nu + 1e-8) - logsumexp_i M) + v,
///   M_ij = (-C_ij + u_i + v_j) / eps,
/// stopped after max_iter or once the mean over the batch of sum_i |u - u_prev| falls below threshold (the script's
/// 0.1); transport plan pi = exp(M), distance sum(pi * C). Computed in float64 as the script does, differentiable
/// through the unrolled iterations (the early stop is a plain branch).
/// </summary>
public static class Sinkhorn
{
    /// <summary>
    /// Entropic OT cost between x [n, d] and y [m, d] (or batches [B, n, d] and [B, m, d]); "sum" or "mean" reduce over
    /// the batch, "none" keeps [B] (a 2-D pair is a batch of one, so every reduction gives the same scalar).
    /// </summary>
    public static Tensor Distance(Tensor x, Tensor y, double epsilon = 1.0, int maxIter = 50, string reduction = "sum", double threshold = 0.1)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(epsilon);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxIter, 1);
        bool single = x.dim() == 2;
        Tensor a = (single ? x.unsqueeze(0) : x).to_type(ScalarType.Float64);
        Tensor b = (single ? y.unsqueeze(0) : y).to_type(ScalarType.Float64);
        long n = a.shape[1], m = b.shape[1];
        Tensor c = a.unsqueeze(-2).sub(b.unsqueeze(-3)).square().sum(-1); // [B, n, m]
        Tensor logMu = full([a.shape[0], n], Scalars.Of(1.0 / n), dtype: ScalarType.Float64).add(Scalars.Of(1e-8)).log();
        Tensor logNu = full([b.shape[0], m], Scalars.Of(1.0 / m), dtype: ScalarType.Float64).add(Scalars.Of(1e-8)).log();
        Tensor u = zeros_like(logMu);
        Tensor v = zeros_like(logNu);
        Tensor M(Tensor uu, Tensor vv) => c.neg().add(uu.unsqueeze(-1)).add(vv.unsqueeze(-2)).div(Scalars.Of(epsilon));
        for (int i = 0; i < maxIter; i++)
        {
            Tensor previous = u;
            u = logMu.sub(M(u, v).logsumexp(-1)).mul(Scalars.Of(epsilon)).add(u);
            v = logNu.sub(M(u, v).logsumexp(-2)).mul(Scalars.Of(epsilon)).add(v);
            double err = u.sub(previous).abs().sum(-1).mean().item<double>();
            if (err < threshold)
            {
                break;
            }
        }
        Tensor cost = M(u, v).exp().mul(c).sum([-2L, -1L]); // [B]
        Tensor reduced = reduction switch
        {
            "sum" => cost.sum(),
            "mean" => cost.mean(),
            "none" => cost,
            _ => throw new ArgumentException($"reduction '{reduction}': use sum, mean or none"),
        };
        return reduced.to_type(x.dtype);
    }

    /// <summary>The Sinkhorn divergence S(x, y) - (S(x, x) + S(y, y)) / 2 (the script's "dist - 0.5 (dist_adv + dist_clean)").</summary>
    public static Tensor Divergence(Tensor x, Tensor y, double epsilon = 1.0, int maxIter = 50, string reduction = "sum", double threshold = 0.1)
        => Distance(x, y, epsilon, maxIter, reduction, threshold)
            .sub(Distance(y, y, epsilon, maxIter, reduction, threshold).add(Distance(x, x, epsilon, maxIter, reduction, threshold)).mul(Scalars.Of(0.5)));
}
