using QnnLab.Data;
using QnnLab.Model;

namespace QnnLab.Quantization;

/// <summary>
/// A plain float32 interpreter over the IR: naive loops, TensorFlow's SAME padding (extra padding at
/// the bottom/right), average pooling that counts only taps inside the image. It is the oracle other
/// engines are checked against and the calibrator's source of intermediate tensors, so it favours
/// being obviously right over being fast.
/// </summary>
public sealed class FloatReference
{
    private readonly QnnModel _model;
    private readonly float[]?[] _constants;

    public FloatReference(QnnModel model)
    {
        _model = model;
        _constants = new float[]?[model.Tensors.Count];
        for (int i = 0; i < model.Tensors.Count; i++)
        {
            Tensor t = model.Tensors[i];
            if (t.IsConstant && t.Type == ElementType.Float32)
            {
                _constants[i] = t.DataAs<float>().ToArray();
            }
        }
        foreach (Operator op in model.Operators)
        {
            if (op.Kind is OpKind.Quantize or OpKind.Dequantize)
            {
                throw new ModelException($"{model.Name}: the float reference runs float models only ({op.Kind} found)");
            }
            Tensor input = model.Tensors[op.Inputs[0]];
            if (input.Type != ElementType.Float32)
            {
                throw new ModelException($"{model.Name}: the float reference runs float models only ({op} reads {input})");
            }
        }
    }

    public QnnModel Model => _model;

    /// <summary>The model's real-valued input for image <paramref name="index"/>: pixel * scale + offset.</summary>
    public static float[] Preprocess(QnnModel model, ImageSet images, int index)
    {
        var x = new float[images.ImageSize];
        images.CopyImage(index, x);
        InputPreprocessing p = model.Preprocessing;
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = x[i] * p.Scale + p.Offset;
        }
        return x;
    }

    /// <summary>Runs the model and returns its (first) output.</summary>
    public float[] Run(ReadOnlySpan<float> input) => RunAll(input)[_model.Outputs[0]]!;

    /// <summary>Runs the model and returns the value of every tensor, indexed like <see cref="QnnModel.Tensors"/>.</summary>
    public float[]?[] RunAll(ReadOnlySpan<float> input) => RunAll(input, null);

    /// <summary>
    /// Runs the model; <paramref name="onTensor"/> sees (and may change in place) each activation tensor
    /// as soon as it is computed, the input first: the hook that fake quantization uses.
    /// </summary>
    public float[]?[] RunAll(ReadOnlySpan<float> input, Action<int, float[]>? onTensor)
    {
        var values = (float[]?[])_constants.Clone();
        Tensor inputTensor = _model.InputTensor;
        if (input.Length != inputTensor.ElementCount)
        {
            throw new ArgumentException($"input has {input.Length} values, {inputTensor} needs {inputTensor.ElementCount}");
        }
        values[_model.Inputs[0]] = input.ToArray();
        onTensor?.Invoke(_model.Inputs[0], values[_model.Inputs[0]]!);
        foreach (Operator op in _model.Operators)
        {
            float[] x = values[op.Inputs[0]] ?? throw new InvalidOperationException($"{op}: input not computed");
            Tensor xt = _model.Tensors[op.Inputs[0]];
            Tensor yt = _model.Tensors[op.Outputs[0]];
            values[op.Outputs[0]] = op.Kind switch
            {
                OpKind.Conv2D => Conv(x, xt.Shape, values[op.Inputs[1]]!, _model.Tensors[op.Inputs[1]].Shape, Bias(op, values), yt.Shape, op.OptionsAs<ConvOptions>()),
                OpKind.DepthwiseConv2D => Depthwise(x, xt.Shape, values[op.Inputs[1]]!, _model.Tensors[op.Inputs[1]].Shape, Bias(op, values), yt.Shape, op.OptionsAs<DepthwiseOptions>()),
                OpKind.FullyConnected => FullyConnected(x, values[op.Inputs[1]]!, _model.Tensors[op.Inputs[1]].Shape, Bias(op, values), op.OptionsAs<FullyConnectedOptions>().Activation),
                OpKind.AveragePool2D => Pool(x, xt.Shape, yt.Shape, op.OptionsAs<PoolOptions>(), average: true),
                OpKind.MaxPool2D => Pool(x, xt.Shape, yt.Shape, op.OptionsAs<PoolOptions>(), average: false),
                OpKind.Add => Add(x, values[op.Inputs[1]]!, op.OptionsAs<AddOptions>().Activation),
                OpKind.Reshape => (float[])x.Clone(),
                OpKind.Pad => Pad(x, xt.Shape, yt.Shape, _model.Tensors[op.Inputs[1]].DataAs<int>()),
                OpKind.Softmax => Softmax(x, yt.Shape[^1], op.OptionsAs<SoftmaxOptions>().Beta),
                _ => throw new ModelException($"{_model.Name}: the float reference does not support {op.Kind}"),
            };
            onTensor?.Invoke(op.Outputs[0], values[op.Outputs[0]]!);
        }
        return values;
    }

    private static float[]? Bias(Operator op, float[]?[] values) => op.Inputs.Length > 2 && op.Inputs[2] >= 0 ? values[op.Inputs[2]] : null;

    public static float ApplyActivation(float v, Activation a) => a switch
    {
        Activation.None => v,
        Activation.Relu => MathF.Max(v, 0f),
        Activation.Relu6 => Math.Clamp(v, 0f, 6f),
        Activation.ReluN1To1 => Math.Clamp(v, -1f, 1f),
        _ => throw new ArgumentOutOfRangeException(nameof(a)),
    };

    /// <summary>TensorFlow's padding before the first row/column: SAME puts the odd extra pixel after.</summary>
    public static int PaddingBefore(Padding padding, int input, int output, int stride, int kernel, int dilation)
    {
        if (padding == Padding.Valid)
        {
            return 0;
        }
        int effective = (kernel - 1) * dilation + 1;
        return Math.Max((output - 1) * stride + effective - input, 0) / 2;
    }

    private static float[] Conv(float[] x, int[] xs, float[] w, int[] ws, float[]? bias, int[] ys, ConvOptions o)
    {
        int ih = xs[1], iw = xs[2], ic = xs[3];
        int oc = ws[0], kh = ws[1], kw = ws[2];
        int oh = ys[1], ow = ys[2];
        int padT = PaddingBefore(o.Padding, ih, oh, o.StrideH, kh, o.DilationH);
        int padL = PaddingBefore(o.Padding, iw, ow, o.StrideW, kw, o.DilationW);
        var y = new float[oh * ow * oc];
        for (int oy = 0; oy < oh; oy++)
        {
            for (int ox = 0; ox < ow; ox++)
            {
                for (int c = 0; c < oc; c++)
                {
                    float acc = bias?[c] ?? 0f;
                    for (int ky = 0; ky < kh; ky++)
                    {
                        int iy = oy * o.StrideH - padT + ky * o.DilationH;
                        if (iy < 0 || iy >= ih)
                        {
                            continue;
                        }
                        for (int kx = 0; kx < kw; kx++)
                        {
                            int ix = ox * o.StrideW - padL + kx * o.DilationW;
                            if (ix < 0 || ix >= iw)
                            {
                                continue;
                            }
                            int xBase = (iy * iw + ix) * ic;
                            int wBase = ((c * kh + ky) * kw + kx) * ic;
                            for (int i = 0; i < ic; i++)
                            {
                                acc += x[xBase + i] * w[wBase + i];
                            }
                        }
                    }
                    y[(oy * ow + ox) * oc + c] = ApplyActivation(acc, o.Activation);
                }
            }
        }
        return y;
    }

    private static float[] Depthwise(float[] x, int[] xs, float[] w, int[] ws, float[]? bias, int[] ys, DepthwiseOptions o)
    {
        int ih = xs[1], iw = xs[2], ic = xs[3];
        int kh = ws[1], kw = ws[2], oc = ws[3];
        int oh = ys[1], ow = ys[2];
        int mult = oc / ic;
        int padT = PaddingBefore(o.Padding, ih, oh, o.StrideH, kh, o.DilationH);
        int padL = PaddingBefore(o.Padding, iw, ow, o.StrideW, kw, o.DilationW);
        var y = new float[oh * ow * oc];
        for (int oy = 0; oy < oh; oy++)
        {
            for (int ox = 0; ox < ow; ox++)
            {
                for (int c = 0; c < oc; c++)
                {
                    int inC = c / mult;
                    float acc = bias?[c] ?? 0f;
                    for (int ky = 0; ky < kh; ky++)
                    {
                        int iy = oy * o.StrideH - padT + ky * o.DilationH;
                        if (iy < 0 || iy >= ih)
                        {
                            continue;
                        }
                        for (int kx = 0; kx < kw; kx++)
                        {
                            int ix = ox * o.StrideW - padL + kx * o.DilationW;
                            if (ix < 0 || ix >= iw)
                            {
                                continue;
                            }
                            acc += x[(iy * iw + ix) * ic + inC] * w[(ky * kw + kx) * oc + c];
                        }
                    }
                    y[(oy * ow + ox) * oc + c] = ApplyActivation(acc, o.Activation);
                }
            }
        }
        return y;
    }

    private static float[] FullyConnected(float[] x, float[] w, int[] ws, float[]? bias, Activation act)
    {
        int outN = ws[0], inN = ws[1];
        int batches = x.Length / inN;
        var y = new float[batches * outN];
        for (int b = 0; b < batches; b++)
        {
            for (int o = 0; o < outN; o++)
            {
                float acc = bias?[o] ?? 0f;
                for (int i = 0; i < inN; i++)
                {
                    acc += x[b * inN + i] * w[o * inN + i];
                }
                y[b * outN + o] = ApplyActivation(acc, act);
            }
        }
        return y;
    }

    private static float[] Pool(float[] x, int[] xs, int[] ys, PoolOptions o, bool average)
    {
        int ih = xs[1], iw = xs[2], c = xs[3];
        int oh = ys[1], ow = ys[2];
        int padT = PaddingBefore(o.Padding, ih, oh, o.StrideH, o.FilterH, 1);
        int padL = PaddingBefore(o.Padding, iw, ow, o.StrideW, o.FilterW, 1);
        var y = new float[oh * ow * c];
        for (int oy = 0; oy < oh; oy++)
        {
            for (int ox = 0; ox < ow; ox++)
            {
                for (int ch = 0; ch < c; ch++)
                {
                    float acc = average ? 0f : float.NegativeInfinity;
                    int count = 0;
                    for (int ky = 0; ky < o.FilterH; ky++)
                    {
                        int iy = oy * o.StrideH - padT + ky;
                        if (iy < 0 || iy >= ih)
                        {
                            continue;
                        }
                        for (int kx = 0; kx < o.FilterW; kx++)
                        {
                            int ix = ox * o.StrideW - padL + kx;
                            if (ix < 0 || ix >= iw)
                            {
                                continue;
                            }
                            float v = x[(iy * iw + ix) * c + ch];
                            acc = average ? acc + v : MathF.Max(acc, v);
                            count++;
                        }
                    }
                    y[(oy * ow + ox) * c + ch] = ApplyActivation(average ? acc / count : acc, o.Activation);
                }
            }
        }
        return y;
    }

    private static float[] Add(float[] a, float[] b, Activation act)
    {
        if (a.Length != b.Length)
        {
            throw new ModelException($"add of {a.Length} and {b.Length} values: broadcasting is not supported");
        }
        var y = new float[a.Length];
        for (int i = 0; i < y.Length; i++)
        {
            y[i] = ApplyActivation(a[i] + b[i], act);
        }
        return y;
    }

    private static float[] Pad(float[] x, int[] xs, int[] ys, ReadOnlySpan<int> paddings)
    {
        // paddings is [rank, 2]; only NHWC with zero batch/channel padding occurs in our models.
        int top = paddings[2], left = paddings[4];
        int ih = xs[1], iw = xs[2], c = xs[3];
        int ow = ys[2];
        var y = new float[ys[1] * ow * c];
        for (int iy = 0; iy < ih; iy++)
        {
            for (int ix = 0; ix < iw; ix++)
            {
                Array.Copy(x, (iy * iw + ix) * c, y, ((iy + top) * ow + ix + left) * c, c);
            }
        }
        return y;
    }

    private static float[] Softmax(float[] x, int depth, float beta)
    {
        var y = new float[x.Length];
        for (int start = 0; start < x.Length; start += depth)
        {
            float max = float.NegativeInfinity;
            for (int i = 0; i < depth; i++)
            {
                max = MathF.Max(max, x[start + i]);
            }
            double sum = 0;
            for (int i = 0; i < depth; i++)
            {
                sum += Math.Exp(beta * (x[start + i] - max));
            }
            for (int i = 0; i < depth; i++)
            {
                y[start + i] = (float)(Math.Exp(beta * (x[start + i] - max)) / sum);
            }
        }
        return y;
    }

    /// <summary>Index of the largest value; ties go to the lowest index, as numpy's argmax.</summary>
    public static int ArgMax(ReadOnlySpan<float> v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++)
        {
            if (v[i] > v[best])
            {
                best = i;
            }
        }
        return best;
    }
}
