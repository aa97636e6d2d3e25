using System.Diagnostics;
using QnnLab.Attacks.Runs;
using QnnLab.TestSupport;

namespace QnnLab.Cli.Tests;

/// <summary>Issue 13: `experiment --shard K/N`, `experiment merge`, `experiment slurm` and `experiment --boards`.</summary>
[TestClass]
public sealed class ShardedExperimentTests
{
    public TestContext TestContext { get; set; } = null!;

    /// <summary>A small transfer table: FGSM and PGD (random start) on 70 images = 3 blocks of 32 each, 6 work units.</summary>
    private static string WriteConfig(string dir, int limit = 70)
    {
        string config = Path.Combine(dir, "tiny-table.json");
        File.WriteAllText(config, $$"""
            {
              "title": "sharding test",
              "paper_note": "no paper figures",
              "model": "${QNN_DATA}/{{Paths.CifarFloatH5}}",
              "data": "cifar10:${QNN_DATA}/cifar10",
              "transfer_to": ["${QNN_DATA}/{{Paths.CifarInt8}}"],
              "limit": {{limit}},
              "seed": 3,
              "runs": [ { "attack": "fgsm", "set": { "eps": 0.01 } }, { "attack": "pgd", "set": { "eps": 0.01, "eps_step": 0.003, "max_iter": 3 } } ]
            }
            """);
        return config;
    }

    internal static string Key(AttackImageResult r) =>
        $"{r.Index} {r.Label} {Convert.ToHexString(System.Runtime.InteropServices.MemoryMarshal.AsBytes(r.Adversarial.AsSpan()))} " +
        $"{System.Text.Json.JsonSerializer.Serialize(r.Evals)} {r.Queries:R} {r.GradientQueries:R}";

    /// <summary>Every run's every image result, keyed by the run's configuration (store ids differ).</summary>
    internal static Dictionary<string, string[]> Contents(string store)
    {
        using var s = new AttackStore(store);
        return s.Runs().ToDictionary(r => (r with { Id = 0, Status = "" }).ToString(), r => s.Results(r.Id).Select(Key).ToArray());
    }

    /// <summary>
    /// Three shards, each run into its own store, merge into the store of an unsharded run image for image (every
    /// adversarial example's bytes, every evaluation, the query counts), and the merged store's table is the
    /// unsharded table. Each shard holds only its own blocks and writes no table.
    /// </summary>
    [TestMethod]
    public async Task ThreeShardsMerged_EqualTheUnshardedRun_AndTheirTable()
    {
        Paths.Require(Paths.CifarFloatH5);
        string dir = TestData.TempDir();
        try
        {
            string config = WriteConfig(dir);
            CliRun whole = await CliHarness.RunAsync("experiment", "--config", config, "--out", Path.Combine(dir, "whole"));
            Assert.AreEqual(0, whole.ExitCode, whole.ToString());
            string[] stores = new string[3];
            for (int k = 1; k <= 3; k++)
            {
                stores[k - 1] = Path.Combine(dir, $"shard-{k}.sqlite");
                CliRun s = await CliHarness.RunAsync("experiment", "--config", config, "--shard", $"{k}/3", "--store", stores[k - 1], "--out", Path.Combine(dir, $"shard-{k}"));
                Assert.AreEqual(0, s.ExitCode, s.ToString());
                StringAssert.Contains(s.Stdout, $"shard {k}/3 done");
                Assert.IsFalse(File.Exists(Path.Combine(dir, $"shard-{k}", "tiny-table.md")), "a shard writes no table");
                Dictionary<string, string[]> part = Contents(stores[k - 1]);
                // units: fgsm 0-31, 32-63, 64-69, then pgd the same; shard k takes units k-1 and k+2
                Assert.AreEqual(k == 3 ? 12 : 64, part.Values.Sum(v => v.Length), $"shard {k}: its two blocks of the six");
            }
            string merged = Path.Combine(dir, "merged.sqlite");
            CliRun m = await CliHarness.RunAsync("experiment", "merge", "--stores", string.Join(',', stores), "--out", merged, "--config", config, "--tables", Path.Combine(dir, "tables"));
            Assert.AreEqual(0, m.ExitCode, m.ToString());
            Assert.IsFalse(m.Stderr.Contains("WARNING", StringComparison.Ordinal), m.Stderr);

            Dictionary<string, string[]> expected = Contents(Path.Combine(dir, "whole", "attacks.sqlite")), actual = Contents(merged);
            CollectionAssert.AreEquivalent(expected.Keys.ToArray(), actual.Keys.ToArray());
            foreach ((string run, string[] results) in expected)
            {
                Assert.HasCount(70, results);
                CollectionAssert.AreEqual(results, actual[run], $"run {run}");
            }
            using (var s = new AttackStore(merged))
            {
                Assert.IsTrue(s.Runs().All(r => r.Status == "done"));
            }
            Assert.AreEqual(File.ReadAllText(Path.Combine(dir, "whole", "tiny-table.md")), File.ReadAllText(Path.Combine(dir, "tables", "tiny-table.md")));
        }
        finally
        {
            TestData.RemoveTempDir(dir);
        }
    }

    /// <summary>
    /// A merge refuses, with one error naming the problem, a missing shard, a repeated one, a shard of another setting
    /// (another --limit), and a target store that already holds runs; a store cannot take a second shard.
    /// </summary>
    [TestMethod]
    public async Task MergeRefusesMissingRepeatedAndMismatchedShards()
    {
        Paths.Require(Paths.CifarFloatH5);
        string dir = TestData.TempDir();
        try
        {
            string config = WriteConfig(dir, limit: 40);
            async Task<string> Shard(string name, string spec, params string[] extra)
            {
                string store = Path.Combine(dir, name + ".sqlite");
                CliRun r = await CliHarness.RunAsync(["experiment", "--config", config, "--shard", spec, "--store", store, "--out", Path.Combine(dir, name), "--attacks", "fgsm", .. extra]);
                Assert.AreEqual(0, r.ExitCode, r.ToString());
                return store;
            }
            string a = await Shard("a", "1/2"), b = await Shard("b", "2/2"), other = await Shard("c", "2/2", "--limit", "33");
            async Task<string> MergeError(string stores, string target)
            {
                CliRun r = await CliHarness.RunAsync("experiment", "merge", "--stores", stores, "--out", Path.Combine(dir, target));
                Assert.AreNotEqual(0, r.ExitCode, r.ToString());
                TestContext.WriteLine(r.Stderr);
                return r.Stderr;
            }
            StringAssert.Contains(await MergeError(a, "m1.sqlite"), "missing 2");
            StringAssert.Contains(await MergeError($"{a},{a}", "m2.sqlite"), "repeated 1");
            StringAssert.Contains(await MergeError($"{a},{other}", "m3.sqlite"), "--limit 33");
            CliRun ok = await CliHarness.RunAsync("experiment", "merge", "--stores", $"{a},{b}", "--out", Path.Combine(dir, "m4.sqlite"));
            Assert.AreEqual(0, ok.ExitCode, ok.ToString());
            StringAssert.Contains(await MergeError($"{a},{b}", "m4.sqlite"), "already holds attack runs");
            CliRun second = await CliHarness.RunAsync("experiment", "--config", config, "--shard", "1/2", "--store", b, "--attacks", "fgsm", "--out", Path.Combine(dir, "b"));
            Assert.AreNotEqual(0, second.ExitCode);
            StringAssert.Contains(second.Stderr, "give each shard its own store");
            CliRun bad = await CliHarness.RunAsync("experiment", "--config", config, "--shard", "3/2");
            StringAssert.Contains(bad.Stderr, "1 <= K <= N");
        }
        finally
        {
            TestData.RemoveTempDir(dir);
        }
    }

    private static (int Code, string Output) Shell(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }
        try
        {
            using Process p = Process.Start(psi)!;
            string output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
            p.WaitForExit();
            return (p.ExitCode, output);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, e.Message);
        }
    }

    /// <summary>
    /// On a real Slurm cluster (CI starts a single-node one with tools/slurm-local): `experiment slurm --submit` runs
    /// the tiny table as an array of 3 tasks plus the dependent merge job, and the merged table equals the unsharded
    /// run's. Skipped, saying so, where no Slurm cluster answers.
    /// </summary>
    [TestMethod]
    [Timeout(900_000, CooperativeCancellation = true)]
    public async Task SlurmArrayOfThreeAndMerge_OnALocalCluster_GiveTheUnshardedTable()
    {
        Paths.Require(Paths.CifarFloatH5);
        (int code, string nodes) = Shell("sinfo", "-h", "-o", "%t");
        if (code != 0 || !nodes.Split('\n').Any(l => l.Trim() is "idle" or "mix" or "alloc"))
        {
            Assert.Inconclusive($"no Slurm cluster answers here (sinfo: {nodes.Trim()}); start one with tools/slurm-local (CI does)");
        }
        string qnnlab = Path.Combine(TestData.RepoRoot, "qnnlab");
        (int built, string log) = Shell(qnnlab, "version"); // build the CLI once, before three tasks would race to
        Assert.AreEqual(0, built, log);
        string dir = TestData.TempDir();
        try
        {
            string config = WriteConfig(dir);
            var clock = Stopwatch.StartNew();
            CliRun whole = await CliHarness.RunAsync("experiment", "--config", config, "--out", Path.Combine(dir, "whole"));
            Assert.AreEqual(0, whole.ExitCode, whole.ToString());
            double unsharded = clock.Elapsed.TotalSeconds;
            clock.Restart();
            string slurm = Path.Combine(dir, "slurm");
            CliRun submit = await CliHarness.RunAsync("experiment", "slurm", "--config", config, "--shards", "3", "--cpus", "1", "--time", "00:15:00",
                "--qnnlab", qnnlab, "--out", slurm, "--submit");
            Assert.AreEqual(0, submit.ExitCode, submit.ToString());
            string table = Path.Combine(slurm, "tables", "tiny-table.md");
            string jobName = "qnnlab-tiny-table";
            while (!File.Exists(table) && clock.Elapsed < TimeSpan.FromMinutes(12))
            {
                await Task.Delay(2000, TestContext.CancellationTokenSource.Token);
                (_, string queue) = Shell("squeue", "-h", "-o", "%j", "-n", $"{jobName},{jobName}-merge");
                if (queue.Trim().Length == 0 && !File.Exists(table))
                {
                    string logs = string.Join("\n", Directory.EnumerateFiles(slurm, "*.log").Select(f => $"--- {f}\n{File.ReadAllText(f)}"));
                    Assert.Fail($"the Slurm jobs ended without the merged table:\n{logs}");
                }
            }
            double cluster = clock.Elapsed.TotalSeconds;
            TestContext.WriteLine($"unsharded run {unsharded:F1} s; Slurm array of 3 + merge {cluster:F1} s (submit to merged table)");
            Assert.IsTrue(File.Exists(table), "no merged table within 12 minutes");
            Assert.AreEqual(File.ReadAllText(Path.Combine(dir, "whole", "tiny-table.md")), File.ReadAllText(table));
            CollectionAssert.AreEquivalent(Contents(Path.Combine(dir, "whole", "attacks.sqlite")).Select(kv => kv.Key + string.Join(",", kv.Value)).ToArray(),
                Contents(Path.Combine(slurm, "merged.sqlite")).Select(kv => kv.Key + string.Join(",", kv.Value)).ToArray());
        }
        finally
        {
            TestData.RemoveTempDir(dir);
        }
    }

    /// <summary>The Slurm scripts: an array of N tasks, each one shard into its own store, and a merge job over all N stores.</summary>
    [TestMethod]
    public async Task SlurmWritesAnArrayJobAndAMergeJob()
    {
        Paths.Require(Paths.CifarFloatH5);
        string dir = TestData.TempDir();
        try
        {
            string config = WriteConfig(dir);
            CliRun r = await CliHarness.RunAsync("experiment", "slurm", "--config", config, "--shards", "4", "--partition", "short", "--time", "01:00:00",
                "--cpus", "3", "--limit", "64", "--qnnlab", "/opt/qnnlab/qnnlab", "--out", Path.Combine(dir, "slurm"));
            Assert.AreEqual(0, r.ExitCode, r.ToString());
            string array = File.ReadAllText(Path.Combine(dir, "slurm", "tiny-table.sbatch"));
            string merge = File.ReadAllText(Path.Combine(dir, "slurm", "tiny-table-merge.sbatch"));
            TestContext.WriteLine(array + "\n" + merge);
            foreach (string line in new[] { "#SBATCH --array=1-4", "#SBATCH --partition=short", "#SBATCH --time=01:00:00", "#SBATCH --cpus-per-task=3" })
            {
                StringAssert.Contains(array, line);
            }
            StringAssert.Contains(array, "'/opt/qnnlab/qnnlab' experiment --config");
            StringAssert.Contains(array, "--shard \"$SLURM_ARRAY_TASK_ID/4\"");
            StringAssert.Contains(array, "--limit 64");
            for (int k = 1; k <= 4; k++)
            {
                StringAssert.Contains(merge, $"shard-{k}.sqlite");
            }
            StringAssert.Contains(merge, "experiment merge --stores");
        }
        finally
        {
            TestData.RemoveTempDir(dir);
        }
    }

    /// <summary>
    /// `experiment --boards sim,sim`: a run crafted on the boards (Square-Linf, "target": "board") and a transfer run
    /// answered by them; each run's two blocks of 32 go one to each board, the table has the boards' row, and the
    /// board-crafted examples are the host int8 engine's (the boards are bit-exact).
    /// </summary>
    [TestMethod]
    public async Task TwoSimBoardsShareAnExperimentsBlocks_AndTheTableHasTheirRow()
    {
        Paths.Require(Paths.CifarInt8);
        string dir = TestData.TempDir();
        try
        {
            string config = Path.Combine(dir, "board-table.json");
            string Runs(string target) => $$"""
                [ { "attack": "square-linf", "target": "{{target}}", "set": { "max_iter": 4 } }, { "attack": "fgsm", "set": { "eps": 0.01 } } ]
                """;
            // the host twin crafts on the int8 file itself, with nothing to transfer to
            string Config(string target) => $$"""
                {
                  "title": "boards test",
                  "paper_note": "no paper figures",
                  "model": "${QNN_DATA}/{{(target == "board" ? Paths.CifarFloatH5 : Paths.CifarInt8)}}",
                  "data": "cifar10:${QNN_DATA}/cifar10",
                  "transfer_to": [{{(target == "board" ? "\"${QNN_DATA}/" + Paths.CifarInt8 + "\"" : "")}}],
                  "limit": 40,
                  "seed": 3,
                  "runs": {{Runs(target)}}
                }
                """;
            File.WriteAllText(config, Config("board"));
            CliRun noBoards = await CliHarness.RunAsync("experiment", "--config", config, "--out", Path.Combine(dir, "none"));
            Assert.AreNotEqual(0, noBoards.ExitCode);
            StringAssert.Contains(noBoards.Stderr, "--boards");

            CliRun r = await CliHarness.RunAsync("experiment", "--config", config, "--boards", "sim,sim", "--out", Path.Combine(dir, "boards"));
            Assert.AreEqual(0, r.ExitCode, r.ToString());
            string table = File.ReadAllText(Path.Combine(dir, "boards", "board-table.md"));
            Assert.AreEqual(2, table.Split('\n').Count(l => l.Contains("| board |", StringComparison.Ordinal)), table);
            using var store = new AttackStore(Path.Combine(dir, "boards", "attacks.sqlite"));
            Assert.HasCount(2, store.Runs());
            foreach (AttackRunInfo run in store.Runs())
            {
                IReadOnlyList<AttackImageResult> rows = store.Results(run.Id);
                Assert.HasCount(40, rows);
                // blocks 0-31 and 32-39: one board each, whichever was free first
                Assert.AreEqual(2, rows.Select(x => x.Board).Distinct().Count(), $"{run.Attack}: both boards answered");
                Assert.IsTrue(rows.Where(x => x.Index < 32).All(x => x.Board == rows[0].Board), $"{run.Attack}: a block is one board's");
                Assert.IsTrue(rows.All(x => x.Evals["board"].AdversarialLabel == x.Evals["int8"].AdversarialLabel), "boards and host int8 engine agree");
            }

            // the same Square run crafted on the host int8 engine makes the same examples
            File.WriteAllText(config, Config("int8"));
            CliRun host = await CliHarness.RunAsync("experiment", "--config", config, "--attacks", "square-linf", "--out", Path.Combine(dir, "host"));
            Assert.AreEqual(0, host.ExitCode, host.ToString());
            using var hostStore = new AttackStore(Path.Combine(dir, "host", "attacks.sqlite"));
            float[][] Examples(AttackStore st) => [.. st.Results(st.Runs().First(x => x.Attack == "square-linf").Id).Select(x => x.Adversarial)];
            float[][] onBoards = Examples(store), onHost = Examples(hostStore);
            Assert.HasCount(40, onHost);
            for (int i = 0; i < 40; i++)
            {
                CollectionAssert.AreEqual(onHost[i], onBoards[i], $"image {i}");
            }
        }
        finally
        {
            TestData.RemoveTempDir(dir);
        }
    }
}
