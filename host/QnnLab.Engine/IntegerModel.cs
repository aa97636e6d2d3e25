using QnnLab.Model;

namespace QnnLab.Engine;

/// <summary>
/// An integer model compiled for execution: the operators' precomputed parameters (TFLM's Prepare done
/// once), and an arena layout with buffer reuse. Immutable; share it between engines (one per thread).
/// A float QUANTIZE at the model's input and a DEQUANTIZE at its output are folded into the
/// boundary (<see cref="InputQuantization"/>, <see cref="OutputDequantization"/>): the engine itself is integer only.
/// </summary>
public sealed class IntegerModel
{
    /// <summary>Arena offsets are aligned to this many bytes (per image), so SIMD loads stay aligned.</summary>
    public const int Alignment = 64;

    private IntegerModel(QnnModel source, IReadOnlyList<CompiledOp> ops, IReadOnlyList<TensorSlot> slots, TensorSlot input, TensorSlot output, long arenaBytesPerImage)
    {
        Source = source;
        Ops = ops;
        Slots = slots;
        Input = input;
        Output = output;
        ArenaBytesPerImage = arenaBytesPerImage;
    }

    public QnnModel Source { get; }
    public IReadOnlyList<CompiledOp> Ops { get; }
    /// <summary>Every activation tensor the plan uses, with its arena place.</summary>
    public IReadOnlyList<TensorSlot> Slots { get; }
    /// <summary>The integer tensor the engine reads (after any float QUANTIZE at the model's input).</summary>
    public TensorSlot Input { get; }
    /// <summary>The integer tensor the engine produces (before any float DEQUANTIZE at the model's output).</summary>
    public TensorSlot Output { get; }
    public long ArenaBytesPerImage { get; }
    public ElementType ActivationType => Input.Type;
    public int InputSize => Input.ElementsPerImage;
    public int OutputSize => Output.ElementsPerImage;

    /// <summary>How real inputs become the engine's integer input: q = round(x / Scale) + ZeroPoint (half away from zero, clamped).</summary>
    public (float Scale, int ZeroPoint) InputQuantization => (Input.Scale, Input.ZeroPoint);
    /// <summary>How the engine's integer output becomes real values: x = Scale * (q - ZeroPoint).</summary>
    public (float Scale, int ZeroPoint) OutputDequantization => (Output.Scale, Output.ZeroPoint);
    /// <summary>True when the model ends in a softmax, so dequantized outputs are probabilities.</summary>
    public bool EndsInSoftmax => Ops.Count > 0 && Ops[^1] is SoftmaxPlan && Ops[^1].Output == Output;

    public static IntegerModel Compile(QnnModel model)
    {
        if (model.Inputs.Length != 1 || model.Outputs.Length != 1)
        {
            throw new ModelException($"{model.Name}: the integer engine needs exactly one input and one output (has {model.Inputs.Length} and {model.Outputs.Length})");
        }
        var operators = model.Operators.Select((op, i) => (op, i)).ToList();
        int inputTensor = model.Inputs[0];
        int outputTensor = model.Outputs[0];

        // Fold a float boundary: QUANTIZE(float input) first, DEQUANTIZE(-> float output) last.
        if (model.Tensors[inputTensor].Type == ElementType.Float32)
        {
            int qi = operators.FindIndex(t => t.op.Kind == OpKind.Quantize && t.op.Inputs[0] == inputTensor);
            if (qi < 0)
            {
                throw new ModelException($"{model.Name}: float input '{model.Tensors[inputTensor].Name}' is not followed by a QUANTIZE");
            }
            inputTensor = operators[qi].op.Outputs[0];
            operators.RemoveAt(qi);
        }
        if (model.Tensors[outputTensor].Type == ElementType.Float32)
        {
            int di = operators.FindIndex(t => t.op.Kind == OpKind.Dequantize && t.op.Outputs[0] == outputTensor);
            if (di < 0)
            {
                throw new ModelException($"{model.Name}: float output '{model.Tensors[outputTensor].Name}' is not produced by a DEQUANTIZE");
            }
            outputTensor = operators[di].op.Inputs[0];
            operators.RemoveAt(di);
        }

        var builder = new SlotBuilder(model, operators.Select(t => t.op).ToList(), inputTensor, outputTensor);
        var ops = new List<CompiledOp>(operators.Count);
        foreach ((Operator op, int index) in operators)
        {
            ops.Add(CompileOp(model, op, index, builder));
        }
        return new IntegerModel(model, ops, builder.AllSlots, builder.Slot(inputTensor), builder.Slot(outputTensor), builder.ArenaBytesPerImage);
    }

    private static CompiledOp CompileOp(QnnModel model, Operator op, int index, SlotBuilder slots)
    {
        string where = $"{model.Name}: operator {index} ({op.Kind})";
        try
        {
            return op.Kind switch
            {
                OpKind.Conv2D => CompileConv(model, op, index, slots),
                OpKind.DepthwiseConv2D => CompileDepthwise(model, op, index, slots),
                OpKind.FullyConnected => CompileFullyConnected(model, op, index, slots),
                OpKind.AveragePool2D or OpKind.MaxPool2D => CompilePool(op, index, slots),
                OpKind.Add => CompileAdd(op, index, slots),
                OpKind.Pad => CompilePad(model, op, index, slots),
                OpKind.Reshape => new ReshapePlan { OperatorIndex = index, Input = slots.Slot(op.Inputs[0]), Output = slots.Slot(op.Outputs[0]) },
                OpKind.Softmax => CompileSoftmax(op, index, slots),
                OpKind.Quantize => CompileRequantize(op, index, slots),
                OpKind.Dequantize => throw new ModelException("DEQUANTIZE is only supported as the model's last operator"),
                _ => throw new ModelException("operator not supported by the integer engine"),
            };
        }
        catch (ModelException e) when (!e.Message.StartsWith(model.Name, StringComparison.Ordinal))
        {
            throw new ModelException($"{where}: {e.Message}", e);
        }
    }

    /// <summary>TFLite ComputeOutSize.</summary>
    public static int ComputeOutSize(Padding padding, int imageSize, int filterSize, int stride, int dilation = 1)
    {
        int effective = ((filterSize - 1) * dilation) + 1;
        return padding == Padding.Same ? (imageSize + stride - 1) / stride : (imageSize + stride - effective) / stride;
    }

    /// <summary>TFLite ComputePaddingWithOffset (the leading padding; the extra odd pixel goes after).</summary>
    public static int ComputePadding(int stride, int dilation, int inSize, int filterSize, int outSize)
    {
        int effective = ((filterSize - 1) * dilation) + 1;
        int total = ((outSize - 1) * stride) + effective - inSize;
        return Math.Max(total, 0) / 2;
    }

    private static (int PadH, int PadW) Paddings(Padding padding, TensorSlot input, TensorSlot output, int kh, int kw, int sh, int sw, int dh, int dw)
    {
        int oh = ComputeOutSize(padding, input.Height, kh, sh, dh);
        int ow = ComputeOutSize(padding, input.Width, kw, sw, dw);
        if (oh != output.Height || ow != output.Width)
        {
            throw new ModelException($"output {output.Name} is {output.Height}x{output.Width}, the options give {oh}x{ow}");
        }
        return (ComputePadding(sh, dh, input.Height, kh, oh), ComputePadding(sw, dw, input.Width, kw, ow));
    }

    private static Tensor Constant(QnnModel model, int tensorIndex, string what)
    {
        if (tensorIndex < 0)
        {
            throw new ModelException($"missing {what}");
        }
        Tensor t = model.Tensors[tensorIndex];
        if (!t.IsConstant)
        {
            throw new ModelException($"{what} '{t.Name}' is not a constant tensor");
        }
        return t;
    }

    private static sbyte[] Int8Weights(QnnModel model, int tensorIndex)
    {
        Tensor w = Constant(model, tensorIndex, "weights");
        if (w.Type != ElementType.Int8)
        {
            throw new ModelException($"weights '{w.Name}' are {w.Type}, expected Int8");
        }
        return w.DataAs<sbyte>().ToArray();
    }

    private static (int[] Int32, long[] Int64) Bias(QnnModel model, Operator op, int channels, bool is16x8)
    {
        var b32 = new int[channels];
        var b64 = new long[channels];
        if (op.Inputs.Length > 2 && op.Inputs[2] >= 0)
        {
            Tensor b = Constant(model, op.Inputs[2], "bias");
            if (b.ElementCount != channels)
            {
                throw new ModelException($"bias '{b.Name}' has {b.ElementCount} values for {channels} channels");
            }
            switch (b.Type)
            {
                case ElementType.Int32:
                    b.DataAs<int>().CopyTo(b32);
                    for (int i = 0; i < channels; i++)
                    {
                        b64[i] = b32[i];
                    }
                    break;
                case ElementType.Int64 when is16x8:
                    b.DataAs<long>().CopyTo(b64);
                    break;
                default:
                    throw new ModelException($"bias '{b.Name}' has type {b.Type}");
            }
        }
        return (b32, b64);
    }

    /// <summary>Per-channel multipliers as TFLite's PopulateConvolutionQuantizationParams: in doubles.</summary>
    private static (int[] Multipliers, int[] Shifts) PerChannelMultipliers(float inputScale, float outputScale, Tensor filter, int channels)
    {
        QuantParams q = filter.Quant ?? throw new ModelException($"weights '{filter.Name}' are not quantized");
        if (q.PerChannel && q.Scales.Length != channels)
        {
            throw new ModelException($"weights '{filter.Name}' have {q.Scales.Length} scales for {channels} channels");
        }
        var m = new int[channels];
        var s = new int[channels];
        for (int c = 0; c < channels; c++)
        {
            double filterScale = q.PerChannel ? q.Scales[c] : q.Scales[0];
            double effective = (double)inputScale * filterScale / outputScale;
            (m[c], s[c]) = Requantization.QuantizeMultiplier(effective);
        }
        return (m, s);
    }

    private static void CheckActivationTypes(TensorSlot input, TensorSlot output)
    {
        if (input.Type is not (ElementType.Int8 or ElementType.Int16) || output.Type != input.Type)
        {
            throw new ModelException($"expected int8 or int16 activations of one type, got {input.Type} -> {output.Type}");
        }
        if (input.Type == ElementType.Int16 && (input.ZeroPoint != 0 || output.ZeroPoint != 0))
        {
            throw new ModelException("16x8 tensors must have zero point 0");
        }
    }

    private static ConvPlan CompileConv(QnnModel model, Operator op, int index, SlotBuilder slots)
    {
        var o = op.OptionsAs<ConvOptions>();
        TensorSlot input = slots.Slot(op.Inputs[0]);
        TensorSlot output = slots.Slot(op.Outputs[0]);
        CheckActivationTypes(input, output);
        Tensor filter = Constant(model, op.Inputs[1], "weights");
        if (filter.Shape.Length != 4 || filter.Shape[3] != input.Channels || filter.Shape[0] != output.Channels)
        {
            throw new ModelException($"weights '{filter.Name}' [{string.Join(",", filter.Shape)}] do not fit {input} -> {output}");
        }
        int kh = filter.Shape[1], kw = filter.Shape[2];
        (int padH, int padW) = Paddings(o.Padding, input, output, kh, kw, o.StrideH, o.StrideW, o.DilationH, o.DilationW);
        bool is16 = input.Type == ElementType.Int16;
        (int[] b32, long[] b64) = Bias(model, op, output.Channels, is16);
        (int[] m, int[] s) = PerChannelMultipliers(input.Scale, output.Scale, filter, output.Channels);
        (int amin, int amax) = Requantization.ActivationRange(o.Activation, output.Scale, output.ZeroPoint, output.Type);
        return new ConvPlan
        {
            OperatorIndex = index,
            Input = input,
            Output = output,
            KernelH = kh,
            KernelW = kw,
            StrideH = o.StrideH,
            StrideW = o.StrideW,
            DilationH = o.DilationH,
            DilationW = o.DilationW,
            PadTop = padH,
            PadLeft = padW,
            Weights = Int8Weights(model, op.Inputs[1]),
            BiasInt32 = b32,
            BiasInt64 = b64,
            InputOffset = -input.ZeroPoint,
            OutputOffset = output.ZeroPoint,
            Multipliers = m,
            Shifts = s,
            ActivationMin = amin,
            ActivationMax = amax,
        };
    }

    private static DepthwisePlan CompileDepthwise(QnnModel model, Operator op, int index, SlotBuilder slots)
    {
        var o = op.OptionsAs<DepthwiseOptions>();
        TensorSlot input = slots.Slot(op.Inputs[0]);
        TensorSlot output = slots.Slot(op.Outputs[0]);
        CheckActivationTypes(input, output);
        Tensor filter = Constant(model, op.Inputs[1], "weights");
        int outC = output.Channels;
        int multiplier = outC / input.Channels;
        if (filter.Shape.Length != 4 || filter.Shape[3] != outC || multiplier * input.Channels != outC)
        {
            throw new ModelException($"depthwise weights '{filter.Name}' [{string.Join(",", filter.Shape)}] do not fit {input} -> {output}");
        }
        int kh = filter.Shape[1], kw = filter.Shape[2];
        (int padH, int padW) = Paddings(o.Padding, input, output, kh, kw, o.StrideH, o.StrideW, o.DilationH, o.DilationW);
        bool is16 = input.Type == ElementType.Int16;
        (int[] b32, long[] b64) = Bias(model, op, outC, is16);
        (int[] m, int[] s) = PerChannelMultipliers(input.Scale, output.Scale, filter, outC);
        (int amin, int amax) = Requantization.ActivationRange(o.Activation, output.Scale, output.ZeroPoint, output.Type);
        return new DepthwisePlan
        {
            OperatorIndex = index,
            Input = input,
            Output = output,
            KernelH = kh,
            KernelW = kw,
            StrideH = o.StrideH,
            StrideW = o.StrideW,
            DilationH = o.DilationH,
            DilationW = o.DilationW,
            PadTop = padH,
            PadLeft = padW,
            DepthMultiplier = multiplier,
            Weights = Int8Weights(model, op.Inputs[1]),
            BiasInt32 = b32,
            BiasInt64 = b64,
            InputOffset = -input.ZeroPoint,
            OutputOffset = output.ZeroPoint,
            Multipliers = m,
            Shifts = s,
            ActivationMin = amin,
            ActivationMax = amax,
        };
    }

    private static FullyConnectedPlan CompileFullyConnected(QnnModel model, Operator op, int index, SlotBuilder slots)
    {
        var o = op.OptionsAs<FullyConnectedOptions>();
        TensorSlot input = slots.Slot(op.Inputs[0]);
        TensorSlot output = slots.Slot(op.Outputs[0]);
        CheckActivationTypes(input, output);
        Tensor filter = Constant(model, op.Inputs[1], "weights");
        if (filter.Shape.Length != 2)
        {
            throw new ModelException($"weights '{filter.Name}' must be 2-D");
        }
        int n = filter.Shape[0], k = filter.Shape[1];
        if (input.ElementsPerImage % k != 0 || output.ElementsPerImage != input.ElementsPerImage / k * n)
        {
            throw new ModelException($"weights [{n},{k}] do not fit {input} -> {output}");
        }
        QuantParams fq = filter.Quant ?? throw new ModelException($"weights '{filter.Name}' are not quantized");
        bool is16 = input.Type == ElementType.Int16;
        int[] m, s;
        if (fq.PerChannel)
        {
            if (is16)
            {
                throw new ModelException("per-channel fully connected is only supported for int8 (as in TFLM)");
            }
            (m, s) = PerChannelMultipliers(input.Scale, output.Scale, filter, n);
        }
        else
        {
            // TFLite takes the product of the two float32 scales in float32, then divides in double.
            double real = (double)(input.Scale * fq.Scale) / output.Scale;
            (int mm, int ss) = Requantization.QuantizeMultiplier(real);
            (m, s) = ([mm], [ss]);
        }
        (int[] b32, long[] b64) = Bias(model, op, n, is16);
        (int amin, int amax) = Requantization.ActivationRange(o.Activation, output.Scale, output.ZeroPoint, output.Type);
        return new FullyConnectedPlan
        {
            OperatorIndex = index,
            Input = input,
            Output = output,
            RowsPerImage = input.ElementsPerImage / k,
            InputDepth = k,
            OutputDepth = n,
            Weights = Int8Weights(model, op.Inputs[1]),
            BiasInt32 = b32,
            BiasInt64 = b64,
            InputOffset = -input.ZeroPoint,
            WeightsOffset = -(int)fq.ZeroPoint,
            OutputOffset = output.ZeroPoint,
            Multipliers = m,
            Shifts = s,
            ActivationMin = amin,
            ActivationMax = amax,
        };
    }

    private static PoolPlan CompilePool(Operator op, int index, SlotBuilder slots)
    {
        var o = op.OptionsAs<PoolOptions>();
        TensorSlot input = slots.Slot(op.Inputs[0]);
        TensorSlot output = slots.Slot(op.Outputs[0]);
        CheckActivationTypes(input, output);
        if (input.Channels != output.Channels)
        {
            throw new ModelException("pooling changes the channel count");
        }
        (int padH, int padW) = Paddings(o.Padding, input, output, o.FilterH, o.FilterW, o.StrideH, o.StrideW, 1, 1);
        (int amin, int amax) = Requantization.ActivationRange(o.Activation, output.Scale, output.ZeroPoint, output.Type);
        return new PoolPlan
        {
            OperatorIndex = index,
            IsMax = op.Kind == OpKind.MaxPool2D,
            Input = input,
            Output = output,
            FilterH = o.FilterH,
            FilterW = o.FilterW,
            StrideH = o.StrideH,
            StrideW = o.StrideW,
            PadTop = padH,
            PadLeft = padW,
            ActivationMin = amin,
            ActivationMax = amax,
        };
    }

    private static AddPlan CompileAdd(Operator op, int index, SlotBuilder slots)
    {
        var o = op.OptionsAs<AddOptions>();
        TensorSlot in1 = slots.Slot(op.Inputs[0]);
        TensorSlot in2 = slots.Slot(op.Inputs[1]);
        TensorSlot output = slots.Slot(op.Outputs[0]);
        CheckActivationTypes(in1, output);
        CheckActivationTypes(in2, output);
        if (in1.ElementsPerImage != output.ElementsPerImage || in2.ElementsPerImage != output.ElementsPerImage)
        {
            throw new ModelException("broadcasting ADD is not supported");
        }
        // TFLM add_common.cc CalculateOpDataAdd, general rescaling path for int8 and int16.
        int leftShift = output.Type == ElementType.Int16 ? 15 : 20;
        double twiceMaxInputScale = 2 * (double)Math.Max(in1.Scale, in2.Scale);
        double real1 = in1.Scale / twiceMaxInputScale;
        double real2 = in2.Scale / twiceMaxInputScale;
        double realOut = twiceMaxInputScale / ((1 << leftShift) * (double)output.Scale);
        (int m1, int s1) = Requantization.QuantizeMultiplierSmallerThanOneExp(real1);
        (int m2, int s2) = Requantization.QuantizeMultiplierSmallerThanOneExp(real2);
        (int mo, int so) = Requantization.QuantizeMultiplierSmallerThanOneExp(realOut);
        (int amin, int amax) = Requantization.ActivationRange(o.Activation, output.Scale, output.ZeroPoint, output.Type);
        return new AddPlan
        {
            OperatorIndex = index,
            Input1 = in1,
            Input2 = in2,
            Output = output,
            Input1Offset = -in1.ZeroPoint,
            Input2Offset = -in2.ZeroPoint,
            OutputOffset = output.ZeroPoint,
            LeftShift = leftShift,
            Input1Multiplier = m1,
            Input1Shift = s1,
            Input2Multiplier = m2,
            Input2Shift = s2,
            OutputMultiplier = mo,
            OutputShift = so,
            ActivationMin = amin,
            ActivationMax = amax,
        };
    }

    private static PadPlan CompilePad(QnnModel model, Operator op, int index, SlotBuilder slots)
    {
        TensorSlot input = slots.Slot(op.Inputs[0]);
        TensorSlot output = slots.Slot(op.Outputs[0]);
        CheckActivationTypes(input, output);
        Tensor paddings = Constant(model, op.Inputs[1], "paddings");
        long[] p = paddings.Type switch
        {
            ElementType.Int32 => paddings.DataAs<int>().ToArray().Select(v => (long)v).ToArray(),
            ElementType.Int64 => paddings.DataAs<long>().ToArray(),
            _ => throw new ModelException($"paddings '{paddings.Name}' have type {paddings.Type}"),
        };
        int rank = p.Length / 2;
        if (rank > 4 || rank != input.Shape.Length)
        {
            throw new ModelException($"PAD supports up to 4-D tensors with one padding pair per dimension (got {rank} pairs for {input})");
        }
        // Left-align to 4-D, as TFLM does.
        var before = new int[4];
        var after = new int[4];
        for (int d = 0; d < rank; d++)
        {
            before[4 - rank + d] = checked((int)p[2 * d]);
            after[4 - rank + d] = checked((int)p[(2 * d) + 1]);
        }
        if (before[0] != 0 || after[0] != 0)
        {
            throw new ModelException("padding the batch dimension is not supported");
        }
        int padValue = output.ZeroPoint;
        if (op.Inputs.Length > 2 && op.Inputs[2] >= 0)
        {
            Tensor cv = Constant(model, op.Inputs[2], "constant_values");
            padValue = cv.Type switch
            {
                ElementType.Int8 => cv.DataAs<sbyte>()[0],
                ElementType.Int16 => cv.DataAs<short>()[0],
                _ => throw new ModelException($"constant_values '{cv.Name}' has type {cv.Type}"),
            };
        }
        return new PadPlan { OperatorIndex = index, Input = input, Output = output, Before = before, After = after, PadValue = padValue };
    }

    private static SoftmaxPlan CompileSoftmax(Operator op, int index, SlotBuilder slots)
    {
        var o = op.OptionsAs<SoftmaxOptions>();
        TensorSlot input = slots.Slot(op.Inputs[0]);
        TensorSlot output = slots.Slot(op.Outputs[0]);
        if (input.Type != output.Type)
        {
            throw new ModelException($"softmax {input.Type} -> {output.Type} is not supported");
        }
        if (input.Type == ElementType.Int8)
        {
            if (output.ZeroPoint != -128 || output.Scale != 1f / 256)
            {
                throw new ModelException($"int8 softmax output must have scale 1/256 and zero point -128 (has {output.Scale}, {output.ZeroPoint})");
            }
            (int m, int ls) = SoftmaxMath.PreprocessSoftmaxScaling(o.Beta, input.Scale, SoftmaxMath.ScaledDiffIntegerBits);
            int diffMin = (int)(-1.0 * SoftmaxMath.CalculateInputRadius(SoftmaxMath.ScaledDiffIntegerBits, ls));
            return new SoftmaxPlan
            {
                OperatorIndex = index,
                Input = input,
                Output = output,
                Depth = input.Channels,
                InputMultiplier = m,
                InputShift = ls,
                DiffMin = diffMin,
                ExpLut = [],
                OneOverOnePlusXLut = [],
            };
        }
        if (input.Type == ElementType.Int16)
        {
            if (input.ZeroPoint != 0 || output.ZeroPoint != 0 || Math.Abs(output.Scale - (1f / 32768)) > 0.001f / 32768)
            {
                throw new ModelException("int16 softmax needs zero points 0 and output scale 1/32768");
            }
            double rescale = (double)input.Scale * (double)o.Beta / (10.0 / 65535.0);
            (int m, int s) = Requantization.QuantizeMultiplier(rescale);
            return new SoftmaxPlan
            {
                OperatorIndex = index,
                Input = input,
                Output = output,
                Depth = input.Channels,
                InputMultiplier = m,
                InputShift = s,
                DiffMin = 0,
                ExpLut = SoftmaxMath.ExpLut(),
                OneOverOnePlusXLut = SoftmaxMath.OneOverOnePlusXLut(),
            };
        }
        throw new ModelException($"softmax on {input.Type} is not supported");
    }

    private static RequantizePlan CompileRequantize(Operator op, int index, SlotBuilder slots)
    {
        TensorSlot input = slots.Slot(op.Inputs[0]);
        TensorSlot output = slots.Slot(op.Outputs[0]);
        if (input.Type is not (ElementType.Int8 or ElementType.Int16) || output.Type is not (ElementType.Int8 or ElementType.Int16))
        {
            throw new ModelException($"QUANTIZE {input.Type} -> {output.Type} inside the graph is not supported");
        }
        double effective = (double)input.Scale / output.Scale;
        (int m, int s) = Requantization.QuantizeMultiplier(effective);
        return new RequantizePlan
        {
            OperatorIndex = index,
            Input = input,
            Output = output,
            InputZeroPoint = input.ZeroPoint,
            OutputZeroPoint = output.ZeroPoint,
            Multiplier = m,
            Shift = s,
        };
    }

    /// <summary>Creates slots for activation tensors and lays them out in one arena, reusing dead buffers.</summary>
    private sealed class SlotBuilder
    {
        private readonly Dictionary<int, TensorSlot> _slots = [];

        public SlotBuilder(QnnModel model, List<Operator> ops, int inputTensor, int outputTensor)
        {
            // Liveness in operator steps: defined at step d, last read at step u (the input is defined at -1,
            // the output is read "after the end").
            var def = new Dictionary<int, int> { [inputTensor] = -1 };
            var lastUse = new Dictionary<int, int> { [inputTensor] = -1 };
            for (int i = 0; i < ops.Count; i++)
            {
                foreach (int t in ops[i].Inputs)
                {
                    if (t >= 0 && !model.Tensors[t].IsConstant)
                    {
                        if (!def.ContainsKey(t))
                        {
                            throw new ModelException($"{model.Name}: tensor '{model.Tensors[t].Name}' is read by operator {i} before anything writes it");
                        }
                        lastUse[t] = i;
                    }
                }
                foreach (int t in ops[i].Outputs)
                {
                    def[t] = i;
                    lastUse.TryAdd(t, i);
                }
            }
            if (!def.ContainsKey(outputTensor))
            {
                throw new ModelException($"{model.Name}: output tensor '{model.Tensors[outputTensor].Name}' is never written");
            }
            lastUse[outputTensor] = int.MaxValue;

            var live = new List<(long Offset, long Size, int LastUse)>();
            long arena = 0;
            foreach (int t in def.OrderBy(kv => kv.Value).ThenBy(kv => kv.Key).Select(kv => kv.Key))
            {
                int step = def[t];
                live.RemoveAll(b => b.LastUse < step);
                Tensor tensor = model.Tensors[t];
                if (tensor.Type is not (ElementType.Int8 or ElementType.Int16))
                {
                    throw new ModelException($"{model.Name}: activation '{tensor.Name}' has type {tensor.Type}; the integer engine handles int8/int16");
                }
                QuantParams q = tensor.Quant ?? throw new ModelException($"{model.Name}: activation '{tensor.Name}' is not quantized");
                int[] shape = (int[])tensor.Shape.Clone();
                if (shape.Length > 0)
                {
                    shape[0] = 1; // the batch dimension: the engine batches itself
                }
                int count = shape.Aggregate(1, (a, d) => a * Math.Max(d, 1));
                long size = AlignUp((long)count * Tensor.SizeOf(tensor.Type));
                long offset = 0;
                foreach (var b in live.OrderBy(b => b.Offset))
                {
                    if (offset + size <= b.Offset)
                    {
                        break;
                    }
                    offset = Math.Max(offset, b.Offset + b.Size);
                }
                live.Add((offset, size, lastUse[t]));
                arena = Math.Max(arena, offset + size);
                _slots[t] = new TensorSlot(t, tensor.Name, tensor.Type, shape, count, q.Scale, checked((int)q.ZeroPoint), offset);
            }
            ArenaBytesPerImage = arena;
        }

        public long ArenaBytesPerImage { get; }
        public IReadOnlyList<TensorSlot> AllSlots => [.. _slots.Values.OrderBy(s => s.TensorIndex)];

        public TensorSlot Slot(int tensor)
            => _slots.TryGetValue(tensor, out TensorSlot? s) ? s : throw new ModelException($"tensor {tensor} is not an activation of the integer graph");

        private static long AlignUp(long n) => (n + Alignment - 1) / Alignment * Alignment;
    }
}
