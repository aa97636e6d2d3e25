using TorchSharp;
using Tensor = TorchSharp.torch.Tensor;

namespace QnnLab.Attacks.Targets;

/// <summary>What a target can answer (ART's estimator types): the attacks declare which of these they need.</summary>
[Flags]
public enum TargetCapabilities
{
    None = 0,
    /// <summary>Predicted labels (black-box).</summary>
    Labels = 1,
    /// <summary>Class probabilities or logits (gray-box).</summary>
    Scores = 2,
    /// <summary>Input gradients of a loss over the logits (white-box).</summary>
    Gradients = 4,
}

/// <summary>
/// A model under attack. Inputs are NHWC float32 images in [0, 1] (the attack domain; each target quantizes them with
/// its own input quantization). Every answered image counts as a query; every gradient as a gradient query.
/// </summary>
public abstract class AttackTarget : IDisposable
{
    private long _queries;
    private long _gradientQueries;

    /// <summary>float, dequantized, int8, int16, int8+ste, int16+ste, board.</summary>
    public abstract string Name { get; }
    public abstract TargetCapabilities Capabilities { get; }
    public abstract int Classes { get; }
    public abstract int Height { get; }
    public abstract int Width { get; }
    public abstract int Channels { get; }
    public int ImageSize => Height * Width * Channels;

    /// <summary>Images answered by a forward pass (scores, labels or logits).</summary>
    public long Queries => Interlocked.Read(ref _queries);

    /// <summary>Images whose input gradient was computed.</summary>
    public long GradientQueries => Interlocked.Read(ref _gradientQueries);

    public bool Has(TargetCapabilities c) => (Capabilities & c) == c;

    /// <summary>Class probabilities [n * Classes] of <paramref name="n"/> images.</summary>
    public float[] Scores(ReadOnlySpan<float> x, int n)
    {
        Require(TargetCapabilities.Scores, "scores");
        CheckBatch(x.Length, n);
        Interlocked.Add(ref _queries, n);
        return ComputeScores(x, n);
    }

    /// <summary>Predicted labels (ties to the lowest class, as numpy's argmax).</summary>
    public int[] Labels(ReadOnlySpan<float> x, int n)
    {
        Require(TargetCapabilities.Labels, "labels");
        CheckBatch(x.Length, n);
        Interlocked.Add(ref _queries, n);
        return ComputeLabels(x, n);
    }

    /// <summary>Differentiable logits [N, Classes] of images x [N, H, W, C] in [0, 1] (gradient targets only).</summary>
    public Tensor Logits(Tensor x)
    {
        Require(TargetCapabilities.Gradients, "gradients");
        Interlocked.Add(ref _queries, x.shape[0]);
        return ComputeLogits(x);
    }

    /// <summary>
    /// Gradient of sum(loss(logits)) with respect to x [N, H, W, C] in [0, 1], with the per-image loss values and the
    /// logits of the same pass (detached). Counts N queries and N gradient queries.
    /// </summary>
    public (Tensor Gradient, Tensor Loss, Tensor Logits) Gradient(Tensor x, Func<Tensor, Tensor> loss)
    {
        Require(TargetCapabilities.Gradients, "gradients");
        Interlocked.Add(ref _queries, x.shape[0]);
        Interlocked.Add(ref _gradientQueries, x.shape[0]);
        return ComputeGradient(x, loss);
    }

    /// <summary>
    /// The input as this target actually sees it, mapped back to [0, 1] (an int8 model's pixel grid, an int16 model's
    /// 1/32767 steps; the float model sees x itself): the basis of the per-precision distortions.
    /// </summary>
    public virtual float[] Effective(ReadOnlySpan<float> x) => x.ToArray();

    protected abstract float[] ComputeScores(ReadOnlySpan<float> x, int n);

    protected virtual int[] ComputeLabels(ReadOnlySpan<float> x, int n) => ArgMaxRows(ComputeScores(x, n), n, Classes);

    protected virtual Tensor ComputeLogits(Tensor x) => throw new InvalidOperationException($"target '{Name}' has no gradients");

    protected virtual (Tensor Gradient, Tensor Loss, Tensor Logits) ComputeGradient(Tensor x, Func<Tensor, Tensor> loss)
        => throw new InvalidOperationException($"target '{Name}' has no gradients");

    public static int[] ArgMaxRows(float[] scores, int n, int classes)
    {
        var labels = new int[n];
        for (int i = 0; i < n; i++)
        {
            int best = 0;
            for (int c = 1; c < classes; c++)
            {
                if (scores[(i * classes) + c] > scores[(i * classes) + best])
                {
                    best = c;
                }
            }
            labels[i] = best;
        }
        return labels;
    }

    private void Require(TargetCapabilities c, string what)
    {
        if (!Has(c))
        {
            throw new InvalidOperationException($"target '{Name}' cannot answer {what} (it offers {Capabilities})");
        }
    }

    private void CheckBatch(int length, int n)
    {
        if (n < 1 || length != n * ImageSize)
        {
            throw new ArgumentException($"{length} values for {n} images of {Height}x{Width}x{Channels}");
        }
    }

    public virtual void Dispose()
    {
        GC.SuppressFinalize(this);
    }
}
