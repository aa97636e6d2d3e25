using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using QnnLab.Model;

namespace QnnLab.Engine.Kernels;

/// <summary>
/// Vectorised kernels, chosen once per engine from the CPU's (or a forced) <see cref="KernelIsa"/>. This file:
/// int8 convolution and fully connected as an implicit im2col (FastKernels.Layout.cs) + an int8 GEMM with 32-bit accumulation on AVX-VNNI (the
/// widened AVX2 / AVX-512BW / portable GEMMs are in FastKernels.Int8Wide.cs), and ADD (int8 and int16). Bit-exact with
/// <see cref="ReferenceKernels"/>: VPDPBUSD multiplies unsigned by signed bytes, so activations enter as
/// x + 128 and the constant (128 - inputOffset) * sum(w) is folded into the bias
/// (sum (x - zp) w = sum (x + 128) w - (128 + zp) sum w; out-of-image taps hold zp + 128, which the folded
/// bias cancels, as the reference skips them). The int32 sums wrap exactly as the reference's do.
/// Requantization runs on 8 lanes with per-channel shifts. 16x8 GEMMs and depthwise live in the other
/// parts of this class. Weights are packed once per engine; scratch buffers are reused: no allocation per run.
/// An operator whose constants fall outside a vector kernel's range is not packed and runs on the reference.
/// </summary>
internal sealed unsafe partial class FastKernels : IDisposable
{
    /// <summary>im2col rows per chunk: the chunk stays in L1/L2 while every weight block passes over it.</summary>
    private const int ChunkRows = 128;
    private const int RowTile = 4;
    private const int OcTile = 16;

    private readonly Dictionary<CompiledOp, PackedGemm> _packed = new(ReferenceEqualityComparer.Instance);
    private readonly byte* _col;
    private readonly int _colBytes;

    /// <summary>One padded input image of the largest convolution (either GEMM's layout).</summary>
    private byte* _pad;
    private long _padBytes;

    private readonly KernelIsa _isa;

    /// <summary>True when some vector kernel can run with <paramref name="isa"/>.</summary>
    public static bool Supports(KernelIsa isa) => isa.Avx2 || isa.Portable;

    public FastKernels(IntegerModel model, KernelIsa isa)
    {
        _isa = isa;
        int maxK4 = 4;
        foreach (CompiledOp op in model.Ops)
        {
            PackedGemm? g = op switch
            {
                _ when !isa.AvxVnni => null,
                ConvPlan c when !c.Is16x8 => PackedGemm.FromConv(c),
                FullyConnectedPlan f when !f.Is16x8 && f.WeightsOffset == 0 => PackedGemm.FromFullyConnected(f),
                _ => null,
            };
            if (g is not null)
            {
                _packed[op] = g;
                maxK4 = Math.Max(maxK4, g.K4);
            }
        }
        _colBytes = ChunkRows * maxK4;
        _col = (byte*)NativeMemory.AlignedAlloc((nuint)_colBytes, 64);
        foreach (PackedGemm g in _packed.Values)
        {
            ReservePad(g.Layout);
        }
        if (!isa.AvxVnni)
        {
            PrepareWide(model.Ops, isa.Avx512 ? WideLoop.Avx512 : isa.Avx2 ? WideLoop.Avx2 : WideLoop.Portable);
        }
        if (isa.Avx2)
        {
            Prepare16(model.Ops);
            PrepareDepthwise(model.Ops);
        }
    }

    /// <summary>Grows the padded-image buffer to hold one image of <paramref name="l"/> (plus a vector of slack).</summary>
    private void ReservePad(GemmLayout l)
    {
        long bytes = (l.ImageInts * 4) + 64;
        if (bytes > _padBytes)
        {
            NativeMemory.AlignedFree(_pad);
            _pad = (byte*)NativeMemory.AlignedAlloc((nuint)bytes, 64);
            _padBytes = bytes;
        }
    }

    public void Dispose()
    {
        NativeMemory.AlignedFree(_col);
        NativeMemory.AlignedFree(_pad);
        foreach (PackedGemm g in _packed.Values)
        {
            g.Dispose();
        }
        Dispose16();
        DisposeDepthwise();
        DisposeWide();
    }

    public bool Conv(ConvPlan p, void* input, void* output, int batch)
    {
        if (p.Is16x8)
        {
            return Conv16(p, input, output, batch);
        }
        if (!_packed.TryGetValue(p, out PackedGemm? g))
        {
            return ConvWide(p, (sbyte*)input, (sbyte*)output, batch);
        }
        GemmLayout l = g.Layout;
        for (int b = 0; b < batch; b++)
        {
            PadFlipImage(p, l, (sbyte*)input, b, _pad);
            Gemm(g, (int*)_pad, l.RowBase, l.Rows, (sbyte*)output + ((long)b * l.Rows * g.OutChannels));
        }
        return true;
    }

    public bool FullyConnected(FullyConnectedPlan p, void* input, void* output, int batch)
    {
        if (p.Is16x8)
        {
            return FullyConnected16(p, input, output, batch);
        }
        if (!_packed.TryGetValue(p, out PackedGemm? g))
        {
            return FullyConnectedWide(p, (sbyte*)input, (sbyte*)output, batch);
        }
        int totalRows = p.RowsPerImage * batch;
        int k = p.InputDepth;
        for (int r0 = 0; r0 < totalRows; r0 += ChunkRows)
        {
            int rows = Math.Min(ChunkRows, totalRows - r0);
            for (int r = 0; r < rows; r++)
            {
                byte* dst = _col + ((long)r * g.K4);
                CopyFlipSign((sbyte*)input + ((long)(r0 + r) * k), dst, k);
                for (int i = k; i < g.K4; i++)
                {
                    dst[i] = 0;
                }
            }
            Gemm(g, (int*)_col, g.Layout.RowBase, rows, (sbyte*)output + ((long)r0 * g.OutChannels));
        }
        return true;
    }

    /// <summary>Copies int8 values as uint8 x + 128 (flipping the sign bit).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyFlipSign(sbyte* src, byte* dst, int n)
    {
        int i = 0;
        Vector256<byte> flip256 = Vector256.Create((byte)0x80);
        for (; i + 32 <= n; i += 32)
        {
            Vector256.Store(Vector256.Load((byte*)src + i) ^ flip256, dst + i);
        }
        Vector128<byte> flip128 = Vector128.Create((byte)0x80);
        for (; i + 16 <= n; i += 16)
        {
            Vector128.Store(Vector128.Load((byte*)src + i) ^ flip128, dst + i);
        }
        for (; i + 8 <= n; i += 8)
        {
            *(ulong*)(dst + i) = *(ulong*)((byte*)src + i) ^ 0x8080_8080_8080_8080UL;
        }
        for (; i < n; i++)
        {
            dst[i] = (byte)(((byte*)src)[i] ^ 0x80);
        }
    }

    /// <summary>
    /// out[r, oc] = requantize(sum_k a[r, k] * w[oc, k] + biasEff[oc]) for <paramref name="rows"/> rows, row r's
    /// k group gi read at image[rowBase[r] + GroupOffset[gi]] (the implicit im2col).
    /// </summary>
    private static void Gemm(PackedGemm g, int* image, int* rowBase, int rows, sbyte* output)
    {
        if (g.OutChannels <= 8)
        {
            GemmNarrow(g, image, rowBase, rows, output);
            return;
        }
        int groups = g.K4 / 4;
        int oc = g.OutChannels;
        int* go = g.Layout.GroupOffset;
        sbyte* tmp = stackalloc sbyte[OcTile];
        for (int r = 0; r < rows; r += RowTile)
        {
            int valid = Math.Min(RowTile, rows - r);
            // Rows past the end re-read the first row of the tile; their results are not stored.
            int* a0 = image + rowBase[r];
            int* a1 = valid > 1 ? image + rowBase[r + 1] : a0;
            int* a2 = valid > 2 ? image + rowBase[r + 2] : a0;
            int* a3 = valid > 3 ? image + rowBase[r + 3] : a0;
            for (int ob = 0; ob < g.OcBlocks; ob++)
            {
                sbyte* w = g.Packed + ((long)ob * groups * 64);
                Vector256<int> c00 = Vector256<int>.Zero, c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
                for (int gi = 0; gi < groups; gi++)
                {
                    Vector256<sbyte> w0 = Vector256.Load(w);
                    Vector256<sbyte> w1 = Vector256.Load(w + 32);
                    w += 64;
                    int off = go[gi];
                    Vector256<byte> x0 = Vector256.Create(a0[off]).AsByte();
                    Vector256<byte> x1 = Vector256.Create(a1[off]).AsByte();
                    Vector256<byte> x2 = Vector256.Create(a2[off]).AsByte();
                    Vector256<byte> x3 = Vector256.Create(a3[off]).AsByte();
                    c00 = AvxVnni.MultiplyWideningAndAdd(c00, x0, w0);
                    c01 = AvxVnni.MultiplyWideningAndAdd(c01, x0, w1);
                    c10 = AvxVnni.MultiplyWideningAndAdd(c10, x1, w0);
                    c11 = AvxVnni.MultiplyWideningAndAdd(c11, x1, w1);
                    c20 = AvxVnni.MultiplyWideningAndAdd(c20, x2, w0);
                    c21 = AvxVnni.MultiplyWideningAndAdd(c21, x2, w1);
                    c30 = AvxVnni.MultiplyWideningAndAdd(c30, x3, w0);
                    c31 = AvxVnni.MultiplyWideningAndAdd(c31, x3, w1);
                }
                int ocBase = ob * OcTile;
                int ocCount = Math.Min(OcTile, oc - ocBase);
                StoreRow(g.Requant, ocBase, ocCount, c00, c01, output + ((long)r * oc) + ocBase, tmp);
                if (valid > 1)
                {
                    StoreRow(g.Requant, ocBase, ocCount, c10, c11, output + ((long)(r + 1) * oc) + ocBase, tmp);
                }
                if (valid > 2)
                {
                    StoreRow(g.Requant, ocBase, ocCount, c20, c21, output + ((long)(r + 2) * oc) + ocBase, tmp);
                }
                if (valid > 3)
                {
                    StoreRow(g.Requant, ocBase, ocCount, c30, c31, output + ((long)(r + 3) * oc) + ocBase, tmp);
                }
            }
        }
    }

    /// <summary>
    /// At most 8 output channels (e.g. VWW's first layer): 8 rows x 8 channels per tile, so neither the dot
    /// products nor the requantization spend half their lanes on the padding channels.
    /// </summary>
    private static void GemmNarrow(PackedGemm g, int* image, int* rowBase, int rows, sbyte* output)
    {
        int groups = g.K4 / 4;
        int oc = g.OutChannels;
        int* go = g.Layout.GroupOffset;
        Vector256<int>* acc = stackalloc Vector256<int>[8];
        long* tmp = stackalloc long[1];
        for (int r = 0; r < rows; r += 8)
        {
            int valid = Math.Min(8, rows - r);
            // Rows past the end re-read the tile's first row; their results are not stored.
            int* a0 = image + rowBase[r];
            int* a1 = valid > 1 ? image + rowBase[r + 1] : a0;
            int* a2 = valid > 2 ? image + rowBase[r + 2] : a0;
            int* a3 = valid > 3 ? image + rowBase[r + 3] : a0;
            int* a4 = valid > 4 ? image + rowBase[r + 4] : a0;
            int* a5 = valid > 5 ? image + rowBase[r + 5] : a0;
            int* a6 = valid > 6 ? image + rowBase[r + 6] : a0;
            int* a7 = valid > 7 ? image + rowBase[r + 7] : a0;
            sbyte* w = g.Packed;
            Vector256<int> c0 = Vector256<int>.Zero, c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
            for (int gi = 0; gi < groups; gi++)
            {
                // The first 32 bytes of a group hold channels 0..7 (the other 8 are padding).
                Vector256<sbyte> w0 = Vector256.Load(w);
                w += 64;
                int off = go[gi];
                c0 = AvxVnni.MultiplyWideningAndAdd(c0, Vector256.Create(a0[off]).AsByte(), w0);
                c1 = AvxVnni.MultiplyWideningAndAdd(c1, Vector256.Create(a1[off]).AsByte(), w0);
                c2 = AvxVnni.MultiplyWideningAndAdd(c2, Vector256.Create(a2[off]).AsByte(), w0);
                c3 = AvxVnni.MultiplyWideningAndAdd(c3, Vector256.Create(a3[off]).AsByte(), w0);
                c4 = AvxVnni.MultiplyWideningAndAdd(c4, Vector256.Create(a4[off]).AsByte(), w0);
                c5 = AvxVnni.MultiplyWideningAndAdd(c5, Vector256.Create(a5[off]).AsByte(), w0);
                c6 = AvxVnni.MultiplyWideningAndAdd(c6, Vector256.Create(a6[off]).AsByte(), w0);
                c7 = AvxVnni.MultiplyWideningAndAdd(c7, Vector256.Create(a7[off]).AsByte(), w0);
            }
            acc[0] = c0;
            acc[1] = c1;
            acc[2] = c2;
            acc[3] = c3;
            acc[4] = c4;
            acc[5] = c5;
            acc[6] = c6;
            acc[7] = c7;
            for (int i = 0; i < valid; i += 2)
            {
                // Two rows per narrowing: 16 results, 8 bytes each row.
                Vector256<int> q0 = g.Requant.Apply8(0, acc[i]);
                Vector256<int> q1 = i + 1 < valid ? g.Requant.Apply8(0, acc[i + 1]) : q0;
                Vector256<short> words = Vector256.Narrow(q0, q1);
                Vector128<long> both = Vector128.Narrow(words.GetLower(), words.GetUpper()).AsInt64();
                StoreNarrow(both.ToScalar(), output + ((long)(r + i) * oc), oc, tmp);
                if (i + 1 < valid)
                {
                    StoreNarrow(both.GetElement(1), output + ((long)(r + i + 1) * oc), oc, tmp);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreNarrow(long eight, sbyte* dst, int oc, long* tmp)
    {
        if (oc == 8)
        {
            *(long*)dst = eight;
            return;
        }
        *tmp = eight;
        for (int i = 0; i < oc; i++)
        {
            dst[i] = ((sbyte*)tmp)[i];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(Requant8 q, int ocBase, int ocCount, Vector256<int> lo, Vector256<int> hi, sbyte* dst, sbyte* tmp)
    {
        Vector256<int> q0 = q.Apply8(ocBase, lo);
        Vector256<int> q1 = q.Apply8(ocBase + 8, hi);
        Vector256<short> words = Vector256.Narrow(q0, q1);
        Vector128<sbyte> packed = Vector128.Narrow(words.GetLower(), words.GetUpper());
        if (ocCount == OcTile)
        {
            Vector128.Store(packed, dst);
        }
        else if (ocCount == 8)
        {
            *(long*)dst = packed.AsInt64().ToScalar();
        }
        else
        {
            Vector128.Store(packed, tmp);
            for (int i = 0; i < ocCount; i++)
            {
                dst[i] = tmp[i];
            }
        }
    }

    /// <summary>
    /// The path <paramref name="op"/> runs on here, named as `bench engine` and `eval --json` report it; null when
    /// it runs on the reference kernels.
    /// </summary>
    public string? PathOf(CompiledOp op) => op switch
    {
        ConvPlan c when c.Is16x8 => _packed16.ContainsKey(c) ? Name16 : null,
        FullyConnectedPlan f when f.Is16x8 => _packed16.ContainsKey(f) ? Name16 : null,
        ConvPlan or FullyConnectedPlan when _packed.ContainsKey(op) => KernelIsa.AvxVnniName,
        ConvPlan or FullyConnectedPlan when _packedWide.TryGetValue(op, out PackedGemmWide? g) => g.Loop switch
        {
            WideLoop.Avx512 => KernelIsa.Avx512Name,
            WideLoop.Avx2 => KernelIsa.Avx2Name,
            _ => KernelIsa.PortableName,
        },
        DepthwisePlan d when _depthwise.ContainsKey(d) => KernelIsa.Avx2Name,
        AddPlan a when CanAdd(a) => _isa.Avx512 ? KernelIsa.Avx512Name : KernelIsa.Avx2Name,
        _ => null,
    };

    /// <summary>The 16x8 GEMM's path: VPDPWSSD with AVX-VNNI, else VPMADDWD.</summary>
    private string Name16 => _isa.AvxVnni ? KernelIsa.AvxVnniName : KernelIsa.Avx2Name;

    /// <summary>The lane arithmetic needs AVX2, multipliers &gt;= 0 and right shifts of 0..31 (TFLite's add always has them).</summary>
    private bool CanAdd(AddPlan p)
        => _isa.Avx2 && p.Output.Type is ElementType.Int8 or ElementType.Int16
            && p.Input1Multiplier >= 0 && p.Input2Multiplier >= 0 && p.OutputMultiplier >= 0
            && p.Input1Shift is <= 0 and >= -31 && p.Input2Shift is <= 0 and >= -31 && p.OutputShift is <= 0 and >= -31
            && p.LeftShift is >= 0 and <= 31;

    public bool Add(AddPlan p, void* in1, void* in2, void* output, int batch)
    {
        if (!CanAdd(p))
        {
            return false;
        }
        long n = (long)p.Output.ElementsPerImage * batch;
        long i = 0;
        var k = new AddLaneConstants(p);
        if (_isa.Avx512)
        {
            i = Add512(p, in1, in2, output, n);
        }
        if (p.Output.Type == ElementType.Int16)
        {
            short* a = (short*)in1, b = (short*)in2, o = (short*)output;
            for (; i + 8 <= n; i += 8)
            {
                Vector256<int> r = k.Apply(Avx2.ConvertToVector256Int32(a + i), Avx2.ConvertToVector256Int32(b + i));
                Vector128.Store(Vector128.Narrow(r.GetLower(), r.GetUpper()), o + i);
            }
            for (; i < n; i++)
            {
                o[i] = (short)ReferenceKernels.AddElement(p, a[i], b[i]);
            }
            return true;
        }
        {
            sbyte* a = (sbyte*)in1, b = (sbyte*)in2, o = (sbyte*)output;
            for (; i + 8 <= n; i += 8)
            {
                Vector256<int> r = k.Apply(Avx2.ConvertToVector256Int32(a + i), Avx2.ConvertToVector256Int32(b + i));
                Vector128<short> s = Vector128.Narrow(r.GetLower(), r.GetUpper());
                Vector128<sbyte> bytes = Vector128.Narrow(s, s);
                *(long*)(o + i) = bytes.AsInt64().ToScalar();
            }
            for (; i < n; i++)
            {
                o[i] = (sbyte)ReferenceKernels.AddElement(p, a[i], b[i]);
            }
        }
        return true;
    }

    /// <summary>The add on 16 lanes (AVX-512F) for the first n - n % 16 elements; returns how many it did.</summary>
    private static long Add512(AddPlan p, void* in1, void* in2, void* output, long n)
    {
        var k = new AddLaneConstants512(p);
        long i = 0;
        if (p.Output.Type == ElementType.Int16)
        {
            short* a = (short*)in1, b = (short*)in2, o = (short*)output;
            for (; i + 16 <= n; i += 16)
            {
                Vector512<int> r = k.Apply(Avx512F.ConvertToVector512Int32(Vector256.Load(a + i)), Avx512F.ConvertToVector512Int32(Vector256.Load(b + i)));
                Vector256.Store(Avx512F.ConvertToVector256Int16(r), o + i);
            }
            return i;
        }
        {
            sbyte* a = (sbyte*)in1, b = (sbyte*)in2, o = (sbyte*)output;
            for (; i + 16 <= n; i += 16)
            {
                Vector512<int> r = k.Apply(Avx512F.ConvertToVector512Int32(Vector128.Load(a + i)), Avx512F.ConvertToVector512Int32(Vector128.Load(b + i)));
                Vector128.Store(Avx512F.ConvertToVector128SByte(r), o + i);
            }
            return i;
        }
    }

    /// <summary><see cref="AddLaneConstants"/> on 16 lanes.</summary>
    private readonly struct AddLaneConstants512(AddPlan p)
    {
        private readonly Vector512<int> _offset1 = Vector512.Create(p.Input1Offset), _offset2 = Vector512.Create(p.Input2Offset);
        private readonly Vector512<int> _outputOffset = Vector512.Create(p.OutputOffset);
        private readonly Vector512<int> _min = Vector512.Create(p.ActivationMin), _max = Vector512.Create(p.ActivationMax);
        private readonly Vector512<int> _m1 = Vector512.Create(p.Input1Multiplier), _m2 = Vector512.Create(p.Input2Multiplier), _mOut = Vector512.Create(p.OutputMultiplier);
        private readonly int _leftShift = p.LeftShift, _e1 = -p.Input1Shift, _e2 = -p.Input2Shift, _eOut = -p.OutputShift;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<int> Apply(Vector512<int> a, Vector512<int> b)
        {
            Vector512<int> s1 = MulSmallerThanOne512(Vector512.ShiftLeft(a + _offset1, _leftShift), _m1, _e1);
            Vector512<int> s2 = MulSmallerThanOne512(Vector512.ShiftLeft(b + _offset2, _leftShift), _m2, _e2);
            Vector512<int> r = MulSmallerThanOne512(s1 + s2, _mOut, _eOut) + _outputOffset;
            return Vector512.Min(Vector512.Max(r, _min), _max);
        }
    }

    /// <summary><see cref="MulSmallerThanOne"/> on 16 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> MulSmallerThanOne512(Vector512<int> x, Vector512<int> m, int exponent)
    {
        Vector512<long> nudge = Vector512.Create(1L << 30);
        Vector512<long> even = Avx512F.Multiply(x, m) + nudge;
        Vector512<long> odd = Avx512F.Multiply(Vector512.ShiftRightLogical(x.AsInt64(), 32).AsInt32(), m) + nudge;
        // Each lane's high word: the even products' bits 31..62 in the even lanes, the odd products' in the odd lanes.
        Vector512<int> oddLanes = Vector512.Create(unchecked((long)0xFFFF_FFFF_0000_0000UL)).AsInt32();
        Vector512<int> high = Vector512.ConditionalSelect(oddLanes, (Vector512.ShiftRightLogical(odd, 31) << 32).AsInt32(), Vector512.ShiftRightLogical(even, 31).AsInt32());
        Vector512<int> mask = Vector512.Create((int)((1L << exponent) - 1));
        Vector512<int> remainder = high & mask;
        Vector512<int> threshold = Vector512.ShiftRightLogical(mask, 1) - Vector512.GreaterThan(Vector512<int>.Zero, high);
        return Vector512.ShiftRightArithmetic(high, exponent) - Vector512.GreaterThan(remainder, threshold);
    }

    /// <summary>
    /// The add's constants as vectors, held in locals for the loop (a plan's fields could alias the output
    /// stores, so the JIT would reload them every iteration).
    /// </summary>
    private readonly struct AddLaneConstants(AddPlan p)
    {
        private readonly Vector256<int> _offset1 = Vector256.Create(p.Input1Offset), _offset2 = Vector256.Create(p.Input2Offset);
        private readonly Vector256<int> _outputOffset = Vector256.Create(p.OutputOffset);
        private readonly Vector256<int> _min = Vector256.Create(p.ActivationMin), _max = Vector256.Create(p.ActivationMax);
        private readonly Vector256<int> _m1 = Vector256.Create(p.Input1Multiplier), _m2 = Vector256.Create(p.Input2Multiplier), _mOut = Vector256.Create(p.OutputMultiplier);
        private readonly int _leftShift = p.LeftShift, _e1 = -p.Input1Shift, _e2 = -p.Input2Shift, _eOut = -p.OutputShift;

        /// <summary><see cref="ReferenceKernels.AddElement"/> on 8 lanes (the shifts wrap as C's, the clamp keeps the type's range).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<int> Apply(Vector256<int> a, Vector256<int> b)
        {
            Vector256<int> s1 = MulSmallerThanOne(Vector256.ShiftLeft(a + _offset1, _leftShift), _m1, _e1);
            Vector256<int> s2 = MulSmallerThanOne(Vector256.ShiftLeft(b + _offset2, _leftShift), _m2, _e2);
            Vector256<int> r = MulSmallerThanOne(s1 + s2, _mOut, _eOut) + _outputOffset;
            return Avx2.Min(Avx2.Max(r, _min), _max);
        }
    }

    /// <summary>RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x, m), e) for m &gt;= 0 on 8 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> MulSmallerThanOne(Vector256<int> x, Vector256<int> m, int exponent)
    {
        Vector256<long> nudge = Vector256.Create(1L << 30);
        Vector256<long> even = Avx2.Multiply(x, m) + nudge;
        Vector256<long> odd = Avx2.Multiply(Avx2.ShiftRightLogical(x.AsInt64(), 32).AsInt32(), m) + nudge;
        Vector256<int> high = Avx2.Blend(Avx2.ShiftRightLogical(even, 31).AsInt32(), Avx2.ShiftLeftLogical(Avx2.ShiftRightLogical(odd, 31), 32).AsInt32(), 0b1010_1010);
        Vector256<int> mask = Vector256.Create((int)((1L << exponent) - 1));
        Vector256<int> remainder = high & mask;
        Vector256<int> threshold = Avx2.ShiftRightLogical(mask, 1) - Avx2.CompareGreaterThan(Vector256<int>.Zero, high);
        return Vector256.ShiftRightArithmetic(high, exponent) - Avx2.CompareGreaterThan(remainder, threshold);
    }

    /// <summary>
    /// Weights packed for the GEMM: [oc block of 16][k group of 4][16 oc][4 k], k tap-major with each tap's channels
    /// padded to a multiple of 4 (zeros), plus per-channel constants and the layout the GEMM reads its rows by.
    /// </summary>
    private sealed class PackedGemm : IDisposable
    {
        public int K4, OutChannels, OcBlocks;
        public sbyte* Packed;
        public required Requant8 Requant;
        public required GemmLayout Layout;

        public static PackedGemm? FromConv(ConvPlan p)
            => Create(p.Weights, p.KernelH * p.KernelW, p.Input.Channels, p.Output.Channels, p.BiasInt32, p.Multipliers, p.Shifts,
                p.InputOffset, p.OutputOffset, p.ActivationMin, p.ActivationMax, GemmLayout.ForConv(p, 4));

        public static PackedGemm? FromFullyConnected(FullyConnectedPlan p)
            => Create(p.Weights, 1, p.InputDepth, p.OutputDepth, p.BiasInt32, p.Multipliers, p.Shifts, p.InputOffset, p.OutputOffset,
                p.ActivationMin, p.ActivationMax, GemmLayout.ForRows(ChunkRows, (p.InputDepth + 3) / 4));

        private static PackedGemm? Create(sbyte[] weights, int taps, int c, int oc, int[] bias, int[] mult, int[] shift, int inputOffset,
            int outputOffset, int actMin, int actMax, GemmLayout layout)
        {
            var biasEff = new int[oc];
            int c4 = (c + 3) / 4 * 4;
            int k4 = taps * c4;
            int ocBlocks = (oc + OcTile - 1) / OcTile;
            int groups = k4 / 4;
            var packed = new sbyte[ocBlocks * OcTile * k4];
            for (int o = 0; o < oc; o++)
            {
                int sum = 0;
                for (int t = 0; t < taps; t++)
                {
                    for (int ch = 0; ch < c; ch++)
                    {
                        sbyte w = weights[(((long)o * taps) + t) * c + ch];
                        sum += w;
                        int kk = (t * c4) + ch;
                        int ob = o / OcTile, lane = o % OcTile, gi = kk / 4, j = kk % 4;
                        packed[(((ob * groups) + gi) * OcTile * 4) + (lane * 4) + j] = w;
                    }
                }
                // sum (x - zp) w = sum (x + 128) w - (128 + zp) sum w, with zp = -inputOffset (int32 wrap, as the reference).
                biasEff[o] = unchecked(bias[o] - ((128 - inputOffset) * sum));
            }
            Requant8? q = Requant8.Create(biasEff, mult, shift, oc, outputOffset, actMin, actMax);
            if (q is null)
            {
                layout.Dispose();
                return null;
            }
            var g = new PackedGemm { K4 = k4, OutChannels = oc, OcBlocks = ocBlocks, Requant = q, Layout = layout };
            g.Packed = (sbyte*)NativeMemory.AlignedAlloc((nuint)packed.Length, 64);
            packed.CopyTo(new Span<sbyte>(g.Packed, packed.Length));
            return g;
        }

        public void Dispose()
        {
            NativeMemory.AlignedFree(Packed);
            Requant.Dispose();
            Layout.Dispose();
        }
    }

    /// <summary>
    /// Per-channel constants of the int8 requantization on int32 lanes (bias, multiplier, left and right
    /// shift), padded to a multiple of 16 channels, plus output offset and clamp.
    /// </summary>
    internal sealed class Requant8 : IDisposable
    {
        private int* _bias, _multiplier, _leftShift, _rightShift, _mask, _threshold;
        public int OutputOffset, ActivationMin, ActivationMax;

        /// <summary>False when every channel's left shift is 0 (multipliers below one, as in most models): the shift is skipped.</summary>
        private bool _anyLeftShift;

        private Requant8()
        {
        }

        /// <summary>Null when a multiplier is negative or a right shift exceeds 31 (the vector arithmetic's range).</summary>
        public static Requant8? Create(int[] bias, int[] multipliers, int[] shifts, int channels, int outputOffset, int activationMin, int activationMax)
        {
            int padded = (channels + OcTile - 1) / OcTile * OcTile;
            var q = new Requant8
            {
                _bias = AllocInts(padded),
                _multiplier = AllocInts(padded),
                _leftShift = AllocInts(padded),
                _rightShift = AllocInts(padded),
                _mask = AllocInts(padded),
                _threshold = AllocInts(padded),
                OutputOffset = outputOffset,
                ActivationMin = activationMin,
                ActivationMax = activationMax,
            };
            for (int c = 0; c < channels; c++)
            {
                int m = multipliers[multipliers.Length == 1 ? 0 : c];
                int s = shifts[shifts.Length == 1 ? 0 : c];
                if (m < 0 || s < -31 || s > 31)
                {
                    q.Dispose();
                    return null;
                }
                q._bias[c] = bias[c];
                q._multiplier[c] = m;
                q._leftShift[c] = s > 0 ? s : 0;
                q._rightShift[c] = s > 0 ? 0 : -s;
                // RoundingDivideByPOT's per-channel constants: mask = 2^e - 1, threshold = mask / 2 (before the sign's +1).
                q._mask[c] = (int)((1L << q._rightShift[c]) - 1);
                q._threshold[c] = q._mask[c] >> 1;
                q._anyLeftShift |= s > 0;
            }
            return q;
        }

        /// <summary>
        /// TFLite MultiplyByQuantizedMultiplier on 8 lanes (channels c..c+7) after adding the bias, plus offset and
        /// clamp. With multipliers &gt;= 0 the doubling high multiply equals floor((x*m + 2^30) / 2^31), taken from the 64-bit products.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<int> Apply8(int c, Vector256<int> acc)
        {
            Vector256<int> x = acc + Vector256.Load(_bias + c);
            if (_anyLeftShift)
            {
                x = Avx2.ShiftLeftLogicalVariable(x, Vector256.Load(_leftShift + c).AsUInt32());
            }
            Vector256<int> m = Vector256.Load(_multiplier + c);
            Vector256<long> nudge = Vector256.Create(1L << 30);
            Vector256<long> even = Avx2.Multiply(x, m) + nudge;
            Vector256<long> odd = Avx2.Multiply(Avx2.ShiftRightLogical(x.AsInt64(), 32).AsInt32(), Avx2.ShiftRightLogical(m.AsInt64(), 32).AsInt32()) + nudge;
            Vector256<int> evenHigh = Avx2.ShiftRightLogical(even, 31).AsInt32();
            Vector256<int> oddHigh = Avx2.ShiftLeftLogical(Avx2.ShiftRightLogical(odd, 31), 32).AsInt32();
            Vector256<int> high = Avx2.Blend(evenHigh, oddHigh, 0b1010_1010);

            // RoundingDivideByPOT with per-lane exponents.
            Vector256<uint> e = Vector256.Load(_rightShift + c).AsUInt32();
            Vector256<int> remainder = high & Vector256.Load(_mask + c);
            Vector256<int> threshold = Vector256.Load(_threshold + c) - Avx2.CompareGreaterThan(Vector256<int>.Zero, high);
            Vector256<int> result = Avx2.ShiftRightArithmeticVariable(high, e) - Avx2.CompareGreaterThan(remainder, threshold);

            result += Vector256.Create(OutputOffset);
            result = Avx2.Max(result, Vector256.Create(ActivationMin));
            return Avx2.Min(result, Vector256.Create(ActivationMax));
        }

        /// <summary>The same arithmetic on one channel's sum, for the portable GEMM (no AVX2 needed).</summary>
        public int ApplyScalar(int c, int acc)
        {
            int v = Requantization.MultiplyByQuantizedMultiplier(unchecked(acc + _bias[c]), _multiplier[c], _leftShift[c] - _rightShift[c]);
            return Math.Clamp(v + OutputOffset, ActivationMin, ActivationMax);
        }

        /// <summary>n zeroed ints, 64-byte aligned (freed with NativeMemory.AlignedFree).</summary>
        internal static int* AllocInts(int n)
        {
            int* p = (int*)NativeMemory.AlignedAlloc((nuint)Math.Max(1, n) * sizeof(int), 64);
            new Span<int>(p, n).Clear();
            return p;
        }

        public void Dispose()
        {
            NativeMemory.AlignedFree(_bias);
            NativeMemory.AlignedFree(_multiplier);
            NativeMemory.AlignedFree(_leftShift);
            NativeMemory.AlignedFree(_rightShift);
            NativeMemory.AlignedFree(_mask);
            NativeMemory.AlignedFree(_threshold);
            _bias = _multiplier = _leftShift = _rightShift = _mask = _threshold = null;
        }
    }
}
