using QnnLab.Attacks.Targets;
using QnnLab.Model;

namespace QnnLab.Attacks.Tests;

/// <summary>
/// A float linear classifier logits = W x + b over x in [0, 1]^D (input [1, 1, 1, D], reshape, fully connected), where
/// minimal adversarial distances are known in closed form: for two classes |w.x + b| / ||w|| in L2.
/// </summary>
internal static class LinearModel
{
    /// <param name="shape">The input's height, width and channels (default 1 x 1 x D); their product must be D.</param>
    public static QnnModel Build(float[,] w, float[] b, (int H, int W, int C)? shape = null)
    {
        int classes = w.GetLength(0), d = w.GetLength(1);
        (int h, int wd, int c) = shape ?? (1, 1, d);
        if (h * wd * c != d)
        {
            throw new ArgumentException($"{h}x{wd}x{c} is not {d} values");
        }
        var m = new QnnModel { Name = "linear", Preprocessing = InputPreprocessing.UnitRange };
        int input = m.AddTensor(new Tensor("x", ElementType.Float32, [1, h, wd, c]));
        int flat = m.AddTensor(new Tensor("flat", ElementType.Float32, [1, d]));
        var weights = new float[classes * d];
        for (int k = 0; k < classes; k++)
        {
            for (int j = 0; j < d; j++)
            {
                weights[(k * d) + j] = w[k, j];
            }
        }
        int wt = m.AddTensor(Tensor.FromArray("w", ElementType.Float32, [classes, d], weights));
        int bt = m.AddTensor(Tensor.FromArray("b", ElementType.Float32, [classes], b));
        int logits = m.AddTensor(new Tensor("logits", ElementType.Float32, [1, classes]));
        m.Operators.Add(new Operator(OpKind.Reshape, [input], [flat], new ReshapeOptions([1, d])));
        m.Operators.Add(new Operator(OpKind.FullyConnected, [flat, wt, bt], [logits], new FullyConnectedOptions(Activation.None)));
        m.Inputs = [input];
        m.Outputs = [logits];
        return m;
    }

    /// <summary>A seeded random D-dimensional classifier with <paramref name="classes"/> classes.</summary>
    public static QnnModel Random(int classes, int d, int seed, out float[,] w, out float[] b, (int H, int W, int C)? shape = null)
    {
        var rng = new System.Random(seed);
        w = new float[classes, d];
        b = new float[classes];
        for (int k = 0; k < classes; k++)
        {
            for (int j = 0; j < d; j++)
            {
                w[k, j] = (float)((rng.NextDouble() * 2) - 1);
            }
            b[k] = (float)((rng.NextDouble() - 0.5) * 0.5);
        }
        return Build(w, b, shape);
    }

    /// <summary>Seeded inputs in [0.2, 0.8] (inside the box, so small attacks are not clipped) with the model's own labels.</summary>
    public static (float[] X, int[] Y) Inputs(AttackTarget target, int n, int seed)
    {
        var rng = new System.Random(seed);
        var x = new float[n * target.ImageSize];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = (float)(0.2 + (0.6 * rng.NextDouble()));
        }
        return (x, target.Labels(x, n));
    }
}
