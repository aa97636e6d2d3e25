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
        cmd.Subcommands.Add(BenchAttackCommand.Create());
        cmd.Subcommands.Add(BenchBoardsCommand.Create());
        return cmd;
    }

    private static Command Engine()
    {
        Option<string> model = CommonOptions.Model();
        Option<double> seconds = new("--seconds") { Description = "Seconds per measurement", DefaultValueFactory = _ => 3.0 };
        Option<string> batches = new("--batches") { Description = "Batch sizes, comma-separated", DefaultValueFactory = _ => "1,64" };
        Option<bool> noTorch = new("--no-torch") { Description = "Skip the TorchSharp float32 peer" };
        Option<string> paths = new("--path")
        {
            Description = "Kernel paths, comma-separated: auto, all (every path this CPU runs), reference, portable, avx2, avx512bw, avx-vnni",
            DefaultValueFactory = _ => "auto",
        };
        Option<int> threads = new("--threads") { Description = "Engine threads (one engine each); TorchSharp gets as many", DefaultValueFactory = _ => 1 };
        Option<bool> profile = new("--profile") { Description = "Also print each operator's time per image and share, per path and batch" };
        Option<bool> json = CommonOptions.Json();
        var cmd = new Command("engine", "Integer engine images/s per kernel path vs TorchSharp float32 on the same model, same run")
        {
            model, seconds, batches, noTorch, paths, threads, profile, json,
        };
        cmd.SetAction(parse =>
        {
            double secs = parse.GetValue(seconds);
            if (!(secs > 0))
            {
                throw new ArgumentException($"--seconds {secs.ToString(CultureInfo.InvariantCulture)}: must be more than 0");
            }
            int nThreads = parse.GetValue(threads);
            if (nThreads < 1)
            {
                throw new ArgumentException($"--threads {nThreads}: must be 1 or more");
            }
            int[] sizes = ParseBatches(parse.GetValue(batches)!);
            KernelPath[] kernelPaths = ParsePaths(parse.GetValue(paths)!);
            string path = CommonOptions.ResolveModel(parse.GetValue(model)!);
            QnnModel m = ModelFiles.Load(path);
            if (m.Precision == Precision.Float)
            {
                throw new ModelException($"{path}: is a float model; benchmark an int8/int16 model (qnnlab quantize makes one)");
            }
            var rows = new List<Dictionary<string, object?>>();
            var profiles = new List<EngineBenchmark.Result>();
            Console.WriteLine($"model {Path.GetFileName(path)} ({ModelFiles.Name(m.Precision)}), {secs:F0} s per figure, {nThreads} thread(s)");
            Console.WriteLine($"cpu {CpuInfo.ModelName}; kernel paths here: {CpuInfo.KernelPaths}");
            Console.WriteLine("| batch | path | integer engine img/s | TorchSharp float32 img/s | ratio | operators on | peak working set |");
            Console.WriteLine("|---:|---|---:|---:|---:|---|---:|");
            foreach (int b in sizes)
            {
                FloatBenchmarkResult? f = parse.GetValue(noTorch) ? null : FloatEngineBenchmark.Run(m, b, secs, threads: nThreads);
                foreach (KernelPath kp in kernelPaths)
                {
                    EngineBenchmark.Result r = EngineBenchmark.Run(m, b, secs, kp, nThreads, parse.GetValue(profile));
                    if (r.Profile is not null)
                    {
                        profiles.Add(r);
                    }
                    double? ratio = f is null ? null : r.ImagesPerSecond / f.ImagesPerSecond;
                    string ops = string.Join(", ", r.OperatorPaths.Select(kv => $"{kv.Key} {kv.Value}"));
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"| {b} | {r.Path} | {r.ImagesPerSecond:F0} | {(f is null ? "-" : f.ImagesPerSecond.ToString("F0", CultureInfo.InvariantCulture))} | {(ratio is double x ? x.ToString("F2", CultureInfo.InvariantCulture) + "x" : "-")} | {ops} | {r.PeakWorkingSetBytes / (1024.0 * 1024.0):F0} MiB |"));
                    rows.Add(new Dictionary<string, object?>
                    {
                        ["batch"] = b,
                        ["path"] = r.Path,
                        ["integer_images_per_s"] = r.ImagesPerSecond,
                        ["operator_paths"] = r.OperatorPaths,
                        ["torch_float32_images_per_s"] = f?.ImagesPerSecond,
                        ["ratio"] = ratio,
                        ["peak_working_set_bytes"] = r.PeakWorkingSetBytes,
                        ["profile"] = r.Profile,
                    });
                }
            }
            foreach (EngineBenchmark.Result r in profiles)
            {
                PrintProfile(r);
            }
            if (parse.GetValue(json))
            {
                JsonOutput.Print(new Dictionary<string, object?>
                {
                    ["model"] = path,
                    ["precision"] = ModelFiles.Name(m.Precision),
                    ["threads"] = nThreads,
                    ["cpu"] = CpuInfo.ModelName,
                    ["cpu_kernel_paths"] = KernelIsa.AvailablePaths.Select(KernelIsa.Name).ToArray(),
                    ["results"] = rows,
                });
            }
            return 0;
        });
        return cmd;
    }

    private static void PrintProfile(EngineBenchmark.Result r)
    {
        Console.WriteLine();
        Console.WriteLine($"profile: batch {r.Batch}, path {r.Path} (operator wall time; the timer adds about 50 ns per operator)");
        Console.WriteLine("| # | operator | shape | path | us / image | share |");
        Console.WriteLine("|---:|---|---|---|---:|---:|");
        foreach (EngineBenchmark.OperatorTime t in r.Profile!)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {t.Index} | {t.Kind} | {t.Shape} | {t.Path} | {t.SecondsPerImage * 1e6:F1} | {t.Share * 100:F1} % |"));
        }
    }

    /// <summary>"all" is every path this CPU runs, fastest-capable last; a path this CPU lacks is refused by name.</summary>
    private static KernelPath[] ParsePaths(string text)
    {
        if (text.Trim().Equals("all", StringComparison.OrdinalIgnoreCase))
        {
            return [KernelPath.Reference, .. KernelIsa.AvailablePaths];
        }
        KernelPath[] result = text.Split(',').Select(s => KernelIsa.Parse(s.Trim())).ToArray();
        foreach (KernelPath p in result)
        {
            if (!KernelIsa.IsAvailable(p))
            {
                throw new ArgumentException($"--path {KernelIsa.Name(p)}: this CPU cannot run it (here: {CpuInfo.KernelPaths})");
            }
        }
        return result;
    }

    private static int[] ParseBatches(string text) => text.Split(',').Select(s =>
        int.TryParse(s.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int b) && b >= 1
            ? b
            : throw new ArgumentException($"--batches '{text}': '{s}' is not a batch size of 1 or more")).ToArray();
}
