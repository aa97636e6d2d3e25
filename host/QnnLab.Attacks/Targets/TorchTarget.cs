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

    protected override float[] ComputeScores(ReadOnlySpan<float> x, int n)
    {
        var pixels = new float[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            pixels[i] = x[i] * 255f;
        }
        return _engine.Forward(pixels, n).Probabilities;
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
