using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using QnnLab.Attacks.Runs;
using QnnLab.Data;
using QnnLab.Defences;
using QnnLab.Firmware;
using QnnLab.Hil;
using QnnLab.Inference;
using QnnLab.Model;

namespace QnnLab.Cli;

/// <summary>
/// `qnnlab defend feature-squeezing`: the paper's Tables 10-11 from a config: the detector threshold calibrated on clean
/// training images per precision, clean accuracy and false-positive rate on test images, then every attack run of the
/// source tables (taken from the store, run if missing) through the defence, optionally also on a board.
/// </summary>
public static class DefendCommand
{
    public static Command Create()
    {
        var cmd = new Command("defend", "Defences: train-based defences (defend train), accuracy of defended models (Table 8), Feature Squeezing (Tables 10-11) and Pixel Defend (Table 12) on the stored adversarial examples");
        Option<string> config = new("--config", "-c") { Description = "Defence experiment config (JSON), e.g. experiments/table11-cifar10-feature-squeezing.json", Required = true };
        Option<string> outDir = new("--out", "-o") { Description = "Folder for the tables, the store and the attack runs", DefaultValueFactory = _ => "qnnlab-out/experiments" };
        Option<string?> store = new("--store") { Description = "SQLite store of attack runs and defence results (default: OUT/attacks.sqlite)" };
        Option<int?> limit = new("--limit", "-n") { Description = "Cap every attack run and the clean test set at N images (a quick look; the tables say so)" };
        Option<string?> board = new("--board") { Description = "Also run the int8 / int16 rows on this board (sim, qemu or a serial port) and compare every answer with the host" };
        Option<int> boardLimit = new("--board-limit") { Description = "Images per row on the board", DefaultValueFactory = _ => 100 };
        var fs = new Command("feature-squeezing", "Feature Squeezing (Xu et al. 2018): accuracy after squeezing, detection and false-positive rates per attack and precision")
        {
            config, outDir, store, limit, board, boardLimit,
        };
        fs.SetAction((parse, cancel) =>
        {
            var a = new Args(parse.GetValue(config)!, parse.GetValue(outDir)!, parse.GetValue(store), parse.GetValue(limit), parse.GetValue(board), parse.GetValue(boardLimit));
            string md = Run(a, cancel);
            Console.WriteLine(md);
            return Task.FromResult(0);
        });
        cmd.Subcommands.Add(fs);
        cmd.Subcommands.Add(DefendAccuracyCommand.Create());
        cmd.Subcommands.Add(DefendTrainCommand.Create());
        cmd.Subcommands.Add(DefendPixelCommand.Create());
        return cmd;
    }

    public sealed record Args(string Config, string Out, string? Store, int? Limit, string? Board, int BoardLimit)
    {
        public string? RepoRoot { get; init; }
    }

    /// <summary>One attack run through the defence on one precision (host engine, and the board's answers if asked).</summary>
    public sealed record Row(string Attack, string AttackId, string Kind, string Precision, long AttackRun, double AttackAdversarialAccuracy, SqueezeRates Host,
        SqueezeRates? Board = null, SqueezeRates? BoardHost = null, long BoardCompared = 0, long BoardMismatches = 0);

    public sealed record Calibration(string Precision, string Model, double Threshold, int N, double Fpr, SqueezeRates Clean, SqueezeRates Test);

    public static string Run(Args a, CancellationToken cancel)
    {
        using JsonDocument doc = ExperimentCommand.LoadConfig(a.Config);
        JsonElement c = doc.RootElement;
        string name = Path.GetFileNameWithoutExtension(a.Config);
        string storePath = a.Store ?? Path.Combine(a.Out, "attacks.sqlite");
        FeatureSqueezing settings = Settings(c);
        string configDir = Path.GetDirectoryName(Path.GetFullPath(a.Config))!;

        var sourceDocs = new List<JsonDocument>();
        try
        {
            var outcomes = SourceRuns(c, configDir, a.Out, storePath, a.Limit, null, sourceDocs, cancel);
            return Evaluate(a, c, name, storePath, settings, outcomes, cancel);
        }
        finally
        {
            foreach (JsonDocument d in sourceDocs)
            {
                d.Dispose();
            }
        }
    }

    /// <summary>
    /// The attack runs of a pre-processing defence config's source tables (each reused from the store when it ran
    /// before, run if missing), one source table at a time, with "transfer" or "direct" as their kind. Only the
    /// attacks a source lists, and of those only <paramref name="only"/> when given. The source configs stay open in
    /// <paramref name="docs"/> (the runs' JSON points into them) until the caller disposes them.
    /// </summary>
    internal static List<(string Kind, JsonElement Run, AttackCommand.AttackOutcome Outcome)> SourceRuns(JsonElement c, string configDir, string outDir,
        string storePath, int? limit, IReadOnlyCollection<string>? only, List<JsonDocument> docs, CancellationToken cancel)
    {
        var outcomes = new List<(string Kind, JsonElement Run, AttackCommand.AttackOutcome Outcome)>();
        foreach (JsonElement src in c.GetProperty("sources").EnumerateArray())
        {
            string file = Path.Combine(configDir, src.GetProperty("config").GetString()!);
            JsonDocument sd = ExperimentCommand.LoadConfig(file);
            docs.Add(sd);
            string[]? listed = src.TryGetProperty("attacks", out JsonElement o) ? [.. o.EnumerateArray().Select(e => e.GetString()!)] : null;
            string[]? wanted = only is null ? listed : [.. (listed ?? sd.RootElement.GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("attack").GetString()!)).Where(only.Contains)];
            if (wanted is { Length: 0 })
            {
                continue;
            }
            string kind = sd.RootElement.TryGetProperty("models", out _) ? "direct" : "transfer";
            foreach ((JsonElement run, AttackCommand.AttackOutcome outcome) in ExperimentCommand.RunRows(sd.RootElement, Path.GetFileNameWithoutExtension(file),
                         outDir, storePath, limit, wanted, cancel))
            {
                outcomes.Add((kind, run, outcome));
            }
        }
        return outcomes;
    }

    private static FeatureSqueezing Settings(JsonElement c)
    {
        FeatureSqueezing s = FeatureSqueezing.Preset(c.GetProperty("preset").GetString()!);
        if (c.TryGetProperty("set", out JsonElement set))
        {
            foreach (JsonProperty kv in set.EnumerateObject())
            {
                s = kv.Name switch
                {
                    "bit_depth" => s with { BitDepth = kv.Value.GetInt32() },
                    "window_size" => s with { WindowSize = kv.Value.GetInt32() },
                    "fpr" => s with { Fpr = kv.Value.GetDouble() },
                    _ => throw new ArgumentException($"Feature Squeezing has no parameter '{kv.Name}' (bit_depth, window_size, fpr)"),
                };
            }
        }
        return s.Validated();
    }

    private static string Evaluate(Args a, JsonElement c, string name, string storePath, FeatureSqueezing settings,
        List<(string Kind, JsonElement Run, AttackCommand.AttackOutcome Outcome)> outcomes, CancellationToken cancel)
    {
        var modelPaths = c.GetProperty("models").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
        using var defences = new DefenceStore(storePath);
        using var attacks = new AttackStore(storePath);
        var calibrations = new Dictionary<string, Calibration>();
        var models = new Dictionary<string, (SqueezedModel Model, QnnModel File, string Path, string Hash)>();
        var rows = new List<Row>();
        try
        {
            // Integer models read with the float model's input preprocessing, as the attack runs transfer to them.
            QnnModel? floatModel = modelPaths.TryGetValue("float", out string? fp) ? ModelFiles.Load(fp) : null;
            foreach ((string precision, string path) in modelPaths)
            {
                QnnModel m = precision == "float" ? floatModel! : ModelFiles.Load(path, floatModel?.Preprocessing);
                models[precision] = (SqueezedModel.Open(m, settings), m, path, ModelFiles.Sha256(path));
            }
            int calibrationN = c.GetProperty("calibration_limit").GetInt32();
            // "calibration_from": calibrate on the images from that index on (VWW has no training split here: the
            // MLPerf samples past the attacked ones stand in)
            int calibrationFrom = c.TryGetProperty("calibration_from", out JsonElement cf) ? cf.GetInt32() : 0;
            int testN = a.Limit is int cap ? Math.Min(cap, c.GetProperty("clean_limit").GetInt32()) : c.GetProperty("clean_limit").GetInt32();
            foreach ((string precision, (SqueezedModel model, QnnModel file, string path, string hash)) in models)
            {
                string key = $"feature-squeezing|{settings}|{hash}|{c.GetProperty("calibration").GetString()}{(calibrationFrom > 0 ? $"|from {calibrationFrom}" : "")}|{calibrationN}|{c.GetProperty("data").GetString()}|{testN}";
                calibrations[precision] = defences.GetOrAdd(key, () =>
                {
                    Console.Error.WriteLine($"defend: calibrating the {precision} detector on {calibrationN} clean training images (fpr {settings.Fpr})");
                    ImageSet train = CommonOptions.LoadData(c.GetProperty("calibration").GetString()!, file, calibrationFrom + calibrationN).Skip(calibrationFrom);
                    SqueezeVerdict[] cv = SqueezeEvaluation.Verdicts(model, train, calibrationN, Progress($"calibration {precision}", calibrationN), cancel);
                    double t = FeatureSqueezing.Threshold([.. cv.Select(v => v.Score)], settings.Fpr);
                    ImageSet test = CommonOptions.LoadData(c.GetProperty("data").GetString()!, file, testN);
                    SqueezeVerdict[] tv = SqueezeEvaluation.Verdicts(model, test, testN, Progress($"clean test {precision}", testN), cancel);
                    return new Calibration(precision, Path.GetFileName(path), t, cv.Length, settings.Fpr,
                        SqueezeRates.Of(cv, train.Labels.AsSpan(0, cv.Length).ToArray(), t), SqueezeRates.Of(tv, test.Labels.AsSpan(0, tv.Length).ToArray(), t));
                });
            }

            foreach ((string kind, JsonElement run, AttackCommand.AttackOutcome o) in outcomes)
            {
                string attack = run.TryGetProperty("label", out JsonElement l) ? l.GetString()! : o.Info.Attack;
                IReadOnlyList<AttackImageResult> results = attacks.Results(o.Run);
                int size = results[0].Adversarial.Length;
                float[] x = new float[results.Count * size];
                for (int i = 0; i < results.Count; i++)
                {
                    results[i].Adversarial.CopyTo(x, i * size);
                }
                int[] y = [.. results.Select(r => r.Label)];
                foreach (PrecisionSummary s in o.Summaries)
                {
                    string precision = Precision(s.Precision);
                    if (!models.TryGetValue(precision, out var entry))
                    {
                        continue;
                    }
                    double t = calibrations[precision].Threshold;
                    string key = $"feature-squeezing|{settings}|{entry.Hash}|attack-run {o.Run}|{results.Count}|t={t.ToString("R", CultureInfo.InvariantCulture)}";
                    SqueezeRates host = defences.GetOrAdd(key, () => SqueezeRates.Of(
                        SqueezeEvaluation.Verdicts(entry.Model, x, results.Count, Progress($"{attack} on {precision}", results.Count), cancel), y, t));
                    var row = new Row(attack, o.Info.Attack, kind, precision, o.Run, s.AdversarialAccuracy, host);
                    if (a.Board is string b && entry.Model is IntegerSqueezedModel im)
                    {
                        row = OnBoard(a, b, im, entry.Path, x, y, (int)t, row, defences, key, cancel);
                    }
                    rows.Add(row);
                }
            }
        }
        finally
        {
            foreach ((SqueezedModel m, _, _, _) in models.Values)
            {
                m.Dispose();
            }
        }
        string md = Tables(c, settings, calibrations, rows, a);
        Directory.CreateDirectory(a.Out);
        string mdPath = Path.Combine(a.Out, name + ".md");
        File.WriteAllText(mdPath, md);
        File.WriteAllText(Path.Combine(a.Out, name + ".json"), JsonSerializer.Serialize(new { settings = settings.ToString(), calibrations, rows }, JsonOutput.Indented));
        Console.Error.WriteLine($"defend: wrote {mdPath}");
        return md;
    }

    private static Row OnBoard(Args a, string boardSpec, IntegerSqueezedModel model, string path, float[] x, int[] y, int threshold, Row row,
        DefenceStore store, string hostKey, CancellationToken cancel)
    {
        BoardTarget board = BoardTarget.Parse(boardSpec);
        int n = Math.Min(a.BoardLimit, y.Length);
        string key = $"{hostKey}|board {boardSpec}|{n}";
        var stored = store.Get<Row>(key);
        if (stored is not null)
        {
            return row with { Board = stored.Board, BoardHost = stored.BoardHost, BoardCompared = stored.BoardCompared, BoardMismatches = stored.BoardMismatches };
        }
        int size = model.ImageSize;
        Console.Error.WriteLine($"defend: {row.Attack} on the {board} board ({row.Precision}, {n} images x 3 requests)");
        BoardSqueezeResult r = BoardSqueezeCheck.RunAsync(board, path, model, x.AsSpan(0, n * size).ToArray(), n, threshold,
            new BoardLaunchOptions { RepoRoot = a.RepoRoot ?? FirmwareBuilds.FindRepoRoot() }, Progress($"board {row.Precision}", 3 * n), cancel).GetAwaiter().GetResult();
        if (r.Mismatches > 0)
        {
            Console.Error.WriteLine($"defend: WARNING: {r.Mismatches} of {r.Compared} board answers differ from the host engine");
        }
        int[] labels = y.AsSpan(0, n).ToArray();
        Row result = row with { Board = SqueezeRates.Of(r.Verdicts, labels, threshold), BoardHost = SqueezeRates.Of(r.HostVerdicts, labels, threshold), BoardCompared = r.Compared, BoardMismatches = r.Mismatches };
        store.Put(key, result);
        return result;
    }

    internal static IProgress<int> Progress(string what, int total)
    {
        var p = new ProgressReporter($"defend: {what}", total);
        return new Progress<int>(done => p.Report(done));
    }

    /// <summary>An attack summary's precision ("int16 (file)" and the like) as the config's model key.</summary>
    internal static string Precision(string p) =>
        p.StartsWith("int16", StringComparison.Ordinal) ? "int16" : p.StartsWith("int8", StringComparison.Ordinal) ? "int8" : p.StartsWith("float", StringComparison.Ordinal) ? "float" : p;

    private static string Pct(double v) => (v * 100).ToString("F1", CultureInfo.InvariantCulture);

    private static string Tables(JsonElement c, FeatureSqueezing s, Dictionary<string, Calibration> cal, List<Row> rows, Args a)
    {
        var inv = CultureInfo.InvariantCulture;
        var b = new StringBuilder();
        b.Append(inv, $"### {c.GetProperty("title").GetString()}\n\n");
        b.Append(inv, $"Feature Squeezing {s} (paper Table 15 preset '{c.GetProperty("preset").GetString()}'); defence accuracy = the model on the input squeezed by both (bit depth, then median, ART's order); ");
        b.Append("detector = EvadeML's joint detector (max L1 between the outputs of the input and of each squeezed input; float: softmax probabilities, int8 / int16: raw quantized outputs, the board's unit), ");
        int from = c.TryGetProperty("calibration_from", out JsonElement cf) ? cf.GetInt32() : 0;
        b.Append(inv, $"threshold calibrated per precision on {(from > 0 ? $"images {from}..{from + cal.Values.First().N - 1}" : $"the first {cal.Values.First().N} images")} of {c.GetProperty("calibration").GetString()} for a {s.Fpr * 100:F0} % false-positive rate.");
        if (a.Limit is int lim)
        {
            b.Append(inv, $" Capped at {lim} images per row by --limit.");
        }
        b.Append("\n\n#### Table 10: clean accuracy with the defence\n\n");
        b.Append("| precision | model | N test | accuracy | squeezed (both) | paper | bit depth only | median only | flagged (FPR) | threshold | calibration N / flagged |\n");
        b.Append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        JsonElement paperClean = c.TryGetProperty("paper_clean", out JsonElement pc) ? pc : default;
        foreach (Calibration k in cal.Values)
        {
            string paper = paperClean.ValueKind == JsonValueKind.Object && paperClean.TryGetProperty(k.Precision, out JsonElement v) ? v.GetDouble().ToString("F1", inv) : "-";
            b.Append(inv, $"| {k.Precision} | {k.Model} | {k.Test.N} | {Pct(k.Test.Accuracy)} | {Pct(k.Test.SqueezedAccuracy)} | {paper} | {Pct(k.Test.BitDepthAccuracy)} | ");
            b.Append(inv, $"{Pct(k.Test.MedianAccuracy)} | {Pct(k.Test.Flagged)} | {k.Threshold.ToString(k.Precision == "float" ? "F4" : "F0", inv)}{(k.Precision == "float" ? "" : " steps")} | {k.N} / {Pct(k.Clean.Flagged)} |\n");
        }
        b.Append("\n#### Table 11: on the adversarial examples (transfer: crafted on float; direct: on each precision's own model)\n\n");
        b.Append("Accuracy (%) undefended (recomputed / as the attack run recorded it), after squeezing (paper's column beside it), ");
        b.Append("with one squeezer, and the detector: the share of the examples the undefended model misclassifies that it flags.\n\n");
        b.Append("| attack | kind | precision | N | undefended | squeezed (both) | paper | ours - paper | bit depth only | median only | detected | flagged (all) |\n");
        b.Append("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        JsonElement paperRows = c.TryGetProperty("paper", out JsonElement pr) ? pr : default;
        foreach (Row r in rows)
        {
            double? paper = paperRows.ValueKind == JsonValueKind.Object && paperRows.TryGetProperty(r.AttackId, out JsonElement pa) && pa.TryGetProperty(r.Precision, out JsonElement pv)
                ? pv.GetDouble() : null;
            double ours = r.Host.SqueezedAccuracy * 100;
            b.Append(inv, $"| {r.Attack} | {r.Kind} | {r.Precision} | {r.Host.N} | {Pct(r.Host.Accuracy)} / {Pct(r.AttackAdversarialAccuracy)} | {ours:F1} | ");
            b.Append(inv, $"{(paper is double p ? p.ToString("F1", inv) : "-")} | {(paper is double q ? (ours - q).ToString("+0.0;-0.0;0.0", inv) : "-")} | ");
            b.Append(inv, $"{Pct(r.Host.BitDepthAccuracy)} | {Pct(r.Host.MedianAccuracy)} | {(r.Host.DetectedMisclassified is double d ? Pct(d) : "-")} ({r.Host.Misclassified}) | {Pct(r.Host.Flagged)} |\n");
        }
        if (rows.Any(r => r.Board is not null))
        {
            b.Append(inv, $"\n#### On the {a.Board} board (first {a.BoardLimit} examples of each row; host engine on the same examples)\n\n");
            b.Append("Three requests per example (bit depth alone, median alone, detector); every answer compared with the host: logits, label, score and flag.\n\n");
            b.Append("| attack | precision | N | bit depth only board / host | median only board / host | detected board / host | flagged board / host | answers compared | mismatches |\n");
            b.Append("|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
            foreach (Row r in rows.Where(r => r.Board is not null))
            {
                SqueezeRates bd = r.Board!, h = r.BoardHost!;
                static string D(SqueezeRates z) => z.DetectedMisclassified is double d ? Pct(d) : "-";
                b.Append(inv, $"| {r.Attack} | {r.Precision} | {bd.N} | {Pct(bd.BitDepthAccuracy)} / {Pct(h.BitDepthAccuracy)} | {Pct(bd.MedianAccuracy)} / {Pct(h.MedianAccuracy)} | ");
                b.Append(inv, $"{D(bd)} / {D(h)} | {Pct(bd.Flagged)} / {Pct(h.Flagged)} | {r.BoardCompared} | {r.BoardMismatches} |\n");
            }
        }
        return b.ToString();
    }
}
