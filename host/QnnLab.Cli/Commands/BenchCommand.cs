using System.CommandLine;
using System.Globalization;
using QnnLab.Engine;
using QnnLab.Inference;
using QnnLab.Model;
using QnnLab.Torch;

namespace QnnLab.Cli;

/// <summary>`qnnlab bench`: throughput figures measured side by side with a peer in the same run.</summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var cmd = new Command("bench", "Benchmarks (figures and ratios against a peer measured in the same run)");
        cmd.Subcommands.Add(Engine());
        cmd.Subcommands.Add(BenchLinkCommand.Create());
        return cmd;
    }

    private static Command Engine()
    {
        Option<string> model = CommonOptions.Model();
        Option<double> seconds = new("--seconds") { Description = "Seconds per measurement", DefaultValueFactory = _ => 3.0 };
        Option<string> batches = new("--batches") { Description = "Batch sizes, comma-separated", DefaultValueFactory = _ => "1,64" };
        Option<bool> noTorch = new("--no-torch") { Description = "Skip the TorchSharp float32 peer" };
        Option<bool> json = CommonOptions.Json();
        var cmd = new Command("engine", "Integer engine images/s on one thread vs TorchSharp float32 (1 thread) on the same model")
        {
            model, seconds, batches, noTorch, json,
        };
        cmd.SetAction(parse =>
        {
            double secs = parse.GetValue(seconds);
            if (!(secs > 0))
            {
                throw new ArgumentException($"--seconds {secs.ToString(CultureInfo.InvariantCulture)}: must be more than 0");
            }
            int[] sizes = ParseBatches(parse.GetValue(batches)!);
            string path = CommonOptions.ResolveModel(parse.GetValue(model)!);
            QnnModel m = ModelFiles.Load(path);
            if (m.Precision == Precision.Float)
            {
                throw new ModelException($"{path}: is a float model; benchmark an int8/int16 model (qnnlab quantize makes one)");
            }
            var rows = new List<Dictionary<string, object?>>();
            Console.WriteLine($"model {Path.GetFileName(path)} ({ModelFiles.Name(m.Precision)}), {secs:F0} s per figure, 1 thread");
            Console.WriteLine("| batch | integer engine img/s | vectorised | TorchSharp float32 img/s | ratio | peak working set |");
            Console.WriteLine("|---:|---:|---|---:|---:|---:|");
            foreach (int b in sizes)
            {
                EngineBenchmark.Result r = EngineBenchmark.Run(m, b, secs);
                FloatBenchmarkResult? f = parse.GetValue(noTorch) ? null : FloatEngineBenchmark.Run(m, b, secs, threads: 1);
                double? ratio = f is null ? null : r.ImagesPerSecond / f.ImagesPerSecond;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {b} | {r.ImagesPerSecond:F0} | {r.Vectorised} | {(f is null ? "-" : f.ImagesPerSecond.ToString("F0", CultureInfo.InvariantCulture))} | {(ratio is double x ? x.ToString("F2", CultureInfo.InvariantCulture) + "x" : "-")} | {r.PeakWorkingSetBytes / (1024.0 * 1024.0):F0} MiB |"));
                rows.Add(new Dictionary<string, object?>
                {
                    ["batch"] = b,
                    ["integer_images_per_s"] = r.ImagesPerSecond,
                    ["vectorised"] = r.Vectorised,
                    ["torch_float32_images_per_s"] = f?.ImagesPerSecond,
                    ["ratio"] = ratio,
                    ["peak_working_set_bytes"] = r.PeakWorkingSetBytes,
                });
            }
            if (parse.GetValue(json))
            {
                JsonOutput.Print(new Dictionary<string, object?> { ["model"] = path, ["precision"] = ModelFiles.Name(m.Precision), ["threads"] = 1, ["results"] = rows });
            }
            return 0;
        });
        return cmd;
    }

    private static int[] ParseBatches(string text) => text.Split(',').Select(s =>
        int.TryParse(s.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int b) && b >= 1
            ? b
            : throw new ArgumentException($"--batches '{text}': '{s}' is not a batch size of 1 or more")).ToArray();
}
