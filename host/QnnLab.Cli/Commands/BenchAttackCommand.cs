using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using QnnLab.Attacks;
using QnnLab.Attacks.Targets;
using QnnLab.Data;
using QnnLab.Engine;
using QnnLab.Inference;
using QnnLab.Model;
using TorchSharp;

namespace QnnLab.Cli;

/// <summary>
/// `qnnlab bench attack`: an attack's images/s, queries/s and gradient evaluations/s on a target, beside the target's raw
/// throughput for the same kind of query measured in the same run: forward + backward for gradient attacks, forward
/// (scores) for score and label attacks. The ratio is the attack's own overhead.
/// </summary>
public static class BenchAttackCommand
{
    public static Command Create()
    {
        Option<string> attack = new("--attack", "-a") { Description = $"Attack: {string.Join(", ", AttackCatalog.Names)}", Required = true };
        Option<string> model = CommonOptions.Model();
        Option<string> data = CommonOptions.Data();
        Option<string?> target = new("--target", "-t") { Description = $"Target: {string.Join(", ", TargetFactory.Names)} (default: float for a float model, dequantized for an int one)" };
        Option<string?> preset = new("--preset") { Description = "The paper's configuration for a data set (default: from the data spec)" };
        Option<string[]> set = new("--set") { Description = "Override a parameter by its ART name (repeatable)", AllowMultipleArgumentsPerToken = true };
        Option<int?> limit = new("--limit", "-n") { Description = "Images attacked (default 64)" };
        Option<int> batch = new("--batch") { Description = "Images per Generate call (and per raw-throughput call)", DefaultValueFactory = _ => 32 };
        Option<double> seconds = new("--seconds") { Description = "Seconds of the raw-throughput measurement", DefaultValueFactory = _ => 3.0 };
        Option<bool> json = CommonOptions.Json();
        Option<int> threads = CommonOptions.Threads(fallback: 1);
        var cmd = new Command("attack", "Attack throughput beside the target's raw throughput for the same queries, same run")
        {
            attack, model, data, target, preset, set, limit, batch, seconds, json, threads,
        };
        cmd.SetAction((parse, cancel) =>
        {
            int b = parse.GetValue(batch);
            double secs = parse.GetValue(seconds);
            if (b < 1 || !(secs > 0))
            {
                throw new ArgumentException($"--batch {b} and --seconds {secs.ToString(CultureInfo.InvariantCulture)}: must be positive");
            }
            string path = CommonOptions.ResolveModel(parse.GetValue(model)!, cancel);
            QnnModel m = ModelFiles.Load(path);
            (Attack a, string presetName) = AttackCommand.Configured(parse.GetValue(attack)!, parse.GetValue(preset), parse.GetValue(data)!, parse.GetValue(set) ?? []);
            using AttackTarget t = TargetFactory.Create(parse.GetValue(target) ?? TargetFactory.DefaultFor(m), m, null, CommonOptions.ThreadsOf(parse, threads));
            if (a.WhyCannotAttack(t) is string why)
            {
                throw new ArgumentException(why);
            }
            ImageSet images = CommonOptions.LoadData(parse.GetValue(data)!, m, parse.GetValue(limit) ?? 64);
            int n = images.Count, size = images.ImageSize;
            float[] x = images.UnitImages();
            int[] y = images.Labels;
            bool gradients = a.Needs.HasFlag(TargetCapabilities.Gradients);

            // Raw: the same kind of query on the first batch, repeated for --seconds.
            int rb = Math.Min(b, n);
            double raw = gradients ? RawGradients(t, x.AsSpan(0, rb * size).ToArray(), y[..rb], rb, secs) : RawScores(t, x.AsSpan(0, rb * size), rb, secs);

            long q0 = t.Queries, g0 = t.GradientQueries;
            var clock = Stopwatch.StartNew();
            var progress = new ProgressReporter($"bench attack {a.Name}", n);
            for (int start = 0; start < n; start += b)
            {
                cancel.ThrowIfCancellationRequested();
                int k = Math.Min(b, n - start);
                a.Generate(t, x.AsSpan(start * size, k * size), y[start..(start + k)], k, seed: start);
                progress.Report(start + k);
            }
            double wall = clock.Elapsed.TotalSeconds;
            progress.Finish("");
            long queries = t.Queries - q0, grads = t.GradientQueries - g0;
            double perSecond = (gradients ? grads : queries) / wall;
            var row = new Dictionary<string, object?>
            {
                ["attack"] = a.Name,
                ["parameters"] = a.Parameters.ToString(),
                ["preset"] = presetName,
                ["target"] = t.Name,
                ["model"] = Path.GetFileName(path),
                ["n"] = n,
                ["batch"] = b,
                ["cpu"] = CpuInfo.ModelName,
                ["threads"] = t is IntegerTarget it ? it.Threads : null,
                ["kernel_paths"] = CpuInfo.KernelPaths,
                ["seconds"] = wall,
                ["images_per_second"] = n / wall,
                ["queries"] = queries,
                ["gradient_queries"] = grads,
                ["queries_per_second"] = queries / wall,
                ["gradient_queries_per_second"] = grads / wall,
                ["raw_kind"] = gradients ? "forward+backward" : "forward",
                ["raw_per_second"] = raw,
                ["ratio_to_raw"] = perSecond / raw,
            };
            if (parse.GetValue(json))
            {
                JsonOutput.Print(row);
            }
            else
            {
                var inv = CultureInfo.InvariantCulture;
                Console.WriteLine($"cpu {CpuInfo.ModelName}; kernel paths here: {CpuInfo.KernelPaths} (the integer engine runs the best; TorchSharp its own)");
                Console.WriteLine(string.Create(inv, $"{a.Name} ({a.Parameters}; preset {presetName}) on {t.Name} ({Path.GetFileName(path)}{(t is IntegerTarget engine ? $", {engine.Threads} engine thread(s)" : "")}), {n} images of {images.Source}, batch {b}"));
                Console.WriteLine("| images/s | queries/s | gradient evaluations/s | raw target | raw /s | attack / raw |");
                Console.WriteLine("|---:|---:|---:|---|---:|---:|");
                Console.WriteLine(string.Create(inv,
                    $"| {n / wall:F2} | {queries / wall:F0} | {grads / wall:F0} | {row["raw_kind"]} at batch {rb} | {raw:F0} | {perSecond / raw:F2}x |"));
            }
            return Task.FromResult(0);
        });
        return cmd;
    }

    private static double RawScores(AttackTarget t, ReadOnlySpan<float> x, int n, double seconds)
    {
        t.Scores(x, n); // warm-up
        var clock = Stopwatch.StartNew();
        long images = 0;
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            t.Scores(x, n);
            images += n;
        }
        return images / clock.Elapsed.TotalSeconds;
    }

    private static double RawGradients(AttackTarget t, float[] x, int[] y, int n, double seconds)
    {
        using var scope = torch.NewDisposeScope();
        torch.Tensor xt = torch.tensor(x, [n, t.Height, t.Width, t.Channels]);
        torch.Tensor labels = torch.tensor(y.Select(v => (long)v).ToArray());
        torch.Tensor Loss(torch.Tensor logits) => torch.nn.functional.cross_entropy(logits, labels, reduction: torch.nn.Reduction.None);
        using (torch.NewDisposeScope())
        {
            t.Gradient(xt, Loss); // warm-up
        }
        var clock = Stopwatch.StartNew();
        long images = 0;
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            using var inner = torch.NewDisposeScope();
            t.Gradient(xt, Loss);
            images += n;
        }
        return images / clock.Elapsed.TotalSeconds;
    }
}
