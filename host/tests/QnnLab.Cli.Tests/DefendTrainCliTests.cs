using System.Text.Json;
using QnnLab.TestSupport;

namespace QnnLab.Cli.Tests;

/// <summary>Issue 12: `qnnlab defend train` end to end on the paper's ResNet-8 and a few CIFAR-10 training images.</summary>
[TestClass]
public sealed class DefendTrainCliTests
{
    public TestContext TestContext { get; set; } = null!;

    /// <summary>
    /// One epoch of PGD adversarial training (the cifar10 preset, one PGD step, 64 images) writes the float, int8 and
    /// 16x8 models, the CSV log and the loss plot; the float and int8 models load and classify held-out test images
    /// (`qnnlab eval`) about as well as the paper's model does (a couple of SGD steps do not break it), and a second run
    /// with --resume finds the finished checkpoint and trains nothing more.
    /// </summary>
    [TestMethod]
    public async Task DefendTrain_PgdAt_WritesModelsLogAndPlot_AndTheInt8ModelEvaluates()
    {
        string h5 = Paths.Require(Paths.CifarFloatH5);
        string cifar = Paths.Require(Paths.CifarDir);
        string dir = TestData.TempDir();
        try
        {
            string[] args = ["defend", "train", "--defence", "pgd-at", "--model", h5, "--data", $"cifar10:{cifar}#data_batch_1.bin", "--limit", "64",
                "--preset", "cifar10", "--epochs", "1", "--set", "max_iter=1", "--set", "calibration_images=64", "--bench-seconds", "0.5", "--out", dir, "--json"];
            CliRun r = await CliHarness.RunAsync(args);
            TestContext.WriteLine(r.Stderr);
            JsonElement j = EvalTests.LastLineJson(r);
            Assert.AreEqual(64, j.GetProperty("images").GetInt32());
            Assert.AreEqual(1, j.GetProperty("epochs").GetInt32());
            Assert.AreEqual(0.008, j.GetProperty("parameters").GetProperty("eps").GetDouble(), "the cifar10 preset");
            Assert.AreEqual(1, j.GetProperty("parameters").GetProperty("max_iter").GetInt32(), "--set overrides the preset");
            Assert.IsGreaterThan(0, j.GetProperty("raw_forward_backward_images_per_s").GetDouble());
            Assert.IsTrue(r.StderrLines.Any(l => l.Contains("epoch 1/1 done", StringComparison.Ordinal) && l.Contains("adv acc", StringComparison.Ordinal)), r.Stderr);
            foreach (string key in new[] { "float", "int8", "int16", "log", "plot" })
            {
                string file = j.GetProperty(key).GetString()!;
                Assert.IsTrue(File.Exists(file) && new FileInfo(file).Length > 0, $"{key}: {file}");
            }
            string[] csv = File.ReadAllLines(j.GetProperty("log").GetString()!);
            Assert.AreEqual("epoch,steps,loss,clean_acc,adv_acc,seconds,images_per_s", csv[0]);
            Assert.HasCount(2, csv, "a header and one epoch");

            foreach ((string key, string precision) in new[] { ("float", "float"), ("int8", "int8") })
            {
                CliRun e = await CliHarness.RunAsync("eval", "-m", j.GetProperty(key).GetString()!, "--data", $"cifar10:{cifar}", "--limit", "100", "--json");
                JsonElement ej = EvalTests.LastLineJson(e);
                Assert.AreEqual(precision, ej.GetProperty("precision").GetString());
                Assert.IsGreaterThan(0.6, ej.GetProperty("accuracy").GetDouble(), $"{key} model: {e.Stdout}");
            }

            CliRun again = await CliHarness.RunAsync(args.Append("--resume").ToArray());
            Assert.AreEqual(0, again.ExitCode, again.ToString());
            Assert.IsTrue(again.StderrLines.Any(l => l.Contains("resumed after epoch 1", StringComparison.Ordinal)), again.Stderr);
            Assert.IsFalse(again.StderrLines.Any(l => l.Contains("epoch 1/1 done", StringComparison.Ordinal)), "nothing left to train");
        }
        finally
        {
            TestData.RemoveTempDir(dir);
        }
    }

    /// <summary>
    /// The other trainers through the CLI on 32 images for one epoch: distillation (teacher and student phases, the
    /// student's log in --out), ensemble AT with two helper files given by --set helpers=... (the paper's float ResNet-8
    /// twice, as a stand-in for its unshipped helpers) and Sinkhorn AT: each writes its three models, and the int8 one
    /// classifies.
    /// </summary>
    [TestMethod]
    [DataRow("distillation")]
    [DataRow("ensemble-at")]
    [DataRow("sinkhorn-at")]
    public async Task DefendTrain_OtherDefences_WriteTheirModels(string defence)
    {
        string h5 = Paths.Require(Paths.CifarFloatH5);
        string cifar = Paths.Require(Paths.CifarDir);
        string dir = TestData.TempDir();
        try
        {
            List<string> args = ["defend", "train", "--defence", defence, "--model", h5, "--data", $"cifar10:{cifar}#data_batch_1.bin", "--limit", "32",
                "--preset", "cifar10", "--epochs", "1", "--set", "calibration_images=32", "--bench-seconds", "0", "--out", dir, "--json"];
            if (defence != "distillation")
            {
                args.AddRange(["--set", "max_iter=1"]);
            }
            if (defence == "ensemble-at")
            {
                args.AddRange(["--set", $"helpers={h5},{h5}"]);
            }
            CliRun r = await CliHarness.RunAsync([.. args]);
            JsonElement j = EvalTests.LastLineJson(r);
            Assert.AreEqual(1, j.GetProperty("epochs").GetInt32(), r.Stderr);
            foreach (string key in new[] { "float", "int8", "int16", "log", "plot" })
            {
                Assert.IsTrue(File.Exists(j.GetProperty(key).GetString()!), key);
            }
            if (defence == "distillation")
            {
                Assert.IsTrue(File.Exists(Path.Combine(dir, "teacher", "training-log.csv")), "the teacher phase's log");
            }
            if (defence == "ensemble-at")
            {
                Assert.IsTrue(r.StderrLines.Any(l => l.Contains("sources in turn: fgsm@", StringComparison.Ordinal) && l.Contains("pgd@", StringComparison.Ordinal)), r.Stderr);
            }
            CliRun e = await CliHarness.RunAsync("eval", "-m", j.GetProperty("int8").GetString()!, "--data", $"cifar10:{cifar}", "--limit", "100", "--json");
            Assert.IsGreaterThan(0.3, EvalTests.LastLineJson(e).GetProperty("accuracy").GetDouble(), e.Stdout);
        }
        finally
        {
            TestData.RemoveTempDir(dir);
        }
    }
}
