using QnnLab.Attacks.Targets;

namespace QnnLab.Attacks.Tests;

/// <summary>The float target's score queries in passes of bounded size (large query batches on big models).</summary>
[TestClass]
public sealed class TorchTargetTests
{
    [TestMethod]
    public void ScoresOfABatchSplitIntoBoundedPassesEqualOnePassAndCountEveryQuery()
    {
        const int D = 48, N = 10;
        using var whole = new TorchTarget(LinearModel.Random(4, D, 5, out _, out _));
        // 3 images a pass: passes of 3, 3, 3 and 1
        using var split = new TorchTarget(LinearModel.Random(4, D, 5, out _, out _)) { MaxValuesPerPass = (3 * D) + 7 };
        (float[] x, _) = LinearModel.Inputs(whole, N, 11);
        float[] expected = whole.Scores(x, N), actual = split.Scores(x, N);
        Assert.HasCount(N * 4, actual);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.AreEqual(expected[i], actual[i], 1e-6f, $"image {i / 4} class {i % 4}");
        }
        Assert.AreEqual(N, split.Queries, "one query per image, however many passes");
    }
}
