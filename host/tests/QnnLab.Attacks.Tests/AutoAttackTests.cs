using QnnLab.Attacks.Targets;

namespace QnnLab.Attacks.Tests;

/// <summary>APGD-CE and APGD-T on a linear classifier whose Linf distances to the boundary are known in closed form.</summary>
[TestClass]
public sealed class AutoAttackTests
{
    private const int N = 32, D = 48, Classes = 5;

    /// <summary>Per image: min over k != y of |f_y - f_k| / ||w_y - w_k||_1 (the Linf distance to the nearest boundary).</summary>
    private static double[] Distances(float[] x, int[] y, float[,] w, float[] b)
    {
        var r = new double[y.Length];
        for (int i = 0; i < y.Length; i++)
        {
            double best = double.PositiveInfinity;
            for (int k = 0; k < Classes; k++)
            {
                if (k == y[i])
                {
                    continue;
                }
                double df = b[y[i]] - b[k], n1 = 0;
                for (int j = 0; j < D; j++)
                {
                    double dw = w[y[i], j] - w[k, j];
                    df += dw * x[(i * D) + j];
                    n1 += Math.Abs(dw);
                }
                best = Math.Min(best, Math.Abs(df) / n1);
            }
            r[i] = best;
        }
        return r;
    }

    [TestMethod]
    [DataRow("apgd-ce")]
    [DataRow("apgd-t")]
    [DataRow("fab-t")]
    [DataRow("autoattack")]
    public void ReachesZeroAboveTheDistanceAndNothingBelowIt(string name)
    {
        using var target = new TorchTarget(LinearModel.Random(Classes, D, 3, out float[,] w, out float[] b));
        (float[] x, int[] y) = LinearModel.Inputs(target, N, 11);
        float[] original = (float[])x.Clone();
        double[] dist = Distances(x, y, w, b);
        foreach ((double eps, int expected) in new[] { (dist.Max() * 1.25, 0), (dist.Min() * 0.8, N) })
        {
            Attack a = AttackCatalog.Create(name);
            a.Parameters.Set("eps", eps.ToString("R", System.Globalization.CultureInfo.InvariantCulture));
            a.Parameters.Set(name == "autoattack" ? "n_queries" : "n_iter", "20");
            float[] adv = a.Generate(target, x, y, N, seed: 1);
            CollectionAssert.AreEqual(original, x, "the input was modified");
            for (int i = 0; i < adv.Length; i++)
            {
                Assert.IsTrue(adv[i] is >= 0f and <= 1f);
                Assert.IsLessThanOrEqualTo(eps + 1e-6, Math.Abs(adv[i] - x[i]));
            }
            int robust = target.Labels(adv, N).Zip(y).Count(p => p.First == p.Second);
            Assert.AreEqual(expected, robust, $"{name} at eps {eps}");
            CollectionAssert.AreEqual(adv, a.Generate(target, x, y, N, seed: 1), "same seed, same result");
        }
    }

    [TestMethod]
    public void AutoAttackRunsItsComponentsInOrderOnTheImagesStillRobust()
    {
        using var target = new TorchTarget(LinearModel.Random(Classes, D, 3, out float[,] w, out float[] b));
        (float[] x, int[] y) = LinearModel.Inputs(target, N, 11);
        double[] dist = Distances(x, y, w, b);
        double eps = dist.OrderBy(d => d).ElementAt(N / 2); // about half the images are breakable
        var aa = (Attacks.AutoAttack)AttackCatalog.Create("autoattack");
        aa.Parameters.Set("eps", eps.ToString("R", System.Globalization.CultureInfo.InvariantCulture));
        aa.Parameters.Set("n_queries", "50");
        float[] adv = aa.Generate(target, x, y, N, seed: 2);
        CollectionAssert.AreEqual(new[] { "clean", "apgd-ce", "apgd-t", "fab-t", "square" }, aa.RobustAfter.Select(r => r.Component).ToArray());
        int[] counts = [.. aa.RobustAfter.Select(r => r.Robust)];
        Assert.AreEqual(N, counts[0], "labels are the model's own");
        for (int k = 1; k < counts.Length; k++)
        {
            Assert.IsLessThanOrEqualTo(counts[k - 1], counts[k], "a component never un-breaks an image");
        }
        int robust = target.Labels(adv, N).Zip(y).Count(p => p.First == p.Second);
        Assert.AreEqual(counts[^1], robust, "the report's last figure is the robust accuracy");
        int breakable = dist.Count(d => d <= eps);
        Assert.AreEqual(N - breakable, robust, "exactly the images within eps of a boundary fall");
        aa.Generate(target, x, y, N, seed: 2);
        Assert.AreEqual(2L * N, aa.ImagesAttacked, "totals add up over runs");
        Assert.AreEqual(2L * robust, aa.RobustTotal[^1].Robust);
    }

    [TestMethod]
    public void AnUnknownAutoAttackComponentIsRefused()
    {
        using var target = new TorchTarget(LinearModel.Random(Classes, D, 3, out _, out _));
        (float[] x, int[] y) = LinearModel.Inputs(target, 2, 1);
        Attack aa = AttackCatalog.Create("autoattack");
        aa.Parameters.Set("attacks_to_run", "apgd-ce,fab");
        ArgumentException e = Assert.ThrowsExactly<ArgumentException>(() => aa.Generate(target, x, y, 2, 0));
        StringAssert.Contains(e.Message, "unknown component 'fab'");
    }
}
