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
}
