using QnnLab.Model;

namespace QnnLab.Torch.Tests;

/// <summary>
/// Naive NHWC loops written from TFLite's reference-kernel semantics, independent of the engine:
/// the engine permutes to NCHW and leans on torch's padding; these index the HWC arrays directly.
/// </summary>
internal static class Reference
{
    public static (int Out, int Before) Same(int inSize, int k, int s, int d)
    {
        int outSize = (inSize + s - 1) / s;
        int total = Math.Max((outSize - 1) * s + (k - 1) * d + 1 - inSize, 0);
        return (outSize, total / 2);
    }

    public static (int Out, int Before) Valid(int inSize, int k, int s, int d)
        => ((inSize - (k - 1) * d - 1) / s + 1, 0);

    public static float Act(float v, Activation a) => a switch
    {
        Activation.Relu => Math.Max(v, 0),
        Activation.Relu6 => Math.Clamp(v, 0, 6),
        Activation.ReluN1To1 => Math.Clamp(v, -1, 1),
        _ => v,
    };

    /// <summary>Conv on one batch of images: x [N,H,W,C], w OHWI, output [N,OH,OW,O].</summary>
    public static float[] Conv(float[] x, int n, int h, int w, int c, float[] wt, int o, int kh, int kw, float[]? bias,
        int sh, int sw, int dh, int dw, Padding pad, Activation act, out int oh, out int ow)
    {
        var (ohh, top) = pad == Padding.Same ? Same(h, kh, sh, dh) : Valid(h, kh, sh, dh);
        var (oww, left) = pad == Padding.Same ? Same(w, kw, sw, dw) : Valid(w, kw, sw, dw);
        (oh, ow) = (ohh, oww);
        var y = new float[n * oh * ow * o];
        for (int b = 0; b < n; b++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                    for (int oc = 0; oc < o; oc++)
                    {
                        double acc = bias?[oc] ?? 0;
                        for (int ky = 0; ky < kh; ky++)
                            for (int kx = 0; kx < kw; kx++)
                            {
                                int iy = oy * sh - top + ky * dh, ix = ox * sw - left + kx * dw;
                                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                                for (int ic = 0; ic < c; ic++)
                                {
                                    acc += x[((b * h + iy) * w + ix) * c + ic] * wt[((oc * kh + ky) * kw + kx) * c + ic];
                                }
                            }
                        y[((b * oh + oy) * ow + ox) * o + oc] = Act((float)acc, act);
                    }
        return y;
    }

    /// <summary>Depthwise conv: w [1,KH,KW,C*M], output channel c*M+m reads input channel c.</summary>
    public static float[] Depthwise(float[] x, int n, int h, int w, int c, float[] wt, int m, int kh, int kw, float[]? bias,
        int sh, int sw, int dh, int dw, Padding pad, Activation act, out int oh, out int ow)
    {
        var (ohh, top) = pad == Padding.Same ? Same(h, kh, sh, dh) : Valid(h, kh, sh, dh);
        var (oww, left) = pad == Padding.Same ? Same(w, kw, sw, dw) : Valid(w, kw, sw, dw);
        (oh, ow) = (ohh, oww);
        int o = c * m;
        var y = new float[n * oh * ow * o];
        for (int b = 0; b < n; b++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                    for (int oc = 0; oc < o; oc++)
                    {
                        double acc = bias?[oc] ?? 0;
                        int ic = oc / m;
                        for (int ky = 0; ky < kh; ky++)
                            for (int kx = 0; kx < kw; kx++)
                            {
                                int iy = oy * sh - top + ky * dh, ix = ox * sw - left + kx * dw;
                                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                                acc += x[((b * h + iy) * w + ix) * c + ic] * wt[(ky * kw + kx) * o + oc];
                            }
                        y[((b * oh + oy) * ow + ox) * o + oc] = Act((float)acc, act);
                    }
        return y;
    }

    /// <summary>Average (counting only taps inside the image) or max pool.</summary>
    public static float[] Pool(float[] x, int n, int h, int w, int c, int kh, int kw, int sh, int sw, Padding pad, bool max, out int oh, out int ow)
    {
        var (ohh, top) = pad == Padding.Same ? Same(h, kh, sh, 1) : Valid(h, kh, sh, 1);
        var (oww, left) = pad == Padding.Same ? Same(w, kw, sw, 1) : Valid(w, kw, sw, 1);
        (oh, ow) = (ohh, oww);
        var y = new float[n * oh * ow * c];
        for (int b = 0; b < n; b++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                    for (int ch = 0; ch < c; ch++)
                    {
                        double acc = max ? double.NegativeInfinity : 0;
                        int count = 0;
                        for (int ky = 0; ky < kh; ky++)
                            for (int kx = 0; kx < kw; kx++)
                            {
                                int iy = oy * sh - top + ky, ix = ox * sw - left + kx;
                                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                                float v = x[((b * h + iy) * w + ix) * c + ch];
                                acc = max ? Math.Max(acc, v) : acc + v;
                                count++;
                            }
                        y[((b * oh + oy) * ow + ox) * c + ch] = (float)(max ? acc : acc / count);
                    }
        return y;
    }

    /// <summary>Fully connected over rows of length <c>inFeatures</c>: w [out, in].</summary>
    public static float[] FullyConnected(float[] x, int rows, int inFeatures, float[] wt, int outFeatures, float[]? bias, Activation act)
    {
        var y = new float[rows * outFeatures];
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < outFeatures; o++)
            {
                double acc = bias?[o] ?? 0;
                for (int i = 0; i < inFeatures; i++)
                {
                    acc += x[r * inFeatures + i] * wt[o * inFeatures + i];
                }
                y[r * outFeatures + o] = Act((float)acc, act);
            }
        return y;
    }

    public static float[] Softmax(float[] x, int rows, int cols)
    {
        var y = new float[x.Length];
        for (int r = 0; r < rows; r++)
        {
            double max = double.NegativeInfinity;
            for (int i = 0; i < cols; i++) max = Math.Max(max, x[r * cols + i]);
            double sum = 0;
            for (int i = 0; i < cols; i++) sum += Math.Exp(x[r * cols + i] - max);
            for (int i = 0; i < cols; i++) y[r * cols + i] = (float)(Math.Exp(x[r * cols + i] - max) / sum);
        }
        return y;
    }

    public static float[] Random(Random rng, int n, float lo, float hi)
    {
        var v = new float[n];
        for (int i = 0; i < n; i++) v[i] = lo + (float)rng.NextDouble() * (hi - lo);
        return v;
    }

    public static void AssertClose(float[] expected, float[] actual, float tol, string what)
    {
        Assert.HasCount(expected.Length, actual, what + ": length");
        for (int i = 0; i < expected.Length; i++)
        {
            float err = Math.Abs(expected[i] - actual[i]);
            if (err > tol * Math.Max(1, Math.Abs(expected[i])))
            {
                Assert.Fail($"{what}: element {i} expected {expected[i]} got {actual[i]}");
            }
        }
    }
}

/// <summary>Builds small IR graphs by hand.</summary>
internal sealed class GraphBuilder
{
    public QnnModel Model { get; } = new() { Name = "hand", Preprocessing = InputPreprocessing.Raw };

    public int Act(string name, params int[] shape) => Model.AddTensor(new Tensor(name, ElementType.Float32, shape));

    public int Const(string name, int[] shape, float[] values) => Model.AddTensor(Tensor.FromArray(name, ElementType.Float32, shape, values));

    public void Op(OpKind kind, int[] inputs, int output, OpOptions options) => Model.Operators.Add(new Operator(kind, inputs, [output], options));

    public QnnModel Finish(int input, int output)
    {
        Model.Inputs = [input];
        Model.Outputs = [output];
        return Model;
    }
}
