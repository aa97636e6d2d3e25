using QnnLab.Attacks.Attacks;

namespace QnnLab.Attacks.Tests;

/// <summary>EAD against the closed-form minimal L1 distance of a linear boundary, and its shrinkage-thresholding.</summary>
[TestClass]
public sealed class ElasticNetTests
{
    [TestMethod]
    public void EadWithTheL1RuleReachesTheAnalyticMinimalL1DistanceOfALinearBoundary()
    {
        const int n = 8;
        (var target, float[] x, int[] y, float[] diff, float[] margin) = CarliniWagnerTests.TwoClass(n, 23);
        using (target)
        {
            double maxW = diff.Max(v => Math.Abs(v));
            Attack attack = CarliniWagnerTests.Make("ead", ("decision_rule", "L1"), ("beta", "0.01"), ("max_iter", "300"),
                ("binary_search_steps", "12"), ("initial_const", "0.1"), ("learning_rate", "0.01"));
            float[] adv = attack.Generate(target, x, y, n, 0);
            int[] labels = target.Labels(adv, n);
            for (int i = 0; i < n; i++)
            {
                double optimum = margin[i] / maxW;
                double l1 = CarliniWagnerTests.Distance(adv, x, i, 1);
                Assert.AreNotEqual(y[i], labels[i], $"image {i} not adversarial");
                Assert.IsGreaterThanOrEqualTo(optimum * 0.999, l1, $"image {i}: below the analytic minimum");
                Assert.IsLessThanOrEqualTo(optimum * 1.05, l1, $"image {i}: L1 {l1:F5} vs minimum {optimum:F5}");
            }
        }
    }

    [TestMethod]
    public void ShrinkageThresholdingMovesTowardsTheOriginalByBetaAndStaysInTheBox()
    {
        using var scope = TorchSharp.torch.NewDisposeScope();
        var x = TorchSharp.torch.tensor(new float[] { 0.5f, 0.5f, 0.5f, 0.95f, 0.05f });
        var z = TorchSharp.torch.tensor(new float[] { 0.7f, 0.505f, 0.3f, 1.2f, -0.3f });
        float[] s = ElasticNet.Shrink(z, x, 0.01).data<float>().ToArray();
        float[] expected = [0.69f, 0.5f, 0.31f, 1f, 0f];
        for (int i = 0; i < s.Length; i++)
        {
            Assert.AreEqual(expected[i], s[i], 1e-6, $"value {i}");
        }
    }

    [TestMethod]
    public void AnUnknownDecisionRuleIsRefused()
    {
        (var target, float[] x, int[] y, _, _) = CarliniWagnerTests.TwoClass(1, 1);
        using (target)
        {
            var e = Assert.ThrowsExactly<ArgumentException>(() => CarliniWagnerTests.Make("ead", ("decision_rule", "L0")).Generate(target, x, y, 1, 0));
            StringAssert.Contains(e.Message, "EN, L1 or L2");
        }
    }
}
