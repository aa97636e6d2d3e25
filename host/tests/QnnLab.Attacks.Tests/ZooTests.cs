using QnnLab.Attacks.Attacks;
using QnnLab.Attacks.Targets;
using TorchSharp;
using static TorchSharp.torch;

namespace QnnLab.Attacks.Tests;

/// <summary>ZOO on a linear softmax classifier: its finite-difference gradient against autograd, budgets and seeds.</summary>
[TestClass]
public sealed class ZooTests
{
    private const int N = 8, D = 48, Classes = 4;

    [TestMethod]
    public void TheSymmetricDifferenceEqualsTheAnalyticGradientOfTheLoss()
    {
        using var target = new TorchTarget(LinearModel.Random(Classes, D, 17, out _, out _));
        (float[] x, int[] y) = LinearModel.Inputs(target, 1, 3);
        var rng = new Random(5);
        float[] adv = [.. x.Select(v => v + (float)((rng.NextDouble() - 0.5) * 0.02))];
        // h = 1e-3: with float32 scores, ART's 1e-4 leaves ~3e-4 of rounding per difference quotient
        const double c = 1.0, confidence = 0.5, h = 1e-3;
        int[] all = [.. Enumerable.Range(0, D)];
        float[][] probes = Zoo.Probes(adv, all, h);
        float[] scores = target.Scores(probes.SelectMany(p => p).ToArray(), probes.Length);
        double[] estimate = Zoo.Gradients(scores, Classes, probes, y[0], c, confidence, x, h);

        // autograd: c * relu(p_y - max_{j != y} p_j + confidence) through the model, plus d||adv - x||^2 = 2 (adv - x)
        using var scope = NewDisposeScope();
        Tensor a = tensor(adv, [1, 1, 1, D]);
        Tensor mask = zeros(1, Classes, dtype: ScalarType.Bool);
        mask[0, y[0]] = tensor(true);
        (Tensor g, _, _) = target.Gradient(a, logits =>
        {
            Tensor p = nn.functional.softmax(logits, 1);
            Tensor own = p.masked_select(mask);
            Tensor other = p.masked_fill(mask, -1).max(1).values;
            return (own - other + confidence).clamp_min(0) * c;
        });
        float[] analytic = g.data<float>().ToArray();
        double worst = 0;
        for (int j = 0; j < D; j++)
        {
            double expected = analytic[j] + (2 * (adv[j] - (double)x[j]));
            worst = Math.Max(worst, Math.Abs(estimate[j] - expected));
            Assert.AreEqual(expected, estimate[j], 1e-3, $"coordinate {j}");
        }
        Console.WriteLine($"worst |estimate - analytic| {worst:E2}");
    }

    [TestMethod]
    public void LowersAccuracyStaysInTheBoxAndSpendsItsExactBudget()
    {
        using var target = new TorchTarget(LinearModel.Random(Classes, D, 4, out _, out _));
        (float[] x, int[] y) = LinearModel.Inputs(target, N, 8);
        float[] original = (float[])x.Clone();
        Attack zoo = AttackCatalog.Create("zoo");
        zoo.Parameters.Set("nb_parallel", "16");
        zoo.Parameters.Set("max_iter", "30");
        zoo.Parameters.Set("binary_search_steps", "3");
        zoo.Parameters.Set("initial_const", "10");
        zoo.Parameters.Set("learning_rate", "0.05");
        zoo.Parameters.Set("abort_early", "false");
        long q0 = target.Queries;
        float[] adv = zoo.Generate(target, x, y, N, seed: 2);
        Assert.AreEqual((long)N * 3 * 30 * ((2 * 16) + 1), target.Queries - q0, "2 nb_parallel + 1 queries per iteration, every iteration");
        CollectionAssert.AreEqual(Enumerable.Repeat(3L * 30 * ((2 * 16) + 1), N).ToArray(), zoo.QueriesPerImage);
        CollectionAssert.AreEqual(original, x, "the input was modified");
        Assert.IsTrue(adv.All(v => v is >= 0f and <= 1f));
        int robust = target.Labels(adv, N).Zip(y).Count(p => p.First == p.Second);
        Assert.IsLessThan(N / 2, robust, $"zoo left {robust} of {N} correct");

        float[] again = zoo.Generate(target, x, y, N, seed: 2);
        CollectionAssert.AreEqual(adv, again, "a seed repeats exactly");
    }
}
