using QnnLab.Attacks.Runs;
using QnnLab.Attacks.Targets;

namespace QnnLab.Attacks.Tests;

/// <summary>Gradient cosine (paper Table 7) on linear models whose gradients are known.</summary>
[TestClass]
public sealed class GradientCosineTests
{
    [TestMethod]
    public void AModelAgreesWithItselfAndTwoUnrelatedModelsDoNot()
    {
        using var a = new TorchTarget(LinearModel.Random(3, 64, 1, out _, out _));
        using var same = new TorchTarget(LinearModel.Random(3, 64, 1, out _, out _));
        using var other = new TorchTarget(LinearModel.Random(3, 64, 2, out _, out _));
        (float[] x, int[] y) = LinearModel.Inputs(a, 10, 4);
        double[] self = GradientCosine.PerImage(a, same, x, y, 10, batch: 3);
        foreach (double c in self)
        {
            Assert.AreEqual(1.0, c, 1e-6);
        }
        double[] unrelated = GradientCosine.PerImage(a, other, x, y, 10);
        Assert.IsTrue(unrelated.All(c => c is > -1 and < 0.9), $"independent random weights: {string.Join(", ", unrelated.Select(c => c.ToString("F2", System.Globalization.CultureInfo.InvariantCulture)))}");
    }

    [TestMethod]
    public void AZeroGradientHasNoDirectionAndIsNotCountedAsOrthogonal()
    {
        // All-zero weights and biases: a constant softmax, so the input gradient of the loss is exactly zero.
        using var flat = new TorchTarget(LinearModel.Build(new float[2, 4], new float[2]));
        using var a = new TorchTarget(LinearModel.Random(2, 4, 1, out _, out _));
        (float[] x, int[] y) = LinearModel.Inputs(a, 2, 1);
        Assert.IsTrue(GradientCosine.PerImage(a, flat, x, y, 2).All(double.IsNaN));
    }
}
