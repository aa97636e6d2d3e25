using QnnLab.Data;
using QnnLab.Hil;
using QnnLab.Results;
using QnnLab.TestSupport;

namespace QnnLab.Hil.Tests;

/// <summary>
/// On a clean link every request is sent once: a retransmitted 3 KiB INFER frame costs as much line time as a
/// new input, so spurious retransmissions (a timeout shorter than the queue of frames ahead on a throttled
/// line) would take the run below the link's capacity, the issue's >= 90 % target for bench link.
/// </summary>
[TestClass]
public sealed class CleanLinkTests
{
    [TestMethod]
    public async Task ThrottledCleanLink_SendsEveryRequestOnce()
    {
        const int n = 60;
        ImageSet set = Cifar10.ReadBatch(TestData.Require("cifar10/cifar-10-batches-bin/test_batch.bin"), n);
        using var model = new EngineHilModel(TestData.Require("paper-models/vanilla/cifar_resnet_int8.tflite"));
        using var store = new ResultStore(Path.Combine(TestData.TempDir(), "clean.sqlite"));
        await using BoardSession b = await BoardSession.OpenAsync(BoardTarget.Sim,
            new BoardLaunchOptions { RepoRoot = TestData.RepoRoot, Baud = BoardLaunchOptions.DefaultSimBaud, Preloaded = [model.Blob] });
        HilRunOutcome o = await HilRunner.RunAsync(b, model, set, store, new HilRunRequest { ModelLabel = "int8", DataSpec = "test_batch" });

        Assert.AreEqual(n, o.RecordedNow);
        Assert.AreEqual(0, o.LogitMismatches);
        Assert.AreEqual(0L, o.Counters.Retransmissions, $"retransmissions on a clean link: {o.Counters}");
        Assert.AreEqual(0L, o.Counters.DuplicateAnswersIgnored, $"answers to requests sent twice: {o.Counters}");
        Assert.AreEqual(0L, o.Counters.ResetsDetected);
    }
}
