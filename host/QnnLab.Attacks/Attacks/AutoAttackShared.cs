using QnnLab.Attacks.Targets;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace QnnLab.Attacks.Attacks;

/// <summary>
/// What the AutoAttack components (apgd-ce, apgd-t, fab-t, aa-square) share: batched gradient and logit calls that come
/// back as arrays (every tensor lives in one dispose scope per call, so long runs do not pile up native memory),
/// per-image gathering, the target class of a given logit rank, and the Linf-only norm check.
/// </summary>
internal static class AutoAttackShared
{
    /// <summary>Input gradient of sum(loss(logits)) for m images, with per-image losses and the logits of the same pass.</summary>
    public static (float[] Gradient, float[] Loss, float[] Logits) Gradient(AttackTarget target, float[] x, int m, Func<Tensor, Tensor> loss)
    {
        using var scope = NewDisposeScope();
        Tensor xt = TensorOps.ToTensor(x, m, target.Height, target.Width, target.Channels);
        (Tensor g, Tensor l, Tensor logits) = target.Gradient(xt, loss);
        return (TensorOps.ToArray(g), TensorOps.ToArray(l), TensorOps.ToArray(logits));
    }

    /// <summary>Logits [m * classes] without a graph.</summary>
    public static float[] Logits(AttackTarget target, float[] x, int m)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        return TensorOps.ToArray(target.Logits(TensorOps.ToTensor(x, m, target.Height, target.Width, target.Channels)));
    }

    public static int ArgMax(float[] rows, int i, int classes)
    {
        int best = 0;
        for (int c = 1; c < classes; c++)
        {
            if (rows[(i * classes) + c] > rows[(i * classes) + best])
            {
                best = c;
            }
        }
        return best;
    }

    /// <summary>The class with the <paramref name="rank"/>-th highest logit (0: the top one) of image i.</summary>
    public static int ClassOfRank(float[] logits, int i, int classes, int rank)
    {
        int[] order = Enumerable.Range(0, classes).ToArray();
        float[] keys = new float[classes];
        for (int c = 0; c < classes; c++)
        {
            keys[c] = -logits[(i * classes) + c];
        }
        // A stable sort so equal logits order by class index.
        order = [.. order.OrderBy(c => keys[c]).ThenBy(c => c)];
        return order[rank];
    }

    /// <summary>The images <paramref name="idx"/> of <paramref name="x"/>, each <paramref name="size"/> values.</summary>
    public static float[] Gather(float[] x, int[] idx, int size)
    {
        var r = new float[idx.Length * size];
        for (int k = 0; k < idx.Length; k++)
        {
            Array.Copy(x, idx[k] * size, r, k * size, size);
        }
        return r;
    }

    /// <summary>Copies image k of <paramref name="from"/> to image <paramref name="to"/> of <paramref name="into"/>.</summary>
    public static void CopyImage(float[] from, int k, float[] into, int to, int size) => Array.Copy(from, k * size, into, to * size, size);

    public static double LinfDistance(float[] a, float[] b, int i, int size)
    {
        double d = 0;
        for (int j = i * size; j < (i + 1) * size; j++)
        {
            d = Math.Max(d, Math.Abs(a[j] - b[j]));
        }
        return d;
    }

    /// <summary>The components implement the Linf threat model only (AutoAttack's L2 and L1 versions are not ported).</summary>
    public static void RequireLinf(string attack, string norm)
    {
        if (norm is not ("Linf" or "linf" or "inf"))
        {
            throw new ArgumentException($"attack '{attack}': norm '{norm}' is not implemented (only Linf)");
        }
    }

    /// <summary>The paper's run scripts (QNN-Attacks/run_*_attacks.sh): AutoAttack eps per data set.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> EpsPresets { get; } =
        new Dictionary<string, IReadOnlyDictionary<string, string>>
        {
            ["cifar10"] = new Dictionary<string, string> { ["eps"] = "0.004" },
            ["vww"] = new Dictionary<string, string> { ["eps"] = "0.004" },
            ["coffee"] = new Dictionary<string, string> { ["eps"] = "0.009" },
        };
}
