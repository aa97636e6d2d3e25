using QnnLab.Model;
using QnnLab.Torch;
using Tensor = TorchSharp.torch.Tensor;

namespace QnnLab.Attacks.Targets;

/// <summary>
/// `int8+ste` / `int16+ste` (beyond the paper): scores and labels from the exact integer engine, gradients through the
/// model's fake-quantized TorchSharp surrogate (straight-through estimator, BPDA). The test of the paper's claim that
/// white-box attacks cannot target a TFLM QNN directly.
/// </summary>
public sealed class SteTarget : AttackTarget
{
    private readonly IntegerTarget _exact;
    private readonly TorchTarget _surrogate;

    public SteTarget(QnnModel model)
    {
        _exact = new IntegerTarget(model);
        _surrogate = new TorchTarget(new FloatEngine(model, new FloatEngineOptions { FakeQuantActivations = true }), _exact.Name + "+ste-surrogate", ownsEngine: true);
        Name = _exact.Name + "+ste";
    }

    public override string Name { get; }
    public override TargetCapabilities Capabilities => TargetCapabilities.Labels | TargetCapabilities.Scores | TargetCapabilities.Gradients;
    public override int Classes => _exact.Classes;
    public override int Height => _exact.Height;
    public override int Width => _exact.Width;
    public override int Channels => _exact.Channels;
    public IntegerTarget Exact => _exact;

    protected override float[] ComputeScores(ReadOnlySpan<float> x, int n) => _exact.Scores(x, n);

    protected override int[] ComputeLabels(ReadOnlySpan<float> x, int n) => _exact.Labels(x, n);

    protected override Tensor ComputeLogits(Tensor x) => _surrogate.Logits(x);

    protected override (Tensor Gradient, Tensor Loss, Tensor Logits) ComputeGradient(Tensor x, Func<Tensor, Tensor> loss) => _surrogate.Gradient(x, loss);

    public override float[] Effective(ReadOnlySpan<float> x) => _exact.Effective(x);

    public override void Dispose()
    {
        _exact.Dispose();
        _surrogate.Dispose();
        base.Dispose();
    }
}
