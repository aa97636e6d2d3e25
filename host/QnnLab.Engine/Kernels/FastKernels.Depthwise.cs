using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using static QnnLab.Engine.Requantization;

namespace QnnLab.Engine.Kernels;

/// <summary>
/// Depthwise convolution (depth multiplier 1, int8 and 16x8) vectorised across channels: eight int32 lanes
/// per step, one multiply-add per in-image tap, with the tap list computed once per output pixel (the
/// reference's skipped taps are simply left out). int8: the lanes add w * (x + inputOffset) with int32
/// wrap-around, as the reference. 16x8: |w * x| &lt;= 2^7 * 2^15 = 2^22, so up to
/// <see cref="MaxTaps16"/> = 511 taps (511 * 2^22 &lt; 2^31) sum exactly in int32 before the widening to
/// int64 for the bias and the 16-bit-multiplier requantization. Channels past the last multiple of 8 run scalar.
/// The lane products use VPMADDWD instead of the slow 32-bit VPMULLD: the weights sit in each int32 lane's low
/// half with a zero high half (<see cref="PackedDepthwise.WeightsLow"/>), and every activation operand (x + inputOffset
/// in [-255, 255], or an int16 x sign-extended) equals its own low half as int16, so low * w + high * 0 = x * w exactly.
/// </summary>
internal sealed unsafe partial class FastKernels
{
    /// <summary>Taps whose 16x8 products an int32 lane sums without overflow (see the class comment).</summary>
    internal const int MaxTaps16 = 511;

    private readonly Dictionary<CompiledOp, PackedDepthwise> _depthwise = new(ReferenceEqualityComparer.Instance);

    private void PrepareDepthwise(IEnumerable<CompiledOp> ops)
    {
        foreach (CompiledOp op in ops)
        {
            if (op is DepthwisePlan p && PackedDepthwise.Create(p) is { } d)
            {
                _depthwise[op] = d;
            }
        }
    }

    private void DisposeDepthwise()
    {
        foreach (PackedDepthwise d in _depthwise.Values)
        {
            d.Dispose();
        }
    }

    public bool Depthwise(DepthwisePlan p, void* input, void* output, int batch)
    {
        if (!_depthwise.TryGetValue(p, out PackedDepthwise? d))
        {
            return false;
        }
        int inH = p.Input.Height, inW = p.Input.Width, c = p.Output.Channels;
        int outH = p.Output.Height, outW = p.Output.Width;
        int* tapOffset = stackalloc int[d.Taps];
        int* tapIndex = stackalloc int[d.Taps];
        // Inside the image every tap is valid: offsets from the window's top-left corner, computed once.
        int* windowOffset = stackalloc int[d.Taps];
        int* allTaps = stackalloc int[d.Taps];
        for (int fy = 0; fy < p.KernelH; fy++)
        {
            for (int fx = 0; fx < p.KernelW; fx++)
            {
                int t = (fy * p.KernelW) + fx;
                windowOffset[t] = ((fy * p.DilationH * inW) + (fx * p.DilationW)) * c;
                allTaps[t] = t;
            }
        }
        int spanH = (p.KernelH - 1) * p.DilationH, spanW = (p.KernelW - 1) * p.DilationW;
        for (int b = 0; b < batch; b++)
        {
            long imageBase = (long)b * inH * inW * c;
            for (int oy = 0; oy < outH; oy++)
            {
                int inY0 = (oy * p.StrideH) - p.PadTop;
                bool rowInside = inY0 >= 0 && inY0 + spanH < inH;
                for (int ox = 0; ox < outW; ox++)
                {
                    int inX0 = (ox * p.StrideW) - p.PadLeft;
                    long outBase = (((long)b * outH + oy) * outW + ox) * c;
                    long windowBase = imageBase;
                    int* offsets = windowOffset, taps = allTaps;
                    int n = d.Taps;
                    if (rowInside && inX0 >= 0 && inX0 + spanW < inW)
                    {
                        windowBase += ((long)inY0 * inW + inX0) * c;
                        if (ox + 1 < outW && inX0 + p.StrideW + spanW < inW)
                        {
                            // Two neighbouring interior pixels share the tap offsets and the weight loads.
                            long nextWindow = windowBase + ((long)p.StrideW * c);
                            if (p.Is16x8)
                            {
                                Pair16(d, (short*)input + windowBase, (short*)input + nextWindow, windowOffset, (short*)output + outBase);
                            }
                            else
                            {
                                Pair8(p, d, (sbyte*)input + windowBase, (sbyte*)input + nextWindow, windowOffset, (sbyte*)output + outBase);
                            }
                            if (d.Channels % 8 != 0)
                            {
                                // The channels past the last multiple of 8 run scalar, one pixel at a time.
                                Tail(p, d, input, windowBase, windowOffset, allTaps, output, outBase);
                                Tail(p, d, input, nextWindow, windowOffset, allTaps, output, outBase + c);
                            }
                            ox++;
                            continue;
                        }
                    }
                    else
                    {
                        // At the border the reference skips the taps outside the image: list the others.
                        n = 0;
                        for (int fy = 0; fy < p.KernelH; fy++)
                        {
                            int iy = inY0 + (p.DilationH * fy);
                            if (iy < 0 || iy >= inH)
                            {
                                continue;
                            }
                            for (int fx = 0; fx < p.KernelW; fx++)
                            {
                                int ix = inX0 + (p.DilationW * fx);
                                if (ix < 0 || ix >= inW)
                                {
                                    continue;
                                }
                                tapOffset[n] = ((iy * inW) + ix) * c;
                                tapIndex[n] = (fy * p.KernelW) + fx;
                                n++;
                            }
                        }
                        offsets = tapOffset;
                        taps = tapIndex;
                    }
                    if (p.Is16x8)
                    {
                        Pixel16(p, d, (short*)input + windowBase, offsets, taps, n, (short*)output + outBase);
                    }
                    else
                    {
                        Pixel8(p, d, (sbyte*)input + windowBase, offsets, taps, n, (sbyte*)output + outBase);
                    }
                }
            }
        }
        return true;
    }

    private static void Tail(DepthwisePlan p, PackedDepthwise d, void* input, long windowBase, int* offsets, int* taps, void* output, long outBase)
    {
        if (p.Is16x8)
        {
            Pixel16(p, d, (short*)input + windowBase, offsets, taps, d.Taps, (short*)output + outBase, d.Channels / 8 * 8);
        }
        else
        {
            Pixel8(p, d, (sbyte*)input + windowBase, offsets, taps, d.Taps, (sbyte*)output + outBase, d.Channels / 8 * 8);
        }
    }

    /// <summary>Two interior pixels side by side (<paramref name="dst"/> and the next pixel), vector channel blocks only.</summary>
    private static void Pair8(DepthwisePlan p, PackedDepthwise d, sbyte* window0, sbyte* window1, int* offsets, sbyte* dst)
    {
        int c = d.Channels, stride = d.Stride, n = d.Taps;
        Requant8 requant = d.Requant8!;
        Vector256<int> offset = Vector256.Create(p.InputOffset);
        for (int cb = 0; cb + 8 <= c; cb += 8)
        {
            Vector256<int> acc0 = Vector256<int>.Zero, acc1 = Vector256<int>.Zero;
            int* w = d.WeightsLow + cb;
            for (int t = 0; t < n; t++)
            {
                Vector256<short> wt = Vector256.Load(w).AsInt16();
                w += stride;
                int o = offsets[t] + cb;
                acc0 += Avx2.MultiplyAddAdjacent((Avx2.ConvertToVector256Int32(window0 + o) + offset).AsInt16(), wt);
                acc1 += Avx2.MultiplyAddAdjacent((Avx2.ConvertToVector256Int32(window1 + o) + offset).AsInt16(), wt);
            }
            Vector256<int> q0 = requant.Apply8(cb, acc0), q1 = requant.Apply8(cb, acc1);
            Vector256<short> words = Vector256.Narrow(q0, q1);
            Vector128<sbyte> bytes = Vector128.Narrow(words.GetLower(), words.GetUpper());
            *(long*)(dst + cb) = bytes.AsInt64().GetElement(0);
            *(long*)(dst + c + cb) = bytes.AsInt64().GetElement(1);
        }
    }

    /// <summary>Two interior pixels side by side, 16x8, vector channel blocks only.</summary>
    private static void Pair16(PackedDepthwise d, short* window0, short* window1, int* offsets, short* dst)
    {
        int c = d.Channels, stride = d.Stride, n = d.Taps;
        Requant16 requant = d.Requant16!;
        for (int cb = 0; cb + 8 <= c; cb += 8)
        {
            Vector256<int> acc0 = Vector256<int>.Zero, acc1 = Vector256<int>.Zero;
            int* w = d.WeightsLow + cb;
            for (int t = 0; t < n; t++)
            {
                Vector256<short> wt = Vector256.Load(w).AsInt16();
                w += stride;
                int o = offsets[t] + cb;
                acc0 += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int32(window0 + o).AsInt16(), wt);
                acc1 += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int32(window1 + o).AsInt16(), wt);
            }
            Vector256<int> q0 = requant.Apply8(cb, Avx2.ConvertToVector256Int64(acc0.GetLower()), Avx2.ConvertToVector256Int64(acc0.GetUpper()));
            Vector256<int> q1 = requant.Apply8(cb, Avx2.ConvertToVector256Int64(acc1.GetLower()), Avx2.ConvertToVector256Int64(acc1.GetUpper()));
            Vector256<short> words = Vector256.Narrow(q0, q1);
            Vector128.Store(words.GetLower(), dst + cb);
            Vector128.Store(words.GetUpper(), dst + c + cb);
        }
    }

    /// <summary>One pixel from channel <paramref name="cb"/> on: vector blocks of 8, then the scalar rest.</summary>
    private static void Pixel8(DepthwisePlan p, PackedDepthwise d, sbyte* image, int* tapOffset, int* tapIndex, int n, sbyte* dst, int cb = 0)
    {
        int c = d.Channels, stride = d.Stride;
        int* weights = d.Weights;
        Requant8 requant = d.Requant8!;
        Vector256<int> offset = Vector256.Create(p.InputOffset);
        for (; cb + 8 <= c; cb += 8)
        {
            Vector256<int> acc = Vector256<int>.Zero;
            for (int t = 0; t < n; t++)
            {
                Vector256<int> x = Avx2.ConvertToVector256Int32(image + tapOffset[t] + cb) + offset;
                acc += Avx2.MultiplyAddAdjacent(x.AsInt16(), Vector256.Load(d.WeightsLow + ((long)tapIndex[t] * stride) + cb).AsInt16());
            }
            Vector256<int> q = requant.Apply8(cb, acc);
            Vector128<short> words = Vector128.Narrow(q.GetLower(), q.GetUpper());
            *(long*)(dst + cb) = Vector128.Narrow(words, words).AsInt64().ToScalar();
        }
        for (; cb < c; cb++)
        {
            int acc = 0;
            for (int t = 0; t < n; t++)
            {
                acc = unchecked(acc + (weights[((long)tapIndex[t] * stride) + cb] * (image[tapOffset[t] + cb] + p.InputOffset)));
            }
            acc = unchecked(acc + p.BiasInt32[cb]);
            int v = MultiplyByQuantizedMultiplier(acc, p.Multipliers[cb], p.Shifts[cb]) + p.OutputOffset;
            dst[cb] = (sbyte)Math.Min(Math.Max(v, p.ActivationMin), p.ActivationMax);
        }
    }

    /// <summary>One 16x8 pixel from channel <paramref name="cb"/> on: vector blocks of 8, then the scalar rest.</summary>
    private static void Pixel16(DepthwisePlan p, PackedDepthwise d, short* image, int* tapOffset, int* tapIndex, int n, short* dst, int cb = 0)
    {
        int c = d.Channels, stride = d.Stride;
        int* weights = d.Weights;
        Requant16 requant = d.Requant16!;
        for (; cb + 8 <= c; cb += 8)
        {
            Vector256<int> acc = Vector256<int>.Zero;
            for (int t = 0; t < n; t++)
            {
                Vector256<int> x = Avx2.ConvertToVector256Int32(image + tapOffset[t] + cb);
                acc += Avx2.MultiplyAddAdjacent(x.AsInt16(), Vector256.Load(d.WeightsLow + ((long)tapIndex[t] * stride) + cb).AsInt16());
            }
            Vector256<int> q = requant.Apply8(cb, Avx2.ConvertToVector256Int64(acc.GetLower()), Avx2.ConvertToVector256Int64(acc.GetUpper()));
            Vector128.Store(Vector128.Narrow(q.GetLower(), q.GetUpper()), dst + cb);
        }
        for (; cb < c; cb++)
        {
            long acc = 0;
            for (int t = 0; t < n; t++)
            {
                acc += weights[((long)tapIndex[t] * stride) + cb] * (long)image[tapOffset[t] + cb];
            }
            int v = MultiplyByQuantizedMultiplier(acc + p.BiasInt64[cb], p.Multipliers[cb], p.Shifts[cb]);
            dst[cb] = (short)Math.Min(Math.Max(v, p.ActivationMin), p.ActivationMax);
        }
    }

    /// <summary>Weights widened to int32, one row of <see cref="Stride"/> channels per tap, plus the requantization constants.</summary>
    private sealed class PackedDepthwise : IDisposable
    {
        public int Channels, Stride, Taps;
        public int* Weights;
        /// <summary>The same weights as int16 in each int32 lane's low half, high half zero (the VPMADDWD operand).</summary>
        public int* WeightsLow;
        public Requant8? Requant8;
        public Requant16? Requant16;

        /// <summary>Null for what the vector kernel does not cover (depth multiplier &gt; 1, too many taps, constants out of range).</summary>
        public static PackedDepthwise? Create(DepthwisePlan p)
        {
            int c = p.Output.Channels;
            int taps = p.KernelH * p.KernelW;
            if (p.DepthMultiplier != 1 || p.Input.Channels != c || taps > MaxTaps16)
            {
                return null;
            }
            Requant8? q8 = null;
            Requant16? q16 = null;
            if (p.Is16x8)
            {
                q16 = Requant16.Create(p.BiasInt64, p.Multipliers, p.Shifts, c, p.ActivationMin, p.ActivationMax);
            }
            else
            {
                q8 = Requant8.Create(p.BiasInt32, p.Multipliers, p.Shifts, c, p.OutputOffset, p.ActivationMin, p.ActivationMax);
            }
            if (q8 is null && q16 is null)
            {
                return null;
            }
            var d = new PackedDepthwise { Channels = c, Stride = (c + 7) / 8 * 8, Taps = taps, Requant8 = q8, Requant16 = q16 };
            long n = (long)taps * d.Stride;
            d.Weights = (int*)NativeMemory.AlignedAlloc((nuint)n * sizeof(int), 64);
            d.WeightsLow = (int*)NativeMemory.AlignedAlloc((nuint)n * sizeof(int), 64);
            new Span<int>(d.Weights, checked((int)n)).Clear();
            new Span<int>(d.WeightsLow, checked((int)n)).Clear();
            for (int t = 0; t < taps; t++)
            {
                for (int ch = 0; ch < c; ch++)
                {
                    sbyte w = p.Weights[((long)t * c) + ch];
                    d.Weights[((long)t * d.Stride) + ch] = w;
                    d.WeightsLow[((long)t * d.Stride) + ch] = (ushort)w;
                }
            }
            return d;
        }

        public void Dispose()
        {
            NativeMemory.AlignedFree(Weights);
            NativeMemory.AlignedFree(WeightsLow);
            Requant8?.Dispose();
            Requant16?.Dispose();
        }
    }
}
