using QnnLab.Attacks.Runs;
using QnnLab.TestSupport;

namespace QnnLab.Cli.Tests;

/// <summary>`qnnlab experiment`: the shipped configs parse, rows carry the paper's figure and the difference, a rerun reuses the stored runs.</summary>
[TestClass]
public sealed class ExperimentCliTests
{
    [TestMethod]
    public async Task TheShippedTable6ConfigRunsAndARerunReusesEveryStoredRun()
    {
        Paths.Require(Paths.CifarFloatH5);
        string config = Path.Combine(TestData.RepoRoot, "experiments", "table6-cifar10-whitebox.json");
        string scratch = TestData.TempDir();
        string outDir = Path.Combine(scratch, "experiment");
        try
        {
            CliRun r = await CliHarness.RunAsync("experiment", "--config", config, "--limit", "4", "--out", outDir);
            Assert.AreEqual(0, r.ExitCode, r.ToString());
            string md = File.ReadAllText(Path.Combine(outDir, "table6-cifar10-whitebox.md"));
            StringAssert.Contains(md, "N = 4 (the first 4 images of cifar10:");
            StringAssert.Contains(md, "| deepfool | max_iter=100 epsilon=0.008 nb_grads=10 | float |", "the cifar10 preset applied");
            StringAssert.Contains(md, "| 78.4 |", "the paper's DeepFool int-8 figure beside ours");
            using (var store = new AttackStore(Path.Combine(outDir, "attacks.sqlite")))
            {
                Assert.HasCount(8, store.Runs(), "one run per row");
                Assert.IsTrue(store.Runs().All(x => x.Status == "done" && x.Total == 4));
            }
            CliRun again = await CliHarness.RunAsync("experiment", "--config", config, "--limit", "4", "--out", outDir);
            Assert.AreEqual(0, again.ExitCode, again.ToString());
            Assert.AreEqual(md, File.ReadAllText(Path.Combine(outDir, "table6-cifar10-whitebox.md")), "same runs, same table");
            using var after = new AttackStore(Path.Combine(outDir, "attacks.sqlite"));
            Assert.HasCount(8, after.Runs(), "the rerun created no run");
        }
        finally
        {
            // Never masks the failure above: the folder may not exist when the command failed early.
            TestData.RemoveTempDir(scratch);
        }
    }

    [TestMethod]
    public async Task ADefenceTableMarksThePapersTwentyPointCriterionForOursAndThePapers()
    {
        Paths.Require("paper-models/defense-enhanced/cifar_distil_float.h5");
        string config = Path.Combine(TestData.RepoRoot, "experiments", "table9-cifar10-distillation-transfer.json");
        string scratch = TestData.TempDir();
        try
        {
            string outDir = Path.Combine(scratch, "out");
            CliRun r = await CliHarness.RunAsync("experiment", "--config", config, "--limit", "2", "--attacks", "deepfool", "--out", outDir);
            Assert.AreEqual(0, r.ExitCode, r.ToString());
            string md = File.ReadAllText(Path.Combine(outDir, "table9-cifar10-distillation-transfer.md"));
            StringAssert.Contains(md, "Defended: adversarial accuracy at least 67.5 %");
            string[] lines = md.Split('\n');
            // Only the asked attack ran; the paper's DeepFool figures (float 8.6, int8 75.8) fall either side of 67.5.
            Assert.IsFalse(lines.Any(l => l.StartsWith("| cw-linf", StringComparison.Ordinal) || l.StartsWith("| autoattack", StringComparison.Ordinal)));
            string Row(string precision) => lines.Single(l => l.StartsWith("| deepfool", StringComparison.Ordinal) && l.Contains($"| {precision} |", StringComparison.Ordinal));
            StringAssert.Matches(Row("float"), new System.Text.RegularExpressions.Regex(@"\| 8\.6 \| [-+0-9.]+ \| (yes|no) / no \|$"));
            StringAssert.Matches(Row("int8"), new System.Text.RegularExpressions.Regex(@"\| 75\.8 \| [-+0-9.]+ \| (yes|no) / yes \|$"));
            double ours = double.Parse(Row("int8").Split('|')[4], System.Globalization.CultureInfo.InvariantCulture);
            StringAssert.EndsWith(Row("int8"), ours >= 67.5 ? "| yes / yes |" : "| no / yes |");
            CliRun bad = await CliHarness.RunAsync("experiment", "--config", config, "--limit", "2", "--attacks", "nosuch", "--out", outDir);
            Assert.AreNotEqual(0, bad.ExitCode);
            StringAssert.Contains(bad.Stderr, "none of these is a run of");
        }
        finally
        {
            TestData.RemoveTempDir(scratch);
        }
    }

    [TestMethod]
    public async Task ADirectConfigAttacksEachPrecisionOnItsOwnModelWithItsOverridesAndPerRunLimits()
    {
        Paths.Require(Paths.CifarFloatH5);
        string scratch = TestData.TempDir();
        try
        {
            // The shipped Table 5 config with its runs cut to two short ones (a run's "set" and "limit" apply to it alone).
            string shipped = File.ReadAllText(Path.Combine(TestData.RepoRoot, "experiments", "table5-cifar10-direct.json"));
            var root = System.Text.Json.Nodes.JsonNode.Parse(shipped)!.AsObject();
            var runs = root["runs"]!.AsArray();
            var square = runs.First(r => r!["attack"]!.GetValue<string>() == "square-linf")!.DeepClone().AsObject();
            square["set"] = new System.Text.Json.Nodes.JsonObject { ["max_iter"] = 20 };
            var geoda = runs.First(r => r!["attack"]!.GetValue<string>() == "geoda")!.DeepClone().AsObject();
            geoda["set"] = new System.Text.Json.Nodes.JsonObject { ["max_iter"] = 600 };
            geoda["limit"] = 2;
            root["runs"] = new System.Text.Json.Nodes.JsonArray(square, geoda);
            string config = Path.Combine(scratch, "direct.json");
            File.WriteAllText(config, root.ToJsonString());
            string outDir = Path.Combine(scratch, "out");

            CliRun r = await CliHarness.RunAsync("experiment", "--config", config, "--limit", "3", "--out", outDir);
            Assert.AreEqual(0, r.ExitCode, r.ToString());
            string md = File.ReadAllText(Path.Combine(outDir, "direct.md"));
            foreach (string precision in new[] { "float", "int16", "int8" })
            {
                StringAssert.Contains(md, $"| square-linf | {precision} | 3 |", "--limit caps the table's 1,000");
                StringAssert.Contains(md, $"| geoda | {precision} | 2 |", "the run's own limit");
            }
            StringAssert.Contains(md, "| 82.3 |", "the paper's Square-Linf int-8 figure beside ours");
            using var store = new AttackStore(Path.Combine(outDir, "attacks.sqlite"));
            Assert.HasCount(6, store.Runs(), "one run per attack and precision");
            CollectionAssert.AreEquivalent(new[] { "float", "int16", "int8", "float", "int16", "int8" }, store.Runs().Select(x => x.CraftTarget).ToArray());
            Assert.IsTrue(store.Runs().Where(x => x.Attack == "square-linf").All(x => x.Parameters.Contains("max_iter=20", StringComparison.Ordinal)));
            Assert.IsTrue(store.Runs().Where(x => x.Attack == "geoda").All(x => x.Parameters.Contains("max_iter=600", StringComparison.Ordinal)));
        }
        finally
        {
            TestData.RemoveTempDir(scratch);
        }
    }

    /// <summary>
    /// Table 6's transfer row crafts on the float model exactly as Table 5's float row does: with both in one store the
    /// transfer run evaluates the stored examples instead of crafting them again, and equals a transfer run crafted
    /// from nothing in another store image for image (examples, evaluations, query counts).
    /// </summary>
    [TestMethod]
    public async Task ATransferRunReusesTheExamplesOfTheDirectFloatRunCraftedTheSameWay()
    {
        Paths.Require(Paths.CifarFloatH5);
        string scratch = TestData.TempDir();
        try
        {
            string Cut(string file)
            {
                var root = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(TestData.RepoRoot, "experiments", file)))!.AsObject();
                var square = root["runs"]!.AsArray().First(r => r!["attack"]!.GetValue<string>() == "square-linf")!.DeepClone().AsObject();
                square["set"] = new System.Text.Json.Nodes.JsonObject { ["max_iter"] = 20 };
                root["runs"] = new System.Text.Json.Nodes.JsonArray(square);
                string path = Path.Combine(scratch, file);
                File.WriteAllText(path, root.ToJsonString());
                return path;
            }
            string direct = Cut("table5-cifar10-direct.json"), transfer = Cut("table6-cifar10-grayblack.json");
            string shared = Path.Combine(scratch, "shared"), alone = Path.Combine(scratch, "alone");

            CliRun d = await CliHarness.RunAsync("experiment", "--config", direct, "--limit", "5", "--out", shared);
            Assert.AreEqual(0, d.ExitCode, d.ToString());
            CliRun t = await CliHarness.RunAsync("experiment", "--config", transfer, "--limit", "5", "--out", shared);
            Assert.AreEqual(0, t.ExitCode, t.ToString());
            StringAssert.Contains(t.Stderr, "reusing the examples of run 1", "the float row's run is reused");
            CliRun fresh = await CliHarness.RunAsync("experiment", "--config", transfer, "--limit", "5", "--out", alone);
            Assert.AreEqual(0, fresh.ExitCode, fresh.ToString());
            Assert.IsFalse(fresh.Stderr.Contains("reusing", StringComparison.Ordinal), "nothing to reuse in a new store");

            Dictionary<string, string[]> reused = ShardedExperimentTests.Contents(Path.Combine(shared, "attacks.sqlite"));
            (string run, string[] crafted) = ShardedExperimentTests.Contents(Path.Combine(alone, "attacks.sqlite")).Single();
            Assert.HasCount(5, crafted);
            CollectionAssert.AreEqual(crafted, reused[run], "reused examples, evaluations and query counts equal crafting anew");
            Assert.HasCount(4, reused, "the three direct runs (float, int16, int8) and the transfer run");
            StringAssert.Contains(File.ReadAllText(Path.Combine(shared, "table6-cifar10-grayblack.md")), "| square-linf |");
        }
        finally
        {
            TestData.RemoveTempDir(scratch);
        }
    }

    [TestMethod]
    public async Task TheFigure1ConfigDrawsOneLinePerPrecisionOverItsEpsSweep()
    {
        Paths.Require(Paths.CifarFloatH5);
        string scratch = TestData.TempDir();
        try
        {
            // The shipped sweep cut to three eps values and one restart (the figure's shape, not its cost).
            var root = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(TestData.RepoRoot, "experiments", "figure1-cifar10-pgd.json")))!.AsObject();
            var runs = root["runs"]!.AsArray();
            var kept = new System.Text.Json.Nodes.JsonArray();
            foreach (int k in new[] { 0, 6, 11 })
            {
                var run = runs[k]!.DeepClone().AsObject();
                run["set"]!["num_random_init"] = 1;
                run["set"]!["max_iter"] = 5;
                kept.Add(run);
            }
            root["runs"] = kept;
            string config = Path.Combine(scratch, "fig.json");
            File.WriteAllText(config, root.ToJsonString());
            string outDir = Path.Combine(scratch, "out");
            CliRun r = await CliHarness.RunAsync("experiment", "--config", config, "--limit", "3", "--out", outDir);
            Assert.AreEqual(0, r.ExitCode, r.ToString());
            byte[] png = File.ReadAllBytes(Path.Combine(outDir, "figure1-cifar10-pgd.png"));
            CollectionAssert.AreEqual(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4], "a PNG");
            string md = File.ReadAllText(Path.Combine(outDir, "fig.md"));
            StringAssert.Contains(md, "| eps | float | int16 | int8 |");
            foreach (string eps in new[] { "| 0.0002 |", "| 0.003 |", "| 0.008 |" })
            {
                StringAssert.Contains(md, eps, "one row per swept eps, in order");
            }
            StringAssert.Contains(md, "Paper: float-32 and int-16 overlap");
            Assert.IsTrue(File.Exists(Path.Combine(outDir, "fig", "pgd-eps-0.008", "x_adv.npy")), "each swept run writes its own examples");
            Assert.IsLessThan(md.IndexOf("| 0.008 |", StringComparison.Ordinal), md.IndexOf("| 0.0002 |", StringComparison.Ordinal));
        }
        finally
        {
            TestData.RemoveTempDir(scratch);
        }
    }
}
