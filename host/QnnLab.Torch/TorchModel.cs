using QnnLab.Model;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;
using IrTensor = QnnLab.Model.Tensor;
using Padding = QnnLab.Model.Padding;
using Tensor = TorchSharp.torch.Tensor;

namespace QnnLab.Torch;

/// <summary>How a quantized model's activations are treated in its float view.</summary>
public sealed record TorchModelOptions
{
    public static readonly TorchModelOptions Default = new();

    /// <summary>
    /// Quantize-dequantize every activation tensor that the model quantizes (straight-through
    /// gradient), so the forward pass sees the integer grid. Off: activations stay in float, the
    /// way the paper computes gradients of QNNs. Ignored for float models.
    /// </summary>
    public bool FakeQuantActivations { get; init; }
}

/// <summary>
/// The IR graph as a TorchSharp module, in float32 with TFLite's NHWC semantics. Quantized models
/// become their "dequantized view": weights scale*(q-zp) per channel, bias scale*q, activations in
/// float. Internally 4-D activations run as NCHW (torch's conv layout) and are permuted back to
/// NHWC wherever the layout is observable (reshape, fully connected, captured tensors).
/// Input: [N,H,W,C] real-valued (already preprocessed). Not thread-safe.
/// </summary>
public sealed class TorchModel : nn.Module<Tensor, Tensor>
{
    private readonly QnnModel _model;
    private readonly TorchModelOptions _options;
    private readonly Dictionary<int, Parameter> _params = [];
    private readonly Dictionary<int, ParamLayout> _layouts = [];
    private readonly Dictionary<int, long[]> _padAmounts = [];

    /// <summary>Torch layout a constant was converted to (needed to write it back).</summary>
    private enum ParamLayout
    {
        Same,       // IR layout as is (FC [out,in], bias, add constants)
        ConvOihw,   // from OHWI
        DepthwiseO1hw, // from 1HWC
    }

    /// <summary>A value flowing through the graph and whether its 4-D layout is NCHW.</summary>
    private readonly record struct Act(Tensor T, bool Nchw)
    {
        public Tensor Nhwc => Nchw ? T.permute(0, 2, 3, 1) : T;
        public Tensor NchwT => Nchw ? T : T.permute(0, 3, 1, 2);
    }

    private TorchModel(QnnModel model, TorchModelOptions options) : base(model.Name.Replace('.', '_'))
    {
        _model = model;
        _options = options;
        if (model.Inputs.Length != 1)
        {
            throw new ModelException($"{model.Name}: the float engine supports one input, the model has {model.Inputs.Length}");
        }
        IsQuantized = model.Tensors.Any(t => !t.IsConstant && t.Type != ElementType.Float32 && t.Quant is not null);
        LogitsTensor = FindLogits(model, out bool softmax);
        EndsInSoftmax = softmax;
        OutputTensor = model.Outputs[0];
        using (no_grad())
        {
            foreach (Operator op in model.Operators)
            {
                Prepare(op);
            }
        }
    }

    /// <summary>Builds the module for a float model, or the dequantized view of an int8/int16 model.</summary>
    public static TorchModel FromQnnModel(QnnModel model, TorchModelOptions? options = null)
    {
        TorchRuntime.EnsureLoaded();
        return new TorchModel(model, options ?? TorchModelOptions.Default);
    }

    public QnnModel Source => _model;
    public TorchModelOptions Options => _options;

    /// <summary>True when the model's activations are quantized (int8/int16): this is a dequantized view.</summary>
    public bool IsQuantized { get; }

    /// <summary>Index of the tensor holding the logits (the softmax input when the model ends in softmax).</summary>
    public int LogitsTensor { get; }

    public int OutputTensor { get; }

    /// <summary>Whether the model ends in SOFTMAX (then its output is probabilities).</summary>
    public bool EndsInSoftmax { get; }

    /// <summary>Makes the weights trainable (or frozen, the default: input gradients need no weight gradients).</summary>
    public void SetTrainable(bool trainable)
    {
        foreach (Parameter p in _params.Values)
        {
            p.requires_grad = trainable;
        }
    }

    /// <summary>The model's output (probabilities for a softmax model) for input [N,H,W,C].</summary>
    public override Tensor forward(Tensor input) => Run(input, OutputTensor, null);

    /// <summary>The pre-softmax logits [N, classes].</summary>
    public Tensor Logits(Tensor input) => Run(input, LogitsTensor, null);

    /// <summary>
    /// Runs the graph until <paramref name="stopAt"/> is produced and returns it (NHWC). Tensors
    /// listed in <paramref name="capture"/> are added, in NHWC layout, to the dictionary.
    /// </summary>
    public Tensor Run(Tensor input, int stopAt, IReadOnlyCollection<int>? capture, Dictionary<int, Tensor>? captured = null)
    {
        if (input.dim() != 4)
        {
            throw new ArgumentException($"expected input [N,H,W,C], got [{string.Join(",", input.shape)}]");
        }
        var values = new Dictionary<int, Act>();
        int inputIndex = _model.Inputs[0];
        Act x = new(FakeQuant(input, _model.Tensors[inputIndex]), false);
        values[inputIndex] = x;
        Keep(inputIndex, x, capture, captured);
        if (stopAt == inputIndex)
        {
            return x.T;
        }
        foreach (Operator op in _model.Operators)
        {
            Act result = Execute(op, values);
            int outIndex = op.Outputs[0];
            result = result with { T = FakeQuant(result.T, _model.Tensors[outIndex]) };
            values[outIndex] = result;
            Keep(outIndex, result, capture, captured);
            if (outIndex == stopAt)
            {
                return result.Nhwc;
            }
        }
        throw new ModelException($"{_model.Name}: no operator produces tensor {stopAt}");
    }

    private static void Keep(int index, Act value, IReadOnlyCollection<int>? capture, Dictionary<int, Tensor>? captured)
    {
        if (capture is not null && captured is not null && capture.Contains(index))
        {
            captured[index] = value.Nhwc.contiguous();
        }
    }

    // ---------------------------------------------------------------- preparation

    private void Prepare(Operator op)
    {
        switch (op.Kind)
        {
            case OpKind.Conv2D:
                AddParam(op.Inputs[1], ParamLayout.ConvOihw, null);
                AddBias(op);
                break;
            case OpKind.DepthwiseConv2D:
                AddParam(op.Inputs[1], ParamLayout.DepthwiseO1hw, null);
                AddBias(op);
                break;
            case OpKind.FullyConnected:
                AddParam(op.Inputs[1], ParamLayout.Same, null);
                AddBias(op);
                break;
            case OpKind.Add:
                foreach (int i in op.Inputs)
                {
                    if (_model.Tensors[i].IsConstant)
                    {
                        AddParam(i, ParamLayout.Same, null);
                    }
                }
                break;
            case OpKind.Pad:
                _padAmounts[op.Outputs[0]] = ReadPaddings(op);
                break;
            case OpKind.Quantize or OpKind.Dequantize:
                // A DEQUANTIZE of constant weights (e.g. a hybrid model) is just a float constant here.
                if (_model.Tensors[op.Inputs[0]].IsConstant)
                {
                    AddParam(op.Inputs[0], ParamLayout.Same, null);
                }
                break;
            case OpKind.AveragePool2D or OpKind.MaxPool2D or OpKind.Reshape or OpKind.Softmax:
                break;
            default:
                throw new ModelException($"{_model.Name}: the float engine does not support {op.Kind}");
        }
    }

    private void AddBias(Operator op)
    {
        if (op.Inputs.Length < 3 || op.Inputs[2] < 0)
        {
            return;
        }
        IrTensor bias = _model.Tensors[op.Inputs[2]];
        float[]? scales = null;
        if (bias.Type != ElementType.Float32 && bias.Quant is null)
        {
            // TFLite's bias scale is input scale x weight scale; use it when the file omits it.
            IrTensor input = _model.Tensors[op.Inputs[0]];
            IrTensor weights = _model.Tensors[op.Inputs[1]];
            if (input.Quant is null || weights.Quant is null)
            {
                throw new ModelException($"{_model.Name}: bias '{bias.Name}' is {bias.Type} without quantization parameters");
            }
            int n = bias.ElementCount;
            scales = new float[n];
            for (int c = 0; c < n; c++)
            {
                scales[c] = input.Quant.Scale * weights.Quant.Scales[weights.Quant.PerChannel ? c : 0];
            }
        }
        AddParam(op.Inputs[2], ParamLayout.Same, scales);
    }

    private void AddParam(int index, ParamLayout layout, float[]? biasScales)
    {
        if (_params.ContainsKey(index))
        {
            return;
        }
        IrTensor t = _model.Tensors[index];
        if (!t.IsConstant)
        {
            throw new ModelException($"{_model.Name}: tensor '{t.Name}' should be constant weights but has no data");
        }
        float[] values = biasScales is null ? Dequantize(t) : ScaleRaw(t, biasScales);
        long[] shape = t.Shape.Select(d => (long)d).ToArray();
        Tensor w = tensor(values, shape);
        w = layout switch
        {
            ParamLayout.ConvOihw => w.permute(0, 3, 1, 2),
            ParamLayout.DepthwiseO1hw => w.permute(3, 0, 1, 2),
            _ => w,
        };
        var p = new Parameter(w.contiguous(), requires_grad: false);
        _params[index] = p;
        _layouts[index] = layout;
        register_parameter($"t{index}", p);
    }

    /// <summary>A constant as float in IR layout: scale*(q-zp) per channel for quantized types.</summary>
    public static float[] Dequantize(IrTensor t)
    {
        int n = t.ElementCount;
        var result = new float[n];
        if (t.Type == ElementType.Float32)
        {
            t.DataAs<float>()[..n].CopyTo(result);
            return result;
        }
        double[] raw = RawValues(t);
        QuantParams? q = t.Quant;
        if (q is null)
        {
            for (int i = 0; i < n; i++)
            {
                result[i] = (float)raw[i];
            }
            return result;
        }
        int dim = q.PerChannel ? q.QuantizedDimension : 0;
        int channels = q.PerChannel ? t.Shape[dim] : 1;
        int inner = 1;
        for (int d = dim + 1; q.PerChannel && d < t.Shape.Length; d++)
        {
            inner *= t.Shape[d];
        }
        if (q.PerChannel && q.Scales.Length != channels)
        {
            throw new ModelException($"tensor '{t.Name}': {q.Scales.Length} scales for {channels} channels along dimension {dim}");
        }
        for (int i = 0; i < n; i++)
        {
            int c = q.PerChannel ? i / inner % channels : 0;
            long zp = q.ZeroPoints.Length > c ? q.ZeroPoints[c] : q.ZeroPoints.Length > 0 ? q.ZeroPoints[0] : 0;
            result[i] = (float)(q.Scales[c] * (raw[i] - zp));
        }
        return result;
    }

    private static float[] ScaleRaw(IrTensor t, float[] scales)
    {
        double[] raw = RawValues(t);
        var result = new float[raw.Length];
        for (int i = 0; i < raw.Length; i++)
        {
            result[i] = (float)(scales[i] * raw[i]);
        }
        return result;
    }

    private static double[] RawValues(IrTensor t)
    {
        int n = t.ElementCount;
        var raw = new double[n];
        switch (t.Type)
        {
            case ElementType.Int8:
                ReadOnlySpan<sbyte> s8 = t.DataAs<sbyte>();
                for (int i = 0; i < n; i++) { raw[i] = s8[i]; }
                break;
            case ElementType.UInt8:
                ReadOnlySpan<byte> u8 = t.DataAs<byte>();
                for (int i = 0; i < n; i++) { raw[i] = u8[i]; }
                break;
            case ElementType.Int16:
                ReadOnlySpan<short> s16 = t.DataAs<short>();
                for (int i = 0; i < n; i++) { raw[i] = s16[i]; }
                break;
            case ElementType.Int32:
                ReadOnlySpan<int> s32 = t.DataAs<int>();
                for (int i = 0; i < n; i++) { raw[i] = s32[i]; }
                break;
            case ElementType.Int64:
                ReadOnlySpan<long> s64 = t.DataAs<long>();
                for (int i = 0; i < n; i++) { raw[i] = s64[i]; }
                break;
            case ElementType.Float32:
                ReadOnlySpan<float> f = t.DataAs<float>();
                for (int i = 0; i < n; i++) { raw[i] = f[i]; }
                break;
            default:
                throw new ModelException($"tensor '{t.Name}': unsupported type {t.Type}");
        }
        return raw;
    }

    /// <summary>Pad amounts as [before, after] per NHWC dimension.</summary>
    private long[] ReadPaddings(Operator op)
    {
        IrTensor p = _model.Tensors[op.Inputs[1]];
        if (!p.IsConstant)
        {
            throw new ModelException($"{_model.Name}: PAD with non-constant paddings is not supported");
        }
        long[] amounts = p.Type switch
        {
            ElementType.Int32 => p.DataAs<int>().ToArray().Select(v => (long)v).ToArray(),
            ElementType.Int64 => p.DataAs<long>().ToArray(),
            _ => throw new ModelException($"{_model.Name}: PAD paddings of type {p.Type}"),
        };
        if (amounts.Length >= 2 && (amounts[0] != 0 || amounts[1] != 0))
        {
            throw new ModelException($"{_model.Name}: PAD along the batch dimension is not supported");
        }
        return amounts;
    }

    private static int FindLogits(QnnModel model, out bool softmax)
    {
        int t = model.Outputs[0];
        softmax = false;
        while (true)
        {
            Operator? producer = model.Operators.LastOrDefault(o => o.Outputs.Contains(t));
            if (producer is null)
            {
                return t;
            }
            switch (producer.Kind)
            {
                case OpKind.Quantize or OpKind.Dequantize:
                    t = producer.Inputs[0];
                    continue;
                case OpKind.Softmax:
                    softmax = true;
                    return producer.Inputs[0];
                default:
                    return t;
            }
        }
    }

    // ---------------------------------------------------------------- execution

    private Act Input(Dictionary<int, Act> values, int index)
    {
        if (values.TryGetValue(index, out Act a))
        {
            return a;
        }
        if (_params.TryGetValue(index, out Parameter? p))
        {
            return new Act(p, false);
        }
        throw new ModelException($"{_model.Name}: tensor {index} ('{_model.Tensors[index].Name}') is used before it is produced");
    }

    private Act Execute(Operator op, Dictionary<int, Act> values)
    {
        Act x = Input(values, op.Inputs[0]);
        switch (op.Kind)
        {
            case OpKind.Conv2D:
                {
                    var o = op.OptionsAs<ConvOptions>();
                    Tensor w = _params[op.Inputs[1]];
                    Tensor y = Convolve(x.NchwT, w, BiasOf(op), o.Padding, o.StrideH, o.StrideW, o.DilationH, o.DilationW, 1);
                    return new Act(Activate(y, o.Activation), true);
                }
            case OpKind.DepthwiseConv2D:
                {
                    var o = op.OptionsAs<DepthwiseOptions>();
                    Tensor input = x.NchwT;
                    Tensor w = _params[op.Inputs[1]];
                    Tensor y = Convolve(input, w, BiasOf(op), o.Padding, o.StrideH, o.StrideW, o.DilationH, o.DilationW, input.shape[1]);
                    return new Act(Activate(y, o.Activation), true);
                }
            case OpKind.FullyConnected:
                {
                    var o = op.OptionsAs<FullyConnectedOptions>();
                    Tensor w = _params[op.Inputs[1]];
                    Tensor input = x.Nhwc;
                    Tensor y = Activate(F.linear(input.reshape(-1, w.shape[1]), w, BiasOf(op)), o.Activation);
                    if (o.KeepNumDims && input.dim() > 2)
                    {
                        long[] shape = input.shape;
                        shape[^1] = w.shape[0];
                        y = y.reshape(shape);
                    }
                    return new Act(y, false);
                }
            case OpKind.AveragePool2D:
                {
                    var o = op.OptionsAs<PoolOptions>();
                    return new Act(Activate(AveragePool(x.NchwT, o), o.Activation), true);
                }
            case OpKind.MaxPool2D:
                {
                    var o = op.OptionsAs<PoolOptions>();
                    return new Act(Activate(MaxPool(x.NchwT, o), o.Activation), true);
                }
            case OpKind.Add:
                {
                    var o = op.OptionsAs<AddOptions>();
                    Act b = Input(values, op.Inputs[1]);
                    bool nchw = x.Nchw && b.Nchw;
                    Tensor sum = nchw ? x.T.add(b.T, Scalars.One) : x.Nhwc.add(b.Nhwc, Scalars.One);
                    return new Act(Activate(sum, o.Activation), nchw);
                }
            case OpKind.Reshape:
                {
                    IrTensor outT = _model.Tensors[op.Outputs[0]];
                    Tensor src = x.Nhwc;
                    long[] shape = outT.Shape.Select(d => (long)d).ToArray();
                    if (shape.Length == 0)
                    {
                        return new Act(src.reshape(-1), false);
                    }
                    shape[0] = src.shape[0];
                    for (int i = 1; i < shape.Length; i++)
                    {
                        if (shape[i] < 0)
                        {
                            shape[i] = -1;
                        }
                    }
                    return new Act(src.reshape(shape), false);
                }
            case OpKind.Pad:
                {
                    long[] a = _padAmounts[op.Outputs[0]];
                    double value = PadValue(op);
                    int rank = a.Length / 2;
                    if (x.Nchw && rank == 4)
                    {
                        // F.pad lists the last dimension first: NCHW -> W, H, C.
                        long[] pads = [a[4], a[5], a[2], a[3], a[6], a[7]];
                        return new Act(F.pad(x.T, pads, value: value), true);
                    }
                    var nhwcPads = new List<long>();
                    for (int d = rank - 1; d >= 1; d--)
                    {
                        nhwcPads.Add(a[2 * d]);
                        nhwcPads.Add(a[2 * d + 1]);
                    }
                    return new Act(F.pad(x.T, nhwcPads.ToArray(), value: value), x.Nchw);
                }
            case OpKind.Softmax:
                {
                    var o = op.OptionsAs<SoftmaxOptions>();
                    Tensor logits = o.Beta == 1f ? x.T : x.T * o.Beta;
                    long dim = x.Nchw && x.T.dim() == 4 ? 1 : -1;
                    return new Act(F.softmax(logits, dim), x.Nchw);
                }
            case OpKind.Quantize or OpKind.Dequantize:
                return x;
            default:
                throw new ModelException($"{_model.Name}: the float engine does not support {op.Kind}");
        }
    }

    private Tensor? BiasOf(Operator op)
        => op.Inputs.Length >= 3 && op.Inputs[2] >= 0 ? _params[op.Inputs[2]] : null;

    private double PadValue(Operator op)
    {
        // PADV2 passes a constant; the quantized pad value is the zero point, i.e. real 0.
        if (op.Inputs.Length >= 3 && op.Inputs[2] >= 0 && _model.Tensors[op.Inputs[2]].IsConstant)
        {
            return Dequantize(_model.Tensors[op.Inputs[2]])[0];
        }
        return 0;
    }

    /// <summary>TF's SAME padding: total = max((ceil(in/s)-1)*s + (k-1)*d + 1 - in, 0), before = total/2.</summary>
    public static (int Before, int After) SamePadding(int inSize, int kernel, int stride, int dilation)
    {
        int outSize = (inSize + stride - 1) / stride;
        int total = Math.Max((outSize - 1) * stride + (kernel - 1) * dilation + 1 - inSize, 0);
        return (total / 2, total - total / 2);
    }

    private static Tensor Convolve(Tensor x, Tensor w, Tensor? bias, Padding padding, int sh, int sw, int dh, int dw, long groups)
    {
        long[] pad = [0, 0];
        if (padding == Padding.Same)
        {
            var (top, bottom) = SamePadding((int)x.shape[2], (int)w.shape[2], sh, dh);
            var (left, right) = SamePadding((int)x.shape[3], (int)w.shape[3], sw, dw);
            if (top == bottom && left == right)
            {
                pad = [top, left];
            }
            else
            {
                x = F.pad(x, [left, right, top, bottom]);
            }
        }
        return F.conv2d(x, w, bias, strides: [sh, sw], padding: pad, dilation: [dh, dw], groups: groups);
    }

    private static Tensor MaxPool(Tensor x, PoolOptions o)
    {
        long[] k = [o.FilterH, o.FilterW];
        long[] s = [o.StrideH, o.StrideW];
        if (o.Padding == Padding.Same)
        {
            var (top, bottom) = SamePadding((int)x.shape[2], o.FilterH, o.StrideH, 1);
            var (left, right) = SamePadding((int)x.shape[3], o.FilterW, o.StrideW, 1);
            if (top + bottom + left + right > 0)
            {
                // Padded taps must never win: pad with -inf (every SAME window has a real tap).
                x = F.pad(x, [left, right, top, bottom], value: double.NegativeInfinity);
            }
        }
        return F.max_pool2d(x, k, s);
    }

    private static Tensor AveragePool(Tensor x, PoolOptions o)
    {
        long[] k = [o.FilterH, o.FilterW];
        long[] s = [o.StrideH, o.StrideW];
        if (o.Padding == Padding.Valid)
        {
            return F.avg_pool2d(x, k, s);
        }
        var (top, bottom) = SamePadding((int)x.shape[2], o.FilterH, o.StrideH, 1);
        var (left, right) = SamePadding((int)x.shape[3], o.FilterW, o.StrideW, 1);
        if (top + bottom + left + right == 0)
        {
            return F.avg_pool2d(x, k, s);
        }
        // TFLite divides by the number of taps inside the image: sum / count, both over zero padding.
        long[] pads = [left, right, top, bottom];
        Tensor sum = F.avg_pool2d(F.pad(x, pads), k, s, divisor_override: 1);
        using Tensor ones = torch.ones(1, 1, x.shape[2], x.shape[3], dtype: x.dtype);
        Tensor count = F.avg_pool2d(F.pad(ones, pads), k, s, divisor_override: 1);
        return sum / count;
    }

    private static Tensor Activate(Tensor x, Activation a) => a switch
    {
        Activation.None => x,
        Activation.Relu => F.relu(x),
        Activation.Relu6 => x.clamp(Scalars.Of(0), Scalars.Of(6)),
        Activation.ReluN1To1 => x.clamp(Scalars.Of(-1), Scalars.Of(1)),
        _ => throw new ModelException($"unsupported fused activation {a}"),
    };

    /// <summary>Quantize-dequantize on the tensor's grid with a straight-through gradient.</summary>
    private Tensor FakeQuant(Tensor x, IrTensor t)
    {
        if (!_options.FakeQuantActivations || t.Quant is null || t.Type is ElementType.Float32 or ElementType.Int32 or ElementType.Int64)
        {
            return x;
        }
        (double lo, double hi) = t.Type switch
        {
            ElementType.Int8 => (-128.0, 127.0),
            ElementType.UInt8 => (0.0, 255.0),
            _ => (-32768.0, 32767.0),
        };
        double scale = t.Quant.Scale;
        double zp = t.Quant.ZeroPoint;
        // round() is half-to-even; TFLite rounds half away from zero: sign(v)*floor(|v|+0.5).
        // In-place steps: every temporary here is as large as the activation.
        using Tensor v = x.detach().div(Scalars.Of(scale));
        using Tensor sign = v.sign();
        Tensor dq = v.abs().add_(Scalars.Of(0.5)).floor_().mul_(sign).add_(Scalars.Of(zp)).clamp_(Scalars.Of(lo), Scalars.Of(hi))
            .sub_(Scalars.Of(zp)).mul_(Scalars.Of(scale));
        if (!x.requires_grad)
        {
            return dq;
        }
        // Straight-through: the forward value of dq, the gradient of x.
        return x.add(dq.sub_(x.detach()), Scalars.One);
    }

    // ---------------------------------------------------------------- write-back

    /// <summary>
    /// Writes the current weights into <paramref name="target"/>'s float tensors (same graph as the
    /// source). Only float models: quantized weights are the quantizer's job.
    /// </summary>
    public void WriteWeightsTo(QnnModel target)
    {
        foreach (var (index, p) in _params)
        {
            IrTensor t = target.Tensors[index];
            if (t.Type != ElementType.Float32)
            {
                throw new ModelException($"{target.Name}: tensor '{t.Name}' is {t.Type}; weights can only be written back into a float model");
            }
            using var scope = NewDisposeScope();
            Tensor ir = _layouts[index] switch
            {
                ParamLayout.ConvOihw => p.detach().permute(0, 2, 3, 1),
                ParamLayout.DepthwiseO1hw => p.detach().permute(1, 2, 3, 0),
                _ => p.detach(),
            };
            float[] values = ir.contiguous().data<float>().ToArray();
            if (values.Length != t.ElementCount)
            {
                throw new ModelException($"{target.Name}: tensor '{t.Name}' has {t.ElementCount} elements, the module {values.Length}");
            }
            t.Data = System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
        }
    }

    /// <summary>A copy of the source float model carrying the module's current weights.</summary>
    public QnnModel ToQnnModel()
    {
        QnnModel copy = ModelCopy.Clone(_model);
        WriteWeightsTo(copy);
        return copy;
    }
}
