using System.Diagnostics;
using System.Text.Json;
using QnnLab.TestSupport;

namespace QnnLab.Hil.Tests;

/// <summary>`qnnlab board list | info | flash --dry-run` and `bench link`, run as the user runs them (a child process).</summary>
[TestClass]
public sealed class BoardCliTests
{
    [TestMethod]
    public async Task BoardList_OffersSimAndQemu()
    {
        (int rc, string output, string err) = await Cli("board", "list", "--json");
        Assert.AreEqual(0, rc, err);
        JsonElement boards = LastJson(output).GetProperty("boards");
        string[] names = boards.EnumerateArray().Select(b => b.GetProperty("board").GetString()!).ToArray();
        CollectionAssert.IsSubsetOf(new[] { "sim", "qemu" }, names);
    }

    [TestMethod]
    public async Task BoardInfo_OnTheSim_ReportsTheDeviceCoreAndNanoseconds()
    {
        (int rc, string output, string err) = await Cli("board", "info", "--board", "sim", "--json");
        Assert.AreEqual(0, rc, err);
        JsonElement info = LastJson(output);
        Assert.AreEqual("sim", info.GetProperty("board").GetString());
        Assert.AreEqual("ns", info.GetProperty("timing_unit").GetString());
        Assert.AreEqual(2, info.GetProperty("protocol_version").GetInt32());
        Assert.AreNotEqual("fake", info.GetProperty("backend").GetString());
        StringAssert.Contains(output, "max payload 4096 B");
    }

    [TestMethod]
    public async Task BoardFlash_DryRun_PrintsTheOpenocdProgramCommand()
    {
        string elf = Path.Combine(TestData.TempDir(), "qnn-nucleo-l552ze-q.elf");
        (int rc, string output, string err) = await Cli("board", "flash", "--image", elf, "--dry-run");
        Assert.AreEqual(0, rc, err);
        Assert.AreEqual($"openocd -f boards/nucleo-l552ze-q/openocd.cfg -c 'program {elf} verify reset exit'", output.Trim());
    }

    [TestMethod]
    public async Task BenchLink_SendsBothWays_MlperfStyleTakesOneRoundTripPer31Bytes()
    {
        const int inputs = 3;
        (int rc, string output, string err) = await Cli("bench", "link", "--board", "sim", "--baud", "2000000", "--inputs", $"{inputs}", "--json");
        Assert.AreEqual(0, rc, err);
        JsonElement j = LastJson(output);
        // per input: "db load 3072", ceil(3072 / 31) = 100 "db <hex>" commands, "infer 1 0"
        Assert.AreEqual(inputs * (1 + 100 + 1), j.GetProperty("mlperf_round_trips").GetInt32());
        Assert.AreEqual(200_000.0, j.GetProperty("capacity_bytes_per_s").GetDouble());
        double protocol = j.GetProperty("protocol_seconds").GetDouble(), mlperf = j.GetProperty("mlperf_seconds").GetDouble();
        Assert.IsGreaterThan(0.0, protocol);
        Assert.AreEqual(mlperf / protocol, j.GetProperty("ratio").GetDouble(), 1e-9);
        Assert.AreEqual(inputs * 3072 / protocol / 200_000.0, j.GetProperty("protocol_link_utilization").GetDouble(), 1e-9);
        StringAssert.Contains(output, "MLPerf Tiny runner style");
    }

    [TestMethod]
    public async Task BenchLink_OnQemu_IsAOneLineError()
    {
        (int rc, _, string err) = await Cli("bench", "link", "--board", "qemu");
        Assert.AreEqual(1, rc);
        StringAssert.StartsWith(err.Trim(), "qnnlab: error: --board qemu: bench link runs on the sim board only");
        Assert.AreEqual(1, err.Trim().Split('\n').Length, err);
    }

    private static JsonElement LastJson(string output) =>
        JsonDocument.Parse(output.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1]).RootElement;

    internal static async Task<(int Rc, string Output, string Error)> Cli(params string[] args)
    {
        using Process p = StartCli(args);
        Task<string> output = p.StandardOutput.ReadToEndAsync();
        string err = await p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        return (p.ExitCode, await output, err);
    }

    internal static Process StartCli(string[] args)
    {
        string cli = Path.Combine(AppContext.BaseDirectory, "qnnlab.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = TestData.RepoRoot };
        psi.ArgumentList.Add(cli);
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }
        return Process.Start(psi)!;
    }
}
