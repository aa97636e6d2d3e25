using QnnLab.Model;
using static QnnLab.Engine.Requantization;

namespace QnnLab.Engine.Tests;

[TestClass]
public sealed class RequantizationTests
{
    [TestMethod]
    public void QuantizeMultiplierEdgeCases()
    {
        Assert.AreEqual((0, 0), QuantizeMultiplier(0.0));
        // Exact powers of two: frexp gives 0.5 * 2^e, so the multiplier is 2^30.
        Assert.AreEqual((1 << 30, 1), QuantizeMultiplier(1.0));
        Assert.AreEqual((1 << 30, 0), QuantizeMultiplier(0.5));
        Assert.AreEqual((1 << 30, -1), QuantizeMultiplier(0.25));
        Assert.AreEqual((1 << 30, 3), QuantizeMultiplier(4.0));
        // > 1: 3 = 0.75 * 2^2.
        Assert.AreEqual((1610612736, 2), QuantizeMultiplier(3.0));
        // Just below 1: the fraction rounds up to 2^31, which TFLite halves and compensates in the shift.
        Assert.AreEqual((1 << 30, 1), QuantizeMultiplier(1.0 - Math.Pow(2, -40)));
        // Smallest kept shift is -31 (2^-32 = 0.5 * 2^-31); below it everything flushes to zero.
        Assert.AreEqual((1 << 30, -31), QuantizeMultiplier(Math.Pow(2, -32)));
        Assert.AreEqual((0, 0), QuantizeMultiplier(Math.Pow(2, -33)));
        Assert.AreEqual((0, 0), QuantizeMultiplier(1e-12));
        // Rounding of the 31-bit fraction is half away from zero: 1/3 = 0.666.. * 2^-1.
        Assert.AreEqual((1431655765, -1), QuantizeMultiplier(1.0 / 3.0)); // round(2^31 * 2/3) = 1431655765.33 -> ...65
        Assert.AreEqual((-1431655765, -1), QuantizeMultiplier(-1.0 / 3.0));
    }

    [TestMethod]
    public void QuantizeMultiplierIsWithinHalfAnUnitOfTheReal()
    {
        var rng = new Random(1);
        for (int i = 0; i < 10000; i++)
        {
            double real = Math.Exp((rng.NextDouble() * 40) - 21); // above 2^-32, where TFLite flushes to zero
            (int m, int s) = QuantizeMultiplier(real);
            Assert.IsTrue(m >= 1 << 30, $"{real}: multiplier {m} not normalised");
            double unit = Math.Pow(2, s - 31);
            Assert.IsTrue(Math.Abs((m * unit) - real) <= unit / 2, $"{real}: {m} * 2^({s}-31) is off by more than half a unit");
        }
    }

    [TestMethod]
    public void SaturatingRoundingDoublingHighMulMatchesExactArithmetic()
    {
        var rng = new Random(2);
        int[] specials = [0, 1, -1, int.MaxValue, int.MinValue, 1 << 30, -(1 << 30), 46341, -46341];
        foreach (int a in specials)
        {
            foreach (int b in specials)
            {
                Assert.AreEqual(Spec.DoublingHighMul(a, b), SaturatingRoundingDoublingHighMul(a, b), $"{a} * {b}");
            }
        }
        Assert.AreEqual(int.MaxValue, SaturatingRoundingDoublingHighMul(int.MinValue, int.MinValue));
        for (int i = 0; i < 200000; i++)
        {
            int a = rng.Next(int.MinValue, int.MaxValue), b = rng.Next(int.MinValue, int.MaxValue);
            if (i % 3 == 0)
            {
                a >>= rng.Next(0, 31);
            }
            Assert.AreEqual(Spec.DoublingHighMul(a, b), SaturatingRoundingDoublingHighMul(a, b), $"{a} * {b}");
        }
        // Ties: 1 * 2^30 / 2^31 = 0.5 rounds up to 1; -0.5 rounds up to 0.
        Assert.AreEqual(1, SaturatingRoundingDoublingHighMul(1, 1 << 30));
        Assert.AreEqual(0, SaturatingRoundingDoublingHighMul(-1, 1 << 30));
    }

    [TestMethod]
    public void RoundingDivideByPotRoundsHalfAwayFromZero()
    {
        Assert.AreEqual(2, RoundingDivideByPOT(3, 1));   // 1.5 -> 2
        Assert.AreEqual(-2, RoundingDivideByPOT(-3, 1)); // -1.5 -> -2
        Assert.AreEqual(1, RoundingDivideByPOT(5, 2));   // 1.25 -> 1
        Assert.AreEqual(-1, RoundingDivideByPOT(-5, 2));
        Assert.AreEqual(-1, RoundingDivideByPOT(int.MinValue, 31));
        Assert.AreEqual(1, RoundingDivideByPOT(int.MaxValue, 31));
        var rng = new Random(3);
        for (int i = 0; i < 200000; i++)
        {
            int x = rng.Next(int.MinValue, int.MaxValue) >> rng.Next(0, 20);
            int e = rng.Next(0, 32);
            Assert.AreEqual(Spec.RoundingShift(x, e), RoundingDivideByPOT(x, e), $"{x} >> {e}");
        }
    }

    [TestMethod]
    public void MultiplyByQuantizedMultiplierMatchesExactArithmetic()
    {
        var rng = new Random(4);
        for (int i = 0; i < 200000; i++)
        {
            int x = rng.Next(int.MinValue, int.MaxValue) >> rng.Next(0, 31);
            int m = rng.Next(1 << 30, int.MaxValue);
            int shift = rng.Next(-31, 8);
            Assert.AreEqual(Spec.Mbqm(x, m, shift), MultiplyByQuantizedMultiplier(x, m, shift), $"{x} {m} {shift}");
        }
        // A left shift that overflows int32 wraps as the C code does.
        Assert.AreEqual(Spec.Mbqm(1 << 30, 1 << 30, 2), MultiplyByQuantizedMultiplier(1 << 30, 1 << 30, 2));
        // Double rounding: 3 * 0.125 = 0.375, but the high multiply gives 2 (1.5 rounded up), then 2/4 = 0.5 -> 1.
        Assert.AreEqual(1, MultiplyByQuantizedMultiplier(3, 1 << 30, -2));
    }

    [TestMethod]
    public void MultiplyByQuantizedMultiplier64ReducesTheMultiplierTo16Bits()
    {
        Assert.AreEqual(0x7FFF, ReduceMultiplierTo16Bits(int.MaxValue));
        Assert.AreEqual(0x7FFF, ReduceMultiplierTo16Bits(0x7FFF0000));
        Assert.AreEqual(0x7FFF, ReduceMultiplierTo16Bits(0x7FFEFFFF)); // (m + 2^15) >> 16 rounds up to 0x7FFF
        Assert.AreEqual(1 << 14, ReduceMultiplierTo16Bits(1 << 30));
        var rng = new Random(5);
        for (int i = 0; i < 200000; i++)
        {
            long x = rng.NextInt64(-(1L << 47), 1L << 47) >> rng.Next(0, 40);
            int m = rng.Next(1 << 30, int.MaxValue);
            int shift = rng.Next(-31, 8);
            Assert.AreEqual(Spec.Mbqm64(x, m, shift), MultiplyByQuantizedMultiplier(x, m, shift), $"{x} {m} {shift}");
        }
        // The 16-bit multiplier loses precision the 32-bit one has: 0.75 * 2^31 + 2^15 - 1 reduces to 0.75 * 2^15.
        int mm = (3 << 29) + 32767;
        Assert.AreEqual(3 * 4096, MultiplyByQuantizedMultiplier(16384L, mm, 0)); // 16384 * 0.75 = 12288
    }

    [TestMethod]
    public void ActivationRangesComeFromTheOutputQuantization()
    {
        Assert.AreEqual((-128, 127), ActivationRange(Activation.None, 0.1f, 5, ElementType.Int8));
        Assert.AreEqual((-3, 127), ActivationRange(Activation.Relu, 0.1f, -3, ElementType.Int8));
        // Relu6 with scale 0.05, zp -128: 6 / 0.05 = 120 -> -8.
        Assert.AreEqual((-128, -8), ActivationRange(Activation.Relu6, 0.05f, -128, ElementType.Int8));
        // ReluN1To1 with scale 0.5, zp 0: [-2, 2].
        Assert.AreEqual((-2, 2), ActivationRange(Activation.ReluN1To1, 0.5f, 0, ElementType.Int8));
        // Bounds beyond the type's range are cut to it.
        Assert.AreEqual((0, 32767), ActivationRange(Activation.Relu6, 1e-4f, 0, ElementType.Int16));
    }
}
