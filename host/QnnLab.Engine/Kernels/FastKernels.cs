using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using QnnLab.Model;

namespace QnnLab.Engine.Kernels;

/// <summary>
/// Vectorised kernels, chosen once per engine from the CPU's (or a forced) <see cref="KernelIsa"/>. This file:
/// int8 convolution and fully connected as im2col + an int8 GEMM with 32-bit accumulation on AVX-VNNI (the
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

    public void Dispose()
    {
        NativeMemory.AlignedFree(_col);
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
        int outH = p.Output.Height, outW = p.Output.Width;
        int rowsPerImage = outH * outW;
        int totalRows = rowsPerImage * batch;
        for (int r0 = 0; r0 < totalRows; r0 += ChunkRows)
        {
            int rows = Math.Min(ChunkRows, totalRows - r0);
            Im2Col(p, (sbyte*)input, r0, rows, g.K4);
            Gemm(g, _col, rows, (sbyte*)output + ((long)r0 * g.OutChannels));
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
            Gemm(g, _col, rows, (sbyte*)output + ((long)r0 * g.OutChannels));
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

    private void Im2Col(ConvPlan p, sbyte* input, int r0, int rows, int k4)
    {
        int inH = p.Input.Height, inW = p.Input.Width, inC = p.Input.Channels;
        int outH = p.Output.Height, outW = p.Output.Width;
        int rowsPerImage = outH * outW;
        byte padByte = (byte)((sbyte)(-p.InputOffset) ^ unchecked((sbyte)0x80)); // zero point + 128
        int k = p.KernelH * p.KernelW * inC;
        bool contiguousRow = p.DilationW == 1;
        for (int r = 0; r < rows; r++)
        {
            int row = r0 + r;
            int b = row / rowsPerImage;
            int pix = row - (b * rowsPerImage);
            int oy = pix / outW, ox = pix - (oy * outW);
            int inY0 = (oy * p.StrideH) - p.PadTop;
            int inX0 = (ox * p.StrideW) - p.PadLeft;
            byte* dst = _col + ((long)r * k4);
            sbyte* imageBase = input + ((long)b * inH * inW * inC);
            for (int fy = 0; fy < p.KernelH; fy++)
            {
                int iy = inY0 + (p.DilationH * fy);
                bool rowInside = iy >= 0 && iy < inH;
                if (rowInside && contiguousRow && inX0 >= 0 && inX0 + p.KernelW <= inW)
                {
                    // The kernel row's taps are adjacent pixels: one copy of KW * C bytes.
                    CopyFlipSign(imageBase + ((((long)iy * inW) + inX0) * inC), dst, p.KernelW * inC);
                    dst += p.KernelW * inC;
                    continue;
                }
                for (int fx = 0; fx < p.KernelW; fx++)
                {
                    int ix = inX0 + (p.DilationW * fx);
                    if (rowInside && ix >= 0 && ix < inW)
                    {
                        CopyFlipSign(imageBase + (((long)iy * inW) + ix) * inC, dst, inC);
                    }
                    else
                    {
                        new Span<byte>(dst, inC).Fill(padByte);
                    }
                    dst += inC;
                }
            }
            for (int i = k; i < k4; i++)
            {
                *dst++ = 0;
            }
        }
    }

    /// <summary>out[r, oc] = requantize(sum_k col[r, k] * w[oc, k] + biasEff[oc]) for a chunk of rows.</summary>
    private static void Gemm(PackedGemm g, byte* col, int rows, sbyte* output)
    {
        int groups = g.K4 / 4;
        int oc = g.OutChannels;
        sbyte* tmp = stackalloc sbyte[OcTile];
        for (int r = 0; r < rows; r += RowTile)
        {
            int valid = Math.Min(RowTile, rows - r);
            // Rows past the end re-read the first row of the tile; their results are not stored.
            byte* a0 = col + ((long)r * g.K4);
            byte* a1 = valid > 1 ? a0 + g.K4 : a0;
            byte* a2 = valid > 2 ? a0 + (2 * g.K4) : a0;
            byte* a3 = valid > 3 ? a0 + (3 * g.K4) : a0;
            for (int ob = 0; ob < g.OcBlocks; ob++)
            {
                sbyte* w = g.Packed + ((long)ob * groups * 64);
                Vector256<int> c00 = Vector256<int>.Zero, c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
                for (int gi = 0; gi < groups; gi++)
                {
                    Vector256<sbyte> w0 = Vector256.Load(w);
                    Vector256<sbyte> w1 = Vector256.Load(w + 32);
                    w += 64;
                    Vector256<byte> x0 = Vector256.Create(*(int*)(a0 + (gi * 4))).AsByte();
                    Vector256<byte> x1 = Vector256.Create(*(int*)(a1 + (gi * 4))).AsByte();
                    Vector256<byte> x2 = Vector256.Create(*(int*)(a2 + (gi * 4))).AsByte();
                    Vector256<byte> x3 = Vector256.Create(*(int*)(a3 + (gi * 4))).AsByte();
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
        AddPlan a when CanAdd(a) => KernelIsa.Avx2Name,
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

    /// <summary>Weights packed for the GEMM: [oc block of 16][k group of 4][16 oc][4 k], plus per-channel constants.</summary>
    private sealed class PackedGemm : IDisposable
    {
        public int K4, OutChannels, OcBlocks;
        public sbyte* Packed;
        public required Requant8 Requant;

        public static PackedGemm? FromConv(ConvPlan p)
            => Create(p.Weights, p.KernelH * p.KernelW * p.Input.Channels, p.Output.Channels, p.BiasInt32, p.Multipliers, p.Shifts,
                p.InputOffset, p.OutputOffset, p.ActivationMin, p.ActivationMax);

        public static PackedGemm? FromFullyConnected(FullyConnectedPlan p)
            => Create(p.Weights, p.InputDepth, p.OutputDepth, p.BiasInt32, p.Multipliers, p.Shifts, p.InputOffset, p.OutputOffset, p.ActivationMin, p.ActivationMax);

        private static PackedGemm? Create(sbyte[] weights, int k, int oc, int[] bias, int[] mult, int[] shift, int inputOffset, int outputOffset, int actMin, int actMax)
        {
            var biasEff = new int[oc];
            int k4 = (k + 3) / 4 * 4;
            int ocBlocks = (oc + OcTile - 1) / OcTile;
            int groups = k4 / 4;
            var packed = new sbyte[ocBlocks * OcTile * k4];
            for (int o = 0; o < oc; o++)
            {
                int sum = 0;
                for (int kk = 0; kk < k; kk++)
                {
                    sbyte w = weights[(o * k) + kk];
                    sum += w;
                    int ob = o / OcTile, lane = o % OcTile, gi = kk / 4, j = kk % 4;
                    packed[(((ob * groups) + gi) * OcTile * 4) + (lane * 4) + j] = w;
                }
                // sum (x - zp) w = sum (x + 128) w - (128 + zp) sum w, with zp = -inputOffset (int32 wrap, as the reference).
                biasEff[o] = unchecked(bias[o] - ((128 - inputOffset) * sum));
            }
            Requant8? q = Requant8.Create(biasEff, mult, shift, oc, outputOffset, actMin, actMax);
            if (q is null)
            {
                return null;
            }
            var g = new PackedGemm { K4 = k4, OutChannels = oc, OcBlocks = ocBlocks, Requant = q };
            g.Packed = (sbyte*)NativeMemory.AlignedAlloc((nuint)packed.Length, 64);
            packed.CopyTo(new Span<sbyte>(g.Packed, packed.Length));
            return g;
        }

        public void Dispose()
        {
            NativeMemory.AlignedFree(Packed);
            Requant.Dispose();
        }
    }

    /// <summary>
    /// Per-channel constants of the int8 requantization on int32 lanes (bias, multiplier, left and right
    /// shift), padded to a multiple of 16 channels, plus output offset and clamp.
    /// </summary>
    internal sealed class Requant8 : IDisposable
    {
        private int* _bias, _multiplier, _leftShift, _rightShift;
        public int OutputOffset, ActivationMin, ActivationMax;

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
            x = Avx2.ShiftLeftLogicalVariable(x, Vector256.Load(_leftShift + c).AsUInt32());
            Vector256<int> m = Vector256.Load(_multiplier + c);
            Vector256<long> nudge = Vector256.Create(1L << 30);
            Vector256<long> even = Avx2.Multiply(x, m) + nudge;
            Vector256<long> odd = Avx2.Multiply(Avx2.ShiftRightLogical(x.AsInt64(), 32).AsInt32(), Avx2.ShiftRightLogical(m.AsInt64(), 32).AsInt32()) + nudge;
            Vector256<int> evenHigh = Avx2.ShiftRightLogical(even, 31).AsInt32();
            Vector256<int> oddHigh = Avx2.ShiftLeftLogical(Avx2.ShiftRightLogical(odd, 31), 32).AsInt32();
            Vector256<int> high = Avx2.Blend(evenHigh, oddHigh, 0b1010_1010);

            // RoundingDivideByPOT with per-lane exponents.
            Vector256<uint> e = Vector256.Load(_rightShift + c).AsUInt32();
            Vector256<int> one = Vector256.Create(1);
            Vector256<int> mask = Avx2.ShiftLeftLogicalVariable(one, e) - one;
            Vector256<int> remainder = high & mask;
            Vector256<int> threshold = Avx2.ShiftRightLogical(mask, 1) - Avx2.CompareGreaterThan(Vector256<int>.Zero, high);
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

        private static int* AllocInts(int n)
        {
            int* p = (int*)NativeMemory.AlignedAlloc((nuint)n * sizeof(int), 64);
            new Span<int>(p, n).Clear();
            return p;
        }

        public void Dispose()
        {
            NativeMemory.AlignedFree(_bias);
            NativeMemory.AlignedFree(_multiplier);
            NativeMemory.AlignedFree(_leftShift);
            NativeMemory.AlignedFree(_rightShift);
            _bias = _multiplier = _leftShift = _rightShift = null;
        }
    }
}
