using System.Buffers.Binary;
using System.Text;
using QnnLab.Engine;
using QnnLab.Model;

namespace QnnLab.Firmware;

/// <summary>Field offsets and codes of the model blob (shared/model-blob/SPEC.md, version 2).</summary>
public static class BlobFormat
{
    public const int HeaderSize = 96;
    public const int TensorRecordSize = 32;
    public const int OpRecordSize = 20;
    public const int InputTableEntries = 256;
    public const int Version = 2;
    public const int SqueezeTableEntries = 254;
    /// <summary>i32 tensor bit-depth boundaries after the 254 levels: slots 2^b - 2 .. 2^(b+1) - 3 for b = 1..8.</summary>
    public const int SqueezeBoundEntries = 510;
    public const int MaxOutputs = 64;

    public const int OffTotalSize = 8;
    public const int OffCrc = 12;
    public const int OffHash = 16;
    public const int OffTensorCount = 32;
    public const int OffOpCount = 34;
    public const int OffInput = 36;
    public const int OffOutput = 38;
    public const int OffArenaSize = 40;
    public const int OffTensorTable = 44;
    public const int OffOpTable = 48;
    public const int OffInputTable = 52;
    public const int OffSqueezeTable = 56;
    public const int OffPrecision = 60;
    public const int OffName = 64;

    public const byte TypeInt8 = 1, TypeInt16 = 2, TypeInt32 = 3, TypeInt64 = 4;
    public const byte StorageArena = 0, StorageConst = 1;

    public const byte OpConv2D = 1, OpDepthwise = 2, OpFullyConnected = 3, OpAveragePool = 4, OpMaxPool = 5,
        OpAdd = 6, OpReshape = 7, OpPad = 8, OpSoftmax = 9, OpRequantize = 10;
}

/// <summary>An exported blob and what its header says.</summary>
public sealed record ModelBlob(byte[] Bytes, uint Crc32, int TensorCount, int OpCount, uint ArenaBytes, int Precision,
    int InputBytes, int OutputCount, string Name)
{
    public string PrecisionName => Precision == 1 ? "int8" : "int16";
}

/// <summary>
/// Serialises a compiled integer plan (<see cref="IntegerModel"/>) into the device core's model blob. Every
/// constant comes from the plan's records (CompiledOps.cs), never recomputed here, so the board runs exactly
/// what the host engine runs; the arena layout is the engine's own per-image layout.
/// Layout: header | tensor records | op records | input table | squeeze table | params and constants (8-aligned).
/// </summary>
public static class BlobExporter
{
    public static ModelBlob Export(IntegerModel model, ReadOnlySpan<byte> modelHash = default, string? name = null)
    {
        var w = new BlobWriter(model);
        foreach (CompiledOp op in model.Ops)
        {
            w.AddOp(op);
        }
        name ??= model.Source.Name;
        byte[] bytes = w.Finish(modelHash, name, InputTable(model), SqueezeTable(model), SqueezeBoundaries(model));
        return new ModelBlob(bytes, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(BlobFormat.OffCrc)), w.TensorCount, w.OpCount,
            (uint)model.ArenaBytesPerImage, model.ActivationType == ElementType.Int8 ? 1 : 2, model.InputSize, model.OutputSize,
            AsciiName(name));
    }

    /// <summary>
    /// The quantized model input for each pixel value 0..255: the host engine's own quantizer
    /// (<see cref="EngineIo.Quantize"/>, round half away from zero), so device and host agree on every pixel.
    /// </summary>
    public static short[] InputTable(IntegerModel model)
    {
        var t = new short[BlobFormat.InputTableEntries];
        for (int p = 0; p < t.Length; p++)
        {
            t[p] = QuantizePixel(model, p);
        }
        return t;
    }

    /// <summary>
    /// Bit-depth squeeze levels for b = 1..7: entry (2^b - 2) + k is level k of L = 2^b - 1, the squeezed pixel
    /// 255 k / L quantized like any input.
    /// </summary>
    public static short[] SqueezeTable(IntegerModel model)
    {
        var t = new short[BlobFormat.SqueezeTableEntries];
        for (int bits = 1; bits <= 7; bits++)
        {
            int levels = (1 << bits) - 1;
            for (int k = 0; k <= levels; k++)
            {
                t[(1 << bits) - 2 + k] = QuantizePixel(model, SqueezedPixel(k, levels));
            }
        }
        return t;
    }

    /// <summary>
    /// Tensor bit-depth boundaries for b = 1..8 (SPEC "Squeezing a quantized input tensor"): slot (2^b - 2) + j is the
    /// smallest quantized input q whose pixel value <see cref="PixelValue"/> reaches 255 (j + 1/2) / L, or qmax + 1;
    /// slot (2^b - 2) + L is qmax + 1.
    /// </summary>
    public static int[] SqueezeBoundaries(IntegerModel model)
    {
        (int qmin, int qmax) = model.ActivationType == ElementType.Int8 ? (sbyte.MinValue, sbyte.MaxValue) : (short.MinValue, short.MaxValue);
        var t = new int[BlobFormat.SqueezeBoundEntries];
        for (int bits = 1; bits <= 8; bits++)
        {
            int levels = (1 << bits) - 1;
            for (int j = 0; j <= levels; j++)
            {
                double edge = 255.0 * (j + 0.5) / levels;
                int lo = qmin, hi = qmax + 1; // the answer lies in [lo, hi]
                while (j < levels && lo < hi)
                {
                    int mid = lo + ((hi - lo) / 2);
                    if (PixelValue(model, mid) >= edge)
                    {
                        hi = mid;
                    }
                    else
                    {
                        lo = mid + 1;
                    }
                }
                t[(1 << bits) - 2 + j] = j < levels ? lo : qmax + 1;
            }
        }
        return t;
    }

    /// <summary>The pixel value (0..255 scale) a quantized input stands for: ((q - zp) s - offset) / scale, in double.</summary>
    public static double PixelValue(IntegerModel model, int q)
    {
        (float scale, int zp) = model.InputQuantization;
        InputPreprocessing pre = model.Source.Preprocessing;
        return (((q - zp) * (double)scale) - pre.Offset) / pre.Scale;
    }

    /// <summary>Level k of L in pixel units (k / L of full scale), as the host squeezer produces it.</summary>
    public static float SqueezedPixel(int k, int levels) => (float)(255.0 * k / levels);

    private static short QuantizePixel(IntegerModel model, float pixel)
    {
        (float scale, int zp) = model.InputQuantization;
        (int min, int max) = model.ActivationType == ElementType.Int8 ? (sbyte.MinValue, sbyte.MaxValue) : (short.MinValue, short.MaxValue);
        return (short)EngineIo.Quantize(pixel, model.Source.Preprocessing, scale, zp, min, max);
    }

    internal static string AsciiName(string name)
    {
        var sb = new StringBuilder();
        foreach (char c in name)
        {
            if (sb.Length == 31)
            {
                break;
            }
            sb.Append(c is >= ' ' and <= '~' ? c : '_');
        }
        return sb.ToString();
    }

    private sealed record TensorRecord(byte Type, int[] Dims, byte Storage, int ZeroPoint, uint Offset, uint Size, byte[]? Data);

    private sealed record OpRecord(byte Kind, int[] Inputs, int Output, byte[] Params);

    private sealed class BlobWriter
    {
        private readonly List<TensorRecord> _tensors = [];
        private readonly List<OpRecord> _ops = [];
        private readonly Dictionary<int, int> _slotIndex = [];
        private readonly IntegerModel _model;

        public BlobWriter(IntegerModel model)
        {
            _model = model;
            foreach (TensorSlot s in model.Slots)
            {
                _slotIndex[s.TensorIndex] = _tensors.Count;
                _tensors.Add(new TensorRecord(TypeCode(s.Type), s.Shape.Length == 0 ? [1] : s.Shape, BlobFormat.StorageArena, s.ZeroPoint,
                    checked((uint)s.OffsetPerImage), (uint)s.BytesPerImage, null));
            }
        }

        public int TensorCount => _tensors.Count;
        public int OpCount => _ops.Count;
        private bool Is16 => _model.ActivationType == ElementType.Int16;

        private int Act(TensorSlot s) => _slotIndex[s.TensorIndex];

        private int Const(byte type, int[] dims, int zeroPoint, byte[] data)
        {
            _tensors.Add(new TensorRecord(type, dims, BlobFormat.StorageConst, zeroPoint, 0, (uint)data.Length, data));
            return _tensors.Count - 1;
        }

        private int Bias(int[] bias32, long[] bias64, int count)
        {
            if (Is16)
            {
                long[] b = bias64.Length == count ? bias64 : new long[count];
                return Const(BlobFormat.TypeInt64, [count], 0, Bytes(b));
            }
            int[] b32 = bias32.Length == count ? bias32 : new int[count];
            return Const(BlobFormat.TypeInt32, [count], 0, Bytes(b32));
        }

        public void AddOp(CompiledOp op)
        {
            switch (op)
            {
                case ConvPlan c:
                    {
                        int cout = c.Output.Channels;
                        int cin = c.Weights.Length / (cout * c.KernelH * c.KernelW);
                        int filter = Const(BlobFormat.TypeInt8, [cout, c.KernelH, c.KernelW, cin], 0, Bytes(c.Weights));
                        int bias = Bias(c.BiasInt32, c.BiasInt64, cout);
                        Add(BlobFormat.OpConv2D, [Act(c.Input), filter, bias], c.Output,
                            Ints([c.StrideH, c.StrideW, c.DilationH, c.DilationW, c.PadTop, c.PadLeft, c.ActivationMin, c.ActivationMax, .. c.Multipliers, .. c.Shifts]));
                        break;
                    }
                case DepthwisePlan d:
                    {
                        int cout = d.Output.Channels;
                        int filter = Const(BlobFormat.TypeInt8, [1, d.KernelH, d.KernelW, cout], 0, Bytes(d.Weights));
                        int bias = Bias(d.BiasInt32, d.BiasInt64, cout);
                        Add(BlobFormat.OpDepthwise, [Act(d.Input), filter, bias], d.Output,
                            Ints([d.StrideH, d.StrideW, d.DilationH, d.DilationW, d.PadTop, d.PadLeft, d.DepthMultiplier, d.ActivationMin, d.ActivationMax,
                            .. d.Multipliers, .. d.Shifts]));
                        break;
                    }
                case FullyConnectedPlan f:
                    {
                        // The filter's zero point carries the plan's weights offset (TFLite allows one for per-tensor FC).
                        int filter = Const(BlobFormat.TypeInt8, [f.OutputDepth, f.InputDepth], -f.WeightsOffset, Bytes(f.Weights));
                        int bias = Bias(f.BiasInt32, f.BiasInt64, f.OutputDepth);
                        Add(BlobFormat.OpFullyConnected, [Act(f.Input), filter, bias], f.Output,
                            Ints([f.ActivationMin, f.ActivationMax, f.Multipliers.Length, .. f.Multipliers, .. f.Shifts]));
                        break;
                    }
                case PoolPlan p:
                    Add(p.IsMax ? BlobFormat.OpMaxPool : BlobFormat.OpAveragePool, [Act(p.Input)], p.Output,
                        Ints([p.StrideH, p.StrideW, p.FilterH, p.FilterW, p.PadTop, p.PadLeft, p.ActivationMin, p.ActivationMax]));
                    break;
                case AddPlan a:
                    Add(BlobFormat.OpAdd, [Act(a.Input1), Act(a.Input2)], a.Output,
                        Ints([a.LeftShift, a.Input1Multiplier, a.Input1Shift, a.Input2Multiplier, a.Input2Shift, a.OutputMultiplier, a.OutputShift,
                            a.ActivationMin, a.ActivationMax]));
                    break;
                case ReshapePlan r:
                    Add(BlobFormat.OpReshape, [Act(r.Input)], r.Output, []);
                    break;
                case PadPlan p:
                    Add(BlobFormat.OpPad, [Act(p.Input)], p.Output, Ints([.. Four(p.Before), .. Four(p.After), p.PadValue]));
                    break;
                case SoftmaxPlan s when Is16:
                    Add(BlobFormat.OpSoftmax, [Act(s.Input)], s.Output,
                        [.. Ints([s.InputMultiplier, s.InputShift, 0]), .. Bytes(s.ExpLut), .. Bytes(s.OneOverOnePlusXLut)]);
                    break;
                case SoftmaxPlan s:
                    Add(BlobFormat.OpSoftmax, [Act(s.Input)], s.Output, Ints([s.InputMultiplier, s.InputShift, s.DiffMin]));
                    break;
                case RequantizePlan q:
                    Add(BlobFormat.OpRequantize, [Act(q.Input)], q.Output, Ints([q.Multiplier, q.Shift]));
                    break;
                default:
                    throw new ModelException($"{_model.Source.Name}: operator {op.OperatorIndex} ({op.Kind}) has no blob encoding");
            }
        }

        /// <summary>PAD amounts of a rank &lt; 4 tensor are right-aligned in NHWC (leading dimensions padded with 1s).</summary>
        private static int[] Four(int[] v) => v.Length >= 4 ? v[..4] : [.. new int[4 - v.Length], .. v];

        private void Add(byte kind, int[] inputs, TensorSlot output, byte[] parameters)
            => _ops.Add(new OpRecord(kind, inputs, Act(output), parameters));

        public byte[] Finish(ReadOnlySpan<byte> hash, string name, short[] inputTable, short[] squeezeTable, int[] squeezeBounds)
        {
            int pos = BlobFormat.HeaderSize;
            int tensorTable = pos;
            pos += _tensors.Count * BlobFormat.TensorRecordSize;
            int opTable = pos;
            pos += _ops.Count * BlobFormat.OpRecordSize;
            pos = Align8(pos);
            int inputTableOff = pos;
            pos += 2 * BlobFormat.InputTableEntries;
            int squeezeTableOff = pos;
            pos += (2 * BlobFormat.SqueezeTableEntries) + (4 * BlobFormat.SqueezeBoundEntries);

            // Data region: op params, then constants, each 8-aligned.
            var opParams = new int[_ops.Count];
            for (int i = 0; i < _ops.Count; i++)
            {
                pos = Align8(pos);
                opParams[i] = _ops[i].Params.Length == 0 ? 0 : pos;
                pos += _ops[i].Params.Length;
            }
            var constOff = new int[_tensors.Count];
            for (int i = 0; i < _tensors.Count; i++)
            {
                if (_tensors[i].Data is { } data)
                {
                    pos = Align8(pos);
                    constOff[i] = pos;
                    pos += data.Length;
                }
            }
            int total = Align8(pos);

            var o = new byte[total];
            Span<byte> b = o;
            "QNNB"u8.CopyTo(b);
            BinaryPrimitives.WriteUInt16LittleEndian(b[4..], BlobFormat.Version);
            BinaryPrimitives.WriteUInt16LittleEndian(b[6..], BlobFormat.HeaderSize);
            BinaryPrimitives.WriteUInt32LittleEndian(b[BlobFormat.OffTotalSize..], (uint)total);
            hash[..Math.Min(16, hash.Length)].CopyTo(b[BlobFormat.OffHash..]);
            BinaryPrimitives.WriteUInt16LittleEndian(b[BlobFormat.OffTensorCount..], checked((ushort)_tensors.Count));
            BinaryPrimitives.WriteUInt16LittleEndian(b[BlobFormat.OffOpCount..], checked((ushort)_ops.Count));
            BinaryPrimitives.WriteUInt16LittleEndian(b[BlobFormat.OffInput..], (ushort)Act(_model.Input));
            BinaryPrimitives.WriteUInt16LittleEndian(b[BlobFormat.OffOutput..], (ushort)Act(_model.Output));
            BinaryPrimitives.WriteUInt32LittleEndian(b[BlobFormat.OffArenaSize..], checked((uint)_model.ArenaBytesPerImage));
            BinaryPrimitives.WriteUInt32LittleEndian(b[BlobFormat.OffTensorTable..], (uint)tensorTable);
            BinaryPrimitives.WriteUInt32LittleEndian(b[BlobFormat.OffOpTable..], (uint)opTable);
            BinaryPrimitives.WriteUInt32LittleEndian(b[BlobFormat.OffInputTable..], (uint)inputTableOff);
            BinaryPrimitives.WriteUInt32LittleEndian(b[BlobFormat.OffSqueezeTable..], (uint)squeezeTableOff);
            b[BlobFormat.OffPrecision] = (byte)(Is16 ? 2 : 1);
            Encoding.ASCII.GetBytes(AsciiName(name)).CopyTo(b[BlobFormat.OffName..]);

            for (int i = 0; i < _tensors.Count; i++)
            {
                TensorRecord t = _tensors[i];
                Span<byte> r = b.Slice(tensorTable + (i * BlobFormat.TensorRecordSize), BlobFormat.TensorRecordSize);
                if (t.Dims.Length is < 1 or > 4)
                {
                    throw new ModelException($"{_model.Source.Name}: tensor of rank {t.Dims.Length} cannot go into a blob (1..4)");
                }
                r[0] = t.Type;
                r[1] = (byte)t.Dims.Length;
                r[2] = t.Storage;
                for (int k = 0; k < 4; k++)
                {
                    BinaryPrimitives.WriteInt32LittleEndian(r[(4 + (4 * k))..], k < t.Dims.Length ? t.Dims[k] : 1);
                }
                BinaryPrimitives.WriteInt32LittleEndian(r[20..], t.ZeroPoint);
                BinaryPrimitives.WriteUInt32LittleEndian(r[24..], t.Data is null ? t.Offset : (uint)constOff[i]);
                BinaryPrimitives.WriteUInt32LittleEndian(r[28..], t.Size);
                t.Data?.CopyTo(b[constOff[i]..]);
            }
            for (int i = 0; i < _ops.Count; i++)
            {
                OpRecord op = _ops[i];
                Span<byte> r = b.Slice(opTable + (i * BlobFormat.OpRecordSize), BlobFormat.OpRecordSize);
                r[0] = op.Kind;
                r[1] = (byte)op.Inputs.Length;
                for (int k = 0; k < 3; k++)
                {
                    BinaryPrimitives.WriteUInt16LittleEndian(r[(4 + (2 * k))..], k < op.Inputs.Length ? (ushort)op.Inputs[k] : (ushort)0xFFFF);
                }
                BinaryPrimitives.WriteUInt16LittleEndian(r[10..], (ushort)op.Output);
                BinaryPrimitives.WriteUInt32LittleEndian(r[12..], (uint)opParams[i]);
                BinaryPrimitives.WriteUInt32LittleEndian(r[16..], (uint)op.Params.Length);
                op.Params.CopyTo(b[opParams[i]..]);
            }
            for (int i = 0; i < inputTable.Length; i++)
            {
                BinaryPrimitives.WriteInt16LittleEndian(b[(inputTableOff + (2 * i))..], inputTable[i]);
            }
            for (int i = 0; i < squeezeTable.Length; i++)
            {
                BinaryPrimitives.WriteInt16LittleEndian(b[(squeezeTableOff + (2 * i))..], squeezeTable[i]);
            }
            int boundsOff = squeezeTableOff + (2 * BlobFormat.SqueezeTableEntries);
            for (int i = 0; i < squeezeBounds.Length; i++)
            {
                BinaryPrimitives.WriteInt32LittleEndian(b[(boundsOff + (4 * i))..], squeezeBounds[i]);
            }
            BinaryPrimitives.WriteUInt32LittleEndian(b[BlobFormat.OffCrc..], Crc32.Compute(o, BlobFormat.OffCrc));
            return o;
        }

        private static int Align8(int n) => (n + 7) & ~7;

        private static byte TypeCode(ElementType t) => t switch
        {
            ElementType.Int8 => BlobFormat.TypeInt8,
            ElementType.Int16 => BlobFormat.TypeInt16,
            _ => throw new ModelException($"activation type {t} cannot go into a blob"),
        };

        private static byte[] Ints(int[] v) => Bytes(v);

        private static byte[] Bytes<T>(T[] v) where T : unmanaged
            => System.Runtime.InteropServices.MemoryMarshal.AsBytes(v.AsSpan()).ToArray();
    }
}
