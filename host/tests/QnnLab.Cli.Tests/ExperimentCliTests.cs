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
                Assert.HasCount(7, store.Runs(), "one run per row");
                Assert.IsTrue(store.Runs().All(x => x.Status == "done" && x.Total == 4));
            }
            CliRun again = await CliHarness.RunAsync("experiment", "--config", config, "--limit", "4", "--out", outDir);
            Assert.AreEqual(0, again.ExitCode, again.ToString());
            Assert.AreEqual(md, File.ReadAllText(Path.Combine(outDir, "table6-cifar10-whitebox.md")), "same runs, same table");
            using var after = new AttackStore(Path.Combine(outDir, "attacks.sqlite"));
            Assert.HasCount(7, after.Runs(), "the rerun created no run");
        }
        finally
        {
            // Never masks the failure above: the folder may not exist when the command failed early.
            TestData.RemoveTempDir(scratch);
        }
    }
}
