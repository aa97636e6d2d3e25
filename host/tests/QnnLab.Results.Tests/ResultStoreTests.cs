using QnnLab.Results;
using QnnLab.TestSupport;

namespace QnnLab.Results.Tests;

[TestClass]
public sealed class ResultStoreTests
{
    internal static RunInfo NewRun(int total) => new() { Kind = "hil", Board = "sim", Model = "m.tflite", Data = "cifar10:x", Total = total, TimingUnit = "ns" };

    internal static InputResult Result(int i, int label, int pred, long t = 100) =>
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

    [TestMethod]
    public void StageTimesRoundTripAndFeedTheBreakdown()
    {
        string db = Path.Combine(TestData.TempDir(), "r.sqlite");
        long[] stages = [30, 5, 40, 1000, 990, 1010, 2];
        long run;
        using (var store = new ResultStore(db))
        {
            run = store.CreateRun(ResultStoreTests.NewRun(2));
            store.Add(run, ResultStoreTests.Result(0, 1, 1, 1000) with { StageTimes = stages, SqueezeTime = 45, TotalTime = stages.Sum() });
            store.Add(run, ResultStoreTests.Result(1, 1, 1, 1000));
            Assert.ThrowsExactly<ArgumentException>(() => store.Add(run, ResultStoreTests.Result(2, 1, 1) with { StageTimes = [1, 2, 3, 4] }));
        }
        using (var store = new ResultStore(db))
        {
            IReadOnlyList<InputResult> rs = store.Results(run);
            CollectionAssert.AreEqual(stages, rs[0].StageTimes);
            Assert.IsEmpty(rs[1].StageTimes, "no stages given, none read back");
            StageBreakdown b = RunSummary.Compute(store.GetRun(run), rs, store.GetLinkStats(run)).Breakdown!;
            Assert.AreEqual(1, b.Count, "only inputs with stages count");
            Assert.AreEqual(0.045, b.SqueezersOverhead, 1e-12, "bit depth + median over one inference");
            Assert.AreEqual((5 + 40 + 990 + 1010 + 2) / 1000.0, b.DetectorOverhead, 1e-12, "squeezers, extra inferences, comparison");
            Assert.AreEqual(0.03, b.QuantizeShare, 1e-12);
            Assert.AreEqual(stages.Sum(), b.Total, 1e-9);
        }
    }

    [TestMethod]
    public void AStoreOfSchema2OpensAndItsRowsReadWithoutStages()
    {
        // results as schema 2 wrote them (protocol v1: t_squeeze held the squeeze and the detector together)
        string db = Path.Combine(TestData.TempDir(), "v2.sqlite");
        using (var raw = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={db};Pooling=False"))
        {
            raw.Open();
            using var c = raw.CreateCommand();
            c.CommandText = """
                CREATE TABLE runs(
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    kind TEXT NOT NULL, board TEXT NOT NULL, model TEXT NOT NULL, model_hash TEXT NOT NULL,
                    data TEXT NOT NULL, precision TEXT NOT NULL, squeeze TEXT NOT NULL, total INTEGER NOT NULL,
                    timing_unit TEXT NOT NULL, status TEXT NOT NULL, created TEXT NOT NULL, board_info TEXT NOT NULL,
                    payload_bytes INTEGER NOT NULL DEFAULT 0, wire_bytes INTEGER NOT NULL DEFAULT 0,
                    link_seconds REAL NOT NULL DEFAULT 0, baud INTEGER NOT NULL DEFAULT 0,
                    retries INTEGER NOT NULL DEFAULT 0, resets INTEGER NOT NULL DEFAULT 0);
                CREATE TABLE results(
                    run_id INTEGER NOT NULL REFERENCES runs(id), idx INTEGER NOT NULL,
                    label INTEGER NOT NULL, host_pred INTEGER NOT NULL, board_pred INTEGER NOT NULL,
                    logits BLOB NOT NULL, t_squeeze INTEGER NOT NULL, t_infer INTEGER NOT NULL, t_total INTEGER NOT NULL,
                    flagged INTEGER, detector_score INTEGER,
                    PRIMARY KEY(run_id, idx)) WITHOUT ROWID;
                CREATE TABLE board_resets(
                    run_id INTEGER NOT NULL REFERENCES runs(id), recorded INTEGER NOT NULL,
                    kind TEXT NOT NULL, via TEXT NOT NULL, outcome TEXT NOT NULL, reason TEXT NOT NULL, time TEXT NOT NULL);
                CREATE TABLE energy(
                    run_id INTEGER NOT NULL REFERENCES runs(id), idx INTEGER NOT NULL, stage TEXT NOT NULL,
                    microjoules REAL NOT NULL, seconds REAL NOT NULL, samples INTEGER NOT NULL,
                    PRIMARY KEY(run_id, idx, stage)) WITHOUT ROWID;
                INSERT INTO runs(kind, board, model, model_hash, data, precision, squeeze, total, timing_unit, status, created, board_info)
                    VALUES('hil', 'qemu', 'm', '', 'd', 'int8', 'bits=5,median=2', 1, 'instructions', 'done', '', '{}');
                INSERT INTO results VALUES(1, 0, 3, 3, 3, x'0102', 2000, 1000, 3050, 0, 12);
                PRAGMA user_version = 2;
                """;
            c.ExecuteNonQuery();
        }
        using (var store = new ResultStore(db))
        {
            InputResult old = store.Results(1).Single();
            Assert.AreEqual((2000L, 1000L, 3050L), (old.SqueezeTime, old.InferenceTime, old.TotalTime), "old rows read as before");
            Assert.IsEmpty(old.StageTimes);
            Assert.IsNull(RunSummary.Compute(store.GetRun(1), [old], store.GetLinkStats(1)).Breakdown, "no breakdown without stages");
            Assert.IsTrue(store.Add(1, ResultStoreTests.Result(1, 3, 3) with { StageTimes = [1, 2, 3, 100, 0, 0, 0] }));
        }
        using (var store = new ResultStore(db))
        {
            CollectionAssert.AreEqual(new long[] { 1, 2, 3, 100, 0, 0, 0 }, store.Results(1)[1].StageTimes, "the migrated store keeps new stages");
        }
        using var check = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={db};Pooling=False");
        check.Open();
        using var v = check.CreateCommand();
        v.CommandText = "PRAGMA user_version";
        Assert.AreEqual((long)ResultStore.SchemaVersion, (long)v.ExecuteScalar()!);
    }
}
