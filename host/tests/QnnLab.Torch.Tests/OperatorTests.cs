using QnnLab.Model;

namespace QnnLab.Torch.Tests;

/// <summary>Each operator of the float view against the naive NHWC loops in <see cref="Reference"/>.</summary>
[TestClass]
public sealed class OperatorTests
{
    private const float Tol = 1e-4f;

    [TestMethod]
    [DataRow(3, 3, 1, 2)]   // out 3: (3-1)*1 + 3 - 3 = 2
    [DataRow(32, 1, 2, 0)]  // out 16: 30 + 1 - 32 < 0, no padding
    [DataRow(8, 8, 8, 0)]   // out 1: 0 + 8 - 8
    [DataRow(7, 3, 2, 2)]   // out 4: 6 + 3 - 7
    [DataRow(6, 3, 2, 1)]   // out 3: 4 + 3 - 6: nothing before, one after
    [DataRow(5, 2, 2, 1)]   // out 3: 4 + 2 - 5
    public void SamePaddingFollowsTensorFlow(int inSize, int kernel, int stride, int expectedTotal)
    {
        var (before, after) = TorchModel.SamePadding(inSize, kernel, stride, 1);
        Assert.AreEqual(expectedTotal, before + after);
        Assert.AreEqual(expectedTotal / 2, before, "TF puts the odd pixel after");
    }

    [TestMethod]
    [DataRow(6, 7, 2, 2, 1, 1, Padding.Same, Activation.Relu6)] // asymmetric SAME in both dimensions
    [DataRow(5, 5, 1, 1, 1, 1, Padding.Same, Activation.None)]   // symmetric SAME
    [DataRow(7, 6, 1, 2, 2, 1, Padding.Same, Activation.Relu)]   // dilation + stride mix
    [DataRow(7, 8, 2, 1, 1, 2, Padding.Valid, Activation.ReluN1To1)]
    public void Conv2DMatchesNaiveLoops(int h, int w, int sh, int sw, int dh, int dw, Padding pad, Activation act)
    {
        var rng = new Random(h * 100 + w);
        int n = 2, c = 3, o = 4, kh = 3, kw = 3;
        float[] x = Reference.Random(rng, n * h * w * c, 0, 4);
        float[] wt = Reference.Random(rng, o * kh * kw * c, -0.5f, 0.5f);
        float[] bias = Reference.Random(rng, o, -1, 1);
        float[] expected = Reference.Conv(x, n, h, w, c, wt, o, kh, kw, bias, sh, sw, dh, dw, pad, act, out int oh, out int ow);

        var g = new GraphBuilder();
        int input = g.Act("x", 1, h, w, c);
        int output = g.Act("y", 1, oh, ow, o);
        g.Op(OpKind.Conv2D, [input, g.Const("w", [o, kh, kw, c], wt), g.Const("b", [o], bias)], output, new ConvOptions(pad, sh, sw, dh, dw, act));
        TensorValue y = Run(g.Finish(input, output), x, n, output);

        CollectionAssert.AreEqual(new[] { n, oh, ow, o }, y.Shape);
        Reference.AssertClose(expected, y.Data, Tol, "conv");
    }

    [TestMethod]
    [DataRow(6, 6, 2, 1, 1, 2, 3, Padding.Same)]
    [DataRow(5, 7, 1, 1, 2, 2, 1, Padding.Same)]
    [DataRow(6, 5, 1, 2, 1, 1, 2, Padding.Valid)]
    public void DepthwiseMatchesNaiveLoops(int h, int w, int sh, int sw, int dh, int dw, int multiplier, Padding pad)
    {
        var rng = new Random(h * 10 + multiplier);
        int n = 2, c = 2, kh = 3, kw = 3, o = c * multiplier;
        float[] x = Reference.Random(rng, n * h * w * c, -2, 2);
        float[] wt = Reference.Random(rng, kh * kw * o, -1, 1);
        float[] bias = Reference.Random(rng, o, -1, 1);
        float[] expected = Reference.Depthwise(x, n, h, w, c, wt, multiplier, kh, kw, bias, sh, sw, dh, dw, pad, Activation.Relu, out int oh, out int ow);

        var g = new GraphBuilder();
        int input = g.Act("x", 1, h, w, c);
        int output = g.Act("y", 1, oh, ow, o);
        g.Op(OpKind.DepthwiseConv2D, [input, g.Const("w", [1, kh, kw, o], wt), g.Const("b", [o], bias)], output,
            new DepthwiseOptions(pad, sh, sw, dh, dw, multiplier, Activation.Relu));
        TensorValue y = Run(g.Finish(input, output), x, n, output);

        CollectionAssert.AreEqual(new[] { n, oh, ow, o }, y.Shape);
        Reference.AssertClose(expected, y.Data, Tol, "depthwise");
    }

    [TestMethod]
    [DataRow(6, 7, 3, 3, 2, 2, Padding.Same, false)] // asymmetric: corner windows hold 4 of 9 taps
    [DataRow(5, 5, 2, 2, 2, 2, Padding.Same, false)]
    [DataRow(8, 8, 8, 8, 8, 8, Padding.Valid, false)] // global average (ResNet-8's head)
    [DataRow(6, 7, 3, 3, 2, 2, Padding.Same, true)]
    [DataRow(5, 5, 2, 2, 2, 2, Padding.Same, true)]
    public void PoolMatchesNaiveLoops(int h, int w, int kh, int kw, int sh, int sw, Padding pad, bool max)
    {
        var rng = new Random(h + kh);
        int n = 2, c = 3;
        // Negative values make -inf/zero padding mistakes in max pooling visible.
        float[] x = Reference.Random(rng, n * h * w * c, -5, -1);
        float[] expected = Reference.Pool(x, n, h, w, c, kh, kw, sh, sw, pad, max, out int oh, out int ow);

        var g = new GraphBuilder();
        int input = g.Act("x", 1, h, w, c);
        int output = g.Act("y", 1, oh, ow, c);
        g.Op(max ? OpKind.MaxPool2D : OpKind.AveragePool2D, [input], output, new PoolOptions(pad, sh, sw, kh, kw, Activation.None));
        TensorValue y = Run(g.Finish(input, output), x, n, output);

        CollectionAssert.AreEqual(new[] { n, oh, ow, c }, y.Shape);
        Reference.AssertClose(expected, y.Data, Tol, max ? "max pool" : "average pool");
    }

    [TestMethod]
    public void ReshapeFlattensInNhwcOrderBeforeFullyConnectedAndSoftmax()
    {
        // The conv leaves its result in NCHW inside the engine: a flatten that forgets to permute
        // back reads channels in the wrong order and fails here.
        var rng = new Random(7);
        int n = 3, h = 3, w = 4, c = 2, o = 5, classes = 7;
        float[] x = Reference.Random(rng, n * h * w * c, 0, 3);
        float[] cw = Reference.Random(rng, o * c, -1, 1);
        float[] fw = Reference.Random(rng, classes * h * w * o, -0.3f, 0.3f);
        float[] fb = Reference.Random(rng, classes, -1, 1);
        float[] conv = Reference.Conv(x, n, h, w, c, cw, o, 1, 1, null, 1, 1, 1, 1, Padding.Valid, Activation.None, out _, out _);
        float[] logits = Reference.FullyConnected(conv, n, h * w * o, fw, classes, fb, Activation.None);
        float[] probs = Reference.Softmax(logits, n, classes);

        var g = new GraphBuilder();
        int input = g.Act("x", 1, h, w, c);
        int t1 = g.Act("conv", 1, h, w, o);
        int t2 = g.Act("flat", 1, h * w * o);
        int t3 = g.Act("logits", 1, classes);
        int t4 = g.Act("probs", 1, classes);
        g.Op(OpKind.Conv2D, [input, g.Const("cw", [o, 1, 1, c], cw), -1], t1, new ConvOptions(Padding.Valid, 1, 1, 1, 1, Activation.None));
        g.Op(OpKind.Reshape, [t1], t2, new ReshapeOptions([1, h * w * o]));
        g.Op(OpKind.FullyConnected, [t2, g.Const("fw", [classes, h * w * o], fw), g.Const("fb", [classes], fb)], t3, new FullyConnectedOptions(Activation.None));
        g.Op(OpKind.Softmax, [t3], t4, new SoftmaxOptions(1f));
        using var engine = new FloatEngine(g.Finish(input, t4));

        Assert.AreEqual(t3, engine.Module.LogitsTensor, "logits are the softmax input");
        Assert.AreEqual(classes, engine.Classes);
        ForwardResult r = engine.Forward(x, n);
        Reference.AssertClose(logits, r.Logits, Tol, "logits");
        Reference.AssertClose(probs, r.Probabilities, Tol, "probabilities");
        int[] predicted = r.Predictions();
        for (int i = 0; i < n; i++)
        {
            Assert.AreEqual(ForwardResult.ArgMax(probs.AsSpan(i * classes, classes)), predicted[i]);
        }
    }

    [TestMethod]
    public void AddMixesLayoutsAndPadFollowsNhwcAxes()
    {
        // add(conv(x), x): one operand NCHW inside the engine, the other NHWC; then PAD with
        // different amounts on H, W and C, then softmax over the (padded) channels.
        var rng = new Random(11);
        int n = 2, h = 3, w = 4, c = 3;
        float[] x = Reference.Random(rng, n * h * w * c, -1, 1);
        float[] cw = Reference.Random(rng, c * 3 * 3 * c, -0.5f, 0.5f);
        float[] conv = Reference.Conv(x, n, h, w, c, cw, c, 3, 3, null, 1, 1, 1, 1, Padding.Same, Activation.None, out _, out _);
        var sum = new float[conv.Length];
        for (int i = 0; i < sum.Length; i++)
        {
            sum[i] = Math.Max(conv[i] + x[i], 0);
        }
        int[] p = [0, 0, 1, 2, 0, 1, 2, 1]; // [[0,0],[1,2],[0,1],[2,1]]
        int ph = h + 3, pw = w + 1, pc = c + 3;
        var padded = new float[n * ph * pw * pc];
        for (int b = 0; b < n; b++)
            for (int y = 0; y < h; y++)
                for (int xx = 0; xx < w; xx++)
                    for (int ch = 0; ch < c; ch++)
                    {
                        padded[((b * ph + y + 1) * pw + xx) * pc + ch + 2] = sum[((b * h + y) * w + xx) * c + ch];
                    }
        float[] expected = Reference.Softmax(padded, n * ph * pw, pc);

        var g = new GraphBuilder();
        int input = g.Act("x", 1, h, w, c);
        int t1 = g.Act("conv", 1, h, w, c);
        int t2 = g.Act("add", 1, h, w, c);
        int t3 = g.Act("pad", 1, ph, pw, pc);
        int t4 = g.Act("softmax", 1, ph, pw, pc);
        g.Op(OpKind.Conv2D, [input, g.Const("w", [c, 3, 3, c], cw)], t1, new ConvOptions(Padding.Same, 1, 1, 1, 1, Activation.None));
        g.Op(OpKind.Add, [t1, input], t2, new AddOptions(Activation.Relu));
        g.Op(OpKind.Pad, [t2, g.Model.AddTensor(QnnLab.Model.Tensor.FromArray("p", ElementType.Int32, [4, 2], p))], t3, NoOptions.Instance);
        g.Op(OpKind.Softmax, [t3], t4, new SoftmaxOptions(1f));
        QnnModel model = g.Finish(input, t4);
        using var engine = new FloatEngine(model);
        Dictionary<int, TensorValue> all = engine.Intermediates(x, n);

        Reference.AssertClose(sum, all[t2].Data, Tol, "add");
        CollectionAssert.AreEqual(new[] { n, ph, pw, pc }, all[t3].Shape);
        Reference.AssertClose(expected, all[t4].Data, Tol, "pad+softmax");
        Reference.AssertClose(x, all[input].Data, 0, "input as the model sees it");
    }

    internal static TensorValue Run(QnnModel model, float[] x, int n, int output)
    {
        using var engine = new FloatEngine(model);
        return engine.Intermediates(x, n, [output])[output];
    }
}
