using QnnLab.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace QnnLab.Defences.Training;

/// <summary>
/// SGD (with optional momentum) and Adam with PyTorch's update rules (no weight decay, no dampening, no amsgrad), and
/// their state saved and loaded bit for bit. Our own rather than TorchSharp's optimizers because theirs turn every
/// step's numbers into temporary Scalars that only the GC frees: a finalizer running while native code still reads one
/// fails c10's Scalar toFloat check (seen in Adam's addcdiv_ during a test; see <see cref="QnnLab.Torch.Scalars"/>).
/// Here every Scalar is held by a using until its operator has returned.
/// </summary>
public sealed class TrainingOptimizer : IDisposable
{
    private const double Beta1 = 0.9, Beta2 = 0.999, AdamEps = 1e-8;
    private readonly Parameter[] _params;
    private readonly Tensor[] _first;   // momentum buffer (SGD) or exp_avg (Adam)
    private readonly Tensor[]? _second; // exp_avg_sq (Adam)
    private readonly bool _adam;
    private readonly double _lr, _momentum;
    private long _step;

    public TrainingOptimizer(IEnumerable<Parameter> parameters, string kind, double learningRate, double momentum)
    {
        _params = [.. parameters];
        _adam = kind == "adam";
        _lr = learningRate;
        _momentum = momentum;
        _first = [.. _params.Select(p => zeros_like(p).DetachFromDisposeScope())];
        _second = _adam ? [.. _params.Select(p => zeros_like(p).DetachFromDisposeScope())] : null;
    }

    public void ZeroGrad()
    {
        foreach (Parameter p in _params)
        {
            p.grad?.zero_();
        }
    }

    public void Step()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        _step++;
        if (_adam)
        {
            double bias1 = 1 - Math.Pow(Beta1, _step), bias2 = 1 - Math.Pow(Beta2, _step);
            // Process-lifetime Scalars (QnnLab.Torch.Scalars): locally made ones crashed c10's toFloat check in CI.
            Scalar b1 = Scalars.Of(Beta1), oneMinusB1 = Scalars.Of(1 - Beta1), b2 = Scalars.Of(Beta2), oneMinusB2 = Scalars.Of(1 - Beta2);
            Scalar sqrtBias2 = Scalars.Of(Math.Sqrt(bias2)), eps = Scalars.Of(AdamEps), stepSize = Scalars.Of(-_lr / bias1);
            for (int i = 0; i < _params.Length; i++)
            {
                if (_params[i].grad is not Tensor g)
                {
                    continue;
                }
                _first[i].mul_(b1).add_(g, oneMinusB1);
                _second![i].mul_(b2).addcmul_(g, g, oneMinusB2);
                Tensor denom = _second[i].sqrt().div_(sqrtBias2).add_(eps);
                _params[i].addcdiv_(_first[i], denom, stepSize);
            }
        }
        else
        {
            Scalar m = Scalars.Of(_momentum), minusLr = Scalars.Of(-_lr);
            for (int i = 0; i < _params.Length; i++)
            {
                if (_params[i].grad is not Tensor g)
                {
                    continue;
                }
                if (_momentum != 0)
                {
                    // PyTorch: the first step's buffer is the gradient itself, then buf = momentum * buf + grad.
                    if (_step == 1)
                    {
                        _first[i].copy_(g);
                    }
                    else
                    {
                        _first[i].mul_(m).add_(g, Scalars.One);
                    }
                    _params[i].add_(_first[i], minusLr);
                }
                else
                {
                    _params[i].add_(g, minusLr);
                }
            }
        }
    }

    /// <summary>Step count and every state tensor's float32 bits.</summary>
    public void Save(string path)
    {
        using var w = new BinaryWriter(File.Create(path));
        w.Write(_step);
        foreach (Tensor t in _first.Concat(_second ?? []))
        {
            float[] v = t.contiguous().data<float>().ToArray();
            w.Write(v.Length);
            w.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(v.AsSpan()));
        }
    }

    public void Load(string path)
    {
        using var r = new BinaryReader(File.OpenRead(path));
        _step = r.ReadInt64();
        using var noGrad = no_grad();
        foreach (Tensor t in _first.Concat(_second ?? []))
        {
            int n = r.ReadInt32();
            if (n != t.numel())
            {
                throw new InvalidDataException($"{path}: optimizer state of {n} values for a tensor of {t.numel()}");
            }
            float[] v = new float[n];
            r.BaseStream.ReadExactly(System.Runtime.InteropServices.MemoryMarshal.AsBytes(v.AsSpan()));
            using Tensor src = tensor(v, t.shape);
            t.copy_(src);
        }
    }

    public void Dispose()
    {
        foreach (Tensor t in _first.Concat(_second ?? []))
        {
            t.Dispose();
        }
    }
}
