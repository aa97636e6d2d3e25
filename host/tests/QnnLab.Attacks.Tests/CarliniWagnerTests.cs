using QnnLab.Attacks.Targets;

namespace QnnLab.Attacks.Tests;

/// <summary>
/// C&amp;W-L2, C&amp;W-Linf and EAD on linear classifiers, whose minimal adversarial distances are known in closed form:
/// two classes with d = w_y - w_other and margin m = d.x + b_y - b_other cross the boundary at L2 m / ||d||_2, Linf
/// m / ||d||_1 and L1 m / max_j |d_j| (when the box leaves room, as inside [0.2, 0.8] for these weights).
/// </summary>
[TestClass]
public sealed class CarliniWagnerTests
{
    internal const int D = 16;

    /// <summary>
    /// A 2-class model with logit difference Z_0 - Z_1 = d.x + b and n points at known distances; d has one dominant
    /// coordinate (so the L1-minimal move is along it alone and fits in the box).
    /// </summary>
    internal static (TorchTarget Target, float[] X, int[] Y, float[] Diff, float[] Margin) TwoClass(int n, int seed)
    {
        var rng = new Random(seed);
        var diff = new float[D];
        for (int j = 0; j < D; j++)
        {
            diff[j] = (float)((rng.NextDouble() * 1.2) - 0.6);
        }
        diff[3] = 2.0f;
        var w = new float[2, D];
        for (int j = 0; j < D; j++)
        {
            w[0, j] = diff[j] / 2;
            w[1, j] = -diff[j] / 2;
        }
        // Bias -d.0.5: the boundary passes through the centre of the box, so the distances are small.
        float bias = -diff.Sum() / 2;
        var target = new TorchTarget(LinearModel.Build(w, [bias / 2, -bias / 2]));
        var x = new float[n * D];
        var margin = new float[n];
        for (int i = 0; i < n; i++)
        {
            double z = bias;
            for (int j = 0; j < D; j++)
            {
                x[(i * D) + j] = (float)(0.4 + (0.2 * rng.NextDouble()));
                z += diff[j] * x[(i * D) + j];
            }
            // Keep every margin at least 0.05 (a relative error on a tiny distance would say nothing).
            float push = z >= 0 ? 0.025f : -0.025f;
            x[(i * D) + 3] += push;
            margin[i] = (float)Math.Abs(z + (2 * push));
        }
        int[] y = target.Labels(x, n);
        return (target, x, y, diff, margin);
    }

    internal static double Distance(float[] a, float[] b, int i, double p)
    {
        double s = 0;
        for (int j = 0; j < D; j++)
        {
            double v = Math.Abs(a[(i * D) + j] - b[(i * D) + j]);
            s = double.IsPositiveInfinity(p) ? Math.Max(s, v) : s + Math.Pow(v, p);
        }
        return double.IsPositiveInfinity(p) || p == 1 ? s : Math.Pow(s, 1 / p);
    }

    internal static Attack Make(string name, params (string Key, string Value)[] settings)
    {
        Attack a = AttackCatalog.Create(name);
        foreach ((string k, string v) in settings)
        {
            a.Parameters.Set(k, v);
        }
        return a;
    }

    [TestMethod]
    public void CwL2ReachesTheAnalyticMinimalL2DistanceOfALinearBoundary()
    {
        const int n = 8;
        (TorchTarget target, float[] x, int[] y, float[] diff, float[] margin) = TwoClass(n, 21);
        using (target)
        {
            double norm = Math.Sqrt(diff.Sum(v => (double)v * v));
            Attack attack = Make("cw-l2", ("max_iter", "300"), ("binary_search_steps", "12"), ("initial_const", "0.1"), ("learning_rate", "0.01"));
            float[] adv = attack.Generate(target, x, y, n, 0);
            int[] labels = target.Labels(adv, n);
            for (int i = 0; i < n; i++)
            {
                double optimum = margin[i] / norm;
                double l2 = Distance(adv, x, i, 2);
                Assert.AreNotEqual(y[i], labels[i], $"image {i} not adversarial");
                Assert.IsGreaterThanOrEqualTo(optimum * 0.999, l2, $"image {i}: below the analytic minimum");
                Assert.IsLessThanOrEqualTo(optimum * 1.05, l2, $"image {i}: L2 {l2:F5} vs minimum {optimum:F5}");
            }
        }
    }

    [TestMethod]
    public void CwLInfApproachesTheAnalyticMinimalLInfDistanceOfALinearBoundary()
    {
        const int n = 8;
        (TorchTarget target, float[] x, int[] y, float[] diff, float[] margin) = TwoClass(n, 22);
        using (target)
        {
            double norm1 = diff.Sum(v => (double)Math.Abs(v));
            Attack attack = Make("cw-linf", ("max_iter", "100"), ("learning_rate", "0.01"), ("decrease_factor", "0.95"), ("initial_const", "0.01"));
            float[] adv = attack.Generate(target, x, y, n, 0);
            int[] labels = target.Labels(adv, n);
            for (int i = 0; i < n; i++)
            {
                double optimum = margin[i] / norm1;
                double linf = Distance(adv, x, i, double.PositiveInfinity);
                Assert.AreNotEqual(y[i], labels[i], $"image {i} not adversarial");
                Assert.IsGreaterThanOrEqualTo(optimum * 0.999, linf, $"image {i}: below the analytic minimum");
                Assert.IsLessThanOrEqualTo(optimum * 1.10, linf, $"image {i}: Linf {linf:F5} vs minimum {optimum:F5}");
            }
        }
    }

    [TestMethod]
    [DataRow("cw-l2")]
    [DataRow("cw-linf")]
    [DataRow("ead")]
    public void EachLowersAccuracyIsReproducibleAndLeavesItsInputAlone(string name)
    {
        const int n = 24, d = 48;
        using var target = new TorchTarget(LinearModel.Random(5, d, 3, out _, out _));
        (float[] x, int[] y) = LinearModel.Inputs(target, n, 11);
        float[] original = (float[])x.Clone();
        Attack attack = AttackCatalog.Create(name);
        attack.ApplyPreset("cifar10");
        float[] a1 = attack.Generate(target, x, y, n, seed: 1);
        float[] a2 = AttackCatalog.Create(name).Also(a => a.ApplyPreset("cifar10")).Generate(target, x, y, n, seed: 2);
        CollectionAssert.AreEqual(original, x, "the input was modified");
        CollectionAssert.AreEqual(a1, a2, "not reproducible");
        Assert.IsTrue(a1.All(v => v is >= 0f and <= 1f), "outside [0, 1]");
        int clean = target.Labels(x, n).Zip(y).Count(p => p.First == p.Second);
        int robust = target.Labels(a1, n).Zip(y).Count(p => p.First == p.Second);
        Assert.AreEqual(n, clean);
        Assert.IsLessThan(clean / 2, robust, $"{name} did not lower accuracy enough ({robust}/{n})");
        // An unsuccessful image stays exactly the original.
        int[] labels = target.Labels(a1, n);
        for (int i = 0; i < n; i++)
        {
            if (labels[i] == y[i])
            {
                CollectionAssert.AreEqual(original[(i * d)..((i + 1) * d)], a1[(i * d)..((i + 1) * d)], $"{name}: image {i} failed but moved");
            }
        }
    }

    [TestMethod]
    public void CatalogPresetsAndParameterNamesFollowArtAndThePaper()
    {
        Attack l2 = AttackCatalog.Create("cw-l2");
        CollectionAssert.AreEquivalent(
            new[] { "confidence", "learning_rate", "binary_search_steps", "max_iter", "initial_const", "max_halving", "max_doubling" },
            l2.Parameters.Values().Keys.ToArray());
        Assert.AreEqual(0.01, l2.Parameters.Values()["initial_const"]);
        Attack linf = AttackCatalog.Create("cw-linf");
        Assert.AreEqual(1e-5, linf.Parameters.Values()["initial_const"]);
        Assert.AreEqual(20.0, linf.Parameters.Values()["largest_const"]);
        Attack ead = AttackCatalog.Create("ead");
        Assert.AreEqual(9, ead.Parameters.Values()["binary_search_steps"]);
        Assert.AreEqual(100, ead.Parameters.Values()["max_iter"]);
        foreach (string set in new[] { "cifar10", "vww", "coffee" })
        {
            Attack a = AttackCatalog.Create("ead");
            a.ApplyPreset(set);
            Assert.AreEqual(10, a.Parameters.Values()["max_iter"]);
            Assert.AreEqual(10, a.Parameters.Values()["binary_search_steps"]);
            Assert.AreEqual(0.01, a.Parameters.Values()["initial_const"]);
            Assert.AreEqual(0.001, a.Parameters.Values()["beta"]);
            Attack b = AttackCatalog.Create("cw-l2");
            b.ApplyPreset(set);
            Assert.AreEqual(10, b.Parameters.Values()["max_iter"]);
            Attack c = AttackCatalog.Create("cw-linf");
            c.ApplyPreset(set);
            Assert.AreEqual(10, c.Parameters.Values()["max_iter"]);
            Assert.AreEqual(0.01, c.Parameters.Values()["learning_rate"]);
        }
        Assert.AreEqual("L2", l2.Norm);
        Assert.AreEqual("Linf", linf.Norm);
        Assert.AreEqual("L1", ead.Norm);
    }
}

internal static class AttackTestExtensions
{
    public static Attack Also(this Attack a, Action<Attack> act)
    {
        act(a);
        return a;
    }
}
