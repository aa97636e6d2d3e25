namespace QnnLab.Engine.Tests;

[TestClass]
public sealed class SoftmaxTests
{
    [TestMethod]
    public void FixedPointExpTracksTheRealExponential()
    {
        var rng = new Random(6);
        for (int i = 0; i < 20000; i++)
        {
            int raw = -rng.Next(0, int.MaxValue); // Q5.26 in [-32, 0]
            double x = raw / (double)(1 << 26);
            double got = SoftmaxMath.ExpOnNegativeValues(raw, 5) / 2147483648.0;
            Assert.AreEqual(Math.Exp(x), got, 2e-8 + (1e-6 * Math.Exp(x)), $"exp({x})");
        }
        Assert.AreEqual(int.MaxValue, SoftmaxMath.ExpOnNegativeValues(0, 5));
    }

    [TestMethod]
    public void FixedPointReciprocalTracksTheRealOne()
    {
        var rng = new Random(7);
        for (int i = 0; i < 20000; i++)
        {
            int raw = rng.Next(0, int.MaxValue);
            double x = raw / 2147483648.0;
            double got = SoftmaxMath.OneOverOnePlusXForXIn01(raw) / 2147483648.0;
            Assert.AreEqual(1 / (1 + x), got, 1e-8, $"1/(1+{x})");
        }
    }

    [TestMethod]
    public void Int8SoftmaxOfEqualInputsIsUniform()
    {
        (int m, int s) = SoftmaxMath.PreprocessSoftmaxScaling(1.0, 0.1, 5);
        int diffMin = -SoftmaxMath.CalculateInputRadius(5, s);
        var input = new sbyte[10];
        Array.Fill(input, (sbyte)17);
        var output = new sbyte[10];
        SoftmaxMath.SoftmaxInt8(input, output, m, s, diffMin);
        // 1/10 in steps of 1/256 from -128: 25.6 -> 26 -> -102.
        CollectionAssert.AreEqual(Enumerable.Repeat((sbyte)-102, 10).ToArray(), output);
    }

    [TestMethod]
    public void Int8SoftmaxSaturatesAndFlushesFarValues()
    {
        // Scale 1: a difference of 255 is far below -diff_min's reach, so only the maximum survives;
        // its probability 1.0 is 256 steps above -128 and saturates at 127.
        (int m, int s) = SoftmaxMath.PreprocessSoftmaxScaling(1.0, 1.0, 5);
        int diffMin = -SoftmaxMath.CalculateInputRadius(5, s);
        sbyte[] input = [-128, 127, -128, -128];
        var output = new sbyte[4];
        SoftmaxMath.SoftmaxInt8(input, output, m, s, diffMin);
        CollectionAssert.AreEqual(new sbyte[] { -128, 127, -128, -128 }, output);
    }

    [TestMethod]
    public void Int8SoftmaxIsWithinOneStepOfTheRealSoftmax()
    {
        var rng = new Random(8);
        for (int trial = 0; trial < 2000; trial++)
        {
            float scale = (float)Math.Exp((rng.NextDouble() * 5) - 4);
            (int m, int s) = SoftmaxMath.PreprocessSoftmaxScaling(1.0, scale, 5);
            int diffMin = -SoftmaxMath.CalculateInputRadius(5, s);
            var input = new sbyte[10];
            for (int i = 0; i < input.Length; i++)
            {
                input[i] = (sbyte)rng.Next(-128, 128);
            }
            var output = new sbyte[10];
            SoftmaxMath.SoftmaxInt8(input, output, m, s, diffMin);
            double max = input.Max(v => (double)v);
            double sum = input.Sum(v => Math.Exp((v - max) * scale));
            for (int i = 0; i < input.Length; i++)
            {
                double expected = Math.Clamp((Math.Exp((input[i] - max) * scale) / sum * 256) - 128, -128, 127);
                Assert.AreEqual(expected, output[i], 1.01, $"scale {scale}, input {string.Join(",", input)}");
            }
        }
    }

    [TestMethod]
    public void Int16TablesHoldTheFunctionsInQ015()
    {
        short[] exp = SoftmaxMath.ExpLut();
        short[] rec = SoftmaxMath.OneOverOnePlusXLut();
        Assert.AreEqual(513, exp.Length);
        Assert.AreEqual(513, rec.Length);
        Assert.AreEqual((short)32767, exp[512]);  // exp(0) * 32768 saturates
        // exp(-10) * 32768 = 1.49 -> 1, but the midpoint correction adds one: the interpolated midpoint
        // round((1.517 + 1) / 2) = 1 undershoots round(exp(-9.990) * 32768) = 2, bias round(-0.5) = -1, entry 1 - (-1) = 2.
        Assert.AreEqual((short)2, exp[0]);
        Assert.AreEqual((short)32767, rec[0]);    // 1/(1+0)
        Assert.AreEqual((short)16384, rec[512]);  // 1/(1+1)
        for (int i = 0; i < 512; i++)
        {
            // The midpoint bias moves an entry by at most a couple of units.
            Assert.AreEqual(Math.Min(32767, Math.Exp(-10 + (i * 10.0 / 512)) * 32768), exp[i], 2.01, $"exp entry {i}");
            Assert.AreEqual(Math.Min(32767, 32768 / (1 + (i / 512.0))), rec[i], 2.01, $"reciprocal entry {i}");
        }
    }

    [TestMethod]
    public void Int16SoftmaxIsCloseToTheRealSoftmax()
    {
        short[] exp = SoftmaxMath.ExpLut(), rec = SoftmaxMath.OneOverOnePlusXLut();
        var rng = new Random(9);
        for (int trial = 0; trial < 1000; trial++)
        {
            float scale = (float)Math.Exp((rng.NextDouble() * 4) - 12); // ~1e-5..3e-4 per step
            (int m, int s) = Requantization.QuantizeMultiplier(scale * 1.0 / (10.0 / 65535.0));
            var input = new short[10];
            for (int i = 0; i < input.Length; i++)
            {
                input[i] = (short)rng.Next(-32768, 32768);
            }
            var output = new short[10];
            SoftmaxMath.SoftmaxInt16(input, output, m, s, exp, rec);
            double max = input.Max(v => (double)v);
            double sum = input.Sum(v => Math.Exp(Math.Max((v - max) * scale, -10)));
            for (int i = 0; i < input.Length; i++)
            {
                double expected = Math.Exp(Math.Max((input[i] - max) * scale, -10)) / sum * 32768;
                Assert.AreEqual(Math.Min(expected, 32767), output[i], 8 + (expected * 2e-3), $"scale {scale}");
            }
        }
        // Equal inputs: a quarter each (8192 in Q0.15).
        var four = new short[] { 5, 5, 5, 5 };
        var outFour = new short[4];
        (int m4, int s4) = Requantization.QuantizeMultiplier(1e-4 / (10.0 / 65535.0));
        SoftmaxMath.SoftmaxInt16(four, outFour, m4, s4, exp, rec);
        foreach (short v in outFour)
        {
            Assert.AreEqual(8192, v, 2);
        }
    }
}
