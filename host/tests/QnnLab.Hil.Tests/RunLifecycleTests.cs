using System.Text.Json;
using QnnLab.Data;
using QnnLab.Hil;
using QnnLab.Results;
using QnnLab.TestSupport;

namespace QnnLab.Hil.Tests;

/// <summary>A run's life: cancelled half-way and resumed, refused resumes, and the CLI's quickstart and report outputs.</summary>
[TestClass]
public sealed class RunLifecycleTests
{
    private static string Model => TestData.Require("paper-models/vanilla/cifar_resnet_int8.tflite");
    private static string TestBatch => TestData.Require("cifar10/cifar-10-batches-bin/test_batch.bin");

    private static Task<BoardSession> Sim(EngineHilModel model) =>
        BoardSession.OpenAsync(BoardTarget.Sim, new BoardLaunchOptions { RepoRoot = TestData.RepoRoot, Baud = 0, Preloaded = [model.Blob] });

    [TestMethod]
    public async Task CancelledRun_IsLeftCancelled_AndResumesWithEveryInputOnce()
    {
        const int n = 60;
        ImageSet set = Cifar10.ReadBatch(TestBatch, n);
        using var model = new EngineHilModel(Model);
        using var store = new ResultStore(Path.Combine(TestData.TempDir(), "cancel.sqlite"));
        var request = new HilRunRequest { ModelLabel = "int8", DataSpec = "test_batch" };
        using var cancel = new CancellationTokenSource();
        var progress = new StopAfter(20, cancel);
        await using (BoardSession b = await Sim(model))
        {
            await Assert.ThrowsAsync<OperationCanceledException>(() => HilRunner.RunAsync(b, model, set, store, request, progress, cancel.Token));
        }
        RunInfo run = store.ListRuns().Single();
        Assert.AreEqual("cancelled", run.Status);
        int before = store.RecordedIndices(run.Id).Count;
        Assert.IsTrue(before is >= 20 and < n, $"{before} recorded when cancelled");

        await using (BoardSession b = await Sim(model))
        {
            HilRunOutcome o = await HilRunner.RunAsync(b, model, set, store, request with { Resume = run.Id });
            Assert.AreEqual(before, o.AlreadyRecorded);
            Assert.AreEqual(n - before, o.RecordedNow);
            Assert.AreEqual(0, o.LogitMismatches);
        }
        CollectionAssert.AreEqual(Enumerable.Range(0, n).ToArray(), store.Results(run.Id).Select(r => r.Index).Order().ToArray());
        Assert.AreEqual("done", store.GetRun(run.Id).Status);
    }

    [TestMethod]
    public async Task Resume_WithOtherSqueezingOrData_IsRefused()
    {
        ImageSet set = Cifar10.ReadBatch(TestBatch, 2);
        using var model = new EngineHilModel(Model);
        using var store = new ResultStore(Path.Combine(TestData.TempDir(), "refuse.sqlite"));
        await using BoardSession b = await Sim(model);
        var request = new HilRunRequest { ModelLabel = "int8", DataSpec = "a" };
        HilRunOutcome first = await HilRunner.RunAsync(b, model, set, store, request);
        InvalidOperationException squeeze = await Assert.ThrowsExactlyAsync<InvalidOperationException>(() =>
            HilRunner.RunAsync(b, model, set, store, request with { Resume = first.RunId, Squeeze = SqueezeSettings.Parse("bits=5") }));
        StringAssert.Contains(squeeze.Message, "same --squeeze");
        InvalidOperationException data = await Assert.ThrowsExactlyAsync<InvalidOperationException>(() =>
            HilRunner.RunAsync(b, model, set, store, request with { Resume = first.RunId, DataSpec = "b" }));
        StringAssert.Contains(data.Message, "read data 'a'");
    }

    [TestMethod]
    public async Task Quickstart_WritesBothRunsReport_AndReportRewritesItFromTheStore()
    {
        string dir = TestData.TempDir();
        string data = TestData.Root;
        (int rc, string output, string err) = await BoardCliTests.Cli("quickstart", "--data", data, "--out", Path.Combine(dir, "qs"), "--limit", "12");
        Assert.AreEqual(0, rc, err);
        StringAssert.Contains(output, "agreement 100.00 %");
        foreach (string f in new[] { "README.md", "run1-summary.md", "run1-results.csv", "run1-summary.json", "run1-latency-inference.png", "run2-stage-breakdown.png", "run2-accuracy-per-class.png" })
        {
            Assert.IsTrue(File.Exists(Path.Combine(dir, "qs", f)), f);
        }
        Assert.IsFalse(File.Exists(Path.Combine(dir, "qs", "run1-stage-breakdown.png")), "no squeezing, no breakdown plot");
        // the quickstart's table shows the squeezers and the whole detector apart, as percentages of one inference
        string index = File.ReadAllText(Path.Combine(dir, "qs", "README.md"));
        StringAssert.Contains(index, "| squeezers alone | whole detector |");
        Assert.IsFalse(index.Contains("squeezing median", StringComparison.Ordinal), "the detector is no longer called squeezing");
        string[] squeezedRow = index.Split('\n').Single(l => l.StartsWith("| 2 |", StringComparison.Ordinal)).Split('|');
        double Pct(string cell) => double.Parse(cell.Trim().TrimStart('+').TrimEnd('%').Trim(), System.Globalization.CultureInfo.InvariantCulture);
        double squeezers = Pct(squeezedRow[8]), wholeDetector = Pct(squeezedRow[9]);
        Assert.IsTrue(squeezers > 0 && wholeDetector > squeezers + 100,
            $"the detector adds two inferences to its squeezers: squeezers +{squeezers} %, detector +{wholeDetector} %");
        StringAssert.Contains(File.ReadAllText(Path.Combine(dir, "qs", "run2-summary.md")), "| inference, median squeezed |");
        StringAssert.Contains(output, "stages (mean ns): quantization ");
        using (JsonDocument clean = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "qs", "run1-summary.json"))))
        using (JsonDocument squeezed = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "qs", "run2-summary.json"))))
        {
            Assert.AreEqual(12, clean.RootElement.GetProperty("n").GetInt32());
            Assert.AreEqual(1.0, clean.RootElement.GetProperty("host_agreement").GetDouble());
            Assert.AreEqual("", clean.RootElement.GetProperty("squeeze").GetString());
            StringAssert.StartsWith(squeezed.RootElement.GetProperty("squeeze").GetString(), "bits=5,median=2");
        }
        Assert.AreEqual(12 + 1, File.ReadAllLines(Path.Combine(dir, "qs", "run1-results.csv")).Length, "header + one row per input");

        (rc, _, err) = await BoardCliTests.Cli("report", "--store", Path.Combine(dir, "qs", "quickstart.sqlite"), "--run", "2", "--out", Path.Combine(dir, "again"));
        Assert.AreEqual(0, rc, err);
        CollectionAssert.AreEqual(File.ReadAllBytes(Path.Combine(dir, "qs", "run2-results.csv")), File.ReadAllBytes(Path.Combine(dir, "again", "run2-results.csv")));
        Assert.IsFalse(File.Exists(Path.Combine(dir, "again", "run1-results.csv")), "--run 2 reports run 2 only");
    }

    [TestMethod]
    public async Task HilRunJson_LastLineCarriesTheIssuesFields()
    {
        string store = Path.Combine(TestData.TempDir(), "json.sqlite");
        string data = "cifar10:" + Path.GetDirectoryName(TestBatch);
        (int rc, string output, string err) = await BoardCliTests.Cli("hil", "run", "--board", "sim", "--model", Model, "--data", data, "--limit", "5", "--store", store, "--json");
        Assert.AreEqual(0, rc, err);
        using JsonDocument j = JsonDocument.Parse(output.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1]);
        JsonElement r = j.RootElement;
        Assert.AreEqual(5, r.GetProperty("n").GetInt32());
        Assert.AreEqual(1.0, r.GetProperty("host_agreement").GetDouble());
        Assert.AreEqual("ns", r.GetProperty("latency_unit").GetString());
        Assert.IsGreaterThan(0.0, r.GetProperty("latency_median").GetDouble());
        double utilization = r.GetProperty("link_utilization").GetDouble();
        Assert.IsTrue(utilization is > 0 and <= 1, $"link utilization {utilization}");
        _ = r.GetProperty("board_accuracy").GetDouble();
    }

    /// <summary>Cancels once this many inputs are recorded (reported on the runner's thread).</summary>
    private sealed class StopAfter(int count, CancellationTokenSource cancel) : IProgress<(int Done, int Total)>
    {
        public void Report((int Done, int Total) value)
        {
            if (value.Done >= count)
            {
                cancel.Cancel();
            }
        }
    }
}
