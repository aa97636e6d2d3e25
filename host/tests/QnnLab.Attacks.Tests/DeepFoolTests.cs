using System.Globalization;
using QnnLab.Attacks.Attacks;
using QnnLab.Attacks.Runs;
using QnnLab.Attacks.Targets;

namespace QnnLab.Attacks.Tests;

/// <summary>
/// DeepFool on linear classifiers, where the minimal L2 perturbation is known in closed form: the distance to the
/// nearest hyperplane f_k = f_k0, min_k |f_k - f_k0| / ||w_k - w_k0||.
/// </summary>
[TestClass]
public sealed class DeepFoolTests
{
    private const int N = 48, D = 48;
    private const double Overshoot = 0.008;

    private static DeepFool Make(double epsilon = Overshoot)
    {
        var attack = (DeepFool)AttackCatalog.Create("deepfool");
        attack.Parameters.Set("epsilon", epsilon.ToString(CultureInfo.InvariantCulture));
        return attack;
    }

    /// <summary>Per image: the closed-form minimal L2 distance and whether x + (1 + eps) * its projection stays in [0, 1].</summary>
    private static (double Distance, bool Inside)[] Exact(float[,] w, float[] b, float[] x, int[] labels, double eps)
    {
        int classes = w.GetLength(0);
        var result = new (double, bool)[labels.Length];
        for (int i = 0; i < labels.Length; i++)
        {
            int k0 = labels[i];
            double best = double.PositiveInfinity, bestF = 0, bestN2 = 1;
            int bestK = -1;
            for (int k = 0; k < classes; k++)
            {
                if (k == k0)
                {
                    continue;
                }
                double f = b[k] - b[k0], n2 = 0;
                for (int j = 0; j < D; j++)
                {
                    double wj = w[k, j] - w[k0, j];
                    f += wj * x[(i * D) + j];
                    n2 += wj * wj;
                }
                double dist = Math.Abs(f) / Math.Sqrt(n2);
                if (dist < best)
                {
                    (best, bestF, bestN2, bestK) = (dist, f, n2, k);
                }
            }
            bool inside = true;
            for (int j = 0; j < D; j++)
            {
                double p = x[(i * D) + j] + ((1 + eps) * (-bestF / bestN2) * (w[bestK, j] - w[k0, j]));
                inside &= p is >= 0 and <= 1;
            }
            result[i] = (best, inside);
        }
        return result;
    }

    [TestMethod]
    [DataRow(2)]
    [DataRow(5)]
    public void FindsTheClosedFormMinimalL2TimesTheOvershoot(int classes)
    {
        using var target = new TorchTarget(LinearModel.Random(classes, D, 21 + classes, out float[,] w, out float[] b));
        (float[] x, int[] y) = LinearModel.Inputs(target, N, 4);
        DeepFool attack = Make();
        float[] adv = attack.Generate(target, x, y, N, seed: 0);
        (double Distance, bool Inside)[] exact = Exact(w, b, x, y, Overshoot);
        int[] after = target.Labels(adv, N);
        int checkedImages = 0, mostInside = 0;
        double worst = 0;
        for (int i = 0; i < N; i++)
        {
            Assert.AreNotEqual(y[i], after[i], $"image {i} kept its label");
            if (!exact[i].Inside)
            {
                continue;
            }
            checkedImages++;
            mostInside = Math.Max(mostInside, attack.Iterations[i]);
            double l2 = Distortion.Of(x.AsSpan(i * D, D), adv.AsSpan(i * D, D)).L2;
            double expected = exact[i].Distance * (1 + Overshoot);
            worst = Math.Max(worst, Math.Abs(l2 - expected) / expected);
            Assert.AreEqual(expected, l2, 1e-3 * expected, $"image {i}: L2 {l2} vs (1 + overshoot) * minimal {expected}");
            Assert.AreEqual(exact[i].Distance, attack.MinimalL2[i], 1e-3 * exact[i].Distance, $"image {i}: minimal L2");
        }
        Assert.IsGreaterThanOrEqualTo(N / 2, checkedImages, $"only {checkedImages} of {N} projections inside the box");
        Console.WriteLine($"{classes} classes: {checkedImages}/{N} images checked, worst relative L2 error {worst:E2}, mean minimal L2 {attack.MinimalL2.Average():F4}, mean iterations {attack.Iterations.Average():F2} (most {attack.Iterations.Max()}), crossed before the overshoot {attack.CrossedBoundary.Count(c => c)}/{N}");
        // One step reaches the boundary; in float32 an image can then creep along it for a while before its label flips
        // (how long depends on the CPU's rounding: 27 steps for one image on an AMD EPYC, under 20 on a Xeon), but
        // typically it is one or two steps, and never the whole budget.
        Assert.IsLessThanOrEqualTo(6.0, attack.Iterations.Average(), "mean iterations on a linear model");
        Assert.IsLessThan(attack.Config.MaxIter, mostInside, "an image used the whole max_iter budget");
    }

    [TestMethod]
    public void LowersAccuracyLeavesTheInputAndIsReproducible()
    {
        using var target = new TorchTarget(LinearModel.Random(5, D, 3, out _, out _));
        (float[] x, int[] y) = LinearModel.Inputs(target, N, 9);
        float[] original = (float[])x.Clone();
        float[] a1 = Make().Generate(target, x, y, N, seed: 1);
        CollectionAssert.AreEqual(original, x, "the input was modified");
        float[] a2 = Make().Generate(target, x, y, N, seed: 2);
        CollectionAssert.AreEqual(a1, a2, "DeepFool is deterministic");
        Assert.IsTrue(a1.All(v => v is >= 0f and <= 1f), "outside [0, 1]");
        int robust = target.Labels(a1, N).Zip(y).Count(p => p.First == p.Second);
        Assert.AreEqual(0, robust, "every image of a linear model crosses its nearest boundary");
    }

    [TestMethod]
    public void WithFewerClassGradientsOnlyTheTopClassesAreCandidates()
    {
        // nb_grads = 2: only the runner-up class of the clean logits is a candidate; the label still changes and the
        // distance is never below the exact minimum.
        using var target = new TorchTarget(LinearModel.Random(5, D, 8, out float[,] w, out float[] b));
        (float[] x, int[] y) = LinearModel.Inputs(target, N, 5);
        DeepFool attack = Make(0.02);
        attack.Parameters.Set("nb_grads", "2");
        float[] adv = attack.Generate(target, x, y, N, seed: 0);
        (double Distance, bool _)[] exact = Exact(w, b, x, y, 0);
        int fooled = target.Labels(adv, N).Zip(y).Count(p => p.First != p.Second);
        Assert.IsGreaterThan(N * 3 / 4, fooled, $"only {fooled} of {N} fooled");
        for (int i = 0; i < N; i++)
        {
            Assert.IsGreaterThanOrEqualTo(exact[i].Distance * (1 - 1e-4), attack.MinimalL2[i], $"image {i} below the minimal distance");
        }
    }

    [TestMethod]
    public void PresetsAreThePapers()
    {
        Attack attack = AttackCatalog.Create("deepfool");
        Assert.AreEqual("L2", attack.Norm);
        Assert.AreEqual("max_iter=100 epsilon=1E-06 nb_grads=10", attack.Parameters.ToString());
        attack.ApplyPreset("vww");
        Assert.AreEqual("max_iter=100 epsilon=0.008 nb_grads=2", attack.Parameters.ToString());
        attack.ApplyPreset("coffee");
        Assert.AreEqual("max_iter=100 epsilon=0.008 nb_grads=4", attack.Parameters.ToString());
        attack.ApplyPreset("cifar10");
        Assert.AreEqual("max_iter=100 epsilon=0.008 nb_grads=10", attack.Parameters.ToString());
    }

    [TestMethod]
    public void IsRefusedByALabelOnlyTargetByName()
    {
        using var target = new IntegerTarget(TestModels.CifarInt8());
        var ex = Assert.ThrowsExactly<InvalidOperationException>(() =>
            AttackCatalog.Create("deepfool").Generate(target, new float[target.ImageSize], [0], 1, 0));
        StringAssert.Contains(ex.Message, "attack 'deepfool' needs gradients that target 'int8' cannot give");
    }
}
