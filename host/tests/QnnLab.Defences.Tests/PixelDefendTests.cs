using Microsoft.VisualStudio.TestTools.UnitTesting;
using QnnLab.Data;
using QnnLab.Defences.Generative;
using QnnLab.Defences.Training;
using QnnLab.TestSupport;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace QnnLab.Defences.Tests;

[TestClass]
public sealed class PixelDefendTests
{
    public TestContext TestContext { get; set; } = null!;

    private static byte[] RandomBytes(int n, int seed)
    {
        var b = new byte[n];
        new Random(seed).NextBytes(b);
        return b;
    }

    /// <summary>Logits [C, 256] of pixel (i, j) of one 8-bit image.</summary>
    private static float[] PixelLogits(PixelCnn m, byte[] image, int i, int j)
    {
        PixelCnnShape s = m.Shape;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor x = tensor(image.Select(v => v / 255f).ToArray(), [1, s.Height, s.Width, s.Channels]);
        return m.forward(x).select(4, j).select(3, i).contiguous().data<float>().ToArray();
    }

    /// <summary>
    /// The masks make the model autoregressive in raster order, R before G before B: a pixel's distribution does not
    /// move when any later pixel changes, nor when its own last channel does; its own first channel moves the later
    /// channels' logits but not its own; an earlier pixel within reach moves them all. The past logits ignore the
    /// pixel itself entirely.
    /// </summary>
    [TestMethod]
    public void PixelCnn_DependsOnlyOnEarlierPixelsAndEarlierChannels()
    {
        using var m = new PixelCnn(new PixelCnnShape(10, 10, 3, 2, 8), seed: 3);
        m.eval();
        byte[] image = RandomBytes(300, 1);
        const int i = 5, j = 4, levels = PixelCnnShape.Levels;
        float[] reference = PixelLogits(m, image, i, j);
        byte[] Flip(int pixel, params int[] channels)
        {
            byte[] copy = (byte[])image.Clone();
            foreach (int ch in channels)
            {
                copy[(pixel * 3) + ch] ^= 0xA5;
            }
            return copy;
        }
        for (int p = (i * 10) + j + 1; p < 100; p++)
        {
            CollectionAssert.AreEqual(reference, PixelLogits(m, Flip(p, 0, 1, 2), i, j), $"pixel {p / 10},{p % 10} comes after {i},{j} but changed its distribution");
        }
        int self = (i * 10) + j;
        CollectionAssert.AreEqual(reference, PixelLogits(m, Flip(self, 2), i, j), "B is the last channel: nothing depends on it");
        float[] redChanged = PixelLogits(m, Flip(self, 0), i, j);
        CollectionAssert.AreEqual(reference[..levels], redChanged[..levels], "R does not see itself");
        CollectionAssert.AreNotEqual(reference[levels..], redChanged[levels..], "G and B see the pixel's R");
        float[] past = Past(m, image, i, j);
        CollectionAssert.AreEqual(past, Past(m, Flip(self, 0, 1, 2), i, j), "the past logits ignore the pixel itself");
        // forward = past + the within-pixel term the purification adds (PixelDefend.Choose's formula)
        float[] w = m.WithinPixelWeights();
        for (int ch = 0; ch < 3; ch++)
        {
            for (int v = 0; v < levels; v++)
            {
                float expected = past[(ch * levels) + v];
                for (int from = 0; from < ch; from++)
                {
                    expected += w[(((ch * levels) + v) * 3) + from] * ((2f * image[(self * 3) + from] / 255f) - 1f);
                }
                Assert.AreEqual(expected, reference[(ch * levels) + v], 1e-4f, $"channel {ch} level {v}");
            }
        }
        foreach ((int r, int c) in new[] { (i, j - 1), (i - 1, j + 1), (i - 2, j) })
        {
            byte[] earlier = (byte[])image.Clone();
            earlier[(((r * 10) + c) * 3) + 1] ^= 0xFF;
            CollectionAssert.AreNotEqual(reference, PixelLogits(m, earlier, i, j), $"pixel {r},{c} comes before {i},{j} and is within reach");
        }
    }

    private static float[] Past(PixelCnn m, byte[] image, int i, int j)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor x = tensor(image.Select(v => v / 255f).ToArray(), [1, m.Shape.Height, m.Shape.Width, m.Shape.Channels]);
        return m.PastLogits(x).select(4, j).select(3, i).contiguous().data<float>().ToArray();
    }

    /// <summary>
    /// The windowed purification (each forward pass on the Reach rows and columns around the pixel) gives exactly the
    /// images of the whole-image one, on an image larger than the window; every sub-pixel stays within eps of the
    /// input, and eps 0 returns the input.
    /// </summary>
    [TestMethod]
    public void Purify_WindowedEqualsWholeImage_AndStaysWithinEps()
    {
        var shape = new PixelCnnShape(14, 13, 3, 2, 8); // Reach 5: windows of 6 rows x 11 columns
        using var m = new PixelCnn(shape, seed: 7);
        byte[] images = RandomBytes(3 * 14 * 13 * 3, 2);
        var defence = new PixelDefend(m, new PixelDefend.Options { Eps = 20, BatchSize = 2 });
        byte[] windowed = defence.Purify(images, 3);
        byte[] whole = defence.PurifyWholeImage(images, 3);
        CollectionAssert.AreEqual(whole, windowed);
        int changed = 0;
        for (int k = 0; k < images.Length; k++)
        {
            Assert.IsLessThanOrEqualTo(20, Math.Abs(windowed[k] - images[k]), $"sub-pixel {k}");
            changed += windowed[k] != images[k] ? 1 : 0;
        }
        Assert.IsGreaterThan(images.Length / 2, changed, "an untrained model still moves most sub-pixels to its favourite values");
        CollectionAssert.AreEqual(images, new PixelDefend(m, new PixelDefend.Options { Eps = 0 }).Purify(images, 3));
        Assert.IsLessThan(m.Macs(14, 13) * 14 * 13, defence.MacsPerImage(), "the windows cost less than whole-image passes");
    }

    [TestMethod]
    public void ToBytes_RoundsHalfAwayFromZeroAndClips()
    {
        CollectionAssert.AreEqual(new byte[] { 0, 0, 1, 128, 255, 255 }, PixelDefend.ToBytes([-0.1f, 0.001f, 0.5f / 255, 0.5f + (0.5f / 255), 1f, 1.2f]));
    }

    [TestMethod]
    public void Options_RejectAnEpsOutsideTheByteRange()
    {
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new PixelDefend.Options { Eps = 256 }.Validate());
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new PixelDefend.Options { Eps = -1 }.Validate());
        Assert.AreEqual(38, PixelDefend.Preset("cifar10").Eps, "Table 15");
        Assert.ThrowsExactly<ArgumentException>(() => PixelDefend.Preset("vww"));
    }

    /// <summary>
    /// Training on CIFAR-10 images lowers the negative log-likelihood from the untrained model's ~8 bits/dim; a run
    /// cancelled mid-epoch and resumed ends with exactly the weights of an uninterrupted run, and the saved model
    /// loads back with the same shape.
    /// </summary>
    [TestMethod]
    public void Training_LowersBitsPerDim_AndAResumedRunEqualsAnUninterruptedOne()
    {
        ImageSet train = TrainingTestModels.Train(96);
        var p = new PixelCnnTrainingParameters { NbEpochs = 3, BatchSize = 16, Layers = 1, Channels = 8, LearningRate = 0.03, Seed = 4, CheckpointEvery = 2 };
        string dir = TestData.TempDir();
        try
        {
            string straight = Path.Combine(dir, "straight"), resumed = Path.Combine(dir, "resumed");
            PixelCnnInfo info = PixelCnnTrainer.Train(train, p, new TrainingRun(straight), "test");
            double[] bits = [.. File.ReadAllLines(Path.Combine(straight, "training-log.csv")).Skip(1).Select(l => double.Parse(l.Split(',')[3], System.Globalization.CultureInfo.InvariantCulture))];
            TestContext.WriteLine($"bits/dim per epoch: {string.Join(", ", bits)}");
            Assert.HasCount(3, bits);
            Assert.IsLessThan(bits[0] - 0.3, bits[2], "the third epoch's likelihood is clearly better than the first's");
            Assert.AreEqual(bits[2], info.BitsPerDim);

            using var cts = new CancellationTokenSource();
            var first = new TrainingRun(resumed) { Cancel = cts.Token, OnStep = (e, s) => { if (e == 2 && s == 3) { cts.Cancel(); } } };
            Assert.ThrowsExactly<OperationCanceledException>(() => PixelCnnTrainer.Train(train, p, first, "test"));
            PixelCnnTrainer.Train(train, p, new TrainingRun(resumed) { Resume = true }, "test");

            (PixelCnn a, PixelCnnInfo ia, _) = PixelCnnInfo.Load(straight);
            (PixelCnn b, _, _) = PixelCnnInfo.Load(resumed);
            using (a)
            using (b)
            {
                Assert.AreEqual(info.Shape, ia.Shape);
                foreach ((Tensor x, Tensor y) in a.parameters().Zip(b.parameters()))
                {
                    CollectionAssert.AreEqual(x.data<float>().ToArray(), y.data<float>().ToArray(), "resumed weights differ");
                }
            }
            string log = File.ReadAllText(Path.Combine(resumed, "training-log.csv"));
            Assert.AreEqual(4, log.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length, log);
        }
        finally
        {
            TestData.RemoveTempDir(dir);
        }
    }

    [TestMethod]
    public void Load_NamesTheFolderWithoutAModel()
    {
        string dir = TestData.TempDir();
        try
        {
            var e = Assert.ThrowsExactly<FileNotFoundException>(() => PixelCnnInfo.Load(dir));
            StringAssert.Contains(e.Message, "defend pixeldefend train");
        }
        finally
        {
            TestData.RemoveTempDir(dir);
        }
    }
}
