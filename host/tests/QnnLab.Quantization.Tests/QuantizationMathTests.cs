using QnnLab.Model;

namespace QnnLab.Quantization.Tests;

[TestClass]
public sealed class QuantizationMathTests
{
    [TestMethod]
    public void Int8UnitRangeIsTheInputQuantizationOfThePaperModels()
    {
        QuantParams p = QuantizationMath.Int8Activation(0f, 1f);
        Assert.AreEqual(1f / 255f, p.Scale);
        Assert.AreEqual(-128L, p.ZeroPoint);
    }

    [TestMethod]
    public void Int8RangeNotContainingZeroIsWidenedToZero()
    {
        QuantParams positive = QuantizationMath.Int8Activation(2f, 10f);
        Assert.AreEqual(10f / 255f, positive.Scale);
        Assert.AreEqual(-128L, positive.ZeroPoint);

        QuantParams negative = QuantizationMath.Int8Activation(-6f, -2f);
        Assert.AreEqual(6f / 255f, negative.Scale);
        Assert.AreEqual(127L, negative.ZeroPoint);
    }

    [TestMethod]
    public void Int8ZeroPointComesFromTheMinimumRoundedHalfAwayFromZero()
    {
        // [-1, 3]: scale 4/255, zero point -128 + 63.75 -> -64.
        QuantParams p = QuantizationMath.Int8Activation(-1f, 3f);
        Assert.AreEqual(4f / 255f, p.Scale);
        Assert.AreEqual(-64L, p.ZeroPoint);

        // [-3, 507]: scale exactly 2, zero point -128 + 1.5 = -126.5 -> -127 (banker's rounding would give -126).
        QuantParams tie = QuantizationMath.Int8Activation(-3f, 507f);
        Assert.AreEqual(2f, tie.Scale);
        Assert.AreEqual(-127L, tie.ZeroPoint);
    }

    [TestMethod]
    public void Int8AllZeroRangeGetsTheConvertersMinimumScale()
    {
        QuantParams p = QuantizationMath.Int8Activation(0f, 0f);
        Assert.AreEqual((float)1e-6, p.Scale);
        // The range is widened to [-5e-7, 5e-7], so zero sits in the middle of the int8 range.
        Assert.IsTrue(p.ZeroPoint is -1 or 0, $"zero point {p.ZeroPoint}");
    }

    [TestMethod]
    public void Int16IsSymmetricOverTheLargerMagnitude()
    {
        QuantParams p = QuantizationMath.Int16Activation(-3f, 2f);
        Assert.AreEqual(3f / 32767f, p.Scale);
        Assert.AreEqual(0L, p.ZeroPoint);
        Assert.AreEqual(5f / 32767f, QuantizationMath.Int16Activation(1f, 5f).Scale);
    }

    // Powers of two keep every product exact, so x.5 ties really are ties.
    private const float Step = 1f / 64f;

    [TestMethod]
    [DataRow(Precision.Int8)]
    [DataRow(Precision.Int16)]
    public void PerChannelWeightsUseEachChannelsMaxAndRoundTiesAwayFromZero(Precision precision)
    {
        // OHWI [2 channels, 1, 1, 5]: channel 0 spans +-127 steps, channel 1 is all zero.
        float[] w = [Step / 2, -3 * Step / 2, 127 * Step, -127 * Step, 0f, 0f, 0f, 0f, 0f, 0f];
        (QuantParams p, sbyte[] q) = QuantizationMath.PerChannelWeights(w, [2, 1, 1, 5], 0, precision);
        Assert.AreEqual(0, p.QuantizedDimension);
        Assert.AreEqual(Step, p.Scales[0]);
        CollectionAssert.AreEqual(new long[] { 0, 0 }, p.ZeroPoints);
        CollectionAssert.AreEqual(new sbyte[] { 1, -2, 127, -127, 0, 0, 0, 0, 0, 0 }, q);
        // An all-zero channel: the MLIR int8 path forces scale 1e-6; tools/optimize (16x8) writes 0.
        Assert.AreEqual(precision == Precision.Int8 ? (float)1e-6 : 0f, p.Scales[1]);
    }

    [TestMethod]
    public void DepthwiseWeightsAreQuantizedAlongTheLastAxis()
    {
        // 1HWC [1, 1, 2, 2]: elements alternate channel 0, channel 1.
        float[] w = [127 * Step, 127 * 2 * Step, Step / 2, -3 * Step];
        (QuantParams p, sbyte[] q) = QuantizationMath.PerChannelWeights(w, [1, 1, 2, 2], 3, Precision.Int8);
        Assert.AreEqual(3, p.QuantizedDimension);
        Assert.AreEqual(Step, p.Scales[0]);
        Assert.AreEqual(2 * Step, p.Scales[1]);
        // Step/2 is half a step of channel 0 -> 1; -3 Step is -1.5 steps of channel 1 -> -2.
        CollectionAssert.AreEqual(new sbyte[] { 127, 127, 1, -2 }, q);
    }

    [TestMethod]
    public void PerTensorWeightsUseOneScale()
    {
        float[] w = [Step / 2, -3 * Step / 2, 127 * Step, -100 * Step];
        (QuantParams p, sbyte[] q) = QuantizationMath.PerTensorWeights(w, Precision.Int8);
        Assert.IsFalse(p.PerChannel);
        Assert.AreEqual(Step, p.Scale);
        CollectionAssert.AreEqual(new sbyte[] { 1, -2, 127, -100 }, q);
    }

    [TestMethod]
    public void BiasScaleIsInputTimesWeightScale()
    {
        // Bias scales 0.5 * 0.25 = 0.125 and 0.5 * 2^-6 = 2^-7; 0.0625 / 0.125 = 0.5 -> 1, -0.1875 * 128 = -24.
        (QuantParams p, long[] q) = QuantizationMath.Bias([0.0625f, -0.1875f], 0.5f, [0.25f, Step], int64: false);
        CollectionAssert.AreEqual(new[] { 0.125f, Step / 2 }, p.Scales);
        CollectionAssert.AreEqual(new long[] { 1, -24 }, q);

        (_, long[] clamped) = QuantizationMath.Bias([1e10f, -1e10f], 1f, [1f], int64: false);
        CollectionAssert.AreEqual(new long[] { int.MaxValue, -int.MaxValue }, clamped);
        (_, long[] wide) = QuantizationMath.Bias([1e10f], 1f, [1f], int64: true);
        Assert.AreEqual(10_000_000_000L, wide[0]);
    }
}
