using System.Diagnostics;
using System.Text.Json;
using QnnLab.Data;
using QnnLab.Engine;
using QnnLab.Inference;
using QnnLab.Model;
using QnnLab.TestSupport;

namespace QnnLab.Cli.Tests;

/// <summary>
/// Issue 14 through the product: the runtime's own ISA switches move `eval` to the next path (in a child
/// process, since they act at start-up), the results stay the same, `--threads` changes nothing but speed, and
/// `bench engine --path all` names every path it measured.
/// </summary>
[TestClass]
public sealed class KernelPathCliTests
{
    private static string CifarSpec => "cifar10:" + Paths.Require(Paths.CifarDir);

    /// <summary>
    /// .NET 10 reads DOTNET_EnableAVXVNNI, DOTNET_EnableAVX512 and DOTNET_EnableAVX2 (DOTNET_EnableAVX512F is
    /// ignored by it). Each run must land on the path the switches leave and score exactly the same.
    /// </summary>
    [TestMethod]
    public async Task RuntimeIsaSwitchesMoveEvalToTheNextPathWithTheSameResult()
    {
        string model = Paths.Require(Paths.CifarInt8);
        KernelIsa cpu = KernelIsa.Cpu;
        var runs = new List<(string Env, string? Expected)>
        {
            ("", cpu.AvxVnni ? "avx-vnni" : cpu.Avx512 ? "avx512bw" : cpu.Avx2 ? "avx2" : null),
            ("DOTNET_EnableAVXVNNI=0", cpu.Avx512 ? "avx512bw" : cpu.Avx2 ? "avx2" : null),
            ("DOTNET_EnableAVXVNNI=0 DOTNET_EnableAVX512=0", cpu.Avx2 ? "avx2" : null),
            ("DOTNET_EnableAVX2=0", cpu.Portable ? "portable" : null),
        };
        int? correct = null;
        foreach ((string env, string? expected) in runs)
        {
            if (expected is null)
            {
                continue; // this CPU cannot reach that path whatever the switches say
            }
            (int rc, string stdout, string stderr) = await RunChild(env, "eval", "-m", model, "--data", CifarSpec, "--limit", "200", "--threads", "1", "--json");
            Assert.AreEqual(0, rc, $"{env}: {stderr}");
            using JsonDocument doc = JsonDocument.Parse(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1]);
            JsonElement j = doc.RootElement;
            Assert.AreEqual(expected, j.GetProperty("kernel_paths").GetProperty("Conv2D").GetString(), env);
            Assert.AreEqual(expected, j.GetProperty("kernel_paths").GetProperty("FullyConnected").GetString(), env);
            int c = j.GetProperty("correct").GetInt32();
            correct ??= c;
            Assert.AreEqual(correct, c, $"{env}: another path, another score");
        }
        Assert.IsNotNull(correct, "no path ran");
    }

    [TestMethod]
    public void TwoThreadsGiveEveryLogitOfOneThread()
    {
        ImageSet set = Cifar10.ReadBatch(Path.Combine(Paths.Require(Paths.CifarDir), "test_batch.bin"), 300);
        foreach (string model in new[] { Paths.CifarInt8, Paths.CifarInt16 })
        {
            QnnModel m = ModelFiles.Load(Paths.Require(model));
            using var one = new IntegerClassifier(m, maxBatch: 16, threads: 1);
            using var two = new IntegerClassifier(m, maxBatch: 16, threads: 2);
            CollectionAssert.AreEqual(one.RawOutputs(set, 5, 290), two.RawOutputs(set, 5, 290), model);
            var l1 = new int[290];
            var l2 = new int[290];
            var p1 = new float[290 * one.Classes];
            var p2 = new float[290 * one.Classes];
            one.Classify(set, 5, 290, l1, p1);
            two.Classify(set, 5, 290, l2, p2);
            CollectionAssert.AreEqual(l1, l2, model);
            CollectionAssert.AreEqual(p1, p2, model);
        }
    }

    [TestMethod]
    public async Task BenchPathAllNamesEveryPathItMeasured()
    {
        CliRun r = await CliHarness.RunAsync("bench", "engine", "-m", Paths.Require(Paths.CifarInt8), "--path", "all",
            "--seconds", "0.1", "--batches", "2", "--no-torch", "--json");
        JsonElement j = EvalTests.LastLineJson(r);
        string[] measured = j.GetProperty("results").EnumerateArray().Select(x => x.GetProperty("path").GetString()!).ToArray();
        CollectionAssert.AreEqual(new[] { "reference" }.Concat(KernelIsa.AvailablePaths.Select(KernelIsa.Name)).ToArray(), measured);
        foreach (JsonElement row in j.GetProperty("results").EnumerateArray())
        {
            string path = row.GetProperty("path").GetString()!;
            Assert.AreEqual(path, row.GetProperty("operator_paths").GetProperty("Conv2D").GetString());
        }
        Assert.IsFalse(string.IsNullOrWhiteSpace(j.GetProperty("cpu").GetString()));
    }

    [TestMethod]
    public async Task BenchRefusesAPathThisCpuLacksOrDoesNotKnow()
    {
        CliRun r = await CliHarness.RunAsync("bench", "engine", "-m", Paths.Require(Paths.CifarInt8), "--path", "neon9", "--seconds", "0.1", "--no-torch");
        Assert.AreNotEqual(0, r.ExitCode);
        StringAssert.Contains(r.Stderr, "unknown kernel path 'neon9'");
    }

    private static async Task<(int, string, string)> RunChild(string env, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = TestData.RepoRoot };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "qnnlab.dll"));
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }
        foreach (string kv in env.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] parts = kv.Split('=');
            psi.Environment[parts[0]] = parts[1];
        }
        using Process p = Process.Start(psi)!;
        Task<string> output = p.StandardOutput.ReadToEndAsync();
        string err = await p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        return (p.ExitCode, await output, err);
    }
}
