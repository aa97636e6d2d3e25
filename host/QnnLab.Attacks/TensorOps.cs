using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace QnnLab.Attacks;

/// <summary>Conversions between the attack domain's arrays and TorchSharp tensors, and seeded noise.</summary>
internal static class TensorOps
{
    public static Tensor ToTensor(float[] x, int n, int h, int w, int c) => tensor(x, [n, h, w, c]);

    public static float[] ToArray(Tensor t) => t.detach().contiguous().to_type(ScalarType.Float32).data<float>().ToArray();

    public static int[] ToLabels(Tensor t) => t.detach().contiguous().to_type(ScalarType.Int64).data<long>().ToArray().Select(v => (int)v).ToArray();

    public static Tensor Labels(int[] y) => tensor(y.Select(v => (long)v).ToArray());

    /// <summary>Uniform noise in [-1, 1) from a seeded System.Random (reproducible across machines and batch sizes).</summary>
    public static float[] Uniform(Random rng, int count)
    {
        var r = new float[count];
        for (int i = 0; i < count; i++)
        {
            r[i] = (float)((rng.NextDouble() * 2) - 1);
        }
        return r;
    }

    /// <summary>Per-image norms of a [N, ...] tensor flattened to [N, D].</summary>
    public static Tensor Norms(Tensor d, double p) => linalg.vector_norm(d.reshape(d.shape[0], -1), p, [1L]);
}
