using QnnLab.Attacks.Targets;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace QnnLab.Attacks.Runs;

/// <summary>
/// Gradient misalignment (paper A4, Table 7): per image, the cosine between two targets' input gradients of the
/// cross-entropy at the true label, e.g. the float model's and a dequantized int8 model's. 1: same direction; 0:
/// orthogonal. An image where either gradient is exactly zero (a saturated softmax) has no direction and is counted
/// apart, not as 0.
/// </summary>
public static class GradientCosine
{
    /// <summary>Per image: the cosine, or NaN where either gradient is all zeros.</summary>
    public static double[] PerImage(AttackTarget a, AttackTarget b, float[] x, int[] y, int n, int batch = 64)
    {
        if (a.ImageSize != b.ImageSize || x.Length != n * a.ImageSize || y.Length != n)
        {
            throw new ArgumentException($"gradient cosine: {x.Length} values, {y.Length} labels for {n} images; targets take {a.ImageSize} and {b.ImageSize}");
        }
        var result = new double[n];
        for (int start = 0; start < n; start += batch)
        {
            int k = Math.Min(batch, n - start);
            using var scope = NewDisposeScope();
            Tensor xt = TensorOps.ToTensor(x[(start * a.ImageSize)..((start + k) * a.ImageSize)], k, a.Height, a.Width, a.Channels);
            Tensor labels = TensorOps.Labels(y[start..(start + k)]);
            Tensor Loss(Tensor logits) => nn.functional.cross_entropy(logits, labels, reduction: nn.Reduction.None);
            Tensor ga = a.Gradient(xt, Loss).Gradient.reshape(k, -1).to_type(ScalarType.Float64);
            Tensor gb = b.Gradient(xt, Loss).Gradient.reshape(k, -1).to_type(ScalarType.Float64);
            double[] dot = TensorOps.ToArray((ga * gb).sum(1)).Select(v => (double)v).ToArray();
            double[] na = TensorOps.ToArray(linalg.vector_norm(ga, 2, [1L])).Select(v => (double)v).ToArray();
            double[] nb = TensorOps.ToArray(linalg.vector_norm(gb, 2, [1L])).Select(v => (double)v).ToArray();
            for (int i = 0; i < k; i++)
            {
                result[start + i] = na[i] == 0 || nb[i] == 0 ? double.NaN : dot[i] / (na[i] * nb[i]);
            }
        }
        return result;
    }
}
