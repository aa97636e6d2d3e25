using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace QnnLab.Engine.Kernels;

/// <summary>
/// 16x8 convolution and fully connected (int16 activations, int8 weights, int64 bias) as im2col + an
/// int16 GEMM: VPMADDWD (or AVX-VNNI's fused VPDPWSSD) multiplies pairs of int16 inputs by weights widened
/// to int16 and adds each pair into an int32 lane.
/// <para>
/// Overflow bound: |x| &lt;= 2^15 and |w| &lt;= 2^7, so one product is at most 2^22 in magnitude and one
/// pair sum at most 2^23. An int32 lane therefore holds any sum of <see cref="MaxPairsInInt32"/> = 255
/// pair sums: 255 * 2^23 = 2^31 - 2^23 &lt;= 2^31 - 1 (256 would reach 2^31, which does not fit). Longer
/// dot products are cut into blocks of 255 pairs whose int32 sums are widened and added in int64, so the
/// total is the exact int64 sum the reference computes. The instruction's own pair sum cannot saturate:
/// that needs both products to be (-2^15)^2, impossible with |w| &lt;= 2^7.
/// </para>
/// Requantization runs on int64 lanes with the 16-bit multiplier, exactly as
/// <see cref="Requantization.MultiplyByQuantizedMultiplier(long, int, int)"/> (wrapping 64-bit product,
/// rounding shift, truncation to int32, clamp).
/// </summary>
internal sealed unsafe partial class FastKernels
{
    /// <summary>Pair sums one int32 lane can add without overflow (see the class comment).</summary>
    internal const int MaxPairsInInt32 = 255;

    private readonly Dictionary<CompiledOp, PackedGemm16> _packed16 = new(ReferenceEqualityComparer.Instance);
    private short* _col16;
    private int _col16Shorts;

    private void Prepare16(IEnumerable<CompiledOp> ops)
    {
        int maxK2 = 2;
        foreach (CompiledOp op in ops)
        {
            PackedGemm16? g = op switch
            {
                ConvPlan c when c.Is16x8 => PackedGemm16.FromConv(c),
                FullyConnectedPlan f when f.Is16x8 && f.WeightsOffset == 0 => PackedGemm16.FromFullyConnected(f),
                _ => null,
            };
            if (g is not null)
            {
                _packed16[op] = g;
                maxK2 = Math.Max(maxK2, g.K2);
            }
        }
        _col16Shorts = ChunkRows * maxK2;
        _col16 = (short*)NativeMemory.AlignedAlloc((nuint)_col16Shorts * sizeof(short), 64);
    }

    private void Dispose16()
    {
        NativeMemory.AlignedFree(_col16);
        foreach (PackedGemm16 g in _packed16.Values)
        {
            g.Dispose();
        }
    }

    private bool Conv16(ConvPlan p, void* input, void* output, int batch)
    {
        if (!_packed16.TryGetValue(p, out PackedGemm16? g))
        {
            return false;
        }
        int rowsPerImage = p.Output.Height * p.Output.Width;
        int totalRows = rowsPerImage * batch;
        int inC = p.Input.Channels;
        // A 1x1, stride-1, unpadded convolution with an even depth reads its rows straight from the input.
        if (p.KernelH == 1 && p.KernelW == 1 && p.StrideH == 1 && p.StrideW == 1 && p.PadTop == 0 && p.PadLeft == 0
            && p.Output.Height == p.Input.Height && p.Output.Width == p.Input.Width && inC == g.K2)
        {
            Gemm16(g, (short*)input, inC, totalRows, (short*)output);
            return true;
        }
        for (int r0 = 0; r0 < totalRows; r0 += ChunkRows)
        {
            int rows = Math.Min(ChunkRows, totalRows - r0);
            Im2Col16(p, (short*)input, r0, rows, g.K2);
            Gemm16(g, _col16, g.K2, rows, (short*)output + ((long)r0 * g.OutChannels));
        }
        return true;
    }

    private bool FullyConnected16(FullyConnectedPlan p, void* input, void* output, int batch)
    {
        if (!_packed16.TryGetValue(p, out PackedGemm16? g))
        {
            return false;
        }
        int totalRows = p.RowsPerImage * batch;
        int k = p.InputDepth;
        if (k == g.K2)
        {
            Gemm16(g, (short*)input, k, totalRows, (short*)output);
            return true;
        }
        for (int r0 = 0; r0 < totalRows; r0 += ChunkRows)
        {
            int rows = Math.Min(ChunkRows, totalRows - r0);
            for (int r = 0; r < rows; r++)
            {
                short* dst = _col16 + ((long)r * g.K2);
                new ReadOnlySpan<short>((short*)input + ((long)(r0 + r) * k), k).CopyTo(new Span<short>(dst, k));
                new Span<short>(dst + k, g.K2 - k).Clear();
            }
            Gemm16(g, _col16, g.K2, rows, (short*)output + ((long)r0 * g.OutChannels));
        }
        return true;
    }

    /// <summary>Rows of int16 taps; out-of-image taps are 0, which contributes nothing (16x8 has no zero point).</summary>
    private void Im2Col16(ConvPlan p, short* input, int r0, int rows, int k2)
    {
        int inH = p.Input.Height, inW = p.Input.Width, inC = p.Input.Channels;
        int outW = p.Output.Width;
        int rowsPerImage = p.Output.Height * outW;
        int k = p.KernelH * p.KernelW * inC;
        for (int r = 0; r < rows; r++)
        {
            int row = r0 + r;
            int b = row / rowsPerImage;
            int pix = row - (b * rowsPerImage);
            int oy = pix / outW, ox = pix - (oy * outW);
            int inY0 = (oy * p.StrideH) - p.PadTop;
            int inX0 = (ox * p.StrideW) - p.PadLeft;
            short* dst = _col16 + ((long)r * k2);
            short* imageBase = input + ((long)b * inH * inW * inC);
            for (int fy = 0; fy < p.KernelH; fy++)
            {
                int iy = inY0 + (p.DilationH * fy);
                bool rowInside = iy >= 0 && iy < inH;
                if (rowInside && p.DilationW == 1 && inX0 >= 0 && inX0 + p.KernelW <= inW)
                {
                    // The kernel row's taps are adjacent pixels: one copy of KW * C values.
                    int span = p.KernelW * inC;
                    new ReadOnlySpan<short>(imageBase + ((((long)iy * inW) + inX0) * inC), span).CopyTo(new Span<short>(dst, span));
                    dst += span;
                    continue;
                }
                for (int fx = 0; fx < p.KernelW; fx++)
                {
                    int ix = inX0 + (p.DilationW * fx);
                    var tap = new Span<short>(dst, inC);
                    if (rowInside && ix >= 0 && ix < inW)
                    {
                        new ReadOnlySpan<short>(imageBase + ((((long)iy * inW) + ix) * inC), inC).CopyTo(tap);
                    }
                    else
                    {
                        tap.Clear();
                    }
                    dst += inC;
                }
            }
            new Span<short>(dst, k2 - k).Clear();
        }
    }

    /// <summary>Adds the products of one int16 pair per int32 lane; a struct type argument, so the JIT compiles one loop per path.</summary>
    internal interface IPairDot
    {
        static abstract Vector256<int> Dot(Vector256<int> acc, Vector256<short> x, Vector256<short> w);
    }

    /// <summary>VPMADDWD + VPADDD.</summary>
    internal readonly struct Avx2Pairs : IPairDot
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Dot(Vector256<int> acc, Vector256<short> x, Vector256<short> w) => acc + Avx2.MultiplyAddAdjacent(x, w);
    }

    /// <summary>AVX-VNNI's fused VPDPWSSD.</summary>
    internal readonly struct VnniPairs : IPairDot
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Dot(Vector256<int> acc, Vector256<short> x, Vector256<short> w) => AvxVnni.MultiplyWideningAndAdd(acc, x, w);
    }

    private void Gemm16(PackedGemm16 g, short* a, int rowStride, int rows, short* output)
    {
        if (_isa.AvxVnni)
        {
            Gemm16<VnniPairs>(g, a, rowStride, rows, output);
        }
        else
        {
            Gemm16<Avx2Pairs>(g, a, rowStride, rows, output);
        }
    }

    /// <summary>
    /// out[r, oc] = requantize(sum_k a[r, k] * w[oc, k] + bias[oc]) for <paramref name="rows"/> rows of
    /// <paramref name="rowStride"/> shorts (at least K2 readable per row).
    /// </summary>
    private static void Gemm16<TDot>(PackedGemm16 g, short* a, int rowStride, int rows, short* output)
        where TDot : struct, IPairDot
    {
        int pairs = g.K2 / 2;
        int oc = g.OutChannels;
        long* partial = stackalloc long[RowTile * OcTile];
        short* tmp = stackalloc short[OcTile];
        for (int r = 0; r < rows; r += RowTile)
        {
            int valid = Math.Min(RowTile, rows - r);
            // Rows past the end re-read the tile's first row; their results are not stored.
            int* a0 = (int*)(a + ((long)r * rowStride));
            int* a1 = valid > 1 ? (int*)(a + ((long)(r + 1) * rowStride)) : a0;
            int* a2 = valid > 2 ? (int*)(a + ((long)(r + 2) * rowStride)) : a0;
            int* a3 = valid > 3 ? (int*)(a + ((long)(r + 3) * rowStride)) : a0;
            for (int ob = 0; ob < g.OcBlocks; ob++)
            {
                short* wBlock = g.Packed + ((long)ob * pairs * 32);
                bool widened = pairs > MaxPairsInInt32;
                if (widened)
                {
                    new Span<long>(partial, RowTile * OcTile).Clear();
                }
                Vector256<int> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
                for (int p0 = 0; p0 < pairs; p0 += MaxPairsInInt32)
                {
                    int p1 = Math.Min(pairs, p0 + MaxPairsInInt32);
                    c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = Vector256<int>.Zero;
                    short* w = wBlock + ((long)p0 * 32);
                    for (int gi = p0; gi < p1; gi++)
                    {
                        Vector256<short> w0 = Vector256.Load(w);
                        Vector256<short> w1 = Vector256.Load(w + 16);
                        w += 32;
                        Vector256<short> x0 = Vector256.Create(a0[gi]).AsInt16();
                        Vector256<short> x1 = Vector256.Create(a1[gi]).AsInt16();
                        Vector256<short> x2 = Vector256.Create(a2[gi]).AsInt16();
                        Vector256<short> x3 = Vector256.Create(a3[gi]).AsInt16();
                        c00 = TDot.Dot(c00, x0, w0);
                        c01 = TDot.Dot(c01, x0, w1);
                        c10 = TDot.Dot(c10, x1, w0);
                        c11 = TDot.Dot(c11, x1, w1);
                        c20 = TDot.Dot(c20, x2, w0);
                        c21 = TDot.Dot(c21, x2, w1);
                        c30 = TDot.Dot(c30, x3, w0);
                        c31 = TDot.Dot(c31, x3, w1);
                    }
                    if (widened)
                    {
                        AddWidened(partial, c00, c01);
                        AddWidened(partial + OcTile, c10, c11);
                        AddWidened(partial + (2 * OcTile), c20, c21);
                        AddWidened(partial + (3 * OcTile), c30, c31);
                    }
                }
                int ocBase = ob * OcTile;
                int ocCount = Math.Min(OcTile, oc - ocBase);
                short* dst = output + ((long)r * oc) + ocBase;
                FinishRow16(g.Requant, widened, partial, c00, c01, ocBase, ocCount, dst, tmp);
                if (valid > 1)
                {
                    FinishRow16(g.Requant, widened, partial + OcTile, c10, c11, ocBase, ocCount, dst + oc, tmp);
                }
                if (valid > 2)
                {
                    FinishRow16(g.Requant, widened, partial + (2 * OcTile), c20, c21, ocBase, ocCount, dst + (2 * oc), tmp);
                }
                if (valid > 3)
                {
                    FinishRow16(g.Requant, widened, partial + (3 * OcTile), c30, c31, ocBase, ocCount, dst + (3 * oc), tmp);
                }
            }
        }
    }

    /// <summary>Requantizes one row's 16 sums: the int64 partials when the dot product was cut into blocks, else the widened int32 sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FinishRow16(Requant16 q, bool widened, long* partialRow, Vector256<int> lo, Vector256<int> hi, int ocBase, int ocCount, short* dst, short* tmp)
    {
        if (widened)
        {
            StoreRow16(q, ocBase, ocCount, Vector256.Load(partialRow), Vector256.Load(partialRow + 4), Vector256.Load(partialRow + 8), Vector256.Load(partialRow + 12), dst, tmp);
        }
        else
        {
            StoreRow16(q, ocBase, ocCount, Widen(lo.GetLower()), Widen(lo.GetUpper()), Widen(hi.GetLower()), Widen(hi.GetUpper()), dst, tmp);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<long> Widen(Vector128<int> v) => Avx2.ConvertToVector256Int64(v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddWidened(long* dst, Vector256<int> lo, Vector256<int> hi)
    {
        Vector256.Store(Vector256.Load(dst) + Widen(lo.GetLower()), dst);
        Vector256.Store(Vector256.Load(dst + 4) + Widen(lo.GetUpper()), dst + 4);
        Vector256.Store(Vector256.Load(dst + 8) + Widen(hi.GetLower()), dst + 8);
        Vector256.Store(Vector256.Load(dst + 12) + Widen(hi.GetUpper()), dst + 12);
    }

    /// <summary>Requantizes 16 int64 sums (channels ocBase..ocBase+15) and stores <paramref name="ocCount"/> int16 results.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow16(Requant16 q, int ocBase, int ocCount, Vector256<long> s0, Vector256<long> s1, Vector256<long> s2, Vector256<long> s3, short* dst, short* tmp)
    {
        Vector256<int> lo = q.Apply8(ocBase, s0, s1);
        Vector256<int> hi = q.Apply8(ocBase + 8, s2, s3);
        Vector256<short> packed = Vector256.Narrow(lo, hi);
        if (ocCount == OcTile)
        {
            Vector256.Store(packed, dst);
        }
        else
        {
            Vector256.Store(packed, tmp);
            new ReadOnlySpan<short>(tmp, ocCount).CopyTo(new Span<short>(dst, ocCount));
        }
    }

    /// <summary>
    /// Per-channel constants of the 16x8 requantization on int64 lanes: bias, 16-bit multiplier,
    /// rounding term 2^(t-1) and total right shift t = 15 - shift, each padded to a multiple of 16 channels.
    /// </summary>
    internal sealed class Requant16 : IDisposable
    {
        private long* _bias, _multiplier, _round;
        private ulong* _shift;
        public int ActivationMin, ActivationMax;

        private Requant16()
        {
        }

        /// <summary>Null when a shift is outside what the int64 requantization accepts (the reference then reports it).</summary>
        public static Requant16? Create(long[] bias, int[] multipliers, int[] shifts, int channels, int activationMin, int activationMax)
        {
            int padded = (channels + OcTile - 1) / OcTile * OcTile;
            var q = new Requant16
            {
                _bias = AllocLongs(padded),
                _multiplier = AllocLongs(padded),
                _round = AllocLongs(padded),
                _shift = (ulong*)AllocLongs(padded),
                ActivationMin = activationMin,
                ActivationMax = activationMax,
            };
            for (int c = 0; c < channels; c++)
            {
                int m = multipliers[multipliers.Length == 1 ? 0 : c];
                int s = shifts[shifts.Length == 1 ? 0 : c];
                int total = 15 - s;
                if (total is < 1 or > 62 || m < 0)
                {
                    q.Dispose();
                    return null;
                }
                q._bias[c] = bias[c];
                q._multiplier[c] = Requantization.ReduceMultiplierTo16Bits(m);
                q._round[c] = 1L << (total - 1);
                q._shift[c] = (ulong)total;
            }
            for (int c = channels; c < padded; c++)
            {
                q._shift[c] = 1; // padding lanes compute harmless values that are never stored
            }
            return q;
        }

        /// <summary>Eight requantized, clamped int32 results from the sums of channels c..c+7 (s0: c..c+3, s1: c+4..c+7).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<int> Apply8(int c, Vector256<long> s0, Vector256<long> s1)
        {
            Vector256<long> r0 = Apply4(c, s0);
            Vector256<long> r1 = Apply4(c + 4, s1);
            // Low 32 bits of each lane (C's truncating cast to int32): the shuffle interleaves the 128-bit
            // halves (r0[0,1] r1[0,1] | r0[2,3] r1[2,3]); the permute puts them back in channel order.
            Vector256<int> lows = Avx.Shuffle(r0.AsSingle(), r1.AsSingle(), 0b10_00_10_00).AsInt32();
            lows = Avx2.Permute4x64(lows.AsInt64(), 0b11_01_10_00).AsInt32();
            lows = Avx2.Max(lows, Vector256.Create(ActivationMin));
            return Avx2.Min(lows, Vector256.Create(ActivationMax));
        }

        /// <summary>((x + bias) * m16 + 2^(t-1)) &gt;&gt; t on four int64 lanes, wrapping as C's int64 arithmetic.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private Vector256<long> Apply4(int c, Vector256<long> sum)
        {
            Vector256<long> x = sum + Vector256.Load(_bias + c);
            Vector256<uint> m = Vector256.Load(_multiplier + c).AsUInt32(); // 0 <= m16 < 2^15: high dword 0
            // x * m mod 2^64 = lo32(x) * m + (hi32(x) * m) << 32 (the unsigned product's low 32 bits are the signed one's).
            Vector256<ulong> low = Avx2.Multiply(x.AsUInt32(), m);
            Vector256<ulong> high = Avx2.Multiply(Avx2.ShiftRightLogical(x, 32).AsUInt32(), m);
            Vector256<long> v = (low + Avx2.ShiftLeftLogical(high, 32)).AsInt64() + Vector256.Load(_round + c);
            // Arithmetic shift right by a per-lane count (AVX2 has only the logical one): flip negatives, shift, flip back.
            Vector256<long> sign = Avx2.CompareGreaterThan(Vector256<long>.Zero, v);
            return Avx2.ShiftRightLogicalVariable(v ^ sign, Vector256.Load(_shift + c)) ^ sign;
        }

        private static long* AllocLongs(int n)
        {
            long* p = (long*)NativeMemory.AlignedAlloc((nuint)n * sizeof(long), 64);
            new Span<long>(p, n).Clear();
            return p;
        }

        public void Dispose()
        {
            NativeMemory.AlignedFree(_bias);
            NativeMemory.AlignedFree(_multiplier);
            NativeMemory.AlignedFree(_round);
            NativeMemory.AlignedFree(_shift);
            _bias = _multiplier = _round = null;
            _shift = null;
        }
    }

    /// <summary>Weights widened to int16 for the 16x8 GEMM: [oc block of 16][k pair][16 oc][2 k], plus the requantization constants.</summary>
    private sealed class PackedGemm16 : IDisposable
    {
        public int K2, OutChannels, OcBlocks;
        public short* Packed;
        public required Requant16 Requant;

        public static PackedGemm16? FromConv(ConvPlan p)
            => Create(p.Weights, p.KernelH * p.KernelW * p.Input.Channels, p.Output.Channels, p.BiasInt64, p.Multipliers, p.Shifts, p.ActivationMin, p.ActivationMax);

        public static PackedGemm16? FromFullyConnected(FullyConnectedPlan p)
            => Create(p.Weights, p.InputDepth, p.OutputDepth, p.BiasInt64, p.Multipliers, p.Shifts, p.ActivationMin, p.ActivationMax);

        private static PackedGemm16? Create(sbyte[] weights, int k, int oc, long[] bias, int[] mult, int[] shift, int actMin, int actMax)
        {
            Requant16? q = Requant16.Create(bias, mult, shift, oc, actMin, actMax);
            if (q is null)
            {
                return null;
            }
            var g = new PackedGemm16
            {
                K2 = (k + 1) / 2 * 2,
                OutChannels = oc,
                OcBlocks = (oc + OcTile - 1) / OcTile,
                Requant = q,
            };
            g.Packed = PackPairs(weights, 1, k, oc, g.OcBlocks);
            return g;
        }

        public void Dispose()
        {
            NativeMemory.AlignedFree(Packed);
            Requant.Dispose();
        }
    }
}
