using System.Globalization;
using QnnLab.Attacks.Attacks;
using QnnLab.Attacks.Targets;
using QnnLab.Model;

namespace QnnLab.Attacks.Tests;

/// <summary>
/// Square-Linf and Square-L2 on an image-shaped linear classifier: budgets, the box, lower accuracy, untouched inputs,
/// seeded repetition, and query counts checked against a target that counts what it is asked on its own.
/// </summary>
[TestClass]
public sealed class SquareAttackTests
{
    private const int N = 24, Classes = 5, H = 8, W = 8, C = 3;

    private static TorchTarget Linear() => new(LinearModel.Random(Classes, H * W * C, 7, out _, out _, (H, W, C)));

    private static Attack Square(string name, double eps, int maxIter)
    {
        Attack a = AttackCatalog.Create(name);
        a.Parameters.Set("eps", eps.ToString(CultureInfo.InvariantCulture));
        a.Parameters.Set("max_iter", $"{maxIter}");
        a.Parameters.Set("p_init", "0.3");
        return a;
    }

    [TestMethod]
    public void LinfStaysInsideEpsAndTheBoxAndLowersAccuracy()
    {
        using TorchTarget target = Linear();
        (float[] x, int[] y) = LinearModel.Inputs(target, N, 3);
        float[] original = (float[])x.Clone();
        const double eps = 0.05;
        float[] adv = Square("square-linf", eps, 300).Generate(target, x, y, N, seed: 1);
        CollectionAssert.AreEqual(original, x, "the input was modified");
        for (int i = 0; i < adv.Length; i++)
        {
            Assert.IsTrue(adv[i] is >= 0f and <= 1f, $"value {i} = {adv[i]} outside [0, 1]");
            Assert.IsLessThanOrEqualTo(eps + 1e-6, Math.Abs(adv[i] - x[i]), $"value {i} moved past eps");
        }
        int robust = target.Labels(adv, N).Zip(y).Count(p => p.First == p.Second);
        Assert.IsLessThan(N / 2, robust, $"square-linf left {robust} of {N} correct");
    }

    [TestMethod]
    public void L2RespectsItsBudgetAndLowersAccuracy()
    {
        using TorchTarget target = Linear();
        (float[] x, int[] y) = LinearModel.Inputs(target, N, 4);
        const double eps = 0.6;
        float[] adv = Square("square-l2", eps, 300).Generate(target, x, y, N, seed: 2);
        int size = target.ImageSize;
        for (int i = 0; i < N; i++)
        {
            double l2 = Math.Sqrt(Enumerable.Range(0, size).Sum(k => Math.Pow(adv[(i * size) + k] - x[(i * size) + k], 2)));
            Assert.IsLessThanOrEqualTo(eps + 1e-5, l2, $"image {i}: L2 {l2}");
        }
        Assert.IsTrue(adv.All(v => v is >= 0f and <= 1f));
        int robust = target.Labels(adv, N).Zip(y).Count(p => p.First == p.Second);
        Assert.IsLessThan(N / 2, robust, $"square-l2 left {robust} of {N} correct");
    }

    [TestMethod]
    [DataRow("square-linf")]
    [DataRow("square-l2")]
    public void ASeedRepeatsExactlyAndAnotherSeedDoesNot(string name)
    {
        using TorchTarget target = Linear();
        (float[] x, int[] y) = LinearModel.Inputs(target, N, 5);
        double eps = name == "square-linf" ? 0.05 : 0.6;
        float[] a = Square(name, eps, 50).Generate(target, x, y, N, seed: 9);
        float[] b = Square(name, eps, 50).Generate(target, x, y, N, seed: 9);
        float[] c = Square(name, eps, 50).Generate(target, x, y, N, seed: 10);
        CollectionAssert.AreEqual(a, b);
        CollectionAssert.AreNotEqual(a, c);
    }

    [TestMethod]
    [DataRow("square-linf")]
    [DataRow("square-l2")]
    public void QueriesAreOnePerImageForXAndTheStartThenOnePerIterationUntilTheImageFalls(string name)
    {
        using var target = new CountingTarget(Linear());
        (float[] x, int[] y) = LinearModel.Inputs(target.Inner, N, 6);
        target.Identify(x, y);
        const int maxIter = 40;
        double eps = name == "square-linf" ? 0.05 : 0.6;
        Attack attack = Square(name, eps, maxIter);
        float[] adv = attack.Generate(target, x, y, N, seed: 3);

        Assert.AreEqual(target.Queries, target.BatchSizes.Sum(), "the base class's count equals the images the target was asked about");
        Assert.AreEqual(target.Queries, target.PerImage.Sum(l => l.Count));
        CollectionAssert.AreEqual(target.PerImage.Select(l => (long)l.Count).ToArray(), attack.QueriesPerImage, "the attack's own count per image");
        bool[] fooled = [.. target.Inner.Labels(adv, N).Zip(y).Select(p => p.First != p.Second)];
        Assert.IsTrue(fooled.Any(f => f) && fooled.Any(f => !f), $"the case needs fooled and robust images ({fooled.Count(f => f)} of {N} fooled)");
        for (int i = 0; i < N; i++)
        {
            List<bool> wrong = target.PerImage[i];
            // every query but (for a fooled image) the last saw the image still correctly classified
            Assert.IsFalse(wrong.Take(wrong.Count - 1).Any(w => w), $"image {i} was asked about again after it fell");
            if (fooled[i])
            {
                Assert.IsTrue(wrong[^1], $"image {i}: its last query is the one that fooled it");
                Assert.IsLessThanOrEqualTo(2 + maxIter, wrong.Count);
            }
            else
            {
                Assert.AreEqual(2 + maxIter, wrong.Count, $"image {i} stayed correct: x, the start and every iteration");
            }
        }
    }

    [TestMethod]
    public void AnUnreachableBudgetSpendsExactlyMaxIterQueriesPerImage()
    {
        using var target = new CountingTarget(Linear());
        (float[] x, int[] y) = LinearModel.Inputs(target.Inner, N, 8);
        const int maxIter = 25;
        Square("square-linf", 1e-5, maxIter).Generate(target, x, y, N, seed: 4);
        Assert.AreEqual((long)N * (2 + maxIter), target.Queries);
        Assert.AreEqual(2 + maxIter, target.BatchSizes.Count);
    }

    [TestMethod]
    public void TheSquareFractionHalvesOnArtsSchedule()
    {
        Assert.AreEqual(0.8, SquareSearch.Fraction(0.8, 0, 1000));
        Assert.AreEqual(0.8, SquareSearch.Fraction(0.8, 1, 1000), "bisect_left: 0.001 itself is still the first interval");
        Assert.AreEqual(0.4, SquareSearch.Fraction(0.8, 2, 1000));
        Assert.AreEqual(0.2, SquareSearch.Fraction(0.8, 6, 1000));
        Assert.AreEqual(0.8 / 512, SquareSearch.Fraction(0.8, 999, 1000));
    }

    [TestMethod]
    public void AScoresAttackIsRefusedOnALabelsOnlyTarget()
    {
        using var target = new LabelsOnly(Linear());
        (float[] x, int[] y) = LinearModel.Inputs(target.Inner, 2, 1);
        InvalidOperationException e = Assert.ThrowsExactly<InvalidOperationException>(() => AttackCatalog.Create("square-linf").Generate(target, x, y, 2, 0));
        StringAssert.Contains(e.Message, "attack 'square-linf' needs scores that target 'labels-only' cannot give");
    }

    private sealed class LabelsOnly(TorchTarget inner) : AttackTarget
    {
        public TorchTarget Inner { get; } = inner;
        public override string Name => "labels-only";
        public override TargetCapabilities Capabilities => TargetCapabilities.Labels;
        public override int Classes => Inner.Classes;
        public override int Height => Inner.Height;
        public override int Width => Inner.Width;
        public override int Channels => Inner.Channels;
        protected override float[] ComputeScores(ReadOnlySpan<float> x, int n) => Inner.Scores(x, n);

        public override void Dispose()
        {
            Inner.Dispose();
            base.Dispose();
        }
    }
}
