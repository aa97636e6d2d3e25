using QnnLab.Model;

namespace QnnLab.Torch.Tests;

[TestClass]
public sealed class BenchmarkTests
{
    [TestMethod]
    public void BenchmarkCountsWholeBatchesAndRestoresTheThreadSetting()
    {
        var g = new GraphBuilder();
        int input = g.Act("x", 1, 4, 4, 1);
        int output = g.Act("y", 1, 2, 2, 1);
        g.Op(OpKind.AveragePool2D, [input], output, new PoolOptions(Padding.Valid, 2, 2, 2, 2, Activation.None));
        QnnModel model = g.Finish(input, output);
        int threadsBefore = TorchRuntime.Threads;

        FloatBenchmarkResult r = FloatEngineBenchmark.Run(model, batch: 8, seconds: 0.05);

        Assert.AreEqual(8, r.Batch);
        Assert.AreEqual(1, r.Threads);
        Assert.IsGreaterThanOrEqualTo(8, r.Images);
        Assert.AreEqual(0, r.Images % 8, "only whole batches are counted");
        Assert.IsGreaterThanOrEqualTo(0.05, r.Seconds);
        Assert.AreEqual(r.Images / r.Seconds, r.ImagesPerSecond, 1e-9);
        Assert.AreEqual(threadsBefore, TorchRuntime.Threads);
    }
}
