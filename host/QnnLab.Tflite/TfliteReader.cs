using System.Text;
using QnnLab.Model;
using S = QnnLab.Tflite.TfliteSchema;

namespace QnnLab.Tflite;

/// <summary>
/// Reads a .tflite flatbuffer (schema version 3, subgraph 0) into a <see cref="QnnModel"/>.
/// Every problem — truncated or corrupted bytes, a wrong file identifier, an index out of range,
/// an operator or tensor type we do not support — is a <see cref="ModelException"/> whose one-line
/// message starts with the file name.
/// </summary>
public static class TfliteReader
{
    /// <summary>Reads a model file. <paramref name="preprocessing"/> overrides the input preprocessing inferred by <see cref="InferPreprocessing"/>.</summary>
    public static QnnModel Read(string path, InputPreprocessing? preprocessing = null)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelException($"{path}: cannot read the file: {e.Message}", e);
        }
        QnnModel model = Read(bytes, path, preprocessing);
        model.Name = Path.GetFileNameWithoutExtension(path);
        return model;
    }

    /// <summary>Reads a model from bytes; <paramref name="nameForMessages"/> names it in errors (and becomes the model name).</summary>
    public static QnnModel Read(byte[] bytes, string nameForMessages, InputPreprocessing? preprocessing = null)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        var c = new FlatContext(bytes, nameForMessages);
        try
        {
            QnnModel model = Parse(c);
            model.Name = Path.GetFileNameWithoutExtension(nameForMessages);
            model.Preprocessing = preprocessing ?? InferPreprocessing(model.InputTensor);
            return model;
        }
        catch (ModelException)
        {
            throw;
        }
        catch (Exception e) when (e is ArgumentException or IndexOutOfRangeException or OverflowException or InvalidOperationException or DecoderFallbackException)
        {
            // A safety net: our own checks should have caught it first.
            throw c.Error($"malformed flatbuffer ({e.GetType().Name}: {FirstLine(e.Message)})");
        }
    }

    /// <summary>
    /// The preprocessing a model's input quantization implies. 8-bit inputs: the real range the
    /// quantization covers picks it — about [0,1] (scale 1/255) is <see cref="InputPreprocessing.UnitRange"/>,
    /// about [0,255] (scale 1) is <see cref="InputPreprocessing.Raw"/>, about [-1,1] is pixels/127.5 - 1.
    /// int16 inputs are symmetric, so only the positive half is used: scale 1/32767 or 1/32768 is
    /// UnitRange, scale 255/32767 is Raw. Float inputs and anything else: UnitRange (pass an
    /// override to <see cref="Read(string, InputPreprocessing?)"/> when a model wants otherwise).
    /// </summary>
    public static InputPreprocessing InferPreprocessing(Tensor input)
    {
        QuantParams? q = input.Quant;
        if (q is null || input.Type is ElementType.Float32)
        {
            return InputPreprocessing.UnitRange;
        }
        double scale = q.Scale;
        if (input.Type is ElementType.Int8 or ElementType.UInt8)
        {
            long qmin = input.Type == ElementType.Int8 ? -128 : 0;
            double lo = scale * (qmin - q.ZeroPoint);
            double hi = scale * (qmin + 255 - q.ZeroPoint);
            if (Near(lo, 0, 0.01) && Near(hi, 1, 0.01))
            {
                return InputPreprocessing.UnitRange;
            }
            if (Near(lo, 0, 1) && Near(hi, 255, 1))
            {
                return InputPreprocessing.Raw;
            }
            if (Near(lo, -1, 0.01) && Near(hi, 1, 0.01))
            {
                return MinusOneToOne;
            }
            return InputPreprocessing.UnitRange;
        }
        if (input.Type is ElementType.Int16)
        {
            if (Near(scale * 32767, 1, 0.001) || Near(scale * 32768, 1, 0.001))
            {
                return InputPreprocessing.UnitRange;
            }
            if (Near(scale * 32767, 255, 0.3) || Near(scale * 32768, 255, 0.3))
            {
                return InputPreprocessing.Raw;
            }
        }
        return InputPreprocessing.UnitRange;
    }

    /// <summary>Pixels mapped to [-1, 1] (MobileNet-style inputs).</summary>
    public static readonly InputPreprocessing MinusOneToOne = new(2f / 255f, -1f, "pixels/127.5 - 1 in [-1,1]");

    private static bool Near(double a, double b, double tol) => Math.Abs(a - b) <= tol;

    private static string FirstLine(string s)
    {
        int nl = s.IndexOfAny(['\r', '\n']);
        return nl < 0 ? s : s[..nl];
    }

    private static QnnModel Parse(FlatContext c)
    {
        if (c.Length < 8)
        {
            throw c.Error($"file is too short ({c.Length} bytes) to be a TFLite model");
        }
        string ident = Encoding.ASCII.GetString(c.Bytes, 4, 4);
        if (ident != S.FileIdentifier)
        {
            throw c.Error($"not a TFLite model: file identifier is '{Printable(c.Bytes.AsSpan(4, 4))}', expected '{S.FileIdentifier}'");
        }
        FlatTable root = c.Root();
        uint version = root.UInt(S.Model.Version);
        if (version != S.SchemaVersion)
        {
            throw c.Error($"schema version {version} is not supported (expected {S.SchemaVersion})");
        }

        OpCode[] opcodes = ReadOperatorCodes(c, root);
        FlatTable[] buffers = root.TableVector(S.Model.Buffers, "buffers");
        FlatTable[] subgraphs = root.TableVector(S.Model.Subgraphs, "subgraphs");
        if (subgraphs.Length == 0)
        {
            throw c.Error("the model has no subgraph");
        }
        FlatTable sg = subgraphs[0];

        var model = new QnnModel();
        FlatTable[] tensors = sg.TableVector(S.SubGraph.Tensors, "subgraph 0 tensors");
        for (int i = 0; i < tensors.Length; i++)
        {
            model.Tensors.Add(ReadTensor(c, tensors[i], i, buffers));
        }

        model.Inputs = ReadTensorIndices(c, sg, S.SubGraph.Inputs, "subgraph input", model.Tensors.Count, allowOmitted: false);
        model.Outputs = ReadTensorIndices(c, sg, S.SubGraph.Outputs, "subgraph output", model.Tensors.Count, allowOmitted: false);
        if (model.Inputs.Length == 0 || model.Outputs.Length == 0)
        {
            throw c.Error($"subgraph 0 has {model.Inputs.Length} inputs and {model.Outputs.Length} outputs; a model needs at least one of each");
        }

        FlatTable[] ops = sg.TableVector(S.SubGraph.Operators, "subgraph 0 operators");
        for (int i = 0; i < ops.Length; i++)
        {
            model.Operators.Add(ReadOperator(c, ops[i], i, opcodes, model));
        }
        return model;
    }

    private static string Printable(ReadOnlySpan<byte> b)
    {
        var sb = new StringBuilder();
        foreach (byte x in b)
        {
            sb.Append(x is >= 0x20 and < 0x7f ? (char)x : $"\\x{x:x2}");
        }
        return sb.ToString();
    }

    /// <summary>The builtin code and version of each operator of subgraph 0, in order (for checking what a writer emits).</summary>
    internal static (int Code, int Version)[] OperatorCodesPerOperator(byte[] bytes, string nameForMessages)
    {
        var c = new FlatContext(bytes, nameForMessages);
        FlatTable root = c.Root();
        OpCode[] codes = ReadOperatorCodes(c, root);
        FlatTable sg = root.TableVector(S.Model.Subgraphs, "subgraphs")[0];
        return sg.TableVector(S.SubGraph.Operators, "operators")
            .Select(op => codes[op.UInt(S.Operator.OpcodeIndex)])
            .Select(code => (code.Code, code.Version))
            .ToArray();
    }

    private readonly record struct OpCode(int Code, string? CustomName, int Version);

    private static OpCode[] ReadOperatorCodes(FlatContext c, FlatTable root)
    {
        FlatTable[] codes = root.TableVector(S.Model.OperatorCodes, "operator_codes");
        var r = new OpCode[codes.Length];
        for (int i = 0; i < codes.Length; i++)
        {
            FlatTable t = codes[i];
            // Old files only have the int8 field; newer ones put codes > 127 in builtin_code.
            int code = Math.Max(t.SByte(S.OperatorCode.DeprecatedBuiltinCode), t.Int(S.OperatorCode.BuiltinCode));
            string? custom = t.String(S.OperatorCode.CustomCode, $"operator_codes[{i}].custom_code");
            r[i] = new OpCode(code, custom, t.Int(S.OperatorCode.Version, 1));
        }
        return r;
    }

    private static ElementType MapType(FlatContext c, sbyte type, int index, string name) => type switch
    {
        S.TypeFloat32 => ElementType.Float32,
        S.TypeInt8 => ElementType.Int8,
        S.TypeInt16 => ElementType.Int16,
        S.TypeInt32 => ElementType.Int32,
        S.TypeInt64 => ElementType.Int64,
        S.TypeUInt8 => ElementType.UInt8,
        _ => throw c.Error($"tensor {index} '{name}' has type {S.TensorTypeName(type)}, which is not supported"),
    };

    private static Tensor ReadTensor(FlatContext c, FlatTable t, int index, FlatTable[] buffers)
    {
        string what = $"tensor {index}";
        string name = t.String(S.Tensor.Name, $"{what} name") ?? $"tensor{index}";
        ElementType type = MapType(c, t.SByte(S.Tensor.Type), index, name);
        int[] shape = t.IntVector(S.Tensor.Shape, $"{what} shape");
        foreach (int d in shape)
        {
            if (d < 0)
            {
                throw c.Error($"{what} '{name}' has shape [{string.Join(",", shape)}]; dynamic dimensions are not supported");
            }
        }
        long bytes = Tensor.SizeOf(type);
        foreach (int d in shape)
        {
            bytes *= Math.Max(d, 1);
            if (bytes > int.MaxValue)
            {
                throw c.Error($"{what} '{name}' has shape [{string.Join(",", shape)}], over 2 GiB");
            }
        }
        if (t.Has(S.Tensor.Sparsity))
        {
            throw c.Error($"{what} '{name}' is sparse, which is not supported");
        }

        QuantParams? quant = null;
        if (t.Table(S.Tensor.Quantization, $"{what} quantization") is FlatTable q)
        {
            quant = ReadQuant(c, q, what, name, shape);
        }

        uint bufferIndex = t.UInt(S.Tensor.Buffer);
        if (bufferIndex >= buffers.Length)
        {
            throw c.Error($"{what} '{name}' refers to buffer {bufferIndex}, but the model has {buffers.Length} buffers");
        }
        byte[]? data = ReadBuffer(c, buffers[bufferIndex], (int)bufferIndex);
        if (data is not null)
        {
            long expected = (long)Tensor.SizeOf(type);
            foreach (int d in shape)
            {
                expected *= d;
            }
            if (data.Length != expected)
            {
                throw c.Error($"{what} '{name}' {type}[{string.Join(",", shape)}] needs {expected} bytes of data but buffer {bufferIndex} holds {data.Length}");
            }
        }
        return new Tensor(name, type, shape, quant, data);
    }

    private static QuantParams? ReadQuant(FlatContext c, FlatTable q, string what, string name, int[] shape)
    {
        if (q.Byte(S.Quantization.DetailsType) != 0)
        {
            throw c.Error($"{what} '{name}' uses custom quantization details, which are not supported");
        }
        float[] scales = q.FloatVector(S.Quantization.Scale, $"{what} quantization scales");
        long[] zeroPoints = q.LongVector(S.Quantization.ZeroPoint, $"{what} quantization zero points");
        if (scales.Length == 0)
        {
            // Float tensors often carry an empty quantization table (or only min/max).
            return null;
        }
        if (zeroPoints.Length == 0)
        {
            zeroPoints = new long[scales.Length];
        }
        if (zeroPoints.Length != scales.Length)
        {
            throw c.Error($"{what} '{name}' has {scales.Length} quantization scales but {zeroPoints.Length} zero points");
        }
        int dim = q.Int(S.Quantization.QuantizedDimension);
        if (scales.Length > 1 && (dim < 0 || dim >= shape.Length || shape[dim] != scales.Length))
        {
            throw c.Error($"{what} '{name}' has {scales.Length} per-channel scales along dimension {dim}, which does not match its shape [{string.Join(",", shape)}]");
        }
        return new QuantParams(scales, zeroPoints, dim);
    }

    private static byte[]? ReadBuffer(FlatContext c, FlatTable b, int index)
    {
        byte[] data = b.ByteVector(S.Buffer.Data, $"buffer {index} data");
        if (data.Length > 0)
        {
            return data;
        }
        // Models over 2 GB keep constant data after the flatbuffer: offset (> 1) and size from the file start.
        ulong offset = b.ULong(S.Buffer.Offset);
        ulong size = b.ULong(S.Buffer.Size);
        if (offset > 1)
        {
            if (offset > (ulong)c.Length || size > (ulong)c.Length - offset)
            {
                throw c.Error($"buffer {index} refers to bytes {offset}..{offset + size} past the end of the {c.Length}-byte file");
            }
            return size == 0 ? null : c.Bytes.AsSpan((int)offset, (int)size).ToArray();
        }
        return null;
    }

    private static int[] ReadTensorIndices(FlatContext c, FlatTable t, int slot, string what, int tensorCount, bool allowOmitted)
    {
        int[] idx = t.IntVector(slot, what + "s");
        foreach (int i in idx)
        {
            if (i >= tensorCount || i < -1 || (i == -1 && !allowOmitted))
            {
                throw c.Error($"{what} refers to tensor {i}, but the subgraph has {tensorCount} tensors");
            }
        }
        return idx;
    }

    private static Operator ReadOperator(FlatContext c, FlatTable t, int index, OpCode[] opcodes, QnnModel model)
    {
        uint opcodeIndex = t.UInt(S.Operator.OpcodeIndex);
        if (opcodeIndex >= opcodes.Length)
        {
            throw c.Error($"operator {index} refers to operator code {opcodeIndex}, but the model has {opcodes.Length}");
        }
        OpCode code = opcodes[opcodeIndex];
        string opName = code.Code == S.OpCustom ? $"CUSTOM '{code.CustomName}'" : S.OperatorName(code.Code);
        OpKind kind = code.Code switch
        {
            S.OpConv2D => OpKind.Conv2D,
            S.OpDepthwiseConv2D => OpKind.DepthwiseConv2D,
            S.OpFullyConnected => OpKind.FullyConnected,
            S.OpAveragePool2D => OpKind.AveragePool2D,
            S.OpMaxPool2D => OpKind.MaxPool2D,
            S.OpAdd => OpKind.Add,
            S.OpReshape => OpKind.Reshape,
            S.OpPad => OpKind.Pad,
            S.OpSoftmax => OpKind.Softmax,
            S.OpQuantize => OpKind.Quantize,
            S.OpDequantize => OpKind.Dequantize,
            _ => throw c.Error($"operator {index} is {opName}, which is not supported"),
        };
        string what = $"operator {index} ({opName})";
        int n = model.Tensors.Count;
        int[] inputs = ReadTensorIndices(c, t, S.Operator.Inputs, $"{what} input", n, allowOmitted: true);
        int[] outputs = ReadTensorIndices(c, t, S.Operator.Outputs, $"{what} output", n, allowOmitted: false);
        CheckArity(c, kind, inputs, outputs, what);

        byte optionsType = t.Byte(S.Operator.BuiltinOptionsType);
        FlatTable? options = t.Table(S.Operator.BuiltinOptions, $"{what} options");
        byte expectedType = ExpectedOptionsType(kind);
        if (optionsType != 0 && optionsType != expectedType)
        {
            throw c.Error($"{what} has builtin options of union type {optionsType}, expected {expectedType}");
        }
        if (optionsType == 0)
        {
            options = null;
        }
        OpOptions opts = ReadOptions(c, kind, options, what, inputs, outputs, model);
        return new Operator(kind, inputs, outputs, opts);
    }

    internal static byte ExpectedOptionsType(OpKind kind) => kind switch
    {
        OpKind.Conv2D => S.OptConv2D,
        OpKind.DepthwiseConv2D => S.OptDepthwiseConv2D,
        OpKind.FullyConnected => S.OptFullyConnected,
        OpKind.AveragePool2D or OpKind.MaxPool2D => S.OptPool2D,
        OpKind.Add => S.OptAdd,
        OpKind.Reshape => S.OptReshape,
        OpKind.Pad => S.OptPad,
        OpKind.Softmax => S.OptSoftmax,
        OpKind.Quantize => S.OptQuantize,
        OpKind.Dequantize => S.OptDequantize,
        _ => 0,
    };

    private static void CheckArity(FlatContext c, OpKind kind, int[] inputs, int[] outputs, string what)
    {
        (int minIn, int maxIn, int[] required) = kind switch
        {
            OpKind.Conv2D or OpKind.DepthwiseConv2D or OpKind.FullyConnected => (2, 3, new[] { 0, 1 }),
            OpKind.Add => (2, 2, [0, 1]),
            OpKind.Reshape => (1, 2, [0]),
            OpKind.Pad => (2, 2, [0, 1]),
            _ => (1, 1, [0]),
        };
        if (inputs.Length < minIn || inputs.Length > maxIn)
        {
            throw c.Error($"{what} has {inputs.Length} inputs, expected {(minIn == maxIn ? $"{minIn}" : $"{minIn} to {maxIn}")}");
        }
        foreach (int r in required)
        {
            if (inputs[r] < 0)
            {
                throw c.Error($"{what} omits its required input {r}");
            }
        }
        if (outputs.Length != 1)
        {
            throw c.Error($"{what} has {outputs.Length} outputs, expected 1");
        }
    }

    private static Activation ReadActivation(FlatContext c, sbyte a, string what) => a switch
    {
        0 => Activation.None,
        1 => Activation.Relu,
        2 => Activation.ReluN1To1,
        3 => Activation.Relu6,
        _ => throw c.Error($"{what} has fused activation {(a == 4 ? "TANH" : a == 5 ? "SIGN_BIT" : a.ToString())}, which is not supported"),
    };

    private static Padding ReadPadding(FlatContext c, sbyte p, string what) => p switch
    {
        0 => Padding.Same,
        1 => Padding.Valid,
        _ => throw c.Error($"{what} has padding {p}, which is not SAME (0) or VALID (1)"),
    };

    private static int Positive(FlatContext c, int v, string field, string what)
        => v >= 1 ? v : throw c.Error($"{what} has {field} {v}; it must be at least 1");

    private static OpOptions ReadOptions(FlatContext c, OpKind kind, FlatTable? o, string what, int[] inputs, int[] outputs, QnnModel model)
    {
        switch (kind)
        {
            case OpKind.Conv2D:
                {
                    FlatTable t = o ?? throw c.Error($"{what} has no Conv2DOptions");
                    return new ConvOptions(
                        ReadPadding(c, t.SByte(S.Conv2DOptions.Padding), what),
                        Positive(c, t.Int(S.Conv2DOptions.StrideH), "stride_h", what),
                        Positive(c, t.Int(S.Conv2DOptions.StrideW), "stride_w", what),
                        Positive(c, t.Int(S.Conv2DOptions.DilationH, 1), "dilation_h_factor", what),
                        Positive(c, t.Int(S.Conv2DOptions.DilationW, 1), "dilation_w_factor", what),
                        ReadActivation(c, t.SByte(S.Conv2DOptions.Activation), what));
                }
            case OpKind.DepthwiseConv2D:
                {
                    FlatTable t = o ?? throw c.Error($"{what} has no DepthwiseConv2DOptions");
                    return new DepthwiseOptions(
                        ReadPadding(c, t.SByte(S.DepthwiseOptions.Padding), what),
                        Positive(c, t.Int(S.DepthwiseOptions.StrideH), "stride_h", what),
                        Positive(c, t.Int(S.DepthwiseOptions.StrideW), "stride_w", what),
                        Positive(c, t.Int(S.DepthwiseOptions.DilationH, 1), "dilation_h_factor", what),
                        Positive(c, t.Int(S.DepthwiseOptions.DilationW, 1), "dilation_w_factor", what),
                        // depth_multiplier is redundant (TF >= 2.1 ignores it); 0 is seen in converted models.
                        t.Int(S.DepthwiseOptions.DepthMultiplier),
                        ReadActivation(c, t.SByte(S.DepthwiseOptions.Activation), what));
                }
            case OpKind.AveragePool2D or OpKind.MaxPool2D:
                {
                    FlatTable t = o ?? throw c.Error($"{what} has no Pool2DOptions");
                    return new PoolOptions(
                        ReadPadding(c, t.SByte(S.Pool2DOptions.Padding), what),
                        Positive(c, t.Int(S.Pool2DOptions.StrideH), "stride_h", what),
                        Positive(c, t.Int(S.Pool2DOptions.StrideW), "stride_w", what),
                        Positive(c, t.Int(S.Pool2DOptions.FilterHeight), "filter_height", what),
                        Positive(c, t.Int(S.Pool2DOptions.FilterWidth), "filter_width", what),
                        ReadActivation(c, t.SByte(S.Pool2DOptions.Activation), what));
                }
            case OpKind.FullyConnected:
                {
                    if (o is not FlatTable t)
                    {
                        return new FullyConnectedOptions(Activation.None);
                    }
                    if (t.SByte(S.FullyConnectedOptions.WeightsFormat) != 0)
                    {
                        throw c.Error($"{what} uses shuffled weights (SHUFFLED4x16INT8), which are not supported");
                    }
                    return new FullyConnectedOptions(
                        ReadActivation(c, t.SByte(S.FullyConnectedOptions.Activation), what),
                        t.Bool(S.FullyConnectedOptions.KeepNumDims));
                }
            case OpKind.Add:
                return new AddOptions(o is FlatTable a ? ReadActivation(c, a.SByte(S.AddOptions.Activation), what) : Activation.None);
            case OpKind.Softmax:
                return new SoftmaxOptions(o is FlatTable s ? s.Float(S.SoftmaxOptions.Beta) : 1f);
            case OpKind.Reshape:
                {
                    int[]? newShape = o is FlatTable r && r.Has(S.ReshapeOptions.NewShape)
                        ? r.IntVector(S.ReshapeOptions.NewShape, $"{what} new_shape")
                        : null;
                    // Without options the shape comes from the second input (or, failing that, the output).
                    if (newShape is null && inputs.Length > 1 && inputs[1] >= 0
                        && model.Tensors[inputs[1]] is { Type: ElementType.Int32, Data: not null } shapeTensor)
                    {
                        newShape = shapeTensor.DataAs<int>().ToArray();
                    }
                    return new ReshapeOptions(newShape ?? (int[])model.Tensors[outputs[0]].Shape.Clone());
                }
            default:
                return NoOptions.Instance;
        }
    }
}
