using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace QnnLab.Engine.Kernels;

/// <summary>
/// The int8 convolution / fully connected GEMM for CPUs without AVX-VNNI: activations enter the padded image of the
/// implicit im2col (FastKernels.Layout.cs) as int16 x + inputOffset (= x - zero point, in [-255, 255]; out-of-image taps are 0, as the reference skips
/// them) and weights are widened to int16, so pairs of products are summed into int32 lanes by VPMADDWD
/// (AVX2 on 256 bits, AVX-512BW on 512 bits) or by portable <see cref="Vector128"/> code (any SIMD CPU,
/// arm64 included).
/// <para>
/// Exactness: |x + inputOffset| &lt;= 255 and |w| &lt;= 128, so a product is at most 32,640 in magnitude
/// (it fits int16, which the portable path relies on) and VPMADDWD's pair sum cannot saturate (that needs
/// two products of 2^30). The int32 lanes then wrap exactly as the reference's int32 sum, in any order.
/// </para>
/// Weights use the 16x8 GEMM's packing ([oc block of 16][k pair][16 oc][2 k]): one 512-bit vector or two
/// 256-bit ones hold a pair for 16 channels. Requantization is <see cref="Requant8"/>, as for AVX-VNNI.
/// </summary>
internal sealed unsafe partial class FastKernels
{
    /// <summary>Rows per register tile of the 512-bit GEMM: 8 accumulators of 16 channels.</summary>
    private const int RowTile512 = 8;

    /// <summary>Rows per register tile of the portable GEMM: 2 rows x 4 vectors of 4 channels.</summary>
    private const int RowTilePortable = 2;

    private readonly Dictionary<CompiledOp, PackedGemmWide> _packedWide = new(ReferenceEqualityComparer.Instance);
    private short* _colWide;

    /// <summary>Which loop multiplies the widened int8 GEMM.</summary>
    private enum WideLoop
    {
        Avx2,
        Avx512,
        Portable,
    }

    private void PrepareWide(IEnumerable<CompiledOp> ops, WideLoop loop)
    {
        int maxK2 = 2;
        foreach (CompiledOp op in ops)
        {
            PackedGemmWide? g = op switch
            {
                ConvPlan c when !c.Is16x8 => PackedGemmWide.FromConv(c, loop),
                FullyConnectedPlan f when !f.Is16x8 && f.WeightsOffset == 0 => PackedGemmWide.FromFullyConnected(f, loop),
                _ => null,
            };
            if (g is not null)
            {
                _packedWide[op] = g;
                maxK2 = Math.Max(maxK2, g.K2);
            }
        }
        _colWide = (short*)NativeMemory.AlignedAlloc((nuint)(ChunkRows * maxK2) * sizeof(short), 64);
        foreach (PackedGemmWide g in _packedWide.Values)
        {
            ReservePad(g.Layout);
        }
    }

    private void DisposeWide()
    {
        NativeMemory.AlignedFree(_colWide);
        foreach (PackedGemmWide g in _packedWide.Values)
        {
            g.Dispose();
        }
    }

    private bool ConvWide(ConvPlan p, sbyte* input, sbyte* output, int batch)
    {
        if (!_packedWide.TryGetValue(p, out PackedGemmWide? g))
        {
            return false;
        }
        GemmLayout l = g.Layout;
        for (int b = 0; b < batch; b++)
        {
            PadWidenImage(p, l, input, b, (short*)_pad);
            GemmWide(g, (int*)_pad, l.RowBase, l.Rows, output + ((long)b * l.Rows * g.OutChannels));
        }
        return true;
    }

    private bool FullyConnectedWide(FullyConnectedPlan p, sbyte* input, sbyte* output, int batch)
    {
        if (!_packedWide.TryGetValue(p, out PackedGemmWide? g))
        {
            return false;
        }
        int totalRows = p.RowsPerImage * batch;
        int k = p.InputDepth;
        short offset = (short)p.InputOffset;
        for (int r0 = 0; r0 < totalRows; r0 += ChunkRows)
        {
            int rows = Math.Min(ChunkRows, totalRows - r0);
            for (int r = 0; r < rows; r++)
            {
                short* dst = _colWide + ((long)r * g.K2);
                CopyWiden(input + ((long)(r0 + r) * k), dst, k, offset);
                new Span<short>(dst + k, g.K2 - k).Clear();
            }
            GemmWide(g, (int*)_colWide, g.Layout.RowBase, rows, output + ((long)r0 * g.OutChannels));
        }
        return true;
    }

    /// <summary>dst[i] = src[i] + offset as int16 (x - zero point of an int8 activation).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyWiden(sbyte* src, short* dst, int n, short offset)
    {
        int i = 0;
        Vector128<short> o = Vector128.Create(offset);
        for (; i + 16 <= n; i += 16)
        {
            Vector128<sbyte> v = Vector128.Load(src + i);
            Vector128.Store(Vector128.WidenLower(v) + o, dst + i);
            Vector128.Store(Vector128.WidenUpper(v) + o, dst + i + 8);
        }
        for (; i < n; i++)
        {
            dst[i] = (short)(src[i] + offset);
        }
    }

    /// <summary>Row r's k pair gi is image[rowBase[r] + GroupOffset[gi]] (the implicit im2col).</summary>
    private static void GemmWide(PackedGemmWide g, int* image, int* rowBase, int rows, sbyte* output)
    {
        switch (g.Loop)
        {
            case WideLoop.Avx512:
                GemmWide512(g, image, rowBase, rows, output);
                break;
            case WideLoop.Avx2:
                GemmWide256<Avx2Pairs>(g, image, rowBase, rows, output);
                break;
            default:
                GemmWidePortable(g, image, rowBase, rows, output);
                break;
        }
    }

    /// <summary>4 rows x 16 channels per register tile, two 256-bit weight vectors per pair.</summary>
    private static void GemmWide256<TDot>(PackedGemmWide g, int* image, int* rowBase, int rows, sbyte* output)
        where TDot : struct, IPairDot
    {
        int pairs = g.K2 / 2;
        int oc = g.OutChannels;
        int* go = g.Layout.GroupOffset;
        sbyte* tmp = stackalloc sbyte[OcTile];
        for (int r = 0; r < rows; r += RowTile)
        {
            int valid = Math.Min(RowTile, rows - r);
            // Rows past the end re-read the tile's first row; their results are not stored.
            int* a0 = image + rowBase[r];
            int* a1 = valid > 1 ? image + rowBase[r + 1] : a0;
            int* a2 = valid > 2 ? image + rowBase[r + 2] : a0;
            int* a3 = valid > 3 ? image + rowBase[r + 3] : a0;
            for (int ob = 0; ob < g.OcBlocks; ob++)
            {
                short* w = g.Packed + ((long)ob * pairs * 32);
                Vector256<int> c00 = Vector256<int>.Zero, c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
                for (int gi = 0; gi < pairs; gi++)
                {
                    Vector256<short> w0 = Vector256.Load(w);
                    Vector256<short> w1 = Vector256.Load(w + 16);
                    w += 32;
                    int off = go[gi];
                    Vector256<short> x0 = Vector256.Create(a0[off]).AsInt16();
                    Vector256<short> x1 = Vector256.Create(a1[off]).AsInt16();
                    Vector256<short> x2 = Vector256.Create(a2[off]).AsInt16();
                    Vector256<short> x3 = Vector256.Create(a3[off]).AsInt16();
                    c00 = TDot.Dot(c00, x0, w0);
                    c01 = TDot.Dot(c01, x0, w1);
                    c10 = TDot.Dot(c10, x1, w0);
                    c11 = TDot.Dot(c11, x1, w1);
                    c20 = TDot.Dot(c20, x2, w0);
                    c21 = TDot.Dot(c21, x2, w1);
                    c30 = TDot.Dot(c30, x3, w0);
                    c31 = TDot.Dot(c31, x3, w1);
                }
                int ocBase = ob * OcTile;
                int ocCount = Math.Min(OcTile, oc - ocBase);
                sbyte* dst = output + ((long)r * oc) + ocBase;
                StoreRow(g.Requant, ocBase, ocCount, c00, c01, dst, tmp);
                if (valid > 1)
                {
                    StoreRow(g.Requant, ocBase, ocCount, c10, c11, dst + oc, tmp);
                }
                if (valid > 2)
                {
                    StoreRow(g.Requant, ocBase, ocCount, c20, c21, dst + (2 * oc), tmp);
                }
                if (valid > 3)
                {
                    StoreRow(g.Requant, ocBase, ocCount, c30, c31, dst + (3 * oc), tmp);
                }
            }
        }
    }

    /// <summary>8 rows x 16 channels per register tile: one 512-bit weight vector and one VPMADDWD per row and pair.</summary>
    private static void GemmWide512(PackedGemmWide g, int* image, int* rowBase, int rows, sbyte* output)
    {
        int pairs = g.K2 / 2;
        int oc = g.OutChannels;
        int* go = g.Layout.GroupOffset;
        sbyte* tmp = stackalloc sbyte[OcTile];
        int** rowPtr = stackalloc int*[RowTile512];
        Vector512<int>* acc = stackalloc Vector512<int>[RowTile512];
        for (int r = 0; r < rows; r += RowTile512)
        {
            int valid = Math.Min(RowTile512, rows - r);
            for (int i = 0; i < RowTile512; i++)
            {
                // Rows past the end re-read the tile's first row; their results are not stored.
                rowPtr[i] = image + rowBase[r + (i < valid ? i : 0)];
            }
            int* a0 = rowPtr[0], a1 = rowPtr[1], a2 = rowPtr[2], a3 = rowPtr[3], a4 = rowPtr[4], a5 = rowPtr[5], a6 = rowPtr[6], a7 = rowPtr[7];
            for (int ob = 0; ob < g.OcBlocks; ob++)
            {
                short* w = g.Packed + ((long)ob * pairs * 32);
                Vector512<int> c0 = Vector512<int>.Zero, c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
                for (int gi = 0; gi < pairs; gi++)
                {
                    Vector512<short> wv = Vector512.Load(w);
                    w += 32;
                    int off = go[gi];
                    c0 += Avx512BW.MultiplyAddAdjacent(Vector512.Create(a0[off]).AsInt16(), wv);
                    c1 += Avx512BW.MultiplyAddAdjacent(Vector512.Create(a1[off]).AsInt16(), wv);
                    c2 += Avx512BW.MultiplyAddAdjacent(Vector512.Create(a2[off]).AsInt16(), wv);
                    c3 += Avx512BW.MultiplyAddAdjacent(Vector512.Create(a3[off]).AsInt16(), wv);
                    c4 += Avx512BW.MultiplyAddAdjacent(Vector512.Create(a4[off]).AsInt16(), wv);
                    c5 += Avx512BW.MultiplyAddAdjacent(Vector512.Create(a5[off]).AsInt16(), wv);
                    c6 += Avx512BW.MultiplyAddAdjacent(Vector512.Create(a6[off]).AsInt16(), wv);
                    c7 += Avx512BW.MultiplyAddAdjacent(Vector512.Create(a7[off]).AsInt16(), wv);
                }
                acc[0] = c0;
                acc[1] = c1;
                acc[2] = c2;
                acc[3] = c3;
                acc[4] = c4;
                acc[5] = c5;
                acc[6] = c6;
                acc[7] = c7;
                int ocBase = ob * OcTile;
                int ocCount = Math.Min(OcTile, oc - ocBase);
                for (int i = 0; i < valid; i++)
                {
                    StoreRow(g.Requant, ocBase, ocCount, acc[i].GetLower(), acc[i].GetUpper(), output + ((long)(r + i) * oc) + ocBase, tmp);
                }
            }
        }
    }

    /// <summary>
    /// Portable <see cref="Vector128"/> loop (2 rows x 16 channels): the int16 products are exact (see the class
    /// comment), and each int32 lane adds its pair's two products, the low one sign-extended from bit 15.
    /// </summary>
    private static void GemmWidePortable(PackedGemmWide g, int* image, int* rowBase, int rows, sbyte* output)
    {
        int pairs = g.K2 / 2;
        int oc = g.OutChannels;
        int* go = g.Layout.GroupOffset;
        int* sums = stackalloc int[OcTile];
        for (int r = 0; r < rows; r += RowTilePortable)
        {
            bool two = r + 1 < rows;
            int* a0 = image + rowBase[r];
            int* a1 = two ? image + rowBase[r + 1] : a0;
            for (int ob = 0; ob < g.OcBlocks; ob++)
            {
                short* w = g.Packed + ((long)ob * pairs * 32);
                Vector128<int> c00 = Vector128<int>.Zero, c01 = c00, c02 = c00, c03 = c00, c10 = c00, c11 = c00, c12 = c00, c13 = c00;
                for (int gi = 0; gi < pairs; gi++)
                {
                    Vector128<short> w0 = Vector128.Load(w), w1 = Vector128.Load(w + 8), w2 = Vector128.Load(w + 16), w3 = Vector128.Load(w + 24);
                    w += 32;
                    int off = go[gi];
                    Vector128<short> x0 = Vector128.Create(a0[off]).AsInt16();
                    Vector128<short> x1 = Vector128.Create(a1[off]).AsInt16();
                    c00 += PairSums(x0 * w0);
                    c01 += PairSums(x0 * w1);
                    c02 += PairSums(x0 * w2);
                    c03 += PairSums(x0 * w3);
                    c10 += PairSums(x1 * w0);
                    c11 += PairSums(x1 * w1);
                    c12 += PairSums(x1 * w2);
                    c13 += PairSums(x1 * w3);
                }
                int ocBase = ob * OcTile;
                int ocCount = Math.Min(OcTile, oc - ocBase);
                StorePortable(g.Requant, ocBase, ocCount, c00, c01, c02, c03, sums, output + ((long)r * oc) + ocBase);
                if (two)
                {
                    StorePortable(g.Requant, ocBase, ocCount, c10, c11, c12, c13, sums, output + ((long)(r + 1) * oc) + ocBase);
                }
            }
        }
    }

    /// <summary>Adds each int32 lane's two int16 halves (both signed).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> PairSums(Vector128<short> products)
    {
        Vector128<int> v = products.AsInt32();
        return Vector128.ShiftRightArithmetic(Vector128.ShiftLeft(v, 16), 16) + Vector128.ShiftRightArithmetic(v, 16);
    }

    private static void StorePortable(Requant8 q, int ocBase, int ocCount, Vector128<int> s0, Vector128<int> s1, Vector128<int> s2, Vector128<int> s3, int* sums, sbyte* dst)
    {
        Vector128.Store(s0, sums);
        Vector128.Store(s1, sums + 4);
        Vector128.Store(s2, sums + 8);
        Vector128.Store(s3, sums + 12);
        for (int i = 0; i < ocCount; i++)
        {
            dst[i] = (sbyte)q.ApplyScalar(ocBase + i, sums[i]);
        }
    }

    /// <summary>Weights widened to int16 for the int8 GEMM without VNNI, plus the int8 requantization constants.</summary>
    private sealed class PackedGemmWide : IDisposable
    {
        public int K2, OutChannels, OcBlocks;
        public WideLoop Loop;
        public short* Packed;
        public required Requant8 Requant;
        public required GemmLayout Layout;

        public static PackedGemmWide? FromConv(ConvPlan p, WideLoop loop)
            => Create(p.Weights, p.KernelH * p.KernelW, p.Input.Channels, p.Output.Channels, p.BiasInt32, p.Multipliers, p.Shifts,
                p.OutputOffset, p.ActivationMin, p.ActivationMax, loop, GemmLayout.ForConv(p, 2));

        public static PackedGemmWide? FromFullyConnected(FullyConnectedPlan p, WideLoop loop)
            => Create(p.Weights, 1, p.InputDepth, p.OutputDepth, p.BiasInt32, p.Multipliers, p.Shifts, p.OutputOffset, p.ActivationMin,
                p.ActivationMax, loop, GemmLayout.ForRows(ChunkRows, (p.InputDepth + 1) / 2));

        private static PackedGemmWide? Create(sbyte[] weights, int taps, int c, int oc, int[] bias, int[] mult, int[] shift, int outputOffset,
            int actMin, int actMax, WideLoop loop, GemmLayout layout)
        {
            // The activations already carry the input offset, so the bias is the model's own.
            Requant8? q = Requant8.Create(bias, mult, shift, oc, outputOffset, actMin, actMax);
            if (q is null)
            {
                layout.Dispose();
                return null;
            }
            var g = new PackedGemmWide
            {
                K2 = taps * ((c + 1) / 2 * 2),
                OutChannels = oc,
                OcBlocks = (oc + OcTile - 1) / OcTile,
                Loop = loop,
                Requant = q,
                Layout = layout,
            };
            g.Packed = PackPairs(weights, taps, c, oc, g.OcBlocks);
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
    /// Weights [oc][tap][c] widened to int16 in the pair layout [oc block of 16][k pair][16 oc][2 k], each tap's
    /// channels padded to an even count with zeros (k = tap * padded channels + channel).
    /// </summary>
    private static short* PackPairs(sbyte[] weights, int taps, int c, int oc, int ocBlocks)
    {
        int c2 = (c + 1) / 2 * 2;
        int k2 = taps * c2;
        int pairs = k2 / 2;
        long total = (long)ocBlocks * OcTile * k2;
        short* packed = (short*)NativeMemory.AlignedAlloc((nuint)total * sizeof(short), 64);
        new Span<short>(packed, checked((int)total)).Clear();
        for (int o = 0; o < oc; o++)
        {
            for (int t = 0; t < taps; t++)
            {
                for (int ch = 0; ch < c; ch++)
                {
                    int kk = (t * c2) + ch;
                    int ob = o / OcTile, lane = o % OcTile, gi = kk / 2, j = kk % 2;
                    packed[((((long)ob * pairs) + gi) * OcTile * 2) + (lane * 2) + j] = weights[((((long)o * taps) + t) * c) + ch];
                }
            }
        }
        return packed;
    }
}
