using QnnLab.Model;
using static QnnLab.Engine.Tests.Graph;

namespace QnnLab.Engine.Tests;

/// <summary>Small hand-worked cases per operator; every expected value is derived in the comments.</summary>
[TestClass]
public sealed class OperatorTests
{
    [TestMethod]
    public void ConvValidShowsDoubleRounding()
    {
        // x - zp = [[0,1,2],[3,4,5],[6,7,8]], filter [[1,2],[3,4]]: sums 27, 37, 57, 67.
        // Multiplier 0.5 * 0.25 / 1 = 1/8 = (2^30, -2): the high multiply halves with ties up (14, 19, 29, 34),
        // the shift quarters with ties away from zero (4, 5, 7, 9); + zp 2. (Single rounding would give 5 for 27/8.)
        QnnModel m = Single(OpKind.Conv2D, new ConvOptions(Padding.Valid, 1, 1, 1, 1, Activation.None),
            Act8([1, 3, 3, 1], 0.5f, -1), Act8([1, 2, 2, 1], 1f, 2),
            Weights([1, 2, 2, 1], [1, 2, 3, 4], 0.25f), Bias32([0]));
        CollectionAssert.AreEqual(new sbyte[] { 6, 7, 9, 11 }, Run8(m, [-1, 0, 1, 2, 3, 4, 5, 6, 7]));
    }

    [TestMethod]
    public void StrideTwoOneByOneShortcutPicksEveryOtherPixel()
    {
        // Identity weights with multiplier 1 = (2^30, 1): the output is the input at even (y, x).
        QnnModel m = Single(OpKind.Conv2D, new ConvOptions(Padding.Same, 2, 2, 1, 1, Activation.None),
            Act8([1, 4, 4, 2], 1f, 0), Act8([1, 2, 2, 2], 1f, 0),
            Weights([2, 1, 1, 2], [1, 0, 0, 1], 1f, 1f), Bias32([0, 0]));
        var input = new sbyte[32];
        for (int y = 0; y < 4; y++)
        {
            for (int x = 0; x < 4; x++)
            {
                for (int c = 0; c < 2; c++)
                {
                    input[(((y * 4) + x) * 2) + c] = (sbyte)((y * 8) + (x * 2) + c - 16);
                }
            }
        }
        var expected = new sbyte[8];
        for (int oy = 0; oy < 2; oy++)
        {
            for (int ox = 0; ox < 2; ox++)
            {
                for (int c = 0; c < 2; c++)
                {
                    expected[(((oy * 2) + ox) * 2) + c] = input[(((2 * oy * 4) + (2 * ox)) * 2) + c];
                }
            }
        }
        CollectionAssert.AreEqual(expected, Run8(m, input));
    }

    [TestMethod]
    public void SamePaddingWithStrideTwoPutsTheOddPixelAfter()
    {
        // 4x4 input, 3x3 ones, stride 2: out 2x2, total padding 1 -> 0 before, 1 after.
        // Every in-image tap contributes x - zp = 1, padded taps nothing: 9, 6, 6, 4 taps; out zp -5.
        QnnModel m = Single(OpKind.Conv2D, new ConvOptions(Padding.Same, 2, 2, 1, 1, Activation.None),
            Act8([1, 4, 4, 1], 1f, 3), Act8([1, 2, 2, 1], 1f, -5),
            Weights([1, 3, 3, 1], Enumerable.Repeat((sbyte)1, 9).ToArray(), 1f), null);
        CollectionAssert.AreEqual(new sbyte[] { 4, 1, 1, -1 }, Run8(m, Enumerable.Repeat((sbyte)4, 16).ToArray()));
        Assert.AreEqual(0, IntegerModel.ComputePadding(2, 1, 4, 3, 2));
        Assert.AreEqual(1, IntegerModel.ComputePadding(2, 1, 5, 3, 3));
        Assert.AreEqual(2, IntegerModel.ComputePadding(1, 2, 5, 3, 5)); // dilation 2: effective 5x5 kernel
    }

    [TestMethod]
    public void DilatedConvSkipsPixels()
    {
        // 1x5 row, kernel [1, 1] with dilation 2, VALID: out[i] = x[i] + x[i+2].
        QnnModel m = Single(OpKind.Conv2D, new ConvOptions(Padding.Valid, 1, 1, 1, 2, Activation.None),
            Act8([1, 1, 5, 1], 1f, 0), Act8([1, 1, 3, 1], 1f, 0),
            Weights([1, 1, 2, 1], [1, 1], 1f), Bias32([0]));
        CollectionAssert.AreEqual(new sbyte[] { 4, 6, 8 }, Run8(m, [1, 2, 3, 4, 5]));
    }

    [TestMethod]
    public void Int8ConvSaturatesAtTheTypeLimitsAndReluClamps()
    {
        // x - zp = 127 - (-128) = 255; weights 127 and -128 with multiplier 1 give 32385 and -32640 -> 127, -128.
        // A third channel with Relu-like clamp is not per channel, so use Relu on a separate model below.
        QnnModel m = Single(OpKind.Conv2D, new ConvOptions(Padding.Valid, 1, 1, 1, 1, Activation.None),
            Act8([1, 1, 1, 1], 1f, -128), Act8([1, 1, 1, 2], 1f, 0),
            Weights([2, 1, 1, 1], [127, -128], 1f, 1f), Bias32([0, 0]));
        CollectionAssert.AreEqual(new sbyte[] { 127, -128 }, Run8(m, [127]));
        // Relu with output zp -20: the clamp is quantize(0) = -20; -1 + -20 = -21 -> -20, 1 - 20 = -19.
        QnnModel relu = Single(OpKind.Conv2D, new ConvOptions(Padding.Valid, 1, 1, 1, 1, Activation.Relu),
            Act8([1, 1, 1, 1], 1f, 0), Act8([1, 1, 1, 2], 1f, -20),
            Weights([2, 1, 1, 1], [-1, 1], 1f, 1f), Bias32([0, 0]));
        CollectionAssert.AreEqual(new sbyte[] { -20, -19 }, Run8(relu, [1]));
    }

    [TestMethod]
    public void Conv16x8UsesInt64BiasAndTheReducedMultiplier()
    {
        // acc = 127*32767 + (-128)(-32768) + 3e9 = 3008355713 (beyond int32). Output scale 2^20: multiplier
        // 2^-20 = (2^30, -19), reduced to 2^14, shift 34: round(3008355713 / 2^20) = 2868.99 -> 2869.
        QnnModel m = Single(OpKind.Conv2D, new ConvOptions(Padding.Valid, 1, 1, 1, 1, Activation.None),
            Act16([1, 1, 1, 2], 1f), Act16([1, 1, 1, 1], 1048576f),
            Weights([1, 1, 1, 2], [127, -128], 1f), Bias64([3_000_000_000L]));
        CollectionAssert.AreEqual(new short[] { 2869 }, Run16(m, [32767, -32768]));
    }

    [TestMethod]
    public void Conv16x8SaturatesAtInt16Limits()
    {
        // Multiplier 1: 32767 * 127 = 4161409 -> 32767; 32767 * -128 -> -32768.
        QnnModel m = Single(OpKind.Conv2D, new ConvOptions(Padding.Valid, 1, 1, 1, 1, Activation.None),
            Act16([1, 1, 1, 1], 1f), Act16([1, 1, 1, 2], 1f),
            Weights([2, 1, 1, 1], [127, -128], 1f, 1f), Bias64([0, 0]));
        CollectionAssert.AreEqual(new short[] { 32767, -32768 }, Run16(m, [32767]));
    }

    [TestMethod]
    public void DepthwiseWithMultiplierTwoAndPerChannelScales()
    {
        // Input pixels (1,2) (3,4) (5,6) (7,8); output channel oc = 2*ic + m with tap weights 1, 2, -1, 3:
        // oc0 = 16, oc1 = 32, oc2 = -20, oc3 = 60 * 0.5 (its weight scale) = 30.
        var w = new sbyte[16];
        for (int tap = 0; tap < 4; tap++)
        {
            w[(tap * 4) + 0] = 1;
            w[(tap * 4) + 1] = 2;
            w[(tap * 4) + 2] = -1;
            w[(tap * 4) + 3] = 3;
        }
        QnnModel m = Single(OpKind.DepthwiseConv2D, new DepthwiseOptions(Padding.Valid, 1, 1, 1, 1, 2, Activation.None),
            Act8([1, 2, 2, 2], 1f, 0), Act8([1, 1, 1, 4], 1f, 0),
            Weights([1, 2, 2, 4], w, 1f, 1f, 1f, 0.5f), Bias32([0, 0, 0, 0]));
        CollectionAssert.AreEqual(new sbyte[] { 16, 32, -20, 30 }, Run8(m, [1, 2, 3, 4, 5, 6, 7, 8]));
    }

    [TestMethod]
    public void FullyConnectedWithZeroPointAndBias()
    {
        // x - zp = [1, 2, 3]; rows [1,2,3] and [-1,0,1]; bias 10, -10: 24 and -8.
        QnnModel m = Single(OpKind.FullyConnected, new FullyConnectedOptions(Activation.None),
            Act8([1, 3], 1f, 1), Act8([1, 2], 1f, 0),
            Weights([2, 3], [1, 2, 3, -1, 0, 1], 1f), Bias32([10, -10]));
        CollectionAssert.AreEqual(new sbyte[] { 24, -8 }, Run8(m, [2, 3, 4]));
    }

    [TestMethod]
    public void PerTensorFullyConnectedTakesTheScaleProductInFloat32()
    {
        // Find scales whose float32 product and double product give different multipliers; the plan must
        // use the float32 one (TFLite GetQuantizedConvolutionMultipler), a conv the double one.
        var rng = new Random(10);
        for (int i = 0; i < 100000; i++)
        {
            float a = (float)(rng.NextDouble() * 0.1), b = (float)(rng.NextDouble() * 0.01), c = (float)(rng.NextDouble() * 0.5 + 0.01);
            var viaFloat = Requantization.QuantizeMultiplier((double)(a * b) / c);
            var viaDouble = Requantization.QuantizeMultiplier((double)a * b / c);
            if (viaFloat == viaDouble)
            {
                continue;
            }
            QnnModel fc = Single(OpKind.FullyConnected, new FullyConnectedOptions(Activation.None),
                Act8([1, 1], a, 0), Act8([1, 1], c, 0), Weights([1, 1], [1], b), Bias32([0]));
            var plan = (FullyConnectedPlan)IntegerModel.Compile(fc).Ops[0];
            Assert.AreEqual(viaFloat, (plan.Multipliers[0], plan.Shifts[0]));
            QnnModel conv = Single(OpKind.Conv2D, new ConvOptions(Padding.Valid, 1, 1, 1, 1, Activation.None),
                Act8([1, 1, 1, 1], a, 0), Act8([1, 1, 1, 1], c, 0), Weights([1, 1, 1, 1], [1], b), Bias32([0]));
            var convPlan = (ConvPlan)IntegerModel.Compile(conv).Ops[0];
            Assert.AreEqual(viaDouble, (convPlan.Multipliers[0], convPlan.Shifts[0]));
            return;
        }
        Assert.Fail("no scales found where float32 and double products differ");
    }

    [TestMethod]
    public void AveragePoolRoundsTiesAwayFromZeroAndCountsOnlyInsideTaps()
    {
        // SAME 3x3 over [[1,2,3],[4,5,6],[7,8,9]]: corners average 4 taps, edges 6, the centre 9:
        // 12/4=3, 21/6=3.5->4, 16/4=4, 27/6=4.5->5, 45/9=5, 33/6=5.5->6, 24/4=6, 39/6=6.5->7, 28/4=7.
        QnnModel m = Single(OpKind.AveragePool2D, new PoolOptions(Padding.Same, 1, 1, 3, 3, Activation.None),
            Act8([1, 3, 3, 1], 1f, 0), Act8([1, 3, 3, 1], 1f, 0));
        sbyte[] input = [1, 2, 3, 4, 5, 6, 7, 8, 9];
        sbyte[] expected = [3, 4, 4, 5, 5, 6, 6, 7, 7];
        CollectionAssert.AreEqual(expected, Run8(m, input));
        // Negated input: ties round away from zero on the negative side too.
        CollectionAssert.AreEqual(expected.Select(v => (sbyte)-v).ToArray(), Run8(m, input.Select(v => (sbyte)-v).ToArray()));
        // 2x2 VALID: 10/4 = 2.5 -> 3, -2.5 -> -3, 5/4 = 1.25 -> 1, -1.25 -> -1.
        QnnModel v = Single(OpKind.AveragePool2D, new PoolOptions(Padding.Valid, 2, 2, 2, 2, Activation.None),
            Act8([1, 2, 2, 4], 1f, 0), Act8([1, 1, 1, 4], 1f, 0));
        CollectionAssert.AreEqual(new sbyte[] { 3, -3, 1, -1 }, Run8(v, [1, -1, 1, -1, 2, -2, 1, -1, 3, -3, 1, -1, 4, -4, 2, -2]));
    }

    [TestMethod]
    public void MaxPoolWithReluClamp()
    {
        // SAME 2x2 stride 2 over 3x3: padding after; window maxima 5, 6, 8, 9; Relu at zp 6 raises 5 to 6.
        QnnModel m = Single(OpKind.MaxPool2D, new PoolOptions(Padding.Same, 2, 2, 2, 2, Activation.Relu),
            Act8([1, 3, 3, 1], 1f, 6), Act8([1, 2, 2, 1], 1f, 6));
        CollectionAssert.AreEqual(new sbyte[] { 6, 6, 8, 9 }, Run8(m, [1, 2, 3, 4, 5, 6, 7, 8, 9]));
    }

    [TestMethod]
    public void AddHandWorkedInt8()
    {
        var plan = AddOnly(ElementType.Int8, 0.5f, 0, 0.5f, 0, 1f, 0);
        // Both multipliers 0.5/1.0 = (2^30, 0); output 1/2^20 = (2^30, -19); left shift 20:
        // out = round_half_away((a + b) / 2).
        Assert.AreEqual(20, plan.LeftShift);
        Assert.AreEqual((1 << 30, 0), (plan.Input1Multiplier, plan.Input1Shift));
        Assert.AreEqual((1 << 30, -19), (plan.OutputMultiplier, plan.OutputShift));
        int[] a = [1, -1, 3, -3, 100, 127, -128];
        int[] b = [2, -2, 4, -4, 100, 127, -128];
        int[] expected = [2, -2, 4, -4, 100, 127, -128];
        for (int i = 0; i < a.Length; i++)
        {
            Assert.AreEqual(expected[i], Kernels.ReferenceKernels.AddElement(plan, a[i], b[i]), $"{a[i]} + {b[i]}");
        }
    }

    [TestMethod]
    public void AddHandWorkedInt16UsesLeftShift15()
    {
        var plan = AddOnly(ElementType.Int16, 0.5f, 0, 0.5f, 0, 1f, 0);
        Assert.AreEqual(15, plan.LeftShift);
        Assert.AreEqual((1 << 30, -14), (plan.OutputMultiplier, plan.OutputShift));
        int[] a = [1, -1, 3, 32767, -32768];
        int[] b = [2, -2, 4, 32767, -32768];
        int[] expected = [2, -2, 4, 32767, -32768];
        for (int i = 0; i < a.Length; i++)
        {
            Assert.AreEqual(expected[i], Kernels.ReferenceKernels.AddElement(plan, a[i], b[i]), $"{a[i]} + {b[i]}");
        }
    }

    [TestMethod]
    public void AddMatchesTheSpecFormulaOnRandomQuantization()
    {
        var rng = new Random(11);
        for (int trial = 0; trial < 200; trial++)
        {
            bool is16 = trial % 2 == 1;
            float s1 = (float)(rng.NextDouble() * 0.2 + 0.001), s2 = (float)(rng.NextDouble() * 0.2 + 0.001), so = (float)(rng.NextDouble() * 0.3 + 0.002);
            int z1 = is16 ? 0 : rng.Next(-128, 128), z2 = is16 ? 0 : rng.Next(-128, 128), zo = is16 ? 0 : rng.Next(-128, 128);
            var plan = AddOnly(is16 ? ElementType.Int16 : ElementType.Int8, s1, z1, s2, z2, so, zo, Activation.Relu);
            int ls = is16 ? 15 : 20;
            double twiceMax = 2 * (double)Math.Max(s1, s2);
            var m1 = Requantization.QuantizeMultiplier(s1 / twiceMax);
            var m2 = Requantization.QuantizeMultiplier(s2 / twiceMax);
            var mo = Requantization.QuantizeMultiplier(twiceMax / ((1 << ls) * (double)so));
            int lo = is16 ? 0 : zo, hi = is16 ? 32767 : 127;
            for (int i = 0; i < 200; i++)
            {
                int a = is16 ? rng.Next(-32768, 32768) : rng.Next(-128, 128);
                int b = is16 ? rng.Next(-32768, 32768) : rng.Next(-128, 128);
                int sa = Spec.Mbqm(Spec.WrapShift(a - z1, ls), m1.Multiplier, m1.Shift);
                int sb = Spec.Mbqm(Spec.WrapShift(b - z2, ls), m2.Multiplier, m2.Shift);
                int r = Spec.Mbqm(sa + sb, mo.Multiplier, mo.Shift) + zo;
                Assert.AreEqual(Math.Clamp(r, Math.Max(lo, is16 ? 0 : -128), hi), Kernels.ReferenceKernels.AddElement(plan, a, b));
            }
        }
    }

    /// <summary>a -> RESHAPE -> b; ADD(a, b): one-input graph whose two ADD inputs carry the same bytes.</summary>
    private static QnnModel AddGraph(ElementType type, float s1, int z1, float s2, int z2, float so, int zo, int n, Activation act)
    {
        var g = new QnnModel { Name = "add" };
        int x = g.AddTensor(new Tensor("a", type, [1, n], QuantParams.PerTensor(s1, z1)));
        int y = g.AddTensor(new Tensor("b", type, [1, n], QuantParams.PerTensor(s2, z2)));
        int z = g.AddTensor(new Tensor("o", type, [1, n], QuantParams.PerTensor(so, zo)));
        g.Operators.Add(new Operator(OpKind.Reshape, [x], [y], new ReshapeOptions([1, n])));
        g.Operators.Add(new Operator(OpKind.Add, [x, y], [z], new AddOptions(act)));
        g.Inputs = [x];
        g.Outputs = [z];
        return g;
    }

    private static AddPlan AddOnly(ElementType type, float s1, int z1, float s2, int z2, float so, int zo, Activation act = Activation.None)
        => IntegerModel.Compile(AddGraph(type, s1, z1, s2, z2, so, zo, 4, act)).Ops.OfType<AddPlan>().Single();

    [TestMethod]
    public void AddRunsEndToEndOnBothPaths()
    {
        // a + a with both inputs at (0.5, zp -3) is the real value (a + 3); output (0.75, zp 4) makes rounding matter.
        QnnModel g = AddGraph(ElementType.Int8, 0.5f, -3, 0.5f, -3, 0.75f, 4, 37, Activation.None);
        AddPlan plan = IntegerModel.Compile(g).Ops.OfType<AddPlan>().Single();
        var input = Enumerable.Range(0, 37).Select(i => (sbyte)((i * 7) - 128)).ToArray();
        sbyte[] output = Run8(g, input);
        for (int i = 0; i < input.Length; i++)
        {
            Assert.AreEqual(Kernels.ReferenceKernels.AddElement(plan, input[i], input[i]), output[i]);
            Assert.AreEqual(Math.Clamp(((input[i] + 3) / 0.75) + 4, -128, 127), output[i], 1.0, "far from the real sum");
        }
    }
}

[TestClass]
public sealed class LayoutOperatorTests
{
    [TestMethod]
    public void PadFillsWithTheZeroPoint()
    {
        // [1,1,2,1] padded by one row before and one column after: [[zp, zp, zp], [a, b, zp]].
        QnnModel m = Single(OpKind.Pad, NoOptions.Instance, Act8([1, 1, 2, 1], 1f, -7), Act8([1, 2, 3, 1], 1f, -7),
            Tensor.FromArray("p", ElementType.Int32, [4, 2], new[] { 0, 0, 1, 0, 0, 1, 0, 0 }));
        CollectionAssert.AreEqual(new sbyte[] { -7, -7, -7, 5, 6, -7 }, Run8(m, [5, 6], 1));
    }

    [TestMethod]
    public void RequantizeBetweenInt8AndInt16()
    {
        // int8 (0.5, zp 10) -> int16 (0.25, zp 0): (x - 10) * 2.
        QnnModel up = Single(OpKind.Quantize, NoOptions.Instance, Act8([1, 3], 0.5f, 10), Act16([1, 3], 0.25f));
        IntegerModel im = IntegerModel.Compile(up);
        var plan = (RequantizePlan)im.Ops[0];
        Assert.AreEqual((1 << 30, 2), (plan.Multiplier, plan.Shift));
        var output = new short[3];
        using (var e = new IntegerEngine(im))
        {
            var input = new sbyte[] { -128, 10, 127 };
            // The engine runs on the model's input type; feed int8 through the byte path.
            e.RunWithIntermediates(System.Runtime.InteropServices.MemoryMarshal.AsBytes(input.AsSpan()))
                .Last().Values.Select(v => (short)v).ToArray().CopyTo(output, 0);
        }
        CollectionAssert.AreEqual(new short[] { -276, 0, 234 }, output);
    }

    [TestMethod]
    public void ReshapeKeepsTheBytes()
    {
        QnnModel m = Single(OpKind.Reshape, new ReshapeOptions([1, 6]), Act8([1, 2, 3], 1f, 0), Act8([1, 6], 1f, 0));
        sbyte[] input = [1, -2, 3, -4, 5, -6];
        CollectionAssert.AreEqual(input, Run8(m, input));
    }

    [TestMethod]
    public void BatchesAreIndependentAndTiled()
    {
        // A batch of 7 through an engine holding 4 at a time equals seven runs of one.
        var rng = new Random(12);
        var w = new sbyte[8 * 3 * 3 * 3];
        rng.NextBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(w.AsSpan()));
        QnnModel m = Single(OpKind.Conv2D, new ConvOptions(Padding.Same, 1, 1, 1, 1, Activation.Relu),
            Act8([1, 5, 5, 3], 0.02f, -128), Act8([1, 5, 5, 8], 0.05f, -100), Weights([8, 3, 3, 3], w, 0.01f), Bias32([1, 2, 3, 4, 5, 6, 7, 8]));
        var input = new sbyte[7 * 75];
        rng.NextBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(input.AsSpan()));
        IntegerModel im = IntegerModel.Compile(m);
        var batched = new sbyte[7 * 200];
        using (var e = new IntegerEngine(im, 4))
        {
            e.Run(input, 7, batched);
        }
        using var single = new IntegerEngine(im, 1);
        for (int b = 0; b < 7; b++)
        {
            var one = new sbyte[200];
            single.Run(input.AsSpan(b * 75, 75), 1, one);
            CollectionAssert.AreEqual(one, batched.AsSpan(b * 200, 200).ToArray(), $"image {b}");
        }
    }
}
