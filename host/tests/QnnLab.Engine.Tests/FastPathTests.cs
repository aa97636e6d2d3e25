using QnnLab.Model;
using static QnnLab.Engine.Tests.Graph;

namespace QnnLab.Engine.Tests;

/// <summary>
/// The vectorised kernels against the scalar reference on random shapes (Graph.Run8/Run16 compare every element and,
/// where asked, check that the operator really ran vectorised), plus hand-derived extremes of the 16x8 overflow bounds.
/// </summary>
[TestClass]
public sealed class FastPathTests
{
    [TestMethod]
    public void RandomConvolutionsAgreeWithTheReference()
    {
        var rng = new Random(14);
        for (int trial = 0; trial < 60; trial++)
        {
            int h = rng.Next(1, 9), w = rng.Next(1, 9), ic = rng.Next(1, 20), oc = rng.Next(1, 40);
            int kh = rng.Next(1, 4), kw = rng.Next(1, 4), s = rng.Next(1, 3), d = rng.Next(1, 3);
            Padding pad = rng.Next(2) == 0 ? Padding.Same : Padding.Valid;
            int oh = IntegerModel.ComputeOutSize(pad, h, kh, s, d), ow = IntegerModel.ComputeOutSize(pad, w, kw, s, d);
            if (oh < 1 || ow < 1)
            {
                continue;
            }
            var weights = new sbyte[oc * kh * kw * ic];
            rng.NextBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(weights.AsSpan()));
            float[] scales = Enumerable.Range(0, oc).Select(_ => (float)(rng.NextDouble() * 0.02 + 0.001)).ToArray();
            int[] bias = Enumerable.Range(0, oc).Select(_ => rng.Next(-5000, 5000)).ToArray();
            var act = (Activation)rng.Next(0, 4);
            QnnModel m = Single(OpKind.Conv2D, new ConvOptions(pad, s, s, d, d, act),
                Act8([1, h, w, ic], (float)(rng.NextDouble() * 0.05 + 0.005), rng.Next(-128, 128)),
                Act8([1, oh, ow, oc], (float)(rng.NextDouble() * 0.1 + 0.01), rng.Next(-128, 128)),
                Weights([oc, kh, kw, ic], weights, scales), Bias32(bias));
            int batch = rng.Next(1, 6);
            var input = new sbyte[batch * h * w * ic];
            rng.NextBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(input.AsSpan()));
            Run8(m, input, batch);
        }
    }

    [TestMethod]
    public void RandomFullyConnectedAgreeWithTheReference()
    {
        var rng = new Random(15);
        for (int trial = 0; trial < 40; trial++)
        {
            int k = rng.Next(1, 70), n = rng.Next(1, 40);
            var weights = new sbyte[n * k];
            rng.NextBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(weights.AsSpan()));
            QnnModel m = Single(OpKind.FullyConnected, new FullyConnectedOptions((Activation)rng.Next(0, 4)),
                Act8([1, k], (float)(rng.NextDouble() * 0.05 + 0.005), rng.Next(-128, 128)),
                Act8([1, n], (float)(rng.NextDouble() * 0.5 + 0.01), rng.Next(-128, 128)),
                Weights([n, k], weights, (float)(rng.NextDouble() * 0.02 + 0.001)), Bias32(Enumerable.Range(0, n).Select(_ => rng.Next(-3000, 3000)).ToArray()));
            int batch = rng.Next(1, 9);
            var input = new sbyte[batch * k];
            rng.NextBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(input.AsSpan()));
            Run8(m, input, batch);
        }
    }

    private static sbyte[] RandomWeights(Random rng, int n)
    {
        var w = new sbyte[n];
        rng.NextBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(w.AsSpan()));
        return w;
    }

    /// <summary>Inputs of at most <paramref name="amplitude"/>; at full range a tenth each are the extremes that stress the accumulators.</summary>
    private static short[] RandomInt16(Random rng, int n, int amplitude = 32768)
    {
        var x = new short[n];
        for (int i = 0; i < n; i++)
        {
            int pick = amplitude < 32768 ? 9 : rng.Next(10);
            x[i] = pick == 0 ? short.MinValue : pick == 1 ? short.MaxValue : (short)rng.Next(-amplitude, amplitude);
        }
        return x;
    }

    /// <summary>An input amplitude: full range, or small enough that the multiplier nears or exceeds 1 (every unit of the sum then shows).</summary>
    private static int Amplitude(Random rng) => new[] { 32768, 4096, 256, 16 }[rng.Next(4)];

    /// <summary>
    /// An output scale that maps typical sums (amplitude * ~64 * sqrt(taps) in weight units) to a few thousand
    /// output steps, so the outputs use the int16 range instead of rounding to a handful of values.
    /// </summary>
    private static float OutputScale16(Random rng, float inputScale, float weightScale, int amplitude, int taps)
        => (float)(inputScale * weightScale * amplitude * 64 * Math.Sqrt(taps) / LogUniform(rng, 1000, 20000));

    private static float LogUniform(Random rng, double lo, double hi) => (float)Math.Exp(Math.Log(lo) + (rng.NextDouble() * (Math.Log(hi) - Math.Log(lo))));

    [TestMethod]
    public void RandomConvolutions16x8AgreeWithTheReference()
    {
        var rng = new Random(16);
        int trials = 0;
        while (trials < 60)
        {
            bool pointwise = rng.Next(3) == 0; // 1x1 stride 1: rows read straight from the input when the depth is even
            int h = rng.Next(1, 9), w = rng.Next(1, 9), ic = rng.Next(1, 48), oc = rng.Next(1, 40);
            int kh = pointwise ? 1 : rng.Next(1, 4), kw = pointwise ? 1 : rng.Next(1, 4), s = pointwise ? 1 : rng.Next(1, 3), d = rng.Next(1, 3);
            Padding pad = rng.Next(2) == 0 ? Padding.Same : Padding.Valid;
            int oh = IntegerModel.ComputeOutSize(pad, h, kh, s, d), ow = IntegerModel.ComputeOutSize(pad, w, kw, s, d);
            if (oh < 1 || ow < 1)
            {
                continue;
            }
            trials++;
            float sIn = LogUniform(rng, 1e-5, 1e-3), sW = LogUniform(rng, 1e-3, 3e-2);
            int amplitude = Amplitude(rng);
            float sOut = OutputScale16(rng, sIn, sW, amplitude, kh * kw * ic);
            float[] scales = Enumerable.Range(0, oc).Select(_ => LogUniform(rng, sW / 2, sW * 2)).ToArray();
            // Biases up to a few times the sums' size, now and then far beyond int32.
            long biasRange = rng.Next(8) == 0 ? 1L << 36 : (long)(amplitude * 256 * Math.Sqrt(kh * kw * ic)) + 1;
            long[] bias = Enumerable.Range(0, oc).Select(_ => rng.NextInt64(-biasRange, biasRange)).ToArray();
            QnnModel m = Single(OpKind.Conv2D, new ConvOptions(pad, s, s, d, d, (Activation)rng.Next(0, 4)),
                Act16([1, h, w, ic], sIn), Act16([1, oh, ow, oc], sOut),
                Weights([oc, kh, kw, ic], RandomWeights(rng, oc * kh * kw * ic), scales), Bias64(bias));
            int batch = rng.Next(1, 6);
            short[] output = Run16(m, RandomInt16(rng, batch * h * w * ic, amplitude), batch, vectorised: true);
            Assert.AreEqual(batch * oh * ow * oc, output.Length);
        }
    }

    [TestMethod]
    public void RandomFullyConnected16x8AgreeWithTheReference()
    {
        var rng = new Random(17);
        for (int trial = 0; trial < 40; trial++)
        {
            int k = rng.Next(1, 90), n = rng.Next(1, 40);
            float sIn = LogUniform(rng, 1e-5, 1e-3), sW = LogUniform(rng, 1e-3, 3e-2);
            int amplitude = Amplitude(rng);
            long biasRange = (long)(amplitude * 256 * Math.Sqrt(k)) + 1;
            QnnModel m = Single(OpKind.FullyConnected, new FullyConnectedOptions((Activation)rng.Next(0, 4)),
                Act16([1, k], sIn), Act16([1, n], OutputScale16(rng, sIn, sW, amplitude, k)),
                Weights([n, k], RandomWeights(rng, n * k), sW),
                Bias64(Enumerable.Range(0, n).Select(_ => rng.NextInt64(-biasRange, biasRange)).ToArray()));
            int batch = rng.Next(1, 9);
            Run16(m, RandomInt16(rng, batch * k, amplitude), batch, vectorised: true);
        }
    }

    /// <summary>
    /// Every pair sum at its largest, (-32768)(-128) * 2 = 2^23: with K = 2 * pairs the exact sum is K * 2^22,
    /// beyond int32 from 512 on. Multiplier 2^-20 = (2^30, -19): reduced to 2^14, shift 34, so the output is
    /// exactly K * 2^22 / 2^20 = 4K. Depths 510 / 512 sit on the 255-pair block boundary, 1100 needs three blocks;
    /// the odd depths go through the padded copy (FC) and im2col (3x3) rather than the direct rows.
    /// </summary>
    [TestMethod]
    [DataRow(510)]
    [DataRow(512)]
    [DataRow(1100)]
    [DataRow(1101)]
    public void Int16DotProductsBeyondInt32AreExact(int k)
    {
        QnnModel conv = Single(OpKind.Conv2D, new ConvOptions(Padding.Valid, 1, 1, 1, 1, Activation.None),
            Act16([1, 1, 1, k], 1f), Act16([1, 1, 1, 17], 1048576f),
            Weights([17, 1, 1, k], Enumerable.Repeat((sbyte)-128, 17 * k).ToArray(), Enumerable.Repeat(1f, 17).ToArray()), Bias64(new long[17]));
        short[] input = Enumerable.Repeat(short.MinValue, k).ToArray();
        CollectionAssert.AreEqual(Enumerable.Repeat((short)(4 * k), 17).ToArray(), Run16(conv, input, vectorised: true));

        QnnModel fc = Single(OpKind.FullyConnected, new FullyConnectedOptions(Activation.None),
            Act16([1, k], 1f), Act16([1, 3], 1048576f),
            Weights([3, k], Enumerable.Repeat((sbyte)-128, 3 * k).ToArray(), 1f), Bias64([0, 0, 0]));
        CollectionAssert.AreEqual(Enumerable.Repeat((short)(4 * k), 3).ToArray(), Run16(fc, input, vectorised: true));

        // Negative sums with the same shift of 34 (> 32, where the arithmetic shift's sign bits reach the int32 result):
        // weights 127 give k * (-32768 * 127) / 2^20 = -127k / 32, rounded half up.
        QnnModel negative = Single(OpKind.FullyConnected, new FullyConnectedOptions(Activation.None),
            Act16([1, k], 1f), Act16([1, 1], 1048576f), Weights([1, k], Enumerable.Repeat((sbyte)127, k).ToArray(), 1f), Bias64([0]));
        Assert.AreEqual((short)Math.Floor((-127.0 * k / 32) + 0.5), Run16(negative, input, vectorised: true)[0]);

        // 3x3 taps of k / 9 channels (rounded down): 9 * (k / 9) products of 2^22.
        int c = k / 9;
        QnnModel conv3 = Single(OpKind.Conv2D, new ConvOptions(Padding.Valid, 1, 1, 1, 1, Activation.None),
            Act16([1, 3, 3, c], 1f), Act16([1, 1, 1, 2], 1048576f),
            Weights([2, 3, 3, c], Enumerable.Repeat((sbyte)-128, 2 * 9 * c).ToArray(), 1f, 1f), Bias64([0, 0]));
        short[] image = Enumerable.Repeat(short.MinValue, 9 * c).ToArray();
        CollectionAssert.AreEqual(Enumerable.Repeat((short)(4 * 9 * c), 2).ToArray(), Run16(conv3, image, vectorised: true));
    }

    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void RandomDepthwiseAgreesWithTheReference(bool int16)
    {
        var rng = new Random(int16 ? 19 : 18);
        int trials = 0;
        while (trials < 60)
        {
            int h = rng.Next(1, 10), w = rng.Next(1, 10), c = rng.Next(1, 40);
            int kh = rng.Next(1, 6), kw = rng.Next(1, 6), s = rng.Next(1, 3), d = rng.Next(1, 3);
            int multiplier = trials % 10 == 9 ? 2 : 1; // depth multiplier 2 stays on the reference kernel
            Padding pad = rng.Next(2) == 0 ? Padding.Same : Padding.Valid;
            int oh = IntegerModel.ComputeOutSize(pad, h, kh, s, d), ow = IntegerModel.ComputeOutSize(pad, w, kw, s, d);
            if (oh < 1 || ow < 1)
            {
                continue;
            }
            trials++;
            int oc = c * multiplier;
            float sW = LogUniform(rng, 1e-3, 3e-2);
            float[] scales = Enumerable.Range(0, oc).Select(_ => LogUniform(rng, sW / 2, sW * 2)).ToArray();
            var options = new DepthwiseOptions(pad, s, s, d, d, multiplier, (Activation)rng.Next(0, 4));
            sbyte[] weights = RandomWeights(rng, kh * kw * oc);
            int batch = rng.Next(1, 6);
            if (int16)
            {
                float sIn = LogUniform(rng, 1e-5, 1e-3);
                int amplitude = Amplitude(rng);
                long biasRange = (long)(amplitude * 256 * Math.Sqrt(kh * kw)) + 1;
                QnnModel m = Single(OpKind.DepthwiseConv2D, options, Act16([1, h, w, c], sIn), Act16([1, oh, ow, oc], OutputScale16(rng, sIn, sW, amplitude, kh * kw)),
                    Weights([1, kh, kw, oc], weights, scales), Bias64(Enumerable.Range(0, oc).Select(_ => rng.NextInt64(-biasRange, biasRange)).ToArray()));
                Run16(m, RandomInt16(rng, batch * h * w * c, amplitude), batch, vectorised: multiplier == 1);
            }
            else
            {
                QnnModel m = Single(OpKind.DepthwiseConv2D, options, Act8([1, h, w, c], LogUniform(rng, 5e-3, 5e-2), rng.Next(-128, 128)),
                    Act8([1, oh, ow, oc], LogUniform(rng, 1e-2, 1e-1), rng.Next(-128, 128)),
                    Weights([1, kh, kw, oc], weights, scales), Bias32(Enumerable.Range(0, oc).Select(_ => rng.Next(-5000, 5000)).ToArray()));
                var input = new sbyte[batch * h * w * c];
                rng.NextBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(input.AsSpan()));
                Run8(m, input, batch, vectorised: multiplier == 1);
            }
        }
    }

    /// <summary>
    /// 22x23 = 506 taps (within the 511 an int32 lane can take) of (-32768)(-128) = 2^22: the sum 506 * 2^22 is
    /// just under 2^31; multiplier 2^-20 gives exactly 506 * 4 = 2024 on the 8 vector channels and the scalar ninth.
    /// </summary>
    [TestMethod]
    public void Int16DepthwiseAtTheTapBoundIsExact()
    {
        const int c = 9;
        QnnModel m = Single(OpKind.DepthwiseConv2D, new DepthwiseOptions(Padding.Valid, 1, 1, 1, 1, 1, Activation.None),
            Act16([1, 22, 23, c], 1f), Act16([1, 1, 1, c], 1048576f),
            Weights([1, 22, 23, c], Enumerable.Repeat((sbyte)-128, 22 * 23 * c).ToArray(), Enumerable.Repeat(1f, c).ToArray()), Bias64(new long[c]));
        short[] output = Run16(m, Enumerable.Repeat(short.MinValue, 22 * 23 * c).ToArray(), vectorised: true);
        CollectionAssert.AreEqual(Enumerable.Repeat((short)2024, c).ToArray(), output);
    }

    [TestMethod]
    public void RandomInt16AddsAgreeWithTheReference()
    {
        var rng = new Random(20);
        for (int trial = 0; trial < 30; trial++)
        {
            // ADD(x, y) with y = x's channels reversed by a 1x1 convolution (identity-like weights), so the two inputs differ.
            int len = rng.Next(1, 12), c = rng.Next(1, 20);
            float s1 = LogUniform(rng, 1e-5, 1e-3), s2 = LogUniform(rng, s1 / 4, s1 * 4), so = LogUniform(rng, Math.Max(s1, s2) / 2, Math.Max(s1, s2) * 4);
            var g = new QnnModel { Name = "add16" };
            int x = g.AddTensor(Act16([1, 1, len, c], s1));
            var reverse = new sbyte[c * c];
            for (int o = 0; o < c; o++)
            {
                reverse[(o * c) + (c - 1 - o)] = 1;
            }
            int wt = g.AddTensor(Weights([c, 1, 1, c], reverse, Enumerable.Repeat(1f, c).ToArray()));
            int bt = g.AddTensor(Bias64(new long[c]));
            int y = g.AddTensor(Act16([1, 1, len, c], s2));
            int z = g.AddTensor(Act16([1, 1, len, c], so));
            g.Operators.Add(new Operator(OpKind.Conv2D, [x, wt, bt], [y], new ConvOptions(Padding.Valid, 1, 1, 1, 1, Activation.None)));
            g.Operators.Add(new Operator(OpKind.Add, [x, y], [z], new AddOptions((Activation)rng.Next(0, 3))));
            g.Inputs = [x];
            g.Outputs = [z];
            int batch = rng.Next(1, 5);
            Run16(g, RandomInt16(rng, batch * len * c), batch, vectorised: true);
        }
    }
}
