using System.Text.Json;
using QnnLab.TestSupport;

namespace QnnLab.Cli.Tests;

/// <summary>`qnnlab defend accuracy` (paper Table 8): each cell is the model's own accuracy, the paper's figure sits beside it.</summary>
[TestClass]
public sealed class DefendAccuracyTests
{
    [TestMethod]
    public async Task TheShippedTable8ConfigGivesEachModelTheAccuracyEvalGivesIt()
    {
        string distilInt8 = Paths.Require("paper-models/defense-enhanced/cifar_distil_int8.tflite");
        Paths.Require("paper-models/defense-enhanced/cifar_sat_float.h5");
        string config = Path.Combine(TestData.RepoRoot, "experiments", "table8-cifar10.json");
        string scratch = TestData.TempDir();
        try
        {
            const int N = 40;
            CliRun r = await CliHarness.RunAsync("defend", "accuracy", "--config", config, "--limit", N.ToString(), "--out", scratch);
            Assert.AreEqual(0, r.ExitCode, r.ToString());
            string md = File.ReadAllText(Path.Combine(scratch, "table8-cifar10.md"));
            StringAssert.Contains(md, "not the paper's test set", "a limited run is not the paper's population: no image difference");
            StringAssert.Contains(md, "paper 82.58 %", "the paper's distillation int-8 figure beside ours");
            string[] csv = File.ReadAllLines(Path.Combine(scratch, "table8-cifar10.csv"));
            Assert.HasCount(1 + (4 * 3), csv, "four defences at three precisions");

            // The same model through `eval`: the same number of correct images.
            CliRun e = await CliHarness.RunAsync("eval", "-m", distilInt8, "--data", "cifar10:" + Paths.Require(Paths.CifarDir), "--limit", N.ToString(), "--json");
            JsonElement j = EvalTests.LastLineJson(e);
            string[] cell = csv.Single(l => l.StartsWith("Defensive Distillation,int8,", StringComparison.Ordinal)).Split(',');
            Assert.AreEqual(N, int.Parse(cell[3], System.Globalization.CultureInfo.InvariantCulture));
            Assert.AreEqual(j.GetProperty("correct").GetInt32(), int.Parse(cell[4], System.Globalization.CultureInfo.InvariantCulture));
        }
        finally
        {
            TestData.RemoveTempDir(scratch);
        }
    }

    [TestMethod]
    public void OnThePapersTestSetEachCellSaysHowManyImagesItDiffersBy()
    {
        using JsonDocument c = JsonDocument.Parse("""{ "title": "T8", "paper_note": "note" }""");
        DefendAccuracyCommand.Cell[] cells =
        [
            new("Distil.", "float", "a.h5", 10000, 8290, 82.90, 1),
            new("Distil.", "int8", "a8.tflite", 10000, 8242, 82.58, 1),
            new("PGD", "int8", "b8.tflite", 10000, 8582, 85.62, 1),
        ];
        string md = DefendAccuracyCommand.Table(c.RootElement, "cifar10:", cells, 10000);
        StringAssert.Contains(md, "| float | 82.90 % (8290 / 10000) / paper 82.90 % (0 images) | - |");
        StringAssert.Contains(md, "82.42 % (8242 / 10000) / paper 82.58 % (-16 images)");
        StringAssert.Contains(md, "85.82 % (8582 / 10000) / paper 85.62 % (+20 images)");
        string other = DefendAccuracyCommand.Table(c.RootElement, "cifar10:", cells, 5000);
        Assert.DoesNotContain("images)", other, "another N: no image difference");
    }
}
