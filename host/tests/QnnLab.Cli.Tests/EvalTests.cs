using System.Text.Json;
using QnnLab.Data;
using QnnLab.Inference;
using QnnLab.Model;

namespace QnnLab.Cli.Tests;

/// <summary>Issue 2: `eval --json`, `--precision float` on an int model, `--limit`, and cancellation.</summary>
[TestClass]
public sealed class EvalTests
{
    private static string CifarSpec => "cifar10:" + Paths.Require(Paths.CifarDir);

    internal static JsonElement LastLineJson(CliRun r)
    {
        Assert.AreEqual(0, r.ExitCode, r.ToString());
        Assert.IsNotEmpty(r.StdoutLines, r.ToString());
        using JsonDocument doc = JsonDocument.Parse(r.StdoutLines[^1]);
        Assert.AreEqual(JsonValueKind.Object, doc.RootElement.ValueKind, r.StdoutLines[^1]);
        return doc.RootElement.Clone();
    }

    [TestMethod]
    public async Task EvalJson_OnPaperInt8_MatchesIntegerClassifierDirectly()
    {
        string model = Paths.Require(Paths.CifarInt8);
        const int N = 300;
        CliRun r = await CliHarness.RunAsync("eval", "-m", model, "--data", CifarSpec, "--limit", N.ToString(), "--json");
        JsonElement j = LastLineJson(r);
        Assert.AreEqual(N, j.GetProperty("n").GetInt32());
        Assert.AreEqual("int8", j.GetProperty("precision").GetString());
        Assert.AreEqual(model, j.GetProperty("model").GetString());
        double accuracy = j.GetProperty("accuracy").GetDouble();

        // The same images through another path: the batch file read directly, the integer engine called directly.
        ImageSet set = Cifar10.ReadBatch(Path.Combine(Paths.Require(Paths.CifarDir), "test_batch.bin"), N);
        using var clf = new IntegerClassifier(ModelFiles.Load(model));
        var labels = new int[N];
        clf.Classify(set, 0, N, labels, new float[N * clf.Classes]);
        int correct = labels.Zip(set.Labels).Count(p => p.First == p.Second);
        Assert.AreEqual((double)correct / N, accuracy, 0.0, $"CLI says {accuracy}, direct {correct}/{N}");
        Assert.AreEqual(correct, j.GetProperty("correct").GetInt32());
        // Paper Table 4: 87.5 % on the first 1000 test images; 300 images leave a few points of noise.
        Assert.IsGreaterThan(0.8, accuracy, "a working int8 ResNet-8 scores well above chance");
    }

    /// <summary>A bare "cifar10:#batch" finds the data root's CIFAR-10 (here through QNN_DATA) and reads that batch of it.</summary>
    [TestMethod]
    public async Task EvalBareCifarSpecWithABatch_ReadsThatBatchOfTheDataRoot()
    {
        string model = Paths.Require(Paths.CifarInt8);
        string dir = Paths.Require(Paths.CifarDir);
        CliRun bare = await CliHarness.RunAsync("eval", "-m", model, "--data", "cifar10:#data_batch_2.bin", "--limit", "50", "--json");
        CliRun full = await CliHarness.RunAsync("eval", "-m", model, "--data", $"cifar10:{dir}#data_batch_2.bin", "--limit", "50", "--json");
        Assert.AreEqual(0, bare.ExitCode, bare.ToString());
        JsonElement a = LastLineJson(bare), b = LastLineJson(full);
        Assert.EndsWith("data_batch_2.bin", a.GetProperty("data").GetString()!);
        Assert.AreEqual(b.GetProperty("correct").GetInt32(), a.GetProperty("correct").GetInt32());
    }

    [TestMethod]
    public async Task EvalPrecisionFloat_OnInt8Model_RunsTheDequantizedView()
    {
        CliRun r = await CliHarness.RunAsync("eval", "-m", Paths.Require(Paths.CifarInt8), "--data", CifarSpec,
            "--limit", "100", "--precision", "float", "--json");
        JsonElement j = LastLineJson(r);
        Assert.AreEqual("float", j.GetProperty("precision").GetString());
        Assert.AreEqual(100, j.GetProperty("n").GetInt32());
        // The dequantized weights are the int8 model's own; it classifies about as well as the int8 model.
        Assert.IsGreaterThan(0.75, j.GetProperty("accuracy").GetDouble());
    }

    [TestMethod]
    public async Task EvalLimit_CountsOnlyThatManyImages()
    {
        CliRun r = await CliHarness.RunAsync("eval", "-m", Paths.Require(Paths.CifarInt8), "--data", CifarSpec, "-n", "7");
        Assert.AreEqual(0, r.ExitCode, r.ToString());
        Assert.HasCount(1, r.StdoutLines, r.ToString());
        StringAssert.Matches(r.StdoutLines[0], new System.Text.RegularExpressions.Regex(@"^accuracy \d+\.\d\d % \([0-7]/7\), int8$"));
        StringAssert.Contains(r.Stderr, "/7 = ", "the summary on stderr counts 7 images");
    }

    [TestMethod]
    public async Task Eval_WithCancelledToken_Exits130AndSaysCancelled()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        CliRun r = await CliHarness.RunAsync(cts.Token, "eval", "-m", Paths.Require(Paths.CifarInt8), "--data", CifarSpec, "--limit", "50");
        Assert.AreEqual(130, r.ExitCode, r.ToString());
        Assert.AreEqual("", r.Stdout, r.ToString());
        Assert.HasCount(1, r.StderrLines, r.ToString());
        Assert.AreEqual("qnnlab: cancelled", r.StderrLines[0]);
    }
}
