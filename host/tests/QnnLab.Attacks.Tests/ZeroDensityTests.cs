using QnnLab.Attacks.Runs;
using QnnLab.Attacks.Targets;
using QnnLab.Data;

namespace QnnLab.Attacks.Tests;

/// <summary>The zero density of finite-difference gradients, on cases whose answer is known.</summary>
[TestClass]
public sealed class ZeroDensityTests
{
    [TestMethod]
    public void AFloatLinearSoftmaxSeesEveryCoordinate()
    {
        using var target = new TorchTarget(LinearModel.Random(4, 32, 9, out _, out _));
        (float[] x, int[] y) = LinearModel.Inputs(target, 3, 1);
        long q0 = target.Queries;
        double[] d = ZeroDensity.PerImage(target, x, y, 3, 1e-3, chunk: 7);
        CollectionAssert.AreEqual(new[] { 0.0, 0.0, 0.0 }, d, "every weight is non-zero, so every coordinate moves p_y");
        Assert.AreEqual(3L * 2 * 32, target.Queries - q0, "two probes per input value");
    }

    [TestMethod]
    public void AStepUnderHalfAPixelIsInvisibleToTheInt8ModelButNotToTheInt16One()
    {
        using var target = new IntegerTarget(TestModels.CifarInt8());
        ImageSet set = Cifar10.ReadBatch(Path.Combine(TestSupport.TestData.Require("cifar10/cifar-10-batches-bin"), "test_batch.bin"), 2);
        var x = new float[2 * set.ImageSize];
        set.CopyUnitImage(0, x.AsSpan(0, set.ImageSize));
        set.CopyUnitImage(1, x.AsSpan(set.ImageSize));
        // x sits on the pixel grid k/255; k/255 +- 1e-4 quantizes back to k: the engine sees the very same input.
        CollectionAssert.AreEqual(new[] { 1.0, 1.0 }, ZeroDensity.PerImage(target, x, set.Labels, 2, 1e-4));
        // One pixel step does reach the engine, though the int8 softmax output of a confident image may not move at all
        // (saturated: masking); the int16 model, with its 1/32767 input steps, sees 1e-3 at many coordinates.
        float[] moved = (float[])x.Clone();
        moved[0] += 1f / 255;
        CollectionAssert.AreNotEqual(target.QuantizedInput(x), target.QuantizedInput(moved));
        using var int16 = new IntegerTarget(TestModels.CifarInt16());
        Assert.IsLessThan(1.0, ZeroDensity.PerImage(int16, x, set.Labels, 2, 1e-3).Min(), "image 0 is confident enough to saturate, image 1 is not");
    }

    [TestMethod]
    public void ANonPositiveStepIsRefused()
    {
        using var target = new TorchTarget(LinearModel.Random(2, 4, 1, out _, out _));
        ArgumentException e = Assert.ThrowsExactly<ArgumentException>(() => ZeroDensity.PerImage(target, new float[4], [0], 1, 0));
        StringAssert.Contains(e.Message, "step h 0 must be > 0");
    }
}
