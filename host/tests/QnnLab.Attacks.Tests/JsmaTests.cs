using System.Globalization;
using QnnLab.Attacks.Attacks;
using QnnLab.Attacks.Targets;

namespace QnnLab.Attacks.Tests;

/// <summary>JSMA on a linear classifier: the L0 budget, steps of theta toward the bound, random targets, reproducibility.</summary>
[TestClass]
public sealed class JsmaTests
{
    private const int N = 48, D = 48, Classes = 5;

    private static TorchTarget Target() => new(LinearModel.Random(Classes, D, 3, out _, out _));

    private static Jsma Make(double theta, double gamma)
    {
        var attack = (Jsma)AttackCatalog.Create("jsma");
        attack.Parameters.Set("theta", theta.ToString(CultureInfo.InvariantCulture));
        attack.Parameters.Set("gamma", gamma.ToString(CultureInfo.InvariantCulture));
        return attack;
    }

    [TestMethod]
    [DataRow(0.1)]
    [DataRow(-0.1)]
    [DataRow(0.5)]
    public void ChangesAtMostGammaOfTheFeaturesEachByThetaTowardTheBound(double theta)
    {
        using TorchTarget target = Target();
        (float[] x, int[] y) = LinearModel.Inputs(target, N, 11);
        Jsma attack = Make(theta, 0.1);
        float[] adv = attack.Generate(target, x, y, N, seed: 3);
        int budget = (int)Math.Ceiling(0.1 * D);
        Assert.AreEqual(budget, attack.Budget(D));
        float bound = theta > 0 ? 1f : 0f;
        int most = 0;
        for (int i = 0; i < N; i++)
        {
            int changed = 0;
            for (int j = 0; j < D; j++)
            {
                int at = (i * D) + j;
                if (adv[at] == x[at])
                {
                    continue;
                }
                changed++;
                bool byTheta = Math.Abs(adv[at] - x[at] - theta) < 1e-6;
                Assert.IsTrue(byTheta || adv[at] == bound, $"image {i} value {j}: {x[at]} -> {adv[at]} is neither +theta nor the bound");
            }
            Assert.IsLessThanOrEqualTo(budget, changed, $"image {i} changed {changed} values");
            most = Math.Max(most, changed);
        }
        Assert.IsGreaterThan(0, most, "nothing changed");
        Console.WriteLine($"theta {theta}: at most {most} of {D} values changed (budget {budget})");
    }

    [TestMethod]
    public void LowersAccuracyLeavesTheInputAndIsReproducibleWithTheSeed()
    {
        using TorchTarget target = Target();
        (float[] x, int[] y) = LinearModel.Inputs(target, N, 12);
        float[] original = (float[])x.Clone();
        Jsma first = Make(0.3, 1.0);
        float[] a1 = first.Generate(target, x, y, N, seed: 7);
        CollectionAssert.AreEqual(original, x, "the input was modified");
        float[] a2 = Make(0.3, 1.0).Generate(target, x, y, N, seed: 7);
        Jsma other = Make(0.3, 1.0);
        float[] a3 = other.Generate(target, x, y, N, seed: 8);
        CollectionAssert.AreEqual(a1, a2, "same seed, same examples");
        CollectionAssert.AreNotEqual(first.TargetClasses, other.TargetClasses, "another seed, other targets");
        CollectionAssert.AreNotEqual(a1, a3, "another seed, other examples");
        int[] labels = target.Labels(a1, N);
        int robust = labels.Zip(y).Count(p => p.First == p.Second);
        int reached = labels.Zip(first.TargetClasses).Count(p => p.First == p.Second);
        Console.WriteLine($"jsma theta 0.3 gamma 1: accuracy {N}/{N} -> {robust}/{N}, target reached {reached}/{N}, mean L0 {Enumerable.Range(0, N).Average(i => Enumerable.Range(0, D).Count(j => a1[(i * D) + j] != x[(i * D) + j])):F1}");
        Assert.IsLessThan(N / 4, robust, $"JSMA left {robust}/{N} correct");
    }

    [TestMethod]
    public void RandomTargetsAreArtsOneDrawPerClass()
    {
        int[] y = [0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 4, 4];
        int[] t = Jsma.RandomTargets(y, Classes, 5);
        CollectionAssert.AreEqual(t, Jsma.RandomTargets(y, Classes, 5), "seeded");
        for (int i = 0; i < y.Length; i++)
        {
            Assert.AreNotEqual(y[i], t[i], $"image {i} targets its own class");
            Assert.AreEqual(t[Array.IndexOf(y, y[i])], t[i], $"image {i}: one target per class");
        }
        Assert.IsTrue(Enumerable.Range(0, 50).Select(s => Jsma.RandomTargets([0], Classes, s)[0]).Distinct().Count() == Classes - 1, "every other class is drawn");
    }

    [TestMethod]
    public void PresetsAreThePapers()
    {
        Attack attack = AttackCatalog.Create("jsma");
        Assert.AreEqual("L0", attack.Norm);
        Assert.AreEqual("theta=0.1 gamma=1", attack.Parameters.ToString());
        foreach (string set in new[] { "cifar10", "vww", "coffee" })
        {
            attack.ApplyPreset(set);
            Assert.AreEqual("theta=0.08 gamma=1", attack.Parameters.ToString(), set);
        }
        var ex = Assert.ThrowsExactly<ArgumentException>(() => Make(0.1, 1.5).Generate(Target(), new float[D], [0], 1, 0));
        StringAssert.Contains(ex.Message, "gamma");
    }

    [TestMethod]
    public void IsRefusedByALabelOnlyTargetByName()
    {
        using var target = new IntegerTarget(TestModels.CifarInt8());
        var ex = Assert.ThrowsExactly<InvalidOperationException>(() =>
            AttackCatalog.Create("jsma").Generate(target, new float[target.ImageSize], [0], 1, 0));
        StringAssert.Contains(ex.Message, "attack 'jsma' needs gradients that target 'int8' cannot give");
    }
}
