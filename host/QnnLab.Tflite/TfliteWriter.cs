using Google.FlatBuffers;
using QnnLab.Model;
using S = QnnLab.Tflite.TfliteSchema;

namespace QnnLab.Tflite;

/// <summary>
/// Writes a <see cref="QnnModel"/> as a TFLite flatbuffer (identifier "TFL3", schema version 3,
/// one subgraph, buffer 0 empty, one buffer per constant tensor with 16-byte aligned data) that
/// TFLite and TFLite Micro can load.
/// </summary>
public static class TfliteWriter
{
    public static void Write(QnnModel model, string path) => File.WriteAllBytes(path, ToBytes(model));

    public static byte[] ToBytes(QnnModel model) => ToBytes(model, WriterHooks.None);

    /// <summary>Test hooks: substitute operator or tensor type codes, or keep constant data outside the flatbuffer.</summary>
    internal sealed record WriterHooks(Func<OpKind, int>? BuiltinCode = null, Func<ElementType, sbyte?>? TypeCode = null, bool ExternalBuffers = false)
    {
        public static readonly WriterHooks None = new();
    }

    internal static byte[] ToBytes(QnnModel model, WriterHooks hooks)
    {
        ArgumentNullException.ThrowIfNull(model);
        Validate(model);
        if (!hooks.ExternalBuffers)
        {
            return Build(model, hooks, externalOffsets: null);
        }

        // The layout of Buffer{offset, size} (64-bit fields) does not depend on their values, so
        // a first pass with placeholders gives the flatbuffer's size and hence where the data goes.
        var constants = model.Tensors.Where(t => t.Data is { Length: > 0 }).Select(t => t.Data!).ToList();
        byte[] first = Build(model, hooks, Enumerable.Repeat(2UL, constants.Count).ToArray());
        var offsets = new ulong[constants.Count];
        long at = first.Length;
        for (int i = 0; i < constants.Count; i++)
        {
            offsets[i] = (ulong)AlignUp(at);
            at = (long)offsets[i] + constants[i].Length;
        }
        byte[] head = Build(model, hooks, offsets);
        if (head.Length != first.Length)
        {
            throw new InvalidOperationException("external-buffer layout changed between passes");
        }
        var file = new byte[at];
        head.CopyTo(file, 0);
        for (int i = 0; i < constants.Count; i++)
        {
            constants[i].CopyTo(file, (long)offsets[i]);
        }
        return file;
    }

    private static long AlignUp(long x) => (x + 15) / 16 * 16;

    private static byte[] Build(QnnModel model, WriterHooks hooks, ulong[]? externalOffsets)
    {
        long dataBytes = externalOffsets is null ? model.Tensors.Sum(t => (long)(t.Data?.Length ?? 0)) : 0;
        var b = new FlatBufferBuilder((int)Math.Min(int.MaxValue / 2, 4096 + dataBytes + 256L * model.Tensors.Count));

        // Buffers: 0 is the empty sentinel that every activation refers to.
        var bufferOffsets = new List<int> { EmptyTable(b) };
        var tensorBuffer = new int[model.Tensors.Count];
        for (int i = 0; i < model.Tensors.Count; i++)
        {
            byte[]? data = model.Tensors[i].Data;
            if (data is null || data.Length == 0)
            {
                continue;
            }
            if (externalOffsets is not null)
            {
                b.StartTable(S.Buffer.Size + 1);
                b.AddUlong(S.Buffer.Offset, externalOffsets[bufferOffsets.Count - 1], 0);
                b.AddUlong(S.Buffer.Size, (ulong)data.Length, 0);
                tensorBuffer[i] = bufferOffsets.Count;
                bufferOffsets.Add(b.EndTable());
                continue;
            }
            tensorBuffer[i] = bufferOffsets.Count;
            // force_align: 16 in the schema, so SIMD kernels may read constants in place.
            b.StartVector(1, data.Length, 16);
            b.Add(data);
            VectorOffset dataVec = b.EndVector();
            b.StartTable(S.Buffer.FieldCount);
            b.AddOffset(S.Buffer.Data, dataVec.Value, 0);
            bufferOffsets.Add(b.EndTable());
        }

        int[] tensorOffsets = new int[model.Tensors.Count];
        for (int i = 0; i < model.Tensors.Count; i++)
        {
            tensorOffsets[i] = WriteTensor(b, model.Tensors[i], tensorBuffer[i], hooks);
        }

        // Operator codes: one per (builtin code, version), in order of first use.
        var codeIndex = new Dictionary<(int Code, int Version), int>();
        var operatorOffsets = new int[model.Operators.Count];
        for (int i = 0; i < model.Operators.Count; i++)
        {
            Operator op = model.Operators[i];
            int code = hooks.BuiltinCode?.Invoke(op.Kind) ?? BuiltinCode(op.Kind);
            int version = OperatorVersion(model, op);
            if (!codeIndex.TryGetValue((code, version), out int index))
            {
                index = codeIndex.Count;
                codeIndex.Add((code, version), index);
            }
            operatorOffsets[i] = WriteOperator(b, model, op, (uint)index);
        }
        var codeOffsets = new int[codeIndex.Count];
        foreach (((int code, int version), int index) in codeIndex)
        {
            b.StartTable(S.OperatorCode.FieldCount);
            b.AddSbyte(S.OperatorCode.DeprecatedBuiltinCode, (sbyte)Math.Min(code, S.OpPlaceholderForGreaterOpCodes), 0);
            b.AddInt(S.OperatorCode.Version, version, 1);
            b.AddInt(S.OperatorCode.BuiltinCode, code, 0);
            codeOffsets[index] = b.EndTable();
        }

        VectorOffset tensorsVec = OffsetVector(b, tensorOffsets);
        VectorOffset inputsVec = IntVector(b, model.Inputs);
        VectorOffset outputsVec = IntVector(b, model.Outputs);
        VectorOffset operatorsVec = OffsetVector(b, operatorOffsets);
        StringOffset sgName = b.CreateString("main");
        b.StartTable(S.SubGraph.FieldCount);
        b.AddOffset(S.SubGraph.Tensors, tensorsVec.Value, 0);
        b.AddOffset(S.SubGraph.Inputs, inputsVec.Value, 0);
        b.AddOffset(S.SubGraph.Outputs, outputsVec.Value, 0);
        b.AddOffset(S.SubGraph.Operators, operatorsVec.Value, 0);
        b.AddOffset(S.SubGraph.Name, sgName.Value, 0);
        int subgraph = b.EndTable();

        VectorOffset codesVec = OffsetVector(b, codeOffsets);
        VectorOffset subgraphsVec = OffsetVector(b, [subgraph]);
        StringOffset description = b.CreateString($"QNN Edge Lab: {model.Name}");
        VectorOffset buffersVec = OffsetVector(b, bufferOffsets.ToArray());
        b.StartTable(S.Model.Buffers + 1);
        b.AddUint(S.Model.Version, S.SchemaVersion, 0);
        b.AddOffset(S.Model.OperatorCodes, codesVec.Value, 0);
        b.AddOffset(S.Model.Subgraphs, subgraphsVec.Value, 0);
        b.AddOffset(S.Model.Description, description.Value, 0);
        b.AddOffset(S.Model.Buffers, buffersVec.Value, 0);
        int root = b.EndTable();
        b.Finish(root, S.FileIdentifier);
        return b.SizedByteArray();
    }

    /// <summary>
    /// Operator versions as the TFLite converter wrote them for the shared int8 and 16x8 models
    /// (it does not bump them for int16); float operators are version 1. TFLite Micro ignores versions.
    /// </summary>
    internal static int OperatorVersion(QnnModel model, Operator op)
    {
        ElementType input = model.Tensors[op.Inputs[0]].Type;
        ElementType output = model.Tensors[op.Outputs[0]].Type;
        bool quantized = input is ElementType.Int8 or ElementType.Int16 or ElementType.UInt8
            || output is ElementType.Int8 or ElementType.Int16 or ElementType.UInt8;
        if (!quantized)
        {
            return 1;
        }
        bool int16 = input == ElementType.Int16 || output == ElementType.Int16;
        return op.Kind switch
        {
            OpKind.Conv2D or OpKind.DepthwiseConv2D => 3,
            OpKind.FullyConnected => 4,
            OpKind.AveragePool2D or OpKind.MaxPool2D or OpKind.Add or OpKind.Softmax => 2,
            OpKind.Reshape => 1,
            OpKind.Pad => int16 ? 4 : 3,
            OpKind.Quantize => int16 ? 4 : 1,
            OpKind.Dequantize => int16 ? 3 : 2,
            _ => 1,
        };
    }

    internal static int BuiltinCode(OpKind kind) => kind switch
    {
        OpKind.Conv2D => S.OpConv2D,
        OpKind.DepthwiseConv2D => S.OpDepthwiseConv2D,
        OpKind.FullyConnected => S.OpFullyConnected,
        OpKind.AveragePool2D => S.OpAveragePool2D,
        OpKind.MaxPool2D => S.OpMaxPool2D,
        OpKind.Add => S.OpAdd,
        OpKind.Reshape => S.OpReshape,
        OpKind.Pad => S.OpPad,
        OpKind.Softmax => S.OpSoftmax,
        OpKind.Quantize => S.OpQuantize,
        OpKind.Dequantize => S.OpDequantize,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "no TFLite operator for this kind"),
    };

    private static sbyte TypeCode(ElementType t) => t switch
    {
        ElementType.Float32 => S.TypeFloat32,
        ElementType.Int8 => S.TypeInt8,
        ElementType.Int16 => S.TypeInt16,
        ElementType.Int32 => S.TypeInt32,
        ElementType.Int64 => S.TypeInt64,
        ElementType.UInt8 => S.TypeUInt8,
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };

    private static void Validate(QnnModel model)
    {
        ModelException Bad(string problem) => new($"{model.Name}: cannot write TFLite: {problem}");
        int n = model.Tensors.Count;
        if (model.Inputs.Length == 0 || model.Outputs.Length == 0)
        {
            throw Bad("the model needs at least one input and one output");
        }
        foreach (int i in model.Inputs.Concat(model.Outputs))
        {
            if (i < 0 || i >= n)
            {
                throw Bad($"model input/output refers to tensor {i}, but there are {n} tensors");
            }
        }
        for (int i = 0; i < n; i++)
        {
            Tensor t = model.Tensors[i];
            if (t.Shape.Any(d => d < 0))
            {
                throw Bad($"tensor {i} '{t.Name}' has a negative dimension");
            }
            if (t.Data is { Length: > 0 } data)
            {
                long expected = Tensor.SizeOf(t.Type) * t.Shape.Aggregate(1L, (a, d) => a * d);
                if (data.Length != expected)
                {
                    throw Bad($"tensor {i} '{t.Name}' {t.Type}[{string.Join(",", t.Shape)}] has {data.Length} bytes of data, expected {expected}");
                }
            }
            if (t.Quant is { } q && (q.Scales.Length == 0 || q.Scales.Length != q.ZeroPoints.Length))
            {
                throw Bad($"tensor {i} '{t.Name}' has {q.Scales.Length} scales and {q.ZeroPoints.Length} zero points");
            }
        }
        for (int k = 0; k < model.Operators.Count; k++)
        {
            Operator op = model.Operators[k];
            if (op.Inputs.Length == 0 || op.Inputs[0] < 0 || op.Outputs.Length == 0)
            {
                throw Bad($"operator {k} ({op.Kind}) needs a first input and an output");
            }
            foreach (int i in op.Inputs)
            {
                if (i < -1 || i >= n)
                {
                    throw Bad($"operator {k} ({op.Kind}) input refers to tensor {i}, but there are {n} tensors");
                }
            }
            foreach (int i in op.Outputs)
            {
                if (i < 0 || i >= n)
                {
                    throw Bad($"operator {k} ({op.Kind}) output refers to tensor {i}, but there are {n} tensors");
                }
            }
        }
    }

    private static int EmptyTable(FlatBufferBuilder b)
    {
        b.StartTable(0);
        return b.EndTable();
    }

    private static VectorOffset IntVector(FlatBufferBuilder b, int[] values)
    {
        b.StartVector(4, values.Length, 4);
        if (values.Length > 0)
        {
            b.Add(values);
        }
        return b.EndVector();
    }

    private static VectorOffset OffsetVector(FlatBufferBuilder b, int[] offsets)
    {
        b.StartVector(4, offsets.Length, 4);
        for (int i = offsets.Length - 1; i >= 0; i--)
        {
            b.AddOffset(offsets[i]);
        }
        return b.EndVector();
    }

    private static int WriteTensor(FlatBufferBuilder b, Tensor t, int buffer, WriterHooks hooks)
    {
        VectorOffset shape = IntVector(b, t.Shape);
        StringOffset name = b.CreateString(t.Name);
        int quant = 0;
        if (t.Quant is { } q)
        {
            b.StartVector(4, q.Scales.Length, 4);
            b.Add(q.Scales);
            VectorOffset scales = b.EndVector();
            b.StartVector(8, q.ZeroPoints.Length, 8);
            b.Add(q.ZeroPoints);
            VectorOffset zeroPoints = b.EndVector();
            b.StartTable(S.Quantization.FieldCount);
            b.AddOffset(S.Quantization.Scale, scales.Value, 0);
            b.AddOffset(S.Quantization.ZeroPoint, zeroPoints.Value, 0);
            b.AddInt(S.Quantization.QuantizedDimension, q.QuantizedDimension, 0);
            quant = b.EndTable();
        }
        b.StartTable(S.Tensor.FieldCount);
        b.AddOffset(S.Tensor.Shape, shape.Value, 0);
        b.AddSbyte(S.Tensor.Type, hooks.TypeCode?.Invoke(t.Type) ?? TypeCode(t.Type), 0);
        b.AddUint(S.Tensor.Buffer, (uint)buffer, 0);
        b.AddOffset(S.Tensor.Name, name.Value, 0);
        b.AddOffset(S.Tensor.Quantization, quant, 0);
        return b.EndTable();
    }

    private static sbyte ActivationCode(Activation a) => a switch
    {
        Activation.None => 0,
        Activation.Relu => 1,
        Activation.ReluN1To1 => 2,
        Activation.Relu6 => 3,
        _ => throw new ArgumentOutOfRangeException(nameof(a)),
    };

    private static sbyte PaddingCode(Padding p) => p == Padding.Same ? (sbyte)0 : (sbyte)1;

    private static int WriteOperator(FlatBufferBuilder b, QnnModel model, Operator op, uint opcodeIndex)
    {
        (byte type, int options) = WriteOptions(b, model, op);
        VectorOffset inputs = IntVector(b, op.Inputs);
        VectorOffset outputs = IntVector(b, op.Outputs);
        b.StartTable(S.Operator.FieldCount);
        b.AddUint(S.Operator.OpcodeIndex, opcodeIndex, 0);
        b.AddOffset(S.Operator.Inputs, inputs.Value, 0);
        b.AddOffset(S.Operator.Outputs, outputs.Value, 0);
        b.AddByte(S.Operator.BuiltinOptionsType, type, 0);
        b.AddOffset(S.Operator.BuiltinOptions, options, 0);
        return b.EndTable();
    }

    private static (byte Type, int Offset) WriteOptions(FlatBufferBuilder b, QnnModel model, Operator op)
    {
        byte type = TfliteReader.ExpectedOptionsType(op.Kind);
        switch (op.Kind)
        {
            case OpKind.Conv2D:
                {
                    ConvOptions o = op.OptionsAs<ConvOptions>();
                    b.StartTable(S.Conv2DOptions.FieldCount);
                    b.AddSbyte(S.Conv2DOptions.Padding, PaddingCode(o.Padding), 0);
                    b.AddInt(S.Conv2DOptions.StrideW, o.StrideW, 0);
                    b.AddInt(S.Conv2DOptions.StrideH, o.StrideH, 0);
                    b.AddSbyte(S.Conv2DOptions.Activation, ActivationCode(o.Activation), 0);
                    b.AddInt(S.Conv2DOptions.DilationW, o.DilationW, 1);
                    b.AddInt(S.Conv2DOptions.DilationH, o.DilationH, 1);
                    return (type, b.EndTable());
                }
            case OpKind.DepthwiseConv2D:
                {
                    DepthwiseOptions o = op.OptionsAs<DepthwiseOptions>();
                    b.StartTable(S.DepthwiseOptions.FieldCount);
                    b.AddSbyte(S.DepthwiseOptions.Padding, PaddingCode(o.Padding), 0);
                    b.AddInt(S.DepthwiseOptions.StrideW, o.StrideW, 0);
                    b.AddInt(S.DepthwiseOptions.StrideH, o.StrideH, 0);
                    b.AddInt(S.DepthwiseOptions.DepthMultiplier, o.DepthMultiplier, 0);
                    b.AddSbyte(S.DepthwiseOptions.Activation, ActivationCode(o.Activation), 0);
                    b.AddInt(S.DepthwiseOptions.DilationW, o.DilationW, 1);
                    b.AddInt(S.DepthwiseOptions.DilationH, o.DilationH, 1);
                    return (type, b.EndTable());
                }
            case OpKind.AveragePool2D or OpKind.MaxPool2D:
                {
                    PoolOptions o = op.OptionsAs<PoolOptions>();
                    b.StartTable(S.Pool2DOptions.FieldCount);
                    b.AddSbyte(S.Pool2DOptions.Padding, PaddingCode(o.Padding), 0);
                    b.AddInt(S.Pool2DOptions.StrideW, o.StrideW, 0);
                    b.AddInt(S.Pool2DOptions.StrideH, o.StrideH, 0);
                    b.AddInt(S.Pool2DOptions.FilterWidth, o.FilterW, 0);
                    b.AddInt(S.Pool2DOptions.FilterHeight, o.FilterH, 0);
                    b.AddSbyte(S.Pool2DOptions.Activation, ActivationCode(o.Activation), 0);
                    return (type, b.EndTable());
                }
            case OpKind.FullyConnected:
                {
                    FullyConnectedOptions o = op.OptionsAs<FullyConnectedOptions>();
                    b.StartTable(S.FullyConnectedOptions.FieldCount);
                    b.AddSbyte(S.FullyConnectedOptions.Activation, ActivationCode(o.Activation), 0);
                    b.AddBool(S.FullyConnectedOptions.KeepNumDims, o.KeepNumDims, false);
                    return (type, b.EndTable());
                }
            case OpKind.Add:
                {
                    AddOptions o = op.OptionsAs<AddOptions>();
                    bool int16 = model.Tensors[op.Inputs[0]].Type == ElementType.Int16;
                    b.StartTable(S.AddOptions.FieldCount);
                    b.AddSbyte(S.AddOptions.Activation, ActivationCode(o.Activation), 0);
                    // The schema defaults pot_scale_int16 to true, which sends TFLite's int16 add down
                    // its power-of-two path; our engines (like TFLM) use the general rescaling path.
                    if (int16)
                    {
                        b.AddBool(S.AddOptions.PotScaleInt16, false, true);
                    }
                    return (type, b.EndTable());
                }
            case OpKind.Softmax:
                {
                    SoftmaxOptions o = op.OptionsAs<SoftmaxOptions>();
                    b.StartTable(S.SoftmaxOptions.FieldCount);
                    b.AddFloat(S.SoftmaxOptions.Beta, o.Beta, 0);
                    return (type, b.EndTable());
                }
            case OpKind.Reshape:
                {
                    ReshapeOptions o = op.OptionsAs<ReshapeOptions>();
                    // Like the converter: no options when a constant shape input already says the same.
                    if (op.Inputs.Length > 1 && op.Inputs[1] >= 0
                        && model.Tensors[op.Inputs[1]] is { Type: ElementType.Int32, Data: not null } shapeTensor
                        && shapeTensor.DataAs<int>().SequenceEqual(o.NewShape))
                    {
                        return (0, 0);
                    }
                    VectorOffset shape = IntVector(b, o.NewShape);
                    b.StartTable(S.ReshapeOptions.FieldCount);
                    b.AddOffset(S.ReshapeOptions.NewShape, shape.Value, 0);
                    return (type, b.EndTable());
                }
            default:
                // Pad, Quantize, Dequantize: empty option tables, as the converter writes them.
                return (type, EmptyTable(b));
        }
    }
}
