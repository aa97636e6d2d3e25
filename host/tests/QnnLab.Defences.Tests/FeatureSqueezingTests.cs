using Microsoft.VisualStudio.TestTools.UnitTesting;
using QnnLab.Attacks.Targets;
using QnnLab.Data;
using QnnLab.Defences;
using QnnLab.Hil;
using QnnLab.Inference;
using QnnLab.Model;
using QnnLab.TestSupport;

namespace QnnLab.Defences.Tests;

[TestClass]
public sealed class FeatureSqueezingTests
{
    private static string Int8Model => TestData.Require("paper-models/vanilla/cifar_resnet_int8.tflite");
    private static string Int16Model => TestData.Require("paper-models/vanilla/cifar_resnet_int16.tflite");
    private static string TestBatch => TestData.Require("cifar10/cifar-10-batches-bin/test_batch.bin");

    [TestMethod]
    public void Threshold_FlagsAtMostTheFprShare_AndNoSmallerScoreWould()
    {
        double[] ramp = [.. Enumerable.Range(0, 100).Select(i => (double)i)];
        Assert.AreEqual(94.0, FeatureSqueezing.Threshold(ramp, 0.05), "scores 95..99 (5 of 100) lie above 94");
        // ties: 18 zeros and two 7s: flagging one of the 7s alone is impossible, so neither is flagged
        double[] ties = [.. Enumerable.Repeat(0.0, 18), 7, 7];
        Assert.AreEqual(7.0, FeatureSqueezing.Threshold(ties, 0.05));
        var rng = new Random(3);
        for (int trial = 0; trial < 200; trial++)
        {
            int n = rng.Next(1, 300);
            double fpr = rng.NextDouble() * 0.5 + 0.001;
            double[] s = [.. Enumerable.Range(0, n).Select(_ => (double)rng.Next(0, 40))];
            double t = FeatureSqueezing.Threshold(s, fpr);
            int allowed = (int)Math.Floor(fpr * n + 1e-9);
            Assert.IsTrue(s.Count(v => v > t) <= allowed, $"n {n} fpr {fpr}: {s.Count(v => v > t)} flagged, {allowed} allowed");
            CollectionAssert.Contains(s, t);
            foreach (double smaller in s.Where(v => v < t).Distinct())
            {
                Assert.IsTrue(s.Count(v => v > smaller) > allowed, $"threshold {t} is not the smallest: {smaller} also keeps the rate");
            }
        }
    }

    [TestMethod]
    public void FloatBitDepth_IsArtsRintOfTheScaledInput()
    {
        float[] x = [0f, 0.49f, 0.5f, 0.51f, 1f, -0.2f, 1.3f];
        CollectionAssert.AreEqual(new float[] { 0, 0, 0, 1, 1, 0, 1 }, FloatSqueezedModel.BitDepth(x, 1), "1 bit: rint(0.5) is 0 (half to even)");
        float[] four = FloatSqueezedModel.BitDepth([0.5f, 0.1f, 0.3f], 4);
        Assert.AreEqual(8f / 15, four[0], 1e-7, "4 bits: 0.5 x 15 = 7.5 rounds to 8");
        Assert.AreEqual(2f / 15, four[1], 1e-7);
        Assert.AreEqual(5f / 15, four[2], 1e-7, "float32 0.3 is 0.3000000119, so x 15 lies above 4.5 (as in numpy on float32)");
        Assert.AreEqual(2f / 3, FloatSqueezedModel.BitDepth([0.5f], 2)[0], 1e-7, "2 bits: 0.5 x 3 = 1.5 rounds to 2 (half to even)");
    }

    [TestMethod]
    public void Rates_CountAHandWorkedSet()
    {
        SqueezeVerdict[] v =
        [
            new(1, 1, 1, 1, 0),   // right, not flagged
            new(2, 1, 2, 1, 9),   // wrong, squeezing repairs it, flagged
            new(2, 2, 1, 1, 3),   // wrong, both-squeezed repairs it, not flagged
            new(0, 0, 0, 0, 12),  // right, flagged (a false positive if clean)
        ];
        SqueezeRates r = SqueezeRates.Of(v, [1, 1, 1, 0], threshold: 5);
        Assert.AreEqual(4, r.N);
        Assert.AreEqual(0.5, r.Accuracy);
        Assert.AreEqual(1.0, r.SqueezedAccuracy);
        Assert.AreEqual(0.75, r.BitDepthAccuracy);
        Assert.AreEqual(0.75, r.MedianAccuracy);
        Assert.AreEqual(0.5, r.Flagged);
        Assert.AreEqual(2, r.Misclassified);
        Assert.AreEqual(0.5, r.DetectedMisclassified);
        Assert.IsNull(SqueezeRates.Of([new(1, 1, 1, 1, 0)], [1], 5).DetectedMisclassified, "no misclassified example: no detection rate");
    }

    /// <summary>
    /// The integer defence is the board's computation: every verdict (labels with one squeezer and undefended, the score)
    /// equals what <see cref="EngineHilModel.ExpectTensor"/> says a board answers, and the undefended label is the
    /// attack target's, on real images moved off the pixel grid (what an int16 adversarial example is).
    /// </summary>
    [TestMethod]
    [DataRow("int8")]
    [DataRow("int16")]
    public void IntegerVerdicts_AreTheBoardReference(string precision)
    {
        string path = precision == "int8" ? Int8Model : Int16Model;
        const int n = 12;
        ImageSet set = Cifar10.ReadBatch(TestBatch, n);
        float[] x = set.UnitImages(n);
        var rng = new Random(5);
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = Math.Clamp(x[i] + (float)((rng.NextDouble() - 0.5) * 0.02), 0f, 1f);
        }
        var fs = new FeatureSqueezing(4, 2);
        QnnModel model = ModelFiles.Load(path);
        using var squeezed = new IntegerSqueezedModel(model, fs);
        using var hil = new EngineHilModel(path);
        using var target = new IntegerTarget(model);
        SqueezeVerdict[] v = SqueezeEvaluation.Verdicts(squeezed, x, n);
        int[] labels = target.Labels(x, n);
        int size = squeezed.ImageSize;
        for (int i = 0; i < n; i++)
        {
            short[] q = squeezed.Tensor(x.AsSpan(i * size, size));
            Assert.AreEqual(labels[i], v[i].Label, $"image {i}: undefended label");
            Assert.AreEqual(hil.ExpectTensor(q, new SqueezeSettings(Bits: 4)).Label, v[i].BitDepthLabel, $"image {i}: bit depth");
            Assert.AreEqual(hil.ExpectTensor(q, new SqueezeSettings(Median: 2)).Label, v[i].MedianLabel, $"image {i}: median");
            HostExpectation det = hil.ExpectTensor(q, new SqueezeSettings(4, 2, 1.0));
            Assert.AreEqual(det.DetectorScore, (int)v[i].Score, $"image {i}: detector score");
            Assert.AreEqual(det.Label, v[i].Label);
            int[] both = squeezed.Outputs(squeezed.SqueezeMedian(squeezed.SqueezeBitDepth(q)));
            Assert.AreEqual(LogitBytes.ArgMax(both), v[i].BothLabel, $"image {i}: both squeezers");
        }
        Assert.IsTrue(v.Any(z => z.Score > 0), "the squeezers change some output, else the score test is empty");
    }

    /// <summary>The sim board runs the defence on INPUT_TENSOR inputs: every answer equals the host engine's.</summary>
    [TestMethod]
    [DataRow("int8")]
    [DataRow("int16")]
    public async Task SimBoard_AnswersEqualTheHost(string precision)
    {
        string path = precision == "int8" ? Int8Model : Int16Model;
        const int n = 6;
        ImageSet set = Cifar10.ReadBatch(TestBatch, n);
        float[] x = set.UnitImages(n);
        for (int i = 0; i < x.Length; i += 7)
        {
            x[i] = Math.Clamp(x[i] + 0.0031f, 0f, 1f); // off the pixel grid for int16
        }
        var fs = new FeatureSqueezing(4, 2);
        using var host = new IntegerSqueezedModel(ModelFiles.Load(path), fs);
        SqueezeVerdict[] expected = SqueezeEvaluation.Verdicts(host, x, n);
        int threshold = (int)expected.Select(v => v.Score).Order().ElementAt(n / 2);
        BoardSqueezeResult r = await BoardSqueezeCheck.RunAsync(BoardTarget.Sim, path, host, x, n, threshold,
            new BoardLaunchOptions { RepoRoot = TestData.RepoRoot, Baud = 0 });
        Assert.AreEqual(3L * n, r.Compared);
        Assert.AreEqual(0L, r.Mismatches, "board answers (logits, label, score, flag) differ from the host engine");
        for (int i = 0; i < n; i++)
        {
            Assert.AreEqual(expected[i].Label, r.Verdicts[i].Label);
            Assert.AreEqual(expected[i].BitDepthLabel, r.Verdicts[i].BitDepthLabel);
            Assert.AreEqual(expected[i].MedianLabel, r.Verdicts[i].MedianLabel);
            Assert.AreEqual(expected[i].Score, r.Verdicts[i].Score);
            Assert.AreEqual(expected[i] with { BothLabel = -1 }, r.HostVerdicts[i], "the check's host verdicts are the defence's");
        }
        SqueezeRates board = SqueezeRates.Of(r.Verdicts, set.Labels, threshold), hostRates = SqueezeRates.Of(expected, set.Labels, threshold);
        Assert.AreEqual(hostRates.Flagged, board.Flagged);
        Assert.AreEqual(hostRates.BitDepthAccuracy, board.BitDepthAccuracy);
    }

    /// <summary>The float defence: each label is the float model's on that squeezed input, the score an L1 of probabilities.</summary>
    [TestMethod]
    public void FloatVerdicts_AreTheModelOnEachSqueezedInput()
    {
        const int n = 8;
        ImageSet set = Cifar10.ReadBatch(TestBatch, n);
        float[] x = set.UnitImages(n);
        QnnModel model = ModelFiles.Load(TestData.Require("paper-models/vanilla/cifar_resnet_float.h5"));
        var fs = new FeatureSqueezing(4, 2);
        using var squeezed = SqueezedModel.Open(model, fs);
        using var target = new TorchTarget(model);
        SqueezeVerdict[] v = SqueezeEvaluation.Verdicts(squeezed, x, n);
        float[] bits = FloatSqueezedModel.BitDepth(x, 4);
        int size = squeezed.ImageSize;
        float[] median = new float[x.Length];
        for (int i = 0; i < n; i++)
        {
            HostSqueeze.Median<float>(x.AsSpan(i * size, size), 32, 32, 3, 2).CopyTo(median, i * size);
        }
        CollectionAssert.AreEqual(target.Labels(x, n), v.Select(z => z.Label).ToArray());
        CollectionAssert.AreEqual(target.Labels(bits, n), v.Select(z => z.BitDepthLabel).ToArray());
        CollectionAssert.AreEqual(target.Labels(median, n), v.Select(z => z.MedianLabel).ToArray());
        float[] p = target.Scores(x, n), pb = target.Scores(bits, n), pm = target.Scores(median, n);
        for (int i = 0; i < n; i++)
        {
            double l1b = 0, l1m = 0;
            for (int c = 0; c < 10; c++)
            {
                l1b += Math.Abs(p[(i * 10) + c] - pb[(i * 10) + c]);
                l1m += Math.Abs(p[(i * 10) + c] - pm[(i * 10) + c]);
            }
            Assert.AreEqual(Math.Max(l1b, l1m), v[i].Score, 1e-5, $"image {i}");
            Assert.IsTrue(v[i].Score is >= 0 and <= 2, "an L1 of two probability vectors lies in [0, 2]");
        }
    }

    /// <summary>A computed result survives the store being closed and is not computed again (a rerun resumes).</summary>
    [TestMethod]
    public void Store_KeepsResultsAcrossReopen()
    {
        string dir = TestData.TempDir();
        try
        {
            string path = Path.Combine(dir, "attacks.sqlite");
            var rates = new SqueezeRates(10, 0.5, 0.6, 0.7, 0.8, 0.1, 5, 0.2);
            int computed = 0;
            using (var store = new DefenceStore(path))
            {
                Assert.AreEqual(rates, store.GetOrAdd("k", () => { computed++; return rates; }));
                Assert.IsNull(store.Get<SqueezeRates>("other"));
            }
            using (var store = new DefenceStore(path))
            {
                Assert.AreEqual(rates, store.GetOrAdd<SqueezeRates>("k", () => { computed++; return rates with { N = 99 }; }));
            }
            Assert.AreEqual(1, computed);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            TestData.RemoveTempDir(dir);
        }
    }

    [TestMethod]
    public void Settings_RefuseOutOfRange()
    {
        Assert.ThrowsExactly<ArgumentException>(() => new FeatureSqueezing(0, 2).Validated());
        Assert.ThrowsExactly<ArgumentException>(() => new FeatureSqueezing(4, 8).Validated());
        Assert.ThrowsExactly<ArgumentException>(() => new FeatureSqueezing(4, 2, 1.0).Validated());
        Assert.AreEqual(new FeatureSqueezing(8, 6), FeatureSqueezing.Preset("vww"));
        Assert.ThrowsExactly<ArgumentException>(() => FeatureSqueezing.Preset("mnist"));
    }
}
