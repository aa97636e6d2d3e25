using System.Text.Json;
using QnnLab.TestSupport;

namespace QnnLab.Cli.Tests;

/// <summary>Issue 12: `qnnlab defend pixeldefend train` and `purify` end to end on a tiny PixelCNN and the shipped Table 12 config.</summary>
[TestClass]
public sealed class DefendPixelCliTests
{
    public TestContext TestContext { get; set; } = null!;

    /// <summary>
    /// A tiny PixelCNN trained on 32 images purifies 3 clean images and 3 DeepFool examples of the paper's ResNet-8
    /// (the shipped config, its source run capped at 3 images): the table has a clean and a DeepFool row per precision
    /// with the paper's figures beside them, the sub-pixels changed, and the PixelCNN's cost beside the board's
    /// memories; a rerun takes every purified batch from the store (no new timing) and gives the same rows.
    /// </summary>
    [TestMethod]
    public async Task TrainThenPurify_WritesTable12_AndARerunReusesThePurifiedImages()
    {
        Paths.Require(Paths.CifarFloatH5);
        string cifar = Paths.Require(Paths.CifarDir);
        string dir = TestData.TempDir();
        try
        {
            string model = Path.Combine(dir, "pixelcnn");
            CliRun t = await CliHarness.RunAsync("defend", "pixeldefend", "train", "--data", $"cifar10:{cifar}#data_batch_1.bin", "--limit", "32",
                "--set", "layers=1", "channels=6", "batch_size=16", "--out", model);
            Assert.AreEqual(0, t.ExitCode, t.ToString());
            StringAssert.Contains(t.Stdout, "1 epoch(s) on 32 images");
            Assert.IsTrue(File.Exists(Path.Combine(model, "training-log.csv")) && File.Exists(Path.Combine(model, "training-loss.png")));

            string config = Path.Combine(TestData.RepoRoot, "experiments", "table12-cifar10-pixel-defend.json");
            string outDir = Path.Combine(dir, "out");
            string[] args = ["defend", "pixeldefend", "purify", "--config", config, "--pixelcnn", model, "--limit", "3", "--source-limit", "3",
                "--attacks", "deepfool", "--set", "batch_size=2", "--out", outDir];
            CliRun r = await CliHarness.RunAsync(args);
            TestContext.WriteLine(r.Stderr);
            Assert.AreEqual(0, r.ExitCode, r.ToString());
            string md = File.ReadAllText(Path.Combine(outDir, "table12-cifar10-pixel-defend.md"));
            TestContext.WriteLine(md);
            StringAssert.Contains(md, "eps 38 (8-bit units");
            StringAssert.Contains(md, "| clean | clean | int8 | 3 |");
            StringAssert.Contains(md, "| 84.9 |", "Table 10's Pixel Defend clean int8 figure");
            StringAssert.Contains(md, "| 83.2 |", "Table 12's DeepFool int8 figure");
            StringAssert.Contains(md, "against the NUCLEO-L552ZE-Q's 512 KiB flash");
            using JsonDocument j = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "table12-cifar10-pixel-defend.json")));
            JsonElement[] rows = [.. j.RootElement.GetProperty("rows").EnumerateArray()];
            Assert.HasCount(6, rows, "clean and DeepFool, three precisions each");
            Assert.IsTrue(rows.All(x => x.GetProperty("N").GetInt32() == 3));
            Assert.IsTrue(rows.All(x => x.GetProperty("ChangedSubpixels").GetDouble() > 0), "eps 38 moves sub-pixels");
            Assert.IsGreaterThan(0, j.RootElement.GetProperty("cost").GetProperty("SecondsPerImage").GetDouble());

            CliRun again = await CliHarness.RunAsync(args);
            Assert.AreEqual(0, again.ExitCode, again.ToString());
            using JsonDocument j2 = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "table12-cifar10-pixel-defend.json")));
            Assert.AreEqual(rows.Select(x => x.GetRawText()).Aggregate((x, y) => x + y),
                j2.RootElement.GetProperty("rows").EnumerateArray().Select(x => x.GetRawText()).Aggregate((x, y) => x + y));
            Assert.AreEqual(JsonValueKind.Null, j2.RootElement.GetProperty("cost").GetProperty("SecondsPerImage").ValueKind, "nothing purified again");
        }
        finally
        {
            TestData.RemoveTempDir(dir);
        }
    }
}
