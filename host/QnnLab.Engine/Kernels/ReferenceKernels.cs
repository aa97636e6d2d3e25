using static QnnLab.Engine.Requantization;

namespace QnnLab.Engine.Kernels;

/// <summary>
/// Scalar kernels that follow TFLM's reference_integer_ops loop by loop. They are the engine's
/// portable path and the yardstick the vectorised kernels are tested against. Pointers address
/// a batch of <c>batch</c> consecutive images (NHWC).
/// </summary>
internal static unsafe class ReferenceKernels
{
    public static void Conv(ConvPlan p, void* input, void* output, int batch)
    {
        int inH = p.Input.Height, inW = p.Input.Width, inC = p.Input.Channels;
        int outH = p.Output.Height, outW = p.Output.Width, outC = p.Output.Channels;
        bool is16 = p.Is16x8;
        fixed (sbyte* w = p.Weights)
        {
            for (int b = 0; b < batch; b++)
            {
                for (int oy = 0; oy < outH; oy++)
                {
                    for (int ox = 0; ox < outW; ox++)
                    {
                        int inY0 = (oy * p.StrideH) - p.PadTop;
                        int inX0 = (ox * p.StrideW) - p.PadLeft;
                        long outBase = (((long)b * outH + oy) * outW + ox) * outC;
                        for (int oc = 0; oc < outC; oc++)
                        {
                            long acc = 0;
                            int acc32 = 0;
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
                                    long inBase = (((long)b * inH + iy) * inW + ix) * inC;
                                    sbyte* wp = w + (((long)oc * p.KernelH + fy) * p.KernelW + fx) * inC;
                                    if (is16)
                                    {
                                        short* ip = (short*)input + inBase;
                                        for (int ic = 0; ic < inC; ic++)
                                        {
                                            acc += wp[ic] * (long)ip[ic];
                                        }
                                    }
                                    else
                                    {
                                        sbyte* ip = (sbyte*)input + inBase;
                                        for (int ic = 0; ic < inC; ic++)
                                        {
                                            acc32 = unchecked(acc32 + (wp[ic] * (ip[ic] + p.InputOffset)));
                                        }
                                    }
                                }
                            }
                            if (is16)
                            {
                                acc += p.BiasInt64[oc];
                                int v = MultiplyByQuantizedMultiplier(acc, p.Multipliers[oc], p.Shifts[oc]);
                                v = Math.Min(Math.Max(v, p.ActivationMin), p.ActivationMax);
                                ((short*)output)[outBase + oc] = (short)v;
                            }
                            else
                            {
                                acc32 = unchecked(acc32 + p.BiasInt32[oc]);
                                int v = MultiplyByQuantizedMultiplier(acc32, p.Multipliers[oc], p.Shifts[oc]) + p.OutputOffset;
                                v = Math.Min(Math.Max(v, p.ActivationMin), p.ActivationMax);
                                ((sbyte*)output)[outBase + oc] = (sbyte)v;
                            }
                        }
                    }
                }
            }
        }
    }

    public static void Depthwise(DepthwisePlan p, void* input, void* output, int batch)
    {
        int inH = p.Input.Height, inW = p.Input.Width, inC = p.Input.Channels;
        int outH = p.Output.Height, outW = p.Output.Width, outC = p.Output.Channels;
        bool is16 = p.Is16x8;
        fixed (sbyte* w = p.Weights)
        {
            for (int b = 0; b < batch; b++)
            {
                for (int oy = 0; oy < outH; oy++)
                {
                    for (int ox = 0; ox < outW; ox++)
                    {
                        int inY0 = (oy * p.StrideH) - p.PadTop;
                        int inX0 = (ox * p.StrideW) - p.PadLeft;
                        long outBase = (((long)b * outH + oy) * outW + ox) * outC;
                        for (int ic = 0; ic < inC; ic++)
                        {
                            for (int m = 0; m < p.DepthMultiplier; m++)
                            {
                                int oc = m + (ic * p.DepthMultiplier);
                                long acc = 0;
                                int acc32 = 0;
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
                                        long inIndex = ((((long)b * inH + iy) * inW + ix) * inC) + ic;
                                        int wv = w[(((long)fy * p.KernelW) + fx) * outC + oc];
                                        if (is16)
                                        {
                                            acc += wv * (long)((short*)input)[inIndex];
                                        }
                                        else
                                        {
                                            acc32 = unchecked(acc32 + (wv * (((sbyte*)input)[inIndex] + p.InputOffset)));
                                        }
                                    }
                                }
                                if (is16)
                                {
                                    acc += p.BiasInt64[oc];
                                    int v = MultiplyByQuantizedMultiplier(acc, p.Multipliers[oc], p.Shifts[oc]);
                                    v = Math.Min(Math.Max(v, p.ActivationMin), p.ActivationMax);
                                    ((short*)output)[outBase + oc] = (short)v;
                                }
                                else
                                {
                                    acc32 = unchecked(acc32 + p.BiasInt32[oc]);
                                    int v = MultiplyByQuantizedMultiplier(acc32, p.Multipliers[oc], p.Shifts[oc]) + p.OutputOffset;
                                    v = Math.Min(Math.Max(v, p.ActivationMin), p.ActivationMax);
                                    ((sbyte*)output)[outBase + oc] = (sbyte)v;
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    public static void FullyConnected(FullyConnectedPlan p, void* input, void* output, int batch)
    {
        int rows = p.RowsPerImage * batch;
        int k = p.InputDepth, n = p.OutputDepth;
        bool is16 = p.Is16x8;
        fixed (sbyte* w = p.Weights)
        {
            for (int r = 0; r < rows; r++)
            {
                for (int o = 0; o < n; o++)
                {
                    int m = p.Multipliers[p.PerChannel ? o : 0];
                    int s = p.Shifts[p.PerChannel ? o : 0];
                    sbyte* wp = w + ((long)o * k);
                    if (is16)
                    {
                        short* ip = (short*)input + ((long)r * k);
                        long acc = 0;
                        for (int d = 0; d < k; d++)
                        {
                            acc += (wp[d] + p.WeightsOffset) * (long)ip[d];
                        }
                        acc += p.BiasInt64[o];
                        int v = MultiplyByQuantizedMultiplier(acc, m, s);
                        v = Math.Min(Math.Max(v, p.ActivationMin), p.ActivationMax);
                        ((short*)output)[((long)r * n) + o] = (short)v;
                    }
                    else
                    {
                        sbyte* ip = (sbyte*)input + ((long)r * k);
                        int acc = 0;
                        for (int d = 0; d < k; d++)
                        {
                            acc = unchecked(acc + ((wp[d] + p.WeightsOffset) * (ip[d] + p.InputOffset)));
                        }
                        acc = unchecked(acc + p.BiasInt32[o]);
                        int v = MultiplyByQuantizedMultiplier(acc, m, s) + p.OutputOffset;
                        v = Math.Min(Math.Max(v, p.ActivationMin), p.ActivationMax);
                        ((sbyte*)output)[((long)r * n) + o] = (sbyte)v;
                    }
                }
            }
        }
    }

    public static void Pool(PoolPlan p, void* input, void* output, int batch)
    {
        int inH = p.Input.Height, inW = p.Input.Width, c = p.Input.Channels;
        int outH = p.Output.Height, outW = p.Output.Width;
        bool is16 = p.Input.Type == Model.ElementType.Int16;
        for (int b = 0; b < batch; b++)
        {
            for (int oy = 0; oy < outH; oy++)
            {
                for (int ox = 0; ox < outW; ox++)
                {
                    int inY0 = (oy * p.StrideH) - p.PadTop;
                    int inX0 = (ox * p.StrideW) - p.PadLeft;
                    int fy0 = Math.Max(0, -inY0), fy1 = Math.Min(p.FilterH, inH - inY0);
                    int fx0 = Math.Max(0, -inX0), fx1 = Math.Min(p.FilterW, inW - inX0);
                    long outBase = (((long)b * outH + oy) * outW + ox) * c;
                    for (int ch = 0; ch < c; ch++)
                    {
                        int acc = p.IsMax ? int.MinValue : 0;
                        int count = 0;
                        for (int fy = fy0; fy < fy1; fy++)
                        {
                            for (int fx = fx0; fx < fx1; fx++)
                            {
                                long idx = ((((long)b * inH + inY0 + fy) * inW + inX0 + fx) * c) + ch;
                                int v = is16 ? ((short*)input)[idx] : ((sbyte*)input)[idx];
                                acc = p.IsMax ? Math.Max(acc, v) : acc + v;
                                count++;
                            }
                        }
                        if (count == 0)
                        {
                            throw new InvalidOperationException("pooling window entirely outside the image");
                        }
                        if (!p.IsMax)
                        {
                            // Round to nearest, ties away from zero (C division truncates toward zero).
                            acc = acc > 0 ? (acc + (count / 2)) / count : (acc - (count / 2)) / count;
                        }
                        acc = Math.Min(Math.Max(acc, p.ActivationMin), p.ActivationMax);
                        if (is16)
                        {
                            ((short*)output)[outBase + ch] = (short)acc;
                        }
                        else
                        {
                            ((sbyte*)output)[outBase + ch] = (sbyte)acc;
                        }
                    }
                }
            }
        }
    }

    public static void Add(AddPlan p, void* in1, void* in2, void* output, int batch)
    {
        long n = (long)p.Output.ElementsPerImage * batch;
        bool is16 = p.Output.Type == Model.ElementType.Int16;
        for (long i = 0; i < n; i++)
        {
            int a = is16 ? ((short*)in1)[i] : ((sbyte*)in1)[i];
            int c = is16 ? ((short*)in2)[i] : ((sbyte*)in2)[i];
            int v = AddElement(p, a, c);
            if (is16)
            {
                ((short*)output)[i] = (short)v;
            }
            else
            {
                ((sbyte*)output)[i] = (sbyte)v;
            }
        }
    }

    /// <summary>TFLite AddElementwise for one element (int8 and int16 general path).</summary>
    public static int AddElement(AddPlan p, int a, int b)
    {
        int shifted1 = ShiftLeftWrapping(p.Input1Offset + a, p.LeftShift);
        int shifted2 = ShiftLeftWrapping(p.Input2Offset + b, p.LeftShift);
        int scaled1 = MultiplyByQuantizedMultiplierSmallerThanOneExp(shifted1, p.Input1Multiplier, p.Input1Shift);
        int scaled2 = MultiplyByQuantizedMultiplierSmallerThanOneExp(shifted2, p.Input2Multiplier, p.Input2Shift);
        int rawSum = unchecked(scaled1 + scaled2);
        int rawOutput = MultiplyByQuantizedMultiplierSmallerThanOneExp(rawSum, p.OutputMultiplier, p.OutputShift) + p.OutputOffset;
        return Math.Min(p.ActivationMax, Math.Max(p.ActivationMin, rawOutput));
    }

    public static void Pad(PadPlan p, void* input, void* output, int batch)
    {
        int[] inShape = ToFourD(p.Input.Shape);
        int[] outShape = ToFourD(p.Output.Shape);
        int elem = p.Input.Type == Model.ElementType.Int16 ? 2 : 1;
        for (int d = 1; d < 4; d++)
        {
            if (inShape[d] + p.Before[d] + p.After[d] != outShape[d])
            {
                throw new InvalidOperationException($"PAD output shape does not match input + paddings in dimension {d}");
            }
        }
        for (int b = 0; b < batch; b++)
        {
            for (int y = 0; y < outShape[1]; y++)
            {
                for (int x = 0; x < outShape[2]; x++)
                {
                    for (int c = 0; c < outShape[3]; c++)
                    {
                        long o = (((long)b * outShape[1] + y) * outShape[2] + x) * outShape[3] + c;
                        int iy = y - p.Before[1], ix = x - p.Before[2], ic = c - p.Before[3];
                        bool inside = iy >= 0 && iy < inShape[1] && ix >= 0 && ix < inShape[2] && ic >= 0 && ic < inShape[3];
                        long i = (((long)b * inShape[1] + iy) * inShape[2] + ix) * inShape[3] + ic;
                        if (elem == 2)
                        {
                            ((short*)output)[o] = inside ? ((short*)input)[i] : (short)p.PadValue;
                        }
                        else
                        {
                            ((sbyte*)output)[o] = inside ? ((sbyte*)input)[i] : (sbyte)p.PadValue;
                        }
                    }
                }
            }
        }
    }

    internal static int[] ToFourD(int[] shape)
    {
        var s = new int[] { 1, 1, 1, 1 };
        for (int d = 0; d < shape.Length; d++)
        {
            s[4 - shape.Length + d] = Math.Max(shape[d], 1);
        }
        return s;
    }

    public static void Softmax(SoftmaxPlan p, void* input, void* output, int batch)
    {
        long rows = (long)p.Input.ElementsPerImage / p.Depth * batch;
        for (long r = 0; r < rows; r++)
        {
            if (p.Input.Type == Model.ElementType.Int16)
            {
                var src = new ReadOnlySpan<short>((short*)input + (r * p.Depth), p.Depth);
                var dst = new Span<short>((short*)output + (r * p.Depth), p.Depth);
                SoftmaxMath.SoftmaxInt16(src, dst, p.InputMultiplier, p.InputShift, p.ExpLut, p.OneOverOnePlusXLut);
            }
            else
            {
                var src = new ReadOnlySpan<sbyte>((sbyte*)input + (r * p.Depth), p.Depth);
                var dst = new Span<sbyte>((sbyte*)output + (r * p.Depth), p.Depth);
                SoftmaxMath.SoftmaxInt8(src, dst, p.InputMultiplier, p.InputShift, p.DiffMin);
            }
        }
    }

    public static void Requantize(RequantizePlan p, void* input, void* output, int batch)
    {
        long n = (long)p.Input.ElementsPerImage * batch;
        bool in16 = p.Input.Type == Model.ElementType.Int16, out16 = p.Output.Type == Model.ElementType.Int16;
        (int lo, int hi) = TypeRange(p.Output.Type);
        for (long i = 0; i < n; i++)
        {
            int x = (in16 ? ((short*)input)[i] : ((sbyte*)input)[i]) - p.InputZeroPoint;
            int v = MultiplyByQuantizedMultiplier(x, p.Multiplier, p.Shift) + p.OutputZeroPoint;
            v = Math.Min(Math.Max(v, lo), hi);
            if (out16)
            {
                ((short*)output)[i] = (short)v;
            }
            else
            {
                ((sbyte*)output)[i] = (sbyte)v;
            }
        }
    }
}
