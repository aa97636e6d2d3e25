using QnnLab.Attacks.Attacks;
using QnnLab.Attacks.Targets;

namespace QnnLab.Attacks.Tests;

/// <summary>FAB-T's minimal-Linf projection and the attack on linear models, where the minimal Linf distance is known.</summary>
[TestClass]
public sealed class FabTests
{
    private const int N = 16, D = 40;

    [TestMethod]
    public void TheProjectionReachesTheHyperplaneInsideTheBoxWithTheSmallestLinfStep()
    {
        var rng = new Random(2);
        for (int trial = 0; trial < 50; trial++)
        {
            float[] t = [.. Enumerable.Range(0, D).Select(_ => (float)rng.NextDouble())];
            float[] w = [.. Enumerable.Range(0, D).Select(_ => (float)((rng.NextDouble() * 2) - 1))];
            double wt = t.Zip(w).Sum(p => (double)p.First * p.Second);
            double b = -wt + ((rng.NextDouble() - 0.5) * 2);
            var d = new double[D];
            FabT.ProjectLinf(t, w, b, d);
            double lambda = d.Max(Math.Abs);
            double reached = b + Enumerable.Range(0, D).Sum(j => w[j] * (t[j] + d[j]));
            for (int j = 0; j < D; j++)
            {
                Assert.IsTrue(t[j] + d[j] is >= -1e-12 and <= 1 + 1e-12, $"trial {trial}: coordinate {j} left the box");
            }
            // Feasible: on the plane. Minimal: a slightly smaller Linf radius cannot reach it (every coordinate already
            // moves by min(lambda, its room) in the helpful direction).
            double reach = Enumerable.Range(0, D).Sum(j => Math.Abs(w[j]) * ((w[j] > 0) != (b + wt > 0) ? 1 - t[j] : t[j]));
            if (reach > Math.Abs(b + wt))
            {
                Assert.AreEqual(0.0, reached, 1e-6, $"trial {trial}: not on the hyperplane");
                double shrunk = Enumerable.Range(0, D).Sum(j => Math.Abs(w[j]) * Math.Min(lambda * 0.999, (w[j] > 0) != (b + wt > 0) ? 1 - t[j] : t[j]));
                Assert.IsLessThan(Math.Abs(b + wt), shrunk, $"trial {trial}: a smaller radius also reaches the plane");
            }
        }
    }

    [TestMethod]
    public void OnAnUnboxedCaseTheStepIsTheFOverTheL1NormOfW()
    {
        float[] t = [.. Enumerable.Repeat(0.5f, D)];
        float[] w = [.. Enumerable.Range(0, D).Select(j => j % 2 == 0 ? 1f : -2f)];
        double f = 0.3; // w·t + b
        double b = f - t.Zip(w).Sum(p => (double)p.First * p.Second);
        var d = new double[D];
        FabT.ProjectLinf(t, w, b, d);
        double expected = f / w.Sum(v => Math.Abs(v));
        foreach (double v in d)
        {
            Assert.AreEqual(expected, Math.Abs(v), 1e-9);
        }
    }

    [TestMethod]
    public void FindsTheMinimalLinfDistanceOfALinearTwoClassModelAndRespectsEps()
    {
        using var target = new TorchTarget(LinearModel.Random(2, D, 13, out float[,] w, out float[] b));
        (float[] x, int[] y) = LinearModel.Inputs(target, N, 5);
        var fab = (FabT)AttackCatalog.Create("fab-t");
        fab.Parameters.Set("eps", "1");
        fab.Parameters.Set("n_iter", "20");
        float[] adv = fab.Generate(target, x, y, N, seed: 0);
        int[] after = target.Labels(adv, N);
        int checkedImages = 0;
        for (int i = 0; i < N; i++)
        {
            Assert.AreNotEqual(y[i], after[i], $"image {i} kept its label");
            // minimal Linf to the 2-class boundary: |f| / ||w1 - w0||_1, when that step stays inside the box
            double f = b[1] - b[0], l1 = 0;
            for (int j = 0; j < D; j++)
            {
                f += (w[1, j] - w[0, j]) * x[(i * D) + j];
                l1 += Math.Abs(w[1, j] - w[0, j]);
            }
            double exact = Math.Abs(f) / l1;
            bool inside = Enumerable.Range(0, D).All(j => x[(i * D) + j] is var v && v - exact >= 0 && v + exact <= 1);
            Assert.IsGreaterThanOrEqualTo(exact * (1 - 1e-4), fab.MinimalLinf[i], $"image {i}: closer than the boundary");
            if (inside)
            {
                checkedImages++;
                Assert.IsLessThanOrEqualTo(exact * 1.10, fab.MinimalLinf[i], $"image {i}: Linf {fab.MinimalLinf[i]} vs minimal {exact}");
            }
        }
        Assert.IsGreaterThanOrEqualTo(N / 2, checkedImages);

        // A small eps: what is changed stays within it; the rest stays untouched.
        var small = (FabT)AttackCatalog.Create("fab-t");
        small.Parameters.Set("eps", "0.02");
        small.Parameters.Set("n_iter", "20");
        float[] adv2 = small.Generate(target, x, y, N, seed: 0);
        for (int i = 0; i < N; i++)
        {
            double linf = Enumerable.Range(0, D).Max(j => Math.Abs(adv2[(i * D) + j] - x[(i * D) + j]));
            Assert.IsTrue(linf <= 0.02 + 1e-6, $"image {i}: {linf} past eps");
        }
    }
}
