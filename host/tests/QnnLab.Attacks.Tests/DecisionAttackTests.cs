using System.Globalization;
using QnnLab.Attacks.Runs;
using QnnLab.Attacks.Targets;

namespace QnnLab.Attacks.Tests;

/// <summary>
/// Decision-based attacks (labels only) on linear classifiers where the minimal L2 distance to the boundary is known:
/// |w·x + b| / ‖w‖ for two classes, when the projection onto the boundary stays inside the box.
/// </summary>
[TestClass]
public sealed class DecisionAttackTests
{
    private const int N = 12, D = 48;

    private static Attack Make(string name, params (string Key, string Value)[] set)
    {
        Attack a = AttackCatalog.Create(name);
        a.ApplyPreset("cifar10");
        foreach ((string k, string v) in set)
        {
            a.Parameters.Set(k, v);
        }
        return a;
    }

    /// <summary>Minimal L2 to the 2-class boundary, and whether its projection stays in [0, 1].</summary>
    private static (double Distance, bool Inside) Exact(float[,] w, float[] b, ReadOnlySpan<float> x)
    {
        double f = b[1] - b[0], norm2 = 0;
        var v = new double[D];
        for (int j = 0; j < D; j++)
        {
            v[j] = w[1, j] - w[0, j];
            f += v[j] * x[j];
            norm2 += v[j] * v[j];
        }
        bool inside = true;
        for (int j = 0; j < D; j++)
        {
            double p = x[j] - (f / norm2 * v[j]);
            inside &= p is >= 0 and <= 1;
        }
        return (Math.Abs(f) / Math.Sqrt(norm2), inside);
    }

    [TestMethod]
    [DataRow("boundary")]
    [DataRow("geoda")]
    public void ConvergesToWithinTenPercentOfTheAnalyticDistanceOnALinearTwoClassModel(string name)
    {
        using var target = new CountingTarget(new TorchTarget(LinearModel.Random(2, D, 31, out float[,] w, out float[] b)), labelsOnly: true);
        (float[] x, int[] y) = LinearModel.Inputs(target.Inner, N, 12);
        float[] original = (float[])x.Clone();
        Attack attack = Make(name);
        float[] adv = attack.Generate(target, x, y, N, seed: 1);
        // Candidates start from noise far from x, so they cannot be told apart by image here: the per-image counts
        // must add up to what the target counted on its own.
        Assert.AreEqual(target.BatchSizes.Sum(), attack.QueriesPerImage!.Sum(), "the attack's per-image counts");
        Assert.IsTrue(attack.QueriesPerImage!.All(q => q > 1));
        CollectionAssert.AreEqual(original, x, "the input was modified");
        int[] after = target.Inner.Labels(adv, N);
        int checkedImages = 0;
        double worst = 0;
        for (int i = 0; i < N; i++)
        {
            Assert.AreNotEqual(y[i], after[i], $"image {i} kept its label");
            (double exact, bool inside) = Exact(w, b, x.AsSpan(i * D, D));
            double l2 = Distortion.Of(x.AsSpan(i * D, D), adv.AsSpan(i * D, D)).L2;
            Assert.IsGreaterThanOrEqualTo(exact * (1 - 1e-4), l2, $"image {i}: closer than the boundary ({l2} < {exact})");
            if (inside)
            {
                checkedImages++;
                worst = Math.Max(worst, l2 / exact);
                Assert.IsLessThanOrEqualTo(exact * 1.10, l2, $"image {i}: L2 {l2:F4} vs minimal {exact:F4}");
            }
        }
        Assert.IsGreaterThanOrEqualTo(N / 2, checkedImages, $"only {checkedImages} of {N} projections inside the box");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name}: {checkedImages}/{N} checked, worst L2 / minimal {worst:F4}, {target.Queries / (double)N:F0} queries per image"));
        Assert.AreEqual(target.Queries, target.BatchSizes.Sum(), "the base class's count equals the images the target was asked about");
    }

    [TestMethod]
    [DataRow("boundary")]
    [DataRow("geoda")]
    public void ASeedRepeatsExactlyAndTheQueryCountWithIt(string name)
    {
        using var target = new TorchTarget(LinearModel.Random(3, D, 5, out _, out _));
        (float[] x, int[] y) = LinearModel.Inputs(target, N, 2);
        Attack Short() => Make(name, ("max_iter", "20"));
        long q0 = target.Queries;
        float[] a = Short().Generate(target, x, y, N, seed: 4);
        long q1 = target.Queries;
        float[] b2 = Short().Generate(target, x, y, N, seed: 4);
        long q2 = target.Queries;
        float[] c = Short().Generate(target, x, y, N, seed: 5);
        CollectionAssert.AreEqual(a, b2);
        Assert.AreEqual(q1 - q0, q2 - q1, "the same seed asks the same number of queries");
        CollectionAssert.AreNotEqual(a, c);
    }

    [TestMethod]
    public void GeoDAsNoiseLivesInTheLowFrequencyDctSubspaceWithUnitVarianceCoefficients()
    {
        const int res = 8, channels = 2, sub = 3, draws = 2000;
        var rng = new Random(3);
        double Basis(int p, int u) => Math.Sqrt((u == 0 ? 1.0 : 2.0) / res) * Math.Cos((((2 * p) + 1) * u * Math.PI) / (2.0 * res));
        var variance = new double[sub * sub];
        for (int d = 0; d < draws; d++)
        {
            double[] noise = Attacks.GeoDA.SubspaceNoise(res, channels, sub, rng);
            for (int c = 0; c < channels; c++)
            {
                for (int u = 0; u < res; u++)
                {
                    for (int v = 0; v < res; v++)
                    {
                        double coef = 0;
                        for (int py = 0; py < res; py++)
                        {
                            for (int px = 0; px < res; px++)
                            {
                                coef += noise[(((py * res) + px) * channels) + c] * Basis(px, u) * Basis(py, v);
                            }
                        }
                        if (u >= sub || v >= sub)
                        {
                            Assert.AreEqual(0.0, coef, 1e-9, $"frequency ({u}, {v}) outside the subspace");
                        }
                        else if (c == 0)
                        {
                            variance[(u * sub) + v] += coef * coef / draws;
                        }
                    }
                }
            }
        }
        // With N = res the basis is orthonormal, so the kept coefficients are the iid normal draws themselves.
        foreach (double v in variance)
        {
            Assert.AreEqual(1.0, v, 0.12, "coefficient variance");
        }
    }
}
