using System.Text.Json;

namespace QnnLab.Cli.Tests;

/// <summary>Issue 2: `bench engine --json` smoke test (no timing assertions: figures belong in benchmarks).</summary>
[TestClass]
public sealed class BenchTests
{
    [TestMethod]
    public async Task BenchEngineJson_ReportsPositiveThroughput()
    {
        string model = Paths.Require(Paths.CifarInt8);
        CliRun r = await CliHarness.RunAsync("bench", "engine", "-m", model, "--seconds", "0.2", "--batches", "1", "--no-torch", "--json");
        JsonElement j = EvalTests.LastLineJson(r);
        Assert.AreEqual(model, j.GetProperty("model").GetString());
        Assert.AreEqual("int8", j.GetProperty("precision").GetString());
        JsonElement[] rows = j.GetProperty("results").EnumerateArray().ToArray();
        Assert.HasCount(1, rows);
        Assert.AreEqual(1, rows[0].GetProperty("batch").GetInt32());
        Assert.IsGreaterThan(0.0, rows[0].GetProperty("integer_images_per_s").GetDouble());
        Assert.AreEqual(JsonValueKind.Null, rows[0].GetProperty("torch_float32_images_per_s").ValueKind, "--no-torch measures no peer");
    }

    [TestMethod]
    public async Task BenchAttackJson_CountsTheAttacksQueriesAndMeasuresTheRawPeerOfTheSameKind()
    {
        string cifar = "cifar10:" + Paths.Require("cifar10");
        CliRun g = await CliHarness.RunAsync("bench", "attack", "--attack", "fgsm", "-m", Paths.Require(Paths.CifarFloatH5), "--data", cifar,
            "--limit", "4", "--batch", "2", "--seconds", "0.2", "--json");
        JsonElement fgsm = EvalTests.LastLineJson(g);
        Assert.AreEqual("forward+backward", fgsm.GetProperty("raw_kind").GetString());
        Assert.AreEqual(4, fgsm.GetProperty("gradient_queries").GetInt64(), "FGSM: one gradient per image");
        Assert.IsGreaterThan(0.0, fgsm.GetProperty("raw_per_second").GetDouble());
        Assert.IsGreaterThan(0.0, fgsm.GetProperty("ratio_to_raw").GetDouble());

        CliRun s = await CliHarness.RunAsync("bench", "attack", "--attack", "square-linf", "-m", Paths.Require(Paths.CifarInt8), "--target", "int8",
            "--data", cifar, "--limit", "4", "--set", "max_iter=5", "--seconds", "0.2", "--json");
        JsonElement square = EvalTests.LastLineJson(s);
        Assert.AreEqual("forward", square.GetProperty("raw_kind").GetString());
        Assert.AreEqual(0, square.GetProperty("gradient_queries").GetInt64());
        Assert.IsTrue(square.GetProperty("queries").GetInt64() is >= 4 and <= 4 * (2 + 5), $"queries {square.GetProperty("queries")}");
        StringAssert.Contains(square.GetProperty("parameters").GetString(), "max_iter=5");
    }
}
