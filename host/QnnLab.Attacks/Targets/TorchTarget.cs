using QnnLab.Model;
using QnnLab.Torch;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace QnnLab.Attacks.Targets;

/// <summary>
/// A TorchSharp model: `float` (a float model) or `dequantized` (the float view of an int8/int16 model, the paper's
/// way to get QNN gradients). Scores, labels and batched input gradients.
/// </summary>
public sealed class TorchTarget : AttackTarget
{
    private readonly FloatEngine _engine;
    private readonly bool _ownsEngine;

    public TorchTarget(QnnModel model, FloatEngineOptions? options = null)
        : this(new FloatEngine(model, options), model.Precision == Precision.Float ? "float" : "dequantized", ownsEngine: true)
    {
    }

    public TorchTarget(FloatEngine engine, string name, bool ownsEngine = false)
    {
        _engine = engine;
        _ownsEngine = ownsEngine;
        Name = name;
    }

    public override string Name { get; }
    public override TargetCapabilities Capabilities => TargetCapabilities.Labels | TargetCapabilities.Scores | TargetCapabilities.Gradients;
    public override int Classes => _engine.Classes;
    public override int Height => _engine.Height;
    public override int Width => _engine.Width;
    public override int Channels => _engine.Channels;
    public FloatEngine Engine => _engine;

    /// <summary>
    /// Input values per forward pass at most: a query attack's batch (ZOO asks 256 candidates for each of 32 images)
    /// on a VWW or coffee model would otherwise hold every layer's activations of thousands of images at once (8,192
    /// VWW images took more than 24 GB). 2^25 values hold ZOO's whole CIFAR-10 query batch (32 x 257 images); a batch
    /// that is split gets each image's scores as one pass would, up to float rounding (tested to 1e-6).
    /// </summary>
    public int MaxValuesPerPass { get; init; } = 1 << 25;

    protected override float[] ComputeScores(ReadOnlySpan<float> x, int n)
    {
        int size = ImageSize, chunk = Math.Max(1, MaxValuesPerPass / size);
        var scores = new float[n * Classes];
        var pixels = new float[Math.Min(n, chunk) * size];
        for (int start = 0; start < n; start += chunk)
        {
            int k = Math.Min(chunk, n - start);
            ReadOnlySpan<float> part = x.Slice(start * size, k * size);
            for (int i = 0; i < part.Length; i++)
            {
                pixels[i] = part[i] * 255f;
            }
            _engine.Forward(pixels.AsSpan(0, k * size), k).Probabilities.CopyTo(scores, start * Classes);
        }
        return scores;
    }

    private static readonly TorchSharp.Scalar PixelScale = Scalars.Of(255);

    protected override Tensor ComputeLogits(Tensor x) => _engine.Logits(x.mul(PixelScale));

    protected override (Tensor Gradient, Tensor Loss, Tensor Logits) ComputeGradient(Tensor x, Func<Tensor, Tensor> loss)
    {
        using var scope = NewDisposeScope();
        // The engine differentiates with respect to pixel units p = 255 x: d/dx = 255 d/dp.
        (Tensor g, Tensor l, Tensor logits) = _engine.InputGradient(x.mul(PixelScale), loss);
        return (g.mul(PixelScale).MoveToOuterDisposeScope(), l.MoveToOuterDisposeScope(), logits.MoveToOuterDisposeScope());
    }

    public override void Dispose()
    {
        if (_ownsEngine)
        {
            _engine.Dispose();
        }
        base.Dispose();
    }
}
