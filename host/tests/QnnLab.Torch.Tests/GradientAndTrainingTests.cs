using QnnLab.Data;
using QnnLab.Model;
using TorchSharp;
using Padding = QnnLab.Model.Padding;

namespace QnnLab.Torch.Tests;

[TestClass]
public sealed class GradientAndTrainingTests
{
    /// <summary>conv 3x3 (SAME, no activation) -> avg pool -> flatten -> FC -> softmax; smooth everywhere.</summary>
    private static QnnModel SmoothClassifier(int seed, InputPreprocessing preprocessing)
    {
        var rng = new Random(seed);
        int h = 4, w = 4, c = 2, o = 3, classes = 3;
        var g = new GraphBuilder();
        g.Model.Preprocessing = preprocessing;
        int input = g.Act("x", 1, h, w, c);
        int t1 = g.Act("conv", 1, h, w, o);
        int t2 = g.Act("pool", 1, 2, 2, o);
        int t3 = g.Act("flat", 1, 12);
        int t4 = g.Act("logits", 1, classes);
        int t5 = g.Act("probs", 1, classes);
        g.Op(OpKind.Conv2D, [input, g.Const("w", [o, 3, 3, c], Reference.Random(rng, o * 9 * c, -1, 1)), g.Const("b", [o], Reference.Random(rng, o, -1, 1))], t1,
            new ConvOptions(Padding.Same, 1, 1, 1, 1, Activation.None));
        g.Op(OpKind.AveragePool2D, [t1], t2, new PoolOptions(Padding.Valid, 2, 2, 2, 2, Activation.None));
        g.Op(OpKind.Reshape, [t2], t3, new ReshapeOptions([1, 12]));
        g.Op(OpKind.FullyConnected, [t3, g.Const("fw", [classes, 12], Reference.Random(rng, classes * 12, -1, 1)), g.Const("fb", [classes], new float[classes])], t4,
            new FullyConnectedOptions(Activation.None));
        g.Op(OpKind.Softmax, [t4], t5, new SoftmaxOptions(1f));
        return g.Finish(input, t5);
    }

    [TestMethod]
    public void InputGradientMatchesCentralDifferencesInPixelUnits()
    {
        // Pixels/255 preprocessing: the gradient must come back in pixel units (scaled by 1/255).
        using var engine = new FloatEngine(SmoothClassifier(3, InputPreprocessing.UnitRange));
        var rng = new Random(5);
        int n = 2;
        float[] pixels = Reference.Random(rng, n * engine.ImageSize, 0, 255);
        int[] labels = [0, 2];
        GradientResult g = engine.InputGradient(pixels, n, labels);
        Assert.HasCount(n, g.Loss);

        double CrossEntropy(float[] p)
        {
            ForwardResult r = engine.Forward(p, n);
            double sum = 0;
            for (int i = 0; i < n; i++)
            {
                sum -= Math.Log(r.Probabilities[i * engine.Classes + labels[i]]);
            }
            return sum;
        }

        // The loss and its per-sample values agree with an independent evaluation.
        Assert.AreEqual(CrossEntropy(pixels), g.Loss.Sum(), 1e-4);
        const float eps = 2f; // pixels; the graph is affine up to the loss, so curvature is small
        int checkedCount = 0;
        for (int i = 0; i < pixels.Length; i += 3)
        {
            float[] plus = (float[])pixels.Clone();
            float[] minus = (float[])pixels.Clone();
            plus[i] += eps;
            minus[i] -= eps;
            double numeric = (CrossEntropy(plus) - CrossEntropy(minus)) / (2 * eps);
            Assert.AreEqual(numeric, g.Gradient[i], 2e-4 + 0.03 * Math.Abs(numeric), $"d loss / d pixel {i}");
            checkedCount++;
        }
        Assert.IsGreaterThan(20, checkedCount);
        Assert.IsTrue(g.Gradient.Any(v => Math.Abs(v) > 1e-3), "gradient is not trivially zero");
    }

    [TestMethod]
    public void CustomLossClosureGetsTheLogits()
    {
        // loss = logit[:,1] (a linear function of the pixels): its gradient equals the difference
        // quotient exactly, for any step.
        using var engine = new FloatEngine(SmoothClassifier(4, InputPreprocessing.Raw));
        var rng = new Random(6);
        float[] pixels = Reference.Random(rng, engine.ImageSize, 0, 1);
        GradientResult g = engine.InputGradient(pixels, 1, logits => logits.select(1, 1));
        ForwardResult r0 = engine.Forward(pixels, 1);
        Assert.AreEqual(r0.Logits[1], g.Loss[0], 1e-5);
        for (int i = 0; i < pixels.Length; i += 5)
        {
            float[] p = (float[])pixels.Clone();
            p[i] += 1f;
            double delta = engine.Forward(p, 1).Logits[1] - r0.Logits[1];
            Assert.AreEqual(delta, g.Gradient[i], 1e-4, $"pixel {i}");
        }
    }

    [TestMethod]
    public void TrainingReducesTheLossAndWritesBackAFloatModel()
    {
        // Two classes of 4x4x1 images: bright left half vs bright right half, plus noise.
        var rng = new Random(9);
        int count = 64;
        var labels = new int[count];
        var pixels = new byte[count * 16];
        for (int i = 0; i < count; i++)
        {
            labels[i] = i % 2;
            for (int y = 0; y < 4; y++)
                for (int x = 0; x < 4; x++)
                {
                    bool bright = (x < 2) == (labels[i] == 0);
                    pixels[i * 16 + y * 4 + x] = (byte)((bright ? 160 : 60) + rng.Next(-50, 50));
                }
        }
        var set = new ImageSet("halves", 4, 4, 1, labels, pixels);
        var g = new GraphBuilder();
        g.Model.Preprocessing = InputPreprocessing.UnitRange;
        int input = g.Act("x", 1, 4, 4, 1);
        int t1 = g.Act("conv", 1, 4, 4, 2);
        int t2 = g.Act("flat", 1, 32);
        int t3 = g.Act("logits", 1, 2);
        int t4 = g.Act("probs", 1, 2);
        // Small random start: the classes are not separated yet.
        g.Op(OpKind.Conv2D, [input, g.Const("w", [2, 3, 3, 1], Reference.Random(rng, 18, -0.1f, 0.1f)), g.Const("b", [2], new float[2])], t1,
            new ConvOptions(Padding.Same, 1, 1, 1, 1, Activation.Relu));
        g.Op(OpKind.Reshape, [t1], t2, new ReshapeOptions([1, 32]));
        g.Op(OpKind.FullyConnected, [t2, g.Const("fw", [2, 32], Reference.Random(rng, 64, -0.1f, 0.1f)), g.Const("fb", [2], new float[2])], t3,
            new FullyConnectedOptions(Activation.None));
        g.Op(OpKind.Softmax, [t3], t4, new SoftmaxOptions(1f));
        QnnModel model = g.Finish(input, t4);
        byte[] originalWeights = (byte[])model.Tensors[model.Operators[0].Inputs[1]].Data!.Clone();

        using var engine = new FloatEngine(model);
        int transformCalls = 0;
        TrainResult result = engine.Train(set, new TrainOptions
        {
            Epochs = 15,
            BatchSize = 16,
            LearningRate = 0.05,
            Seed = 1,
            InputTransform = (x, y) =>
            {
                transformCalls++;
                Assert.AreEqual(x.shape[0], y.shape[0]);
                return x; // the hook sees each batch; identity keeps the problem as is
            },
        });

        Assert.HasCount(15, result.Epochs);
        Assert.AreEqual(15 * 4, transformCalls, "one call per batch");
        Assert.IsLessThan(result.Epochs[0].MeanLoss * 0.5, result.FinalLoss, $"loss {result.Epochs[0].MeanLoss} -> {result.FinalLoss}");
        double accuracy = engine.Accuracy(set);
        Assert.IsGreaterThanOrEqualTo(0.95, accuracy);

        // Write-back: a fresh engine on the exported model reproduces the trained module; the
        // source model is untouched.
        QnnModel trained = engine.ExportFloatModel();
        CollectionAssert.AreEqual(originalWeights, model.Tensors[model.Operators[0].Inputs[1]].Data);
        using var reloaded = new FloatEngine(trained);
        float[] batch = engine.Pixels(set, 0, 8);
        Reference.AssertClose(engine.Forward(batch, 8).Logits, reloaded.Forward(batch, 8).Logits, 1e-5f, "reloaded logits");
        Assert.AreEqual(accuracy, reloaded.Accuracy(set));
    }

    [TestMethod]
    public void TrainingLeavesWeightsFrozenForInputGradients()
    {
        using var engine = new FloatEngine(SmoothClassifier(8, InputPreprocessing.Raw));
        Assert.IsTrue(engine.Module.parameters().All(p => !p.requires_grad));
        var set = new ImageSet("tiny", 4, 4, 2, [0, 1], values: Reference.Random(new Random(1), 64, 0, 255));
        engine.Train(set, new TrainOptions { Epochs = 1, BatchSize = 2 });
        Assert.IsTrue(engine.Module.parameters().All(p => !p.requires_grad));
        using var scope = torch.NewDisposeScope();
        float[] GradSnapshot() => engine.Module.parameters().SelectMany(p => p.grad is null ? [] : p.grad.data<float>().ToArray()).ToArray();
        float[] before = GradSnapshot();
        Assert.IsNotEmpty(before, "training left .grad behind, so a change would be visible");
        var (grad, _, _) = engine.InputGradient(torch.rand(2, 4, 4, 2), FloatEngine.CrossEntropy(torch.tensor(new long[] { 0, 1 })));
        CollectionAssert.AreEqual(before, GradSnapshot(), "input gradients do not accumulate into parameter .grad");
        CollectionAssert.AreEqual(new long[] { 2, 4, 4, 2 }, grad.shape);
    }
}
