using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using QnnLab.Attacks.Runs;
using QnnLab.Data;
using QnnLab.Defences;
using QnnLab.Defences.Generative;
using QnnLab.Defences.Training;
using QnnLab.Inference;
using QnnLab.Model;

namespace QnnLab.Cli;

/// <summary>
/// `qnnlab defend pixeldefend train|purify`: trains the PixelCNN on the training images (checkpointed, resumable), and
/// evaluates Pixel Defend as the paper's Table 12 from a config: the clean test images and the stored adversarial
/// examples of the undefended models (the source tables' runs) purified, then classified at each precision. Purified
/// images are stored batch by batch, so an interrupted evaluation resumes where it stopped.
/// </summary>
public static class DefendPixelCommand
{
    public static Command Create()
    {
        var cmd = new Command("pixeldefend", "Pixel Defend (Song et al. 2018): train its PixelCNN, purify inputs and evaluate them (Table 12)");
        cmd.Subcommands.Add(TrainCommand());
        cmd.Subcommands.Add(PurifyCommand());
        return cmd;
    }

    private static Command TrainCommand()
    {
        Option<string> data = new("--data", "-d") { Description = "Training images (8-bit), e.g. cifar10:DIR#data_batch_1.bin", Required = true };
        Option<int?> limit = CommonOptions.Limit();
        Option<int?> epochs = new("--epochs") { Description = "Training epochs (nb_epochs)" };
        Option<string[]> set = new("--set") { Description = "Override a parameter: --set layers=5 channels=48 learning_rate=0.001 (repeatable)", AllowMultipleArgumentsPerToken = true };
        Option<string> outDir = new("--out", "-o") { Description = "Folder for the PixelCNN, its checkpoint, log and plot", DefaultValueFactory = _ => "qnnlab-out/pixelcnn" };
        Option<bool> resume = new("--resume") { Description = "Continue from the checkpoint in --out" };
        var cmd = new Command("train", "Train the PixelCNN (maximum likelihood, 256-way softmax per sub-pixel) on training images")
        {
            data, limit, epochs, set, outDir, resume,
        };
        cmd.SetAction((parse, cancel) =>
        {
            var p = new PixelCnnTrainingParameters();
            p.SetAll(parse.GetValue(set) ?? []);
            if (parse.GetValue(epochs) is int e)
            {
                p.NbEpochs = e;
            }
            p.Validate();
            string spec = CommonOptions.ResolveData(parse.GetValue(data)!, cancel);
            if (parse.GetValue(limit) is < 1)
            {
                throw new ArgumentException("--limit: must be 1 or more");
            }
            ImageSet train = DataSpec.Load(spec, new DataOptions { Limit = parse.GetValue(limit) });
            string dir = parse.GetValue(outDir)!;
            Console.Error.WriteLine($"pixelcnn: {train.Count} images of {train.Height}x{train.Width}x{train.Channels} from {train.Source}; {p}");
            var run = new TrainingRun(dir)
            {
                Resume = parse.GetValue(resume),
                Progress = Console.Error.WriteLine,
                ProgressEvery = 25,
                Cancel = cancel,
                Name = "pixelcnn",
            };
            PixelCnnInfo info = PixelCnnTrainer.Train(train, p, run, parse.GetValue(data)!);
            Console.WriteLine(FormattableString.Invariant($"pixelcnn: {info.Shape}, {info.Epochs} epoch(s) on {info.Images} images, {info.BitsPerDim:F3} bits/dim; wrote {Path.Combine(dir, PixelCnnInfo.FileName)}"));
            return Task.FromResult(0);
        });
        return cmd;
    }

    public sealed record PurifyArgs(string Config, string PixelCnn, string Out, string? Store, int? Limit, string[]? Attacks, string[] Set, int? SourceLimit = null);

    private static Command PurifyCommand()
    {
        Option<string> config = new("--config", "-c") { Description = "Pixel Defend config (JSON), e.g. experiments/table12-cifar10-pixel-defend.json", Required = true };
        Option<string> pixelcnn = new("--pixelcnn") { Description = "Folder (or pixelcnn.json) of a PixelCNN from `defend pixeldefend train`", Required = true };
        Option<string> outDir = new("--out", "-o") { Description = "Folder for the table, the store and the attack runs", DefaultValueFactory = _ => "qnnlab-out/experiments" };
        Option<string?> store = new("--store") { Description = "SQLite store of attack runs and defence results (default: OUT/attacks.sqlite)" };
        Option<int?> limit = new("--limit", "-n") { Description = "Purify the first N images of the clean set and of every attack run (default: the config's \"limit\")" };
        Option<string?> attacks = new("--attacks") { Description = "Only these attacks of the source tables, comma-separated (a missing run is run first)" };
        Option<string[]> set = new("--set") { Description = "Override a parameter: --set eps=38 batch_size=50", AllowMultipleArgumentsPerToken = true };
        Option<int?> sourceLimit = new("--source-limit") { Description = "Cap the source tables' attack runs at N images (default: their own N, so the stored runs are used)" };
        var cmd = new Command("purify", "Pixel Defend on the clean test images and the stored adversarial examples of the undefended models, per precision (Table 12)")
        {
            config, pixelcnn, outDir, store, limit, attacks, set, sourceLimit,
        };
        cmd.SetAction((parse, cancel) =>
        {
            string? only = parse.GetValue(attacks);
            var a = new PurifyArgs(parse.GetValue(config)!, parse.GetValue(pixelcnn)!, parse.GetValue(outDir)!, parse.GetValue(store), parse.GetValue(limit),
                only?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), parse.GetValue(set) ?? [], parse.GetValue(sourceLimit));
            Console.WriteLine(Run(a, cancel));
            return Task.FromResult(0);
        });
        return cmd;
    }

    /// <summary>One set of images (clean or an attack run) on one precision, before and after purification.</summary>
    public sealed record Row(string Attack, string Kind, string Precision, long? AttackRun, int N, double Undefended, double Purified, double ChangedSubpixels);

    /// <summary>What the purification costs, beside the NUCLEO-L552ZE-Q's memories.</summary>
    public sealed record Cost(string Shape, long Parameters, long WeightBytes, long ActivationBytes, long PeakActivationBytes, long LogitBytes, long MacsPerImage, double? SecondsPerImage, double BitsPerDim, int TrainImages, int TrainEpochs);

    public static string Run(PurifyArgs a, CancellationToken cancel)
    {
        using JsonDocument doc = ExperimentCommand.LoadConfig(a.Config);
        JsonElement c = doc.RootElement;
        string name = Path.GetFileNameWithoutExtension(a.Config);
        string storePath = a.Store ?? Path.Combine(a.Out, "attacks.sqlite");
        PixelDefend.Options options = PixelDefend.Preset(c.GetProperty("preset").GetString()!);
        if (c.TryGetProperty("set", out JsonElement cs))
        {
            options.SetAll([.. cs.EnumerateObject().Select(kv => $"{kv.Name}={kv.Value.GetRawText()}")]);
        }
        options.SetAll(a.Set);
        options.Validate();
        int n = a.Limit ?? c.GetProperty("limit").GetInt32();
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1, "--limit");

        (PixelCnn pixelCnn, PixelCnnInfo info, string weights) = PixelCnnInfo.Load(a.PixelCnn);
        string pixelKey = ModelFiles.Sha256(weights);
        var defence = new PixelDefend(pixelCnn, options);
        var sourceDocs = new List<JsonDocument>();
        var classifiers = new Dictionary<string, IClassifier>();
        try
        {
            var outcomes = DefendCommand.SourceRuns(c, Path.GetDirectoryName(Path.GetFullPath(a.Config))!, a.Out, storePath, a.SourceLimit, a.Attacks, sourceDocs, cancel);
            var modelPaths = c.GetProperty("models").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
            QnnModel? floatModel = modelPaths.TryGetValue("float", out string? fp) ? ModelFiles.Load(fp) : null;
            foreach ((string precision, string path) in modelPaths)
            {
                QnnModel m = precision == "float" ? floatModel! : ModelFiles.Load(path, floatModel?.Preprocessing);
                classifiers[precision] = Classifiers.Create(m, ModelFiles.ParsePrecision(precision), null, Environment.ProcessorCount);
            }
            using var store = new DefenceStore(storePath);
            using var attackStore = new AttackStore(storePath);
            var rows = new List<Row>();
            var timing = new List<double>();

            // Clean test images first (the paper's Table 10 column), then every attack run's first n examples.
            ImageSet clean = CommonOptions.LoadData(c.GetProperty("data").GetString()!, classifiers.Values.First().Model, n);
            byte[] cleanBytes = PixelDefend.ToBytes(clean.UnitImages());
            byte[] cleanPurified = Purified(defence, store, $"pixel-defend|{pixelKey}|eps={options.Eps}|clean {c.GetProperty("data").GetString()}", cleanBytes, clean.Count, "clean", timing, cancel);
            foreach ((string precision, IClassifier clf) in classifiers)
            {
                rows.Add(Evaluate("clean", "clean", precision, null, clf, clean, cleanBytes, cleanPurified, cancel));
            }
            foreach ((string kind, JsonElement run, AttackCommand.AttackOutcome o) in outcomes)
            {
                string attack = run.TryGetProperty("label", out JsonElement l) ? l.GetString()! : o.Info.Attack;
                IReadOnlyList<AttackImageResult> results = attackStore.Results(o.Run);
                int k = Math.Min(n, results.Count), size = clean.ImageSize;
                var x = new float[k * size];
                for (int i = 0; i < k; i++)
                {
                    results[i].Adversarial.CopyTo(x, i * size);
                }
                var set = new ImageSet($"attack run {o.Run}", clean.Height, clean.Width, clean.Channels, [.. results.Take(k).Select(r => r.Label)],
                    values: [.. x.Select(v => v * 255f)]);
                byte[] bytes = PixelDefend.ToBytes(x);
                byte[] purified = Purified(defence, store, $"pixel-defend|{pixelKey}|eps={options.Eps}|attack-run {o.Run}", bytes, k, $"{attack} (run {o.Run})", timing, cancel);
                foreach (PrecisionSummary s in o.Summaries)
                {
                    if (classifiers.TryGetValue(DefendCommand.Precision(s.Precision), out IClassifier? clf))
                    {
                        rows.Add(Evaluate(attack, kind, DefendCommand.Precision(s.Precision), o.Run, clf, set, bytes, purified, cancel));
                    }
                }
            }
            (long total, long peak, long logitBytes) = pixelCnn.ActivationBytes();
            var cost = new Cost(info.Shape.ToString(), pixelCnn.ParameterCount, pixelCnn.ParameterCount * 4, total, peak,
                logitBytes, defence.MacsPerImage(),
                timing.Count > 0 ? timing.Average() : null, info.BitsPerDim, info.Images, info.Epochs);
            string md = Table(c, options, info, cost, rows, n);
            Directory.CreateDirectory(a.Out);
            string mdPath = Path.Combine(a.Out, name + ".md");
            File.WriteAllText(mdPath, md);
            File.WriteAllText(Path.Combine(a.Out, name + ".json"), JsonSerializer.Serialize(new { eps = options.Eps, n, cost, rows }, JsonOutput.Indented));
            Console.Error.WriteLine($"defend pixeldefend: wrote {mdPath}");
            return md;
        }
        finally
        {
            foreach (IClassifier clf in classifiers.Values)
            {
                clf.Dispose();
            }
            foreach (JsonDocument d in sourceDocs)
            {
                d.Dispose();
            }
            pixelCnn.Dispose();
        }
    }

    /// <summary>The purified images, batch by batch from the store (each batch stored as soon as it is done).</summary>
    private static byte[] Purified(PixelDefend defence, DefenceStore store, string key, byte[] images, int n, string what, List<double> timing, CancellationToken cancel)
    {
        int size = images.Length / n, batch = defence.Config.BatchSize;
        var output = new byte[images.Length];
        IProgress<int> progress = DefendCommand.Progress($"pixel defend {what}", n);
        for (int b = 0; b < n; b += batch)
        {
            int k = Math.Min(batch, n - b);
            string batchKey = string.Create(CultureInfo.InvariantCulture, $"{key}|images {b}..{b + k - 1}|input {Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(images.AsSpan(b * size, k * size)))[..16]}");
            byte[]? done = store.Get<byte[]>(batchKey);
            if (done is null)
            {
                var clock = Stopwatch.StartNew();
                done = defence.Purify(images.AsSpan(b * size, k * size), k, null, cancel);
                timing.Add(clock.Elapsed.TotalSeconds / k);
                store.Put(batchKey, done);
            }
            done.CopyTo(output, b * size);
            progress.Report(b + k);
        }
        return output;
    }

    private static Row Evaluate(string attack, string kind, string precision, long? run, IClassifier clf, ImageSet set, byte[] bytes, byte[] purified, CancellationToken cancel)
    {
        int n = set.Count;
        EvalCommand.EvalResult before = EvalCommand.Evaluate(clf, set, cancel);
        var after = new ImageSet(set.Source + " purified", set.Height, set.Width, set.Channels, set.Labels, pixels: purified);
        EvalCommand.EvalResult r = EvalCommand.Evaluate(clf, after, cancel);
        int changed = 0;
        for (int i = 0; i < bytes.Length; i++)
        {
            changed += bytes[i] != purified[i] ? 1 : 0;
        }
        return new Row(attack, kind, precision, run, n, before.Accuracy, r.Accuracy, (double)changed / bytes.Length);
    }

    private static string Pct(double v) => (v * 100).ToString("F1", CultureInfo.InvariantCulture);

    private static string Table(JsonElement c, PixelDefend.Options o, PixelCnnInfo info, Cost cost, List<Row> rows, int n)
    {
        var inv = CultureInfo.InvariantCulture;
        var b = new StringBuilder();
        b.Append(inv, $"### {c.GetProperty("title").GetString()}\n\n");
        b.Append(inv, $"Pixel Defend, eps {o.Eps} (8-bit units; paper Table 15: 38), on the first {n} images of the clean test set and of each attack run ");
        b.Append(inv, $"(adversarial examples made for the undefended models, as the paper does). PixelCNN {info.Shape}, trained {info.Epochs} epoch(s) on {info.Images} images of {info.Data}: {info.BitsPerDim:F3} bits/dim.\n\n");
        b.Append("| attack | kind | precision | N | undefended | Pixel Defend | paper | sub-pixels changed |\n|---|---|---|---:|---:|---:|---:|---:|\n");
        JsonElement paper = c.TryGetProperty("paper", out JsonElement p) ? p : default;
        JsonElement paperClean = c.TryGetProperty("paper_clean", out JsonElement pc) ? pc : default;
        foreach (Row r in rows)
        {
            JsonElement source = r.Kind == "clean" ? paperClean : paper.ValueKind == JsonValueKind.Object && paper.TryGetProperty(AttackKey(r.Attack), out JsonElement pa) ? pa : default;
            string theirs = source.ValueKind == JsonValueKind.Object && source.TryGetProperty(r.Precision, out JsonElement t) ? t.GetDouble().ToString("F1", inv) : "";
            b.Append(inv, $"| {r.Attack} | {r.Kind} | {r.Precision} | {r.N} | {Pct(r.Undefended)} | {Pct(r.Purified)} | {theirs} | {Pct(r.ChangedSubpixels)} % |\n");
        }
        const long flash = 512 * 1024, ram = 256 * 1024;
        b.Append(inv, $"\nCost: {cost.Parameters:N0} parameters = {cost.WeightBytes / 1024.0:F0} KiB as float32 ({cost.Parameters / 1024.0:F0} KiB even as int8) against the NUCLEO-L552ZE-Q's {flash / 1024} KiB flash; ");
        b.Append(inv, $"activations of one whole-image forward pass {cost.ActivationBytes / 1024.0:F0} KiB ({cost.PeakActivationBytes / 1024.0:F0} KiB alive at once, the 256-way logits alone {cost.LogitBytes / 1024.0:F0} KiB) against {ram / 1024} KiB RAM; ");
        b.Append(inv, $"purifying one image takes {cost.MacsPerImage / 1e9:F2} G multiply-accumulates (one windowed forward pass per pixel), ");
        b.Append(cost.SecondsPerImage is double sec ? string.Create(inv, $"{sec:F2} s per image here (the mean over the batches purified in this run).\n") : "every image from the store (no time measured in this run).\n");
        if (c.TryGetProperty("paper_note", out JsonElement note))
        {
            b.Append(inv, $"\n{note.GetString()}\n");
        }
        return b.ToString();
    }

    /// <summary>The paper table's key of a row label ("AutoAttack (standard: ...)" is "autoattack").</summary>
    private static string AttackKey(string label) => label.StartsWith("AutoAttack", StringComparison.Ordinal) ? "autoattack" : label;
}
