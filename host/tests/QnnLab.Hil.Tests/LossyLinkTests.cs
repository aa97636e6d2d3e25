using QnnLab.Data;
using QnnLab.Hil;
using QnnLab.Results;
using QnnLab.TestSupport;

namespace QnnLab.Hil.Tests;

/// <summary>
/// The fault level: 1 % of bytes dropped and 1 % corrupted in each direction. A whole 3 KiB INFER frame
/// then survives with probability 0.98^3100 ~ 1e-27, so the connection must notice that big frames keep dying
/// and stage inputs in pieces small enough to get through.
/// </summary>
[TestClass]
public sealed class LossyLinkTests
{
    [TestMethod]
    [Timeout(600_000, CooperativeCancellation = true)]
    public async Task OnePercentByteFaultsAndResets_RunCompletesWithEveryInputOnceAndBitExact()
    {
        const int n = 100;
        ImageSet set = Cifar10.ReadBatch(TestData.Require("cifar10/cifar-10-batches-bin/test_batch.bin"), n);
        using var model = new EngineHilModel(TestData.Require("paper-models/vanilla/cifar_resnet_int8.tflite"));
        using var store = new ResultStore(Path.Combine(TestData.TempDir(), "lossy.sqlite"));
        // The byte rates; resets every 40 inferences (25 per 1,000) so 100 inputs see two of them.
        var faults = FaultSpec.Parse("drop=0.01,corrupt=0.01,duplicate=0.001,resets=25,seed=5");
        await using BoardSession b = await BoardSession.OpenAsync(BoardTarget.Sim,
            new BoardLaunchOptions { RepoRoot = TestData.RepoRoot, Baud = 0, Faults = faults, Preloaded = [model.Blob] });
        HilRunOutcome o = await HilRunner.RunAsync(b, model, set, store, new HilRunRequest { ModelLabel = "int8", DataSpec = "test_batch" });

        IReadOnlyList<InputResult> rows = store.Results(o.RunId);
        CollectionAssert.AreEqual(Enumerable.Range(0, n).ToArray(), rows.Select(r => r.Index).Order().ToArray(), "each input exactly once");
        Assert.AreEqual(0, o.LogitMismatches, "every logit equal to the host engine's");
        Assert.IsTrue(rows.All(r => r.BoardPrediction == r.HostPrediction));
        Assert.AreEqual("done", store.GetRun(o.RunId).Status);
        Assert.IsGreaterThanOrEqualTo(2L, o.Counters.ResetsDetected, o.Counters.ToString());
        Assert.IsGreaterThan(0L, o.Counters.InputFramesAbandoned, "whole-input frames could not get through: " + o.Counters);
        Assert.IsLessThan(3072 / 4, b.Connection.InputFrameLimit, "the connection settled on small input frames");
        Console.WriteLine($"{o.Counters}; input frames <= {b.Connection.InputFrameLimit} B; {o.Summary.Link.Seconds:F1} s");
    }
}
