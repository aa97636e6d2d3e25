using QnnLab.Results;
using QnnLab.TestSupport;

namespace QnnLab.Results.Tests;

[TestClass]
public sealed class ResultStoreTests
{
    private static RunInfo NewRun(int total) => new() { Kind = "hil", Board = "sim", Model = "m.tflite", Data = "cifar10:x", Total = total, TimingUnit = "ns" };

    private static InputResult Result(int i, int label, int pred, long t = 100) =>
        new() { Index = i, Label = label, HostPrediction = pred, BoardPrediction = pred, Logits = [(byte)i, 1, 2], InferenceTime = t, TotalTime = t + 5 };

    [TestMethod]
    public void DuplicateInputIsRecordedOnce()
    {
        string db = Path.Combine(TestData.TempDir(), "r.sqlite");
        using var store = new ResultStore(db);
        long run = store.CreateRun(NewRun(3));
        Assert.IsTrue(store.Add(run, Result(0, 1, 1)));
        Assert.IsTrue(store.Add(run, Result(1, 2, 2)));
        Assert.IsFalse(store.Add(run, Result(1, 2, 0)), "a retried input must not be recorded twice");
        IReadOnlyList<InputResult> rs = store.Results(run);
        Assert.HasCount(2, rs);
        Assert.AreEqual(2, rs[1].BoardPrediction, "the first record of an input wins");
        CollectionAssert.AreEqual(new byte[] { 1, 1, 2 }, rs[1].Logits);
    }

    [TestMethod]
    public void ResultsSurviveReopenAndResumeSkipsRecordedInputs()
    {
        string db = Path.Combine(TestData.TempDir(), "r.sqlite");
        long run;
        using (var store = new ResultStore(db) { CommitEvery = 2 })
        {
            run = store.CreateRun(NewRun(10));
            for (int i = 0; i < 5; i++)
            {
                store.Add(run, Result(i, i % 3, i % 3));
            }
        }
        using (var store = new ResultStore(db))
        {
            CollectionAssert.AreEquivalent(new[] { 0, 1, 2, 3, 4 }, store.RecordedIndices(run).ToArray());
            Assert.AreEqual("running", store.GetRun(run).Status);
            store.SetStatus(run, "done");
            Assert.AreEqual("done", store.GetRun(run).Status);
        }
    }

    [TestMethod]
    public void SummaryComputesAccuracyAgreementLatencyAndUtilization()
    {
        var results = new List<InputResult>
        {
            Result(0, 0, 0, 10), Result(1, 1, 1, 20), Result(2, 2, 0, 30),
            Result(3, 1, 1, 40) with { HostPrediction = 0 },
        };
        // 11,520 wire bytes in 1 s at 115,200 baud (8N1: 11,520 B/s capacity) = 100 % utilization.
        var link = new LinkStats(10000, 11520, 1.0, 115200, 0, 0);
        RunSummary s = RunSummary.Compute(NewRun(4), results, link);
        Assert.AreEqual(4, s.N);
        Assert.AreEqual(0.75, s.BoardAccuracy, 1e-12);
        Assert.AreEqual(0.75, s.HostAgreement, 1e-12);
        Assert.AreEqual(1, s.Disagreements);
        Assert.AreEqual(1.0, s.LinkUtilization, 1e-12);
        LatencyStats inf = s.Stage("inference")!;
        Assert.AreEqual(25.0, inf.Median, 1e-12);        // between 20 and 30
        Assert.AreEqual(11.5, inf.P5, 1e-12);            // 10 + 0.15 * 10
        Assert.AreEqual(38.5, inf.P95, 1e-12);           // 30 + 0.85 * 10
        Assert.IsNull(s.Stage("squeeze"), "unmeasured stages (-1) are left out");
        CollectionAssert.AreEqual(new[] { 1, 2, 0 }, s.PerClassCorrect);
        CollectionAssert.AreEqual(new[] { 1, 2, 1 }, s.PerClassTotal);
    }

    [TestMethod]
    public void UnwritableStoreNamesThePath()
    {
        string dir = TestData.TempDir();
        string blocker = Path.Combine(dir, "file");
        File.WriteAllText(blocker, "x");
        string db = Path.Combine(blocker, "r.sqlite"); // a file where a folder should be
        var e = Assert.ThrowsExactly<IOException>(() => new ResultStore(db));
        StringAssert.Contains(e.Message, "r.sqlite");
    }
}

[TestClass]
public sealed class SchemaMigrationTests
{
    [TestMethod]
    public void StoreWithoutBenchTables_OpensReadsOldRowsAndTakesEnergyAndResets()
    {
        string db = Path.Combine(TestData.TempDir(), "v1.sqlite");
        long run;
        using (var old = new ResultStore(db))
        {
            run = old.CreateRun(new RunInfo { Kind = "hil", Board = "sim", Model = "m", Data = "d", Total = 1, TimingUnit = "ns" });
            old.Add(run, new InputResult { Index = 0, Label = 3, BoardPrediction = 3 });
        }
        // make it a store of the old schema: no bench tables, user_version 0
        using (var raw = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={db};Pooling=False"))
        {
            raw.Open();
            using var c = raw.CreateCommand();
            c.CommandText = "DROP TABLE board_resets; DROP TABLE energy; PRAGMA user_version = 0;";
            c.ExecuteNonQuery();
        }
        using var store = new ResultStore(db);
        Assert.AreEqual(3, store.Results(run)[0].Label, "old rows read as before");
        store.AddEnergy(run, 0, [new EnergyRecord("total", 12.5, 0.004, 5)]);
        store.AddBoardReset(run, new BoardResetRecord(1, "hardware", "ft232h:D7", "recovered", "silent"));
        Assert.AreEqual(12.5, store.Energy(run)[0].Energy.Microjoules);
        Assert.AreEqual("hardware", store.BoardResets(run)[0].Kind);
    }
}
