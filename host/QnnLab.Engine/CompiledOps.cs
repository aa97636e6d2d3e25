using QnnLab.Model;

namespace QnnLab.Engine;

/// <summary>
/// One activation tensor's place in the engine's arena. Sizes are per image; a batch of B images
/// stores B consecutive images at byte offset <see cref="OffsetPerImage"/> * B, so one layout serves every batch size.
/// </summary>
public sealed record TensorSlot(int TensorIndex, string Name, ElementType Type, int[] Shape, int ElementsPerImage,
    float Scale, int ZeroPoint, long OffsetPerImage)
{
    public int BytesPerImage => ElementsPerImage * Tensor.SizeOf(Type);
    public int Height => Shape.Length == 4 ? Shape[1] : 1;
    public int Width => Shape.Length == 4 ? Shape[2] : 1;
    public int Channels => Shape[^1];
}

/// <summary>
/// A compiled operator: every constant the integer kernels need, precomputed exactly as TFLM's
/// Prepare functions compute them. The device blob exporter serialises these, so the board does no float math.
/// </summary>
public abstract record CompiledOp
{
    public required int OperatorIndex { get; init; }
    public required TensorSlot Output { get; init; }
    public abstract OpKind Kind { get; }
}

/// <summary>CONV_2D (int8 per-channel or 16x8). Weights OHWI; bias int32 (int8) or int64 (16x8), zero if absent.</summary>
public sealed record ConvPlan : CompiledOp
{
    public override OpKind Kind => OpKind.Conv2D;
    public required TensorSlot Input { get; init; }
    public required int KernelH { get; init; }
    public required int KernelW { get; init; }
    public required int StrideH { get; init; }
    public required int StrideW { get; init; }
    public required int DilationH { get; init; }
    public required int DilationW { get; init; }
    public required int PadTop { get; init; }
    public required int PadLeft { get; init; }
    public required sbyte[] Weights { get; init; }
    public required int[] BiasInt32 { get; init; }
    public required long[] BiasInt64 { get; init; }
    /// <summary>-input zero point (0 for 16x8).</summary>
    public required int InputOffset { get; init; }
    public required int OutputOffset { get; init; }
    public required int[] Multipliers { get; init; }
    public required int[] Shifts { get; init; }
    public required int ActivationMin { get; init; }
    public required int ActivationMax { get; init; }
    public bool Is16x8 => Input.Type == ElementType.Int16;
}

/// <summary>DEPTHWISE_CONV_2D. Weights [1, KH, KW, OutC] with OutC = InC * DepthMultiplier.</summary>
public sealed record DepthwisePlan : CompiledOp
{
    public override OpKind Kind => OpKind.DepthwiseConv2D;
    public required TensorSlot Input { get; init; }
    public required int KernelH { get; init; }
    public required int KernelW { get; init; }
    public required int StrideH { get; init; }
    public required int StrideW { get; init; }
    public required int DilationH { get; init; }
    public required int DilationW { get; init; }
    public required int PadTop { get; init; }
    public required int PadLeft { get; init; }
    public required int DepthMultiplier { get; init; }
    public required sbyte[] Weights { get; init; }
    public required int[] BiasInt32 { get; init; }
    public required long[] BiasInt64 { get; init; }
    public required int InputOffset { get; init; }
    public required int OutputOffset { get; init; }
    public required int[] Multipliers { get; init; }
    public required int[] Shifts { get; init; }
    public required int ActivationMin { get; init; }
    public required int ActivationMax { get; init; }
    public bool Is16x8 => Input.Type == ElementType.Int16;
}

/// <summary>
/// FULLY_CONNECTED. Weights [OutDepth, InDepth]. Multipliers has one entry (per tensor: scale product taken
/// in float32, as TFLite's GetQuantizedConvolutionMultipler) or one per output (per channel: doubles).
/// </summary>
public sealed record FullyConnectedPlan : CompiledOp
{
    public override OpKind Kind => OpKind.FullyConnected;
    public required TensorSlot Input { get; init; }
    public required int RowsPerImage { get; init; }
    public required int InputDepth { get; init; }
    public required int OutputDepth { get; init; }
    public required sbyte[] Weights { get; init; }
    public required int[] BiasInt32 { get; init; }
    public required long[] BiasInt64 { get; init; }
    public required int InputOffset { get; init; }
    public required int WeightsOffset { get; init; }
    public required int OutputOffset { get; init; }
    public required int[] Multipliers { get; init; }
    public required int[] Shifts { get; init; }
    public required int ActivationMin { get; init; }
    public required int ActivationMax { get; init; }
    public bool Is16x8 => Input.Type == ElementType.Int16;
    public bool PerChannel => Multipliers.Length > 1;
}

/// <summary>AVERAGE_POOL_2D / MAX_POOL_2D (input and output share quantization; only the clamp applies).</summary>
public sealed record PoolPlan : CompiledOp
{
    public required bool IsMax { get; init; }
    public override OpKind Kind => IsMax ? OpKind.MaxPool2D : OpKind.AveragePool2D;
    public required TensorSlot Input { get; init; }
    public required int FilterH { get; init; }
    public required int FilterW { get; init; }
    public required int StrideH { get; init; }
    public required int StrideW { get; init; }
    public required int PadTop { get; init; }
    public required int PadLeft { get; init; }
    public required int ActivationMin { get; init; }
    public required int ActivationMax { get; init; }
}

/// <summary>ADD (TFLM general rescaling path: left shift 20 for int8, 15 for int16).</summary>
public sealed record AddPlan : CompiledOp
{
    public override OpKind Kind => OpKind.Add;
    public required TensorSlot Input1 { get; init; }
    public required TensorSlot Input2 { get; init; }
    public required int Input1Offset { get; init; }
    public required int Input2Offset { get; init; }
    public required int OutputOffset { get; init; }
    public required int LeftShift { get; init; }
    public required int Input1Multiplier { get; init; }
    public required int Input1Shift { get; init; }
    public required int Input2Multiplier { get; init; }
    public required int Input2Shift { get; init; }
    public required int OutputMultiplier { get; init; }
    public required int OutputShift { get; init; }
    public required int ActivationMin { get; init; }
    public required int ActivationMax { get; init; }
}

/// <summary>PAD on a 4-D tensor; <see cref="PadValue"/> is the constant_values input or the output zero point.</summary>
public sealed record PadPlan : CompiledOp
{
    public override OpKind Kind => OpKind.Pad;
    public required TensorSlot Input { get; init; }
    /// <summary>Before/after padding for each of the 4 dimensions (the batch dimension must be 0/0).</summary>
    public required int[] Before { get; init; }
    public required int[] After { get; init; }
    public required int PadValue { get; init; }
}

/// <summary>RESHAPE: a copy of the bytes.</summary>
public sealed record ReshapePlan : CompiledOp
{
    public override OpKind Kind => OpKind.Reshape;
    public required TensorSlot Input { get; init; }
}

/// <summary>
/// SOFTMAX over the last dimension. int8: InputMultiplier/InputShift (a left shift) and DiffMin from
/// PreprocessSoftmaxScaling. int16: InputMultiplier/InputShift from QuantizeMultiplier(scale*beta/(10/65535)) and the two tables.
/// </summary>
public sealed record SoftmaxPlan : CompiledOp
{
    public override OpKind Kind => OpKind.Softmax;
    public required TensorSlot Input { get; init; }
    public required int Depth { get; init; }
    public required int InputMultiplier { get; init; }
    public required int InputShift { get; init; }
    public required int DiffMin { get; init; }
    public required short[] ExpLut { get; init; }
    public required short[] OneOverOnePlusXLut { get; init; }
}

/// <summary>QUANTIZE between integer types (int8/int16): x' = MBQM(x - inZp, m, shift) + outZp, clamped.</summary>
public sealed record RequantizePlan : CompiledOp
{
    public override OpKind Kind => OpKind.Quantize;
    public required TensorSlot Input { get; init; }
    public required int InputZeroPoint { get; init; }
    public required int OutputZeroPoint { get; init; }
    public required int Multiplier { get; init; }
    public required int Shift { get; init; }
}
