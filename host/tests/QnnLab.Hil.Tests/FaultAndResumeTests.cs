using System.Diagnostics;
using QnnLab.Data;
using QnnLab.Hil;
using QnnLab.Results;
using QnnLab.TestSupport;

namespace QnnLab.Hil.Tests;

/// <summary>The claims: runs survive a faulty link and board resets, and a killed run resumes without losing or repeating an input.</summary>
[TestClass]
public sealed class FaultAndResumeTests
{
    private static string Model => TestData.Require("paper-models/vanilla/cifar_resnet_int8.tflite");
    private static string TestBatch => TestData.Require("cifar10/cifar-10-batches-bin/test_batch.bin");

    [TestMethod]
    public async Task FaultyLinkAndResets_EveryInputRecordedOnceAndEqualToTheHost()
    {
        const int n = 500;
        ImageSet set = Cifar10.ReadBatch(TestBatch, n);
        using var model = new EngineHilModel(Model);
        using var store = new ResultStore(Path.Combine(TestData.TempDir(), "faults.sqlite"));
        // Per byte, both directions, at rates where whole-input frames mostly get through (the 1 %,
        // where they never do and inputs go staged in small pieces, is LossyLinkTests); resets every 167
        // inferences give at least two board reboots mid-stream.
        var faults = FaultSpec.Parse("drop=5e-5,corrupt=5e-5,duplicate=1e-5,resets=6,seed=11");
        await using BoardSession b = await BoardSession.OpenAsync(BoardTarget.Sim,
            new BoardLaunchOptions { RepoRoot = TestData.RepoRoot, Baud = 0, Faults = faults, Preloaded = [model.Blob] });
        HilRunOutcome o = await HilRunner.RunAsync(b, model, set, store, new HilRunRequest { ModelLabel = "int8", DataSpec = "test_batch" });

        IReadOnlyList<InputResult> rows = store.Results(o.RunId);
        CollectionAssert.AreEqual(Enumerable.Range(0, n).ToArray(), rows.Select(r => r.Index).Order().ToArray(), "each input exactly once");
        Assert.AreEqual(0, o.LogitMismatches);
        Assert.IsTrue(rows.All(r => r.BoardPrediction == r.HostPrediction));
        Assert.IsGreaterThanOrEqualTo(2L, o.Counters.ResetsDetected, "the board reset mid-run");
        Assert.IsGreaterThan(0L, o.Counters.Retransmissions, "the faults hit frames");
        Assert.AreEqual("done", store.GetRun(o.RunId).Status);
    }

    [TestMethod]
    public async Task RunKilledWithSigkill_ResumesWithoutLosingOrRepeatingAnInput()
    {
        const int n = 160;
        string dir = TestData.TempDir();
        string store = Path.Combine(dir, "killed.sqlite");
        string data = "cifar10:" + Path.GetDirectoryName(TestBatch) + "#test_batch.bin";
        string[] args = ["hil", "run", "--board", "sim", "--model", Model, "--data", data, "--limit", $"{n}", "--store", store, "--baud", "460800"];
        using (Process first = StartCli(args))
        {
            // kill once part of the run is stored, with no chance to clean up (SIGKILL, sim child included)
            var clock = Stopwatch.StartNew();
            while (Recorded(store) < n / 3)
            {
                Assert.IsFalse(first.HasExited, $"the run ended before it could be killed: {first.StandardError.ReadToEnd()}");
                Assert.IsLessThan(120.0, clock.Elapsed.TotalSeconds, "the run never got going");
                await Task.Delay(100);
            }
            first.Kill(entireProcessTree: true);
            await first.WaitForExitAsync();
        }
        int before = Recorded(store);
        Assert.IsLessThan(n, before, "killed half-way");
        using (Process second = StartCli([.. args, "--resume", "1", "--json"]))
        {
            string output = await second.StandardOutput.ReadToEndAsync();
            string err = await second.StandardError.ReadToEndAsync();
            await second.WaitForExitAsync();
            Assert.AreEqual(0, second.ExitCode, err);
            StringAssert.Contains(output, $"\"n\":{n}");
        }
        using var s = new ResultStore(store);
        IReadOnlyList<InputResult> rows = s.Results(1);
        CollectionAssert.AreEqual(Enumerable.Range(0, n).ToArray(), rows.Select(r => r.Index).Order().ToArray(), "no input lost or duplicated");
        Assert.IsTrue(rows.All(r => r.BoardPrediction == r.HostPrediction));
        Assert.AreEqual("done", s.GetRun(1).Status);
        Assert.AreEqual(1, s.ListRuns().Count, "resume continued run 1");
    }

    [TestMethod]
    public async Task ABoardThatGoesAwayMidRun_FailsTheRunAtOnceNamingItAndKeepsWhatWasRecorded()
    {
        ImageSet set = Cifar10.ReadBatch(TestBatch, 20);
        using var model = new EngineHilModel(Model);
        string path = Path.Combine(TestData.TempDir(), "gone.sqlite");
        var clock = Stopwatch.StartNew();
        IOException? error = null;
        long runId = 0;
        using (var store = new ResultStore(path))
        {
            // die=5: the sim process exits after its 5th inference, as an unplugged board; its pty then neither
            // answers nor errors, and closing the port would wait for ever on the queued writes.
            await using (BoardSession b = await BoardSession.OpenAsync(BoardTarget.Sim,
                new BoardLaunchOptions { RepoRoot = TestData.RepoRoot, Faults = FaultSpec.Parse("die=5"), Preloaded = [model.Blob] }))
            {
                try
                {
                    await HilRunner.RunAsync(b, model, set, store, new HilRunRequest { ModelLabel = "int8", DataSpec = "test_batch" });
                }
                catch (IOException e)
                {
                    error = e;
                }
                Assert.IsTrue(b.ExitsWithin(TimeSpan.FromSeconds(5)), "the sim board exited");
            }
            runId = store.ListRuns()[0].Id;
        }
        Assert.IsNotNull(error, "the run did not fail although its board went away");
        Assert.IsLessThan(30.0, clock.Elapsed.TotalSeconds, "failing and closing the dead board took too long");
        using var again = new ResultStore(path);
        IReadOnlyList<InputResult> rows = again.Results(runId);
        Assert.IsLessThanOrEqualTo(5, rows.Count, "no more answers than the board gave");
        Assert.IsTrue(rows.All(r => r.BoardPrediction == r.HostPrediction), "what was recorded is the board's true answers");
    }

    private static int Recorded(string store)
    {
        if (!File.Exists(store))
        {
            return 0;
        }
        try
        {
            using var s = new ResultStore(store);
            return s.ListRuns().Count == 0 ? 0 : s.RecordedIndices(1).Count;
        }
        catch (IOException)
        {
            return 0; // being created
        }
    }

    private static Process StartCli(string[] args)
    {
        string cli = Path.Combine(AppContext.BaseDirectory, "qnnlab.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = TestData.RepoRoot };
        psi.ArgumentList.Add(cli);
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }
        return Process.Start(psi)!;
    }
}
