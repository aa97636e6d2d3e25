using System.CommandLine;
using System.Globalization;
using System.Text;
using QnnLab.Data;
using QnnLab.Hil;
using QnnLab.Results;

namespace QnnLab.Cli;

/// <summary>
/// `qnnlab quickstart`: the whole chain with no arguments. A CIFAR-10 model and a few hundred test images on
/// the sim board, clean and with Feature Squeezing, and a report in ./qnnlab-out/.
/// </summary>
public static class QuickstartCommand
{
    public static Command Create()
    {
        Option<string?> data = new("--data") { Description = "Data folder laid out like the shared data (default: $QNN_DATA, ../shared/data beside the checkout, else downloads into the cache)" };
        Option<string> output = new("--out", "-o") { Description = "Output folder", DefaultValueFactory = _ => "qnnlab-out" };
        Option<int> limit = new("--limit", "-n") { Description = "Test images per run", DefaultValueFactory = _ => 300 };
        Option<string> board = HilCommand.Board();
        var cmd = new Command("quickstart", "Run a CIFAR-10 model on the sim board, clean and with Feature Squeezing; report in ./qnnlab-out/")
        {
            data, output, limit, board,
        };
        cmd.SetAction((parse, cancel) => HilCommand.Guard(() => RunAsync(parse.GetValue(data), parse.GetValue(output)!, parse.GetValue(limit),
            BoardTarget.Parse(parse.GetValue(board)!), cancel)));
        return cmd;
    }

    private static async Task<int> RunAsync(string? dataDir, string outDir, int limit, BoardTarget board, CancellationToken cancel)
    {
        (string model, string data) = Locate(dataDir);
        Console.WriteLine($"quickstart: model {model}");
        Console.WriteLine($"quickstart: data  {data}, first {limit} test images, on the {board} board");
        Directory.CreateDirectory(outDir);
        string store = Path.Combine(outDir, "quickstart.sqlite");
        foreach (string f in new[] { store, store + "-wal", store + "-shm" })
        {
            File.Delete(f); // a fresh store: the report shows this quickstart's two runs only
        }
        var runs = new List<HilRunOutcome>();
        foreach (SqueezeSettings squeeze in new[] { SqueezeSettings.Off, SqueezeSettings.Parse("bits=5,median=2") })
        {
            HilRunOutcome o = await HilCommand.ExecuteAsync(new HilCommand.HilArgs(board, model, data, limit, squeeze, store), cancel).ConfigureAwait(false);
            HilCommand.PrintSummary(o);
            runs.Add(o);
        }
        using (var s = new ResultStore(store))
        {
            ReportCommand.Write(s, runs.Select(r => r.RunId), outDir);
        }
        string index = Path.Combine(outDir, "README.md");
        await File.WriteAllTextAsync(index, Index(model, data, runs), cancel).ConfigureAwait(false);
        Console.WriteLine($"quickstart: report in {Path.GetFullPath(outDir)} (start with {index})");
        return runs.All(r => r.Summary.HostAgreement == 1 && r.LogitMismatches == 0) ? 0 : CliRunner.ExitError;
    }

    /// <summary>The paper's int8 CIFAR ResNet-8 and CIFAR-10 from a data folder, else MLPerf's ResNet-8 and CIFAR-10 from the cache (downloaded if needed).</summary>
    internal static (string Model, string Data) Locate(string? dataDir)
    {
        string? dir = dataDir ?? Environment.GetEnvironmentVariable("QNN_DATA");
        if (dir is null)
        {
            try
            {
                string beside = Path.Combine(FirmwareBuilds.FindRepoRoot(), "..", "shared", "data");
                dir = Directory.Exists(beside) ? Path.GetFullPath(beside) : null;
            }
            catch (InvalidOperationException)
            {
            }
        }
        if (dataDir is not null && !Directory.Exists(dataDir))
        {
            throw new IOException($"--data {dataDir}: no such folder");
        }
        string? model = null, data = null;
        if (dir is not null)
        {
            string paper = Path.Combine(dir, "paper-models", "vanilla", "cifar_resnet_int8.tflite");
            string mlperf = Path.Combine(dir, "mlperf-tiny", "models", "ic", "pretrainedResnet_quant.tflite");
            model = File.Exists(paper) ? paper : File.Exists(mlperf) ? mlperf : null;
            string cifar = Path.Combine(dir, "cifar10", "cifar-10-batches-bin");
            data = File.Exists(Path.Combine(cifar, "test_batch.bin")) ? "cifar10:" + cifar : null;
        }
        return (model ?? "mlperf:ic-int8", data ?? "cifar10:");
    }

    private static string Index(string model, string data, List<HilRunOutcome> runs)
    {
        var inv = CultureInfo.InvariantCulture;
        var b = new StringBuilder();
        b.AppendLine("# qnnlab quickstart");
        b.AppendLine();
        b.AppendLine(inv, $"Model `{Path.GetFileName(model)}`, data `{data}`, board `{runs[0].Summary.Run.Board}`.");
        b.AppendLine();
        b.AppendLine(inv, $"| run | Feature Squeezing | inputs | board accuracy | agreement with host engine | flagged | inference median ({runs[0].Summary.Run.TimingUnit}) | squeezers alone | whole detector | total median | report |");
        b.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        foreach (HilRunOutcome o in runs)
        {
            RunSummary s = o.Summary;
            string F(LatencyStats? l) => l is null ? "-" : l.Median.ToString("F0", inv);
            string P(Func<StageBreakdown, double> overhead) => s.Breakdown is { } st && s.Run.Squeeze.Length > 0 ? $"+{overhead(st) * 100:F1} %" : "-";
            b.AppendLine(inv, $"| {o.RunId} | {(s.Run.Squeeze.Length == 0 ? "off" : s.Run.Squeeze)} | {s.N} | {s.BoardAccuracy * 100:F2} % | {s.HostAgreement * 100:F2} % | {(s.DetectionRate is double d ? (d * 100).ToString("F1", inv) + " %" : "-")} | {F(s.Stage("inference"))} | {P(st => st.SqueezersOverhead)} | {P(st => st.DetectorOverhead)} | {F(s.Stage("total"))} | [run{o.RunId}-summary.md](run{o.RunId}-summary.md) |");
        }
        b.AppendLine();
        b.AppendLine("Squeezers alone and the whole detector (squeezers, its extra inferences on the squeezed inputs and the L1 comparison)");
        b.AppendLine("are mean times as percentages of one inference; each run's report breaks every stage down (`runN-stage-breakdown.png`).");
        b.AppendLine();
        b.AppendLine("With both squeezers the board runs EvadeML's joint detector: the label comes from the original input, and an input");
        b.AppendLine("is flagged when the L1 distance between the model's outputs on the original and a squeezed input exceeds the threshold.");
        return b.ToString();
    }
}
