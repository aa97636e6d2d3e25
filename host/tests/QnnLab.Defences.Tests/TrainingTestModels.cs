using QnnLab.Data;
using QnnLab.Model;
using QnnLab.TestSupport;
using Tensor = QnnLab.Model.Tensor;

namespace QnnLab.Defences.Tests;

/// <summary>A tiny CIFAR-shaped CNN and small CIFAR-10 subsets for the training tests (fast on two cores).</summary>
internal static class TrainingTestModels
{
    public static ImageSet Train(int n) => Cifar10.ReadBatch(TestData.Require("cifar10/cifar-10-batches-bin/data_batch_1.bin"), n);

    /// <summary>Held-out images: the test batch, never trained on.</summary>
    public static ImageSet HeldOut(int n) => Cifar10.ReadBatch(TestData.Require("cifar10/cifar-10-batches-bin/test_batch.bin"), n);

    /// <summary>
    /// 32x32x3 (pixels / 255) -> conv 3x3/2 (8, relu) -> conv 3x3/2 (16, relu) -> avg pool 2x2 -> reshape 256 -> fc 10
    /// -> softmax, He-uniform weights from <paramref name="seed"/>.
    /// </summary>
    public static QnnModel TinyCnn(int seed, int classes = 10)
    {
        var rng = new Random(seed);
        float[] Uniform(int count, int fanIn)
        {
            double limit = Math.Sqrt(6.0 / fanIn);
            return [.. Enumerable.Range(0, count).Select(_ => (float)(((rng.NextDouble() * 2) - 1) * limit))];
        }
        var m = new QnnModel { Name = "tiny-cnn", Preprocessing = InputPreprocessing.UnitRange };
        int x = m.AddTensor(new Tensor("input", ElementType.Float32, [1, 32, 32, 3]));
        int w1 = m.AddTensor(Tensor.FromArray("conv1/w", ElementType.Float32, [8, 3, 3, 3], Uniform(8 * 27, 27)));
        int b1 = m.AddTensor(Tensor.FromArray("conv1/b", ElementType.Float32, [8], new float[8]));
        int c1 = m.AddTensor(new Tensor("conv1", ElementType.Float32, [1, 16, 16, 8]));
        int w2 = m.AddTensor(Tensor.FromArray("conv2/w", ElementType.Float32, [16, 3, 3, 8], Uniform(16 * 72, 72)));
        int b2 = m.AddTensor(Tensor.FromArray("conv2/b", ElementType.Float32, [16], new float[16]));
        int c2 = m.AddTensor(new Tensor("conv2", ElementType.Float32, [1, 8, 8, 16]));
        int p = m.AddTensor(new Tensor("pool", ElementType.Float32, [1, 4, 4, 16]));
        int shape = m.AddTensor(Tensor.FromArray("shape", ElementType.Int32, [2], new[] { 1, 256 }));
        int r = m.AddTensor(new Tensor("flat", ElementType.Float32, [1, 256]));
        int fw = m.AddTensor(Tensor.FromArray("fc/w", ElementType.Float32, [classes, 256], Uniform(classes * 256, 256)));
        int fb = m.AddTensor(Tensor.FromArray("fc/b", ElementType.Float32, [classes], new float[classes]));
        int logits = m.AddTensor(new Tensor("logits", ElementType.Float32, [1, classes]));
        int prob = m.AddTensor(new Tensor("prob", ElementType.Float32, [1, classes]));
        m.Operators.Add(new Operator(OpKind.Conv2D, [x, w1, b1], [c1], new ConvOptions(Padding.Same, 2, 2, 1, 1, Activation.Relu)));
        m.Operators.Add(new Operator(OpKind.Conv2D, [c1, w2, b2], [c2], new ConvOptions(Padding.Same, 2, 2, 1, 1, Activation.Relu)));
        m.Operators.Add(new Operator(OpKind.AveragePool2D, [c2], [p], new PoolOptions(Padding.Valid, 2, 2, 2, 2, Activation.None)));
        m.Operators.Add(new Operator(OpKind.Reshape, [p, shape], [r], new ReshapeOptions([1, 256])));
        m.Operators.Add(new Operator(OpKind.FullyConnected, [r, fw, fb], [logits], new FullyConnectedOptions(Activation.None)));
        m.Operators.Add(new Operator(OpKind.Softmax, [logits], [prob], new SoftmaxOptions(1f)));
        m.Inputs = [x];
        m.Outputs = [prob];
        return m;
    }
}
