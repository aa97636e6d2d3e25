using System.CommandLine;
using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json;
using QnnLab.Attacks.Runs;

namespace QnnLab.Cli;

/// <summary>
/// `qnnlab experiment`: a whole paper table from a config in experiments/: one attack run per row (each continued
/// from the store if it ran before), written as Markdown with the paper's figure beside ours and the difference.
/// </summary>
public static class ExperimentCommand
{
    public static Command Create()
    {
        Option<string> config = new("--config", "-c") { Description = "Experiment config (JSON), e.g. experiments/table6-cifar10-whitebox.json", Required = true };
        Option<string> outDir = new("--out", "-o") { Description = "Folder for the table, the store and each run's examples", DefaultValueFactory = _ => "qnnlab-out/experiments" };
        Option<string?> store = new("--store") { Description = "SQLite store of attack runs (default: OUT/attacks.sqlite)" };
        Option<int?> limit = new("--limit", "-n") { Description = "Override the config's number of images (a quick look; the table then says so)" };
        Option<string?> attacks = new("--attacks") { Description = "Run (and tabulate) only these attacks of the config, comma-separated, e.g. square-l2,square-linf: the cheap rows of several tables first" };
        Option<string?> shard = new("--shard") { Description = "Run only shard K of N (K/N, 1-based): every K-th block of 32 images over all runs; merge the shard stores with `experiment merge`" };
        Option<string?> boards = new("--boards")
        {
            Description = "Boards that also answer every run with an int8/int16 model (and craft the runs whose config says \"target\": \"board\"): " +
                "sim, qemu or serial ports, comma-separated; they share each run's batches in parallel, and a board that fails has its batch finished by the others",
        };
        Option<int> threads = CommonOptions.Threads();
        var cmd = new Command("experiment", "Run a paper table from a config: every row an attack run, continued where the store has it")
        {
            config, outDir, store, limit, attacks, shard, boards, threads,
        };
        cmd.Subcommands.Add(MergeCommand());
        cmd.Subcommands.Add(SlurmCommand.Create());
        cmd.SetAction((parse, cancel) =>
        {
            string configPath = parse.GetValue(config)!;
            string outPath = parse.GetValue(outDir)!;
            string storePath = parse.GetValue(store) ?? Path.Combine(outPath, "attacks.sqlite");
            string[]? only = parse.GetValue(attacks)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            Shard? part = parse.GetValue(shard) is string spec ? Shard.Parse(spec) : null;
            Console.WriteLine(Tabulate(configPath, outPath, storePath, parse.GetValue(limit), only, part, cancel, parse.GetValue(boards), CommonOptions.ThreadsOf(parse, threads)));
            return Task.FromResult(0);
        });
        return cmd;
    }

    /// <summary>
    /// Runs (or continues) every row of a config and writes its table, or with a shard runs only that shard's work
    /// units into the store and writes no table (the merged store's run does). Returns the table or the shard's summary.
    /// </summary>
    public static string Tabulate(string configPath, string outPath, string storePath, int? limit, string[]? only, Shard? part, CancellationToken cancel,
        string? boards = null, int threads = 1)
    {
        using JsonDocument doc = LoadConfig(configPath);
        JsonElement c = doc.RootElement;
        int n = limit ?? c.GetProperty("limit").GetInt32();
        string name = Path.GetFileNameWithoutExtension(configPath);
        bool direct = c.TryGetProperty("models", out _);
        if (only is not null && !c.GetProperty("runs").EnumerateArray().Any(r => only.Contains(r.GetProperty("attack").GetString()!)))
        {
            throw new ArgumentException($"--attacks {string.Join(',', only)}: none of these is a run of {configPath}");
        }
        if (part is Shard sh)
        {
            ShardStores.Record(storePath, ShardManifest(configPath, c, sh, limit, only));
            List<(JsonElement Run, AttackCommand.AttackOutcome Outcome)> mine = RunRows(c, name, outPath, storePath, limit, only, cancel, sh, boards, threads);
            return $"experiment {name}: shard {sh} done: {mine.Sum(r => r.Outcome.Summaries.Count == 0 ? 0 : r.Outcome.Summaries[0].N)} images in {mine.Count} runs, " +
                $"stored in {storePath}; tables after `qnnlab experiment merge`";
        }
        List<(JsonElement Run, AttackCommand.AttackOutcome Outcome)> rows = RunRows(c, name, outPath, storePath, limit, only, cancel, boards: boards, threads: threads);
        string md = direct ? DirectTable(c, rows) : Table(c, rows, n);
        Directory.CreateDirectory(outPath);
        if (c.TryGetProperty("figure", out JsonElement figure))
        {
            md += Figure(figure, rows, outPath);
        }
        string file = Path.Combine(outPath, name + ".md");
        File.WriteAllText(file, md);
        Console.Error.WriteLine($"experiment {name}: wrote {file}");
        return md;
    }

    /// <summary>Images per attack batch in an experiment, and so per shard work unit.</summary>
    public const int Batch = 32;

    /// <summary>Shard K of N (1-based), as `--shard K/N` gives it.</summary>
    public readonly record struct Shard(int K, int N)
    {
        public static Shard Parse(string spec)
        {
            string[] parts = spec.Split('/');
            if (parts.Length != 2 || !int.TryParse(parts[0], CultureInfo.InvariantCulture, out int k) || !int.TryParse(parts[1], CultureInfo.InvariantCulture, out int n)
                || n < 1 || k < 1 || k > n)
            {
                throw new ArgumentException($"--shard {spec}: give K/N with 1 <= K <= N, e.g. 2/3");
            }
            return new Shard(k, n);
        }

        public override string ToString() => $"{K}/{N}";
    }

    /// <summary>
    /// The manifest a shard leaves in its store: the config's text (with what --limit and --attacks change), the code
    /// version and every model file's hash, so `experiment merge` joins only shards of the same experiment.
    /// </summary>
    private static ShardInfo ShardManifest(string configPath, JsonElement c, Shard part, int? limit, string[]? only)
    {
        string text = File.ReadAllText(configPath);
        var models = new SortedDictionary<string, string>(StringComparer.Ordinal);
        IEnumerable<string> files = (c.TryGetProperty("model", out JsonElement m) ? [m.GetString()!] : Array.Empty<string>())
            .Concat(c.TryGetProperty("transfer_to", out JsonElement t) ? t.EnumerateArray().Select(e => e.GetString()!) : [])
            .Concat(c.TryGetProperty("models", out JsonElement ms) ? ms.EnumerateObject().Select(p => p.Value.GetString()!) : []);
        foreach (string f in files.Distinct())
        {
            models[Path.GetFileName(f)] = File.Exists(f) ? QnnLab.Inference.ModelFiles.Sha256(f) : "missing";
        }
        string version = typeof(ExperimentCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
        string sha = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(text))).ToLowerInvariant();
        return new ShardInfo(Path.GetFileName(configPath), sha, part.K, part.N, version, models, limit, only);
    }

    private static Command MergeCommand()
    {
        Option<string> stores = new("--stores") { Description = "The shard stores, comma-separated (every shard 1..N once)", Required = true };
        Option<string> outStore = new("--out", "-o") { Description = "The merged store (a new file)", Required = true };
        Option<string?> config = new("--config", "-c") { Description = "Then write the tables from the merged store, as an unsharded run of this config would" };
        Option<string?> tables = new("--tables") { Description = "Folder for the tables (default: beside the merged store)" };
        var cmd = new Command("merge", "Merge the stores of `experiment --shard K/N` runs into one store (refusing shards of other configs, models or versions, and overlaps), then write the tables")
        {
            stores, outStore, config, tables,
        };
        cmd.SetAction((parse, cancel) =>
        {
            string outPath = parse.GetValue(outStore)!;
            string[] parts = parse.GetValue(stores)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            ShardStores.MergeResult r = ShardStores.Merge(parts, outPath);
            Console.Error.WriteLine($"experiment merge: {parts.Length} shards of {r.Info.Config} -> {outPath}: {r.Runs} runs, {r.Results} image results");
            foreach (string gap in r.Incomplete)
            {
                Console.Error.WriteLine($"experiment merge: WARNING: incomplete run (a shard stopped early?): {gap}");
            }
            if (parse.GetValue(config) is string cfg)
            {
                if (Path.GetFileName(cfg) != r.Info.Config)
                {
                    throw new ArgumentException($"--config {cfg}: the shards ran {r.Info.Config}");
                }
                string dir = parse.GetValue(tables) ?? Path.GetDirectoryName(Path.GetFullPath(outPath))!;
                // The shards' --limit and --attacks are part of what they ran: the table must be theirs too.
                Console.WriteLine(Tabulate(cfg, dir, outPath, r.Info.Limit, r.Info.Attacks, null, cancel));
            }
            return Task.FromResult(0);
        });
        return cmd;
    }

    /// <summary>An experiment config with ${QNN_DATA} replaced by the data folder ($QNN_DATA, else ../shared/data).</summary>
    public static JsonDocument LoadConfig(string path)
    {
        string text = File.ReadAllText(path);
        string dataRoot = Environment.GetEnvironmentVariable("QNN_DATA") is { Length: > 0 } d ? d : Path.Combine("..", "shared", "data");
        return JsonDocument.Parse(text.Replace("${QNN_DATA}", Path.GetFullPath(dataRoot).Replace("\\", "/", StringComparison.Ordinal), StringComparison.Ordinal));
    }

    /// <summary>
    /// Every attack run of a config (Table 5's shape, "models": one run per precision; else crafted on "model" and
    /// transferred), each continued from the store; <paramref name="only"/> keeps the runs of those attacks.
    /// </summary>
    public static List<(JsonElement Run, AttackCommand.AttackOutcome Outcome)> RunRows(JsonElement c, string name, string outPath, string storePath,
        int? cap, IReadOnlyCollection<string>? only, CancellationToken cancel, Shard? shard = null, string? boards = null, int threads = 1)
    {
        // Work units for shards: blocks of Batch images, numbered over the runs in config order; shard K takes every
        // unit u with u % N == K - 1. A block is batched and seeded as in an unsharded run (the seed follows the
        // block's first image), so the union of the shards is the unsharded run, image for image.
        int unit = 0;
        int[]? Blocks(int images)
        {
            if (shard is not Shard part)
            {
                return null;
            }
            var mine = new List<int>();
            for (int first = 0; first < images; first += Batch, unit++)
            {
                if (unit % part.N == part.K - 1)
                {
                    mine.AddRange(Enumerable.Range(first, Math.Min(Batch, images - first)));
                }
            }
            return [.. mine];
        }
        // A run may ask for fewer images than the table (Boundary, GeoDA); --limit caps every run.
        int RunLimit(JsonElement run)
        {
            int own = run.TryGetProperty("limit", out JsonElement l) ? l.GetInt32() : c.GetProperty("limit").GetInt32();
            return cap is int k ? Math.Min(k, own) : own;
        }
        string? preset = c.TryGetProperty("preset", out JsonElement p) ? p.GetString() : null;
        int seed = c.GetProperty("seed").GetInt32();
        bool direct = c.TryGetProperty("models", out JsonElement models);
        // "set": parameter overrides by ART name, per run (a PGD eps sweep is one run per eps)
        static string[] Overrides(JsonElement run) => run.TryGetProperty("set", out JsonElement set)
            ? [.. set.EnumerateObject().Select(kv => $"{kv.Name}={(kv.Value.ValueKind == JsonValueKind.String ? kv.Value.GetString() : kv.Value.GetRawText())}")]
            : [];
        JsonElement[] runs = [.. c.GetProperty("runs").EnumerateArray().Where(r => only is null || only.Contains(r.GetProperty("attack").GetString()!))];
        var rows = new List<(JsonElement Run, AttackCommand.AttackOutcome Outcome)>();
        int total = runs.Length * (direct ? models.EnumerateObject().Count() : 1), done = 0;
        foreach (JsonElement run in runs)
        {
            string attack = run.GetProperty("attack").GetString()!;
            if (direct)
            {
                // Table 5: each precision attacked on its own model (float on the TorchSharp model, int16 / int8 on the
                // bit-exact engine), no transfer.
                foreach (JsonProperty m in models.EnumerateObject())
                {
                    int[]? blocks = Blocks(RunLimit(run));
                    ++done;
                    if (blocks is { Length: 0 })
                    {
                        continue;
                    }
                    Console.Error.WriteLine($"experiment {name}: {attack} directly on {m.Name} ({done} of {total}){(shard is null ? "" : $", shard {shard}")}");
                    // a board runs the integer models; the float row stays on the host
                    var a = new AttackCommand.AttackArgs(attack, m.Value.GetString()!, c.GetProperty("data").GetString()!, m.Name, null, null,
                        preset, Overrides(run), RunLimit(run), seed, Batch, Path.Combine(outPath, name, $"{attack}-{m.Name}"), storePath, null, null, ReuseMatching: true)
                    { Indices = blocks, Board = m.Name == "float" ? null : boards, Threads = threads };
                    rows.Add((run, AttackCommand.Run(a, cancel)));
                }
                continue;
            }
            int[]? mine = Blocks(RunLimit(run));
            ++done;
            if (mine is { Length: 0 })
            {
                continue;
            }
            Console.Error.WriteLine($"experiment {name}: {attack} ({done} of {total}){(shard is null ? "" : $", shard {shard}")}");
            string? target = run.TryGetProperty("target", out JsonElement tg) ? tg.GetString() : null;
            if (target == "board" && boards is null)
            {
                throw new ArgumentException($"{name}: the {attack} run crafts on a board (\"target\": \"board\"); name the boards with --boards sim|qemu|PORT,...");
            }
            var t = new AttackCommand.AttackArgs(attack, c.GetProperty("model").GetString()!, c.GetProperty("data").GetString()!, target,
                string.Join(',', c.GetProperty("transfer_to").EnumerateArray().Select(e => e.GetString())), null,
                preset, Overrides(run), RunLimit(run), seed, Batch, Path.Combine(outPath, name, Folder(run, attack)), storePath, null, null, ReuseMatching: true)
            { Indices = mine, Board = boards, Threads = threads };
            rows.Add((run, AttackCommand.Run(t, cancel)));
        }
        return rows;
    }

    /// <summary>A run's output folder: its label made file-safe (a sweep repeats one attack), else the attack's name.</summary>
    private static string Folder(JsonElement run, string attack)
    {
        if (!run.TryGetProperty("label", out JsonElement l) || l.GetString() is not string label)
        {
            return attack;
        }
        var safe = new StringBuilder();
        foreach (char ch in label.ToLowerInvariant())
        {
            safe.Append(char.IsLetterOrDigit(ch) || ch is '.' or '-' ? ch : '-');
        }
        return safe.ToString();
    }

    /// <summary>
    /// A figure over one swept parameter (Figure 1: adversarial accuracy against PGD's eps): one line per precision,
    /// the x value of each run read from its "set"; written as a PNG beside the table, with the paper's description.
    /// </summary>
    private static string Figure(JsonElement figure, List<(JsonElement Run, AttackCommand.AttackOutcome Outcome)> rows, string outPath)
    {
        string parameter = figure.GetProperty("parameter").GetString()!;
        string file = figure.GetProperty("file").GetString()!;
        var points = rows.Select(r => (X: r.Run.GetProperty("set").GetProperty(parameter).GetDouble(), r.Outcome)).OrderBy(p => p.X).ToList();
        string[] precisions = [.. points[0].Outcome.Summaries.Select(s => s.Precision)];
        var series = precisions.Select(p => (Name: p, X: points.Select(q => q.X).ToArray(),
            Y: points.Select(q => q.Outcome.Summaries.First(s => s.Precision == p).AdversarialAccuracy * 100).ToArray())).ToList();
        string png = Path.Combine(outPath, file);
        QnnLab.Reports.Plots.Lines(series, figure.GetProperty("title").GetString()!, parameter, "adversarial accuracy (%)", png);
        var sb = new StringBuilder($"\n![{file}]({file})\n\n| {parameter} | {string.Join(" | ", precisions)} |\n|---:|{string.Concat(precisions.Select(_ => "---:|"))}\n");
        foreach ((double x, AttackCommand.AttackOutcome o) in points)
        {
            sb.Append(CultureInfo.InvariantCulture, $"| {x:G4} | {string.Join(" | ", o.Summaries.Select(s => (s.AdversarialAccuracy * 100).ToString("F1", CultureInfo.InvariantCulture)))} |\n");
        }
        sb.Append(CultureInfo.InvariantCulture, $"\nPaper: {figure.GetProperty("paper").GetString()}\n");
        return sb.ToString();
    }

    /// <summary>Table 5's shape: one row per attack and precision, each crafted on that precision's own model.</summary>
    private static string DirectTable(JsonElement c, List<(JsonElement Run, AttackCommand.AttackOutcome Outcome)> rows)
    {
        var sb = new StringBuilder();
        AttackRunInfo first = rows[0].Outcome.Info;
        sb.Append(CultureInfo.InvariantCulture, $"### {c.GetProperty("title").GetString()}\n\n");
        sb.Append(CultureInfo.InvariantCulture, $"The first N images of {first.Data} (N per row), seed {first.Seed}. {c.GetProperty("paper_note").GetString()}. ");
        sb.Append("Ours: each precision attacked on its own model; adversarial accuracy (%) and mean distortions over all N images as that model sees them (inputs in [0, 1], L0 counts changed values of H x W x C).\n\n");
        double? success = AppendSuccessCriterion(c, sb);
        sb.Append("| attack | precision | N | adv. acc. ours | paper | ours - paper | L0 ours / paper | L1 ours / paper | L2 ours / paper | Linf ours / paper | queries / image |");
        sb.Append(success is null ? "\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n" : " defended ours / paper |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
        foreach ((JsonElement run, AttackCommand.AttackOutcome o) in rows)
        {
            string label = run.TryGetProperty("label", out JsonElement l) ? l.GetString()! : o.Info.Attack;
            PrecisionSummary s = o.Summaries[0];
            JsonElement paper = run.GetProperty("paper").GetProperty(o.Info.CraftTarget);
            double ours = s.AdversarialAccuracy * 100, theirs = paper.GetProperty("acc").GetDouble();
            sb.Append(CultureInfo.InvariantCulture,
                $"| {label} | {s.Precision} | {s.N} | {ours:F1} | {theirs:F1} | {ours - theirs:+0.0;-0.0;0.0} | {s.MeanAll.L0:F1} / {paper.GetProperty("l0").GetDouble():F2} | " +
                $"{s.MeanAll.L1:F2} / {paper.GetProperty("l1").GetDouble():F2} | {s.MeanAll.L2:F3} / {paper.GetProperty("l2").GetDouble():F2} | " +
                $"{s.MeanAll.Linf:F4} / {paper.GetProperty("linf").GetDouble():F2} | {o.Queries:F0} |");
            sb.Append(success is double bar ? $" {Defended(ours, bar)} / {Defended(theirs, bar)} |\n" : "\n");
        }
        return sb.ToString();
    }

    /// <summary>
    /// The paper's success criterion for a defence (Section 4: adversarial accuracy within 20 points of Table 4's
    /// clean baseline), when the config gives that accuracy as "defended_at": appended to the table's preamble, and returned.
    /// </summary>
    private static double? AppendSuccessCriterion(JsonElement c, StringBuilder sb)
    {
        if (!c.TryGetProperty("defended_at", out JsonElement d))
        {
            return null;
        }
        double bar = d.GetDouble();
        sb.Append(CultureInfo.InvariantCulture, $"Defended: adversarial accuracy at least {bar:F1} % (the paper's criterion: within 20 points of its Table 4 baseline).\n\n");
        return bar;
    }

    private static string Defended(double accuracy, double bar) => accuracy >= bar ? "yes" : "no";

    private static string Table(JsonElement c, List<(JsonElement Run, AttackCommand.AttackOutcome Outcome)> rows, int n)
    {
        var sb = new StringBuilder();
        AttackRunInfo first = rows[0].Outcome.Info;
        sb.Append(CultureInfo.InvariantCulture, $"### {c.GetProperty("title").GetString()}\n\n");
        sb.Append(CultureInfo.InvariantCulture, $"N = {n} (the first {n} images of {first.Data}), seed {first.Seed}; model {Path.GetFileName(first.Model)}. ");
        sb.Append(CultureInfo.InvariantCulture, $"{c.GetProperty("paper_note").GetString()}. Ours: adversarial accuracy (%) on each precision; distortions are the means over all images of the float-crafted examples (inputs in [0, 1], L0 counts changed values of H x W x C).\n\n");
        double? success = AppendSuccessCriterion(c, sb);
        sb.Append(success is null
            ? "| attack | parameters | precision | ours | paper | ours - paper |\n|---|---|---|---:|---:|---:|\n"
            : "| attack | parameters | precision | ours | paper | ours - paper | defended ours / paper |\n|---|---|---|---:|---:|---:|---|\n");
        foreach ((JsonElement run, AttackCommand.AttackOutcome o) in rows)
        {
            string label = (run.TryGetProperty("label", out JsonElement l) ? l.GetString()! : o.Info.Attack)
                + (o.Summaries[0].N != n ? $" (N = {o.Summaries[0].N})" : "");
            JsonElement paper = run.TryGetProperty("paper", out JsonElement pe) ? pe : JsonDocument.Parse("{}").RootElement;
            foreach (PrecisionSummary s in o.Summaries)
            {
                // the paper has no board column: a board row is ours alone (its host twin is the int8/int16 row)
                string key = s.Precision == "board" ? "board" : s.Precision.StartsWith("int16", StringComparison.Ordinal) ? "int16" : s.Precision.StartsWith("int8", StringComparison.Ordinal) ? "int8" : "float";
                double ours = s.AdversarialAccuracy * 100;
                string theirs = paper.TryGetProperty(key, out JsonElement t) ? t.GetDouble().ToString("F1", CultureInfo.InvariantCulture) : "-";
                string diff = paper.TryGetProperty(key, out JsonElement t2) ? (ours - t2.GetDouble()).ToString("+0.0;-0.0;0.0", CultureInfo.InvariantCulture) : "-";
                sb.Append(CultureInfo.InvariantCulture,
                    $"| {label} | {(s.Precision == o.Summaries[0].Precision ? o.Info.Parameters : "")} | {s.Precision} | {ours:F1} | {theirs} | {diff} |");
                sb.Append(success is double bar
                    ? $" {Defended(ours, bar)} / {(paper.TryGetProperty(key, out JsonElement t3) ? Defended(t3.GetDouble(), bar) : "-")} |\n"
                    : "\n");
            }
        }
        sb.Append("\n| attack | L0 ours / paper | L1 ours / paper | L2 ours / paper | Linf ours / paper | queries / image |\n|---|---:|---:|---:|---:|---:|\n");
        foreach ((JsonElement run, AttackCommand.AttackOutcome o) in rows)
        {
            string label = run.TryGetProperty("label", out JsonElement l) ? l.GetString()! : o.Info.Attack;
            JsonElement paper = run.TryGetProperty("paper", out JsonElement pp) ? pp : default;
            string P(string k) => paper.ValueKind == JsonValueKind.Object && paper.TryGetProperty(k, out JsonElement v) ? v.GetDouble().ToString("F2", CultureInfo.InvariantCulture) : "-";
            PrecisionSummary f = o.Summaries[0];
            sb.Append(CultureInfo.InvariantCulture,
                $"| {label} | {f.MeanAll.L0:F1} / {P("l0")} | {f.MeanAll.L1:F2} / {P("l1")} | {f.MeanAll.L2:F3} / {P("l2")} | {f.MeanAll.Linf:F4} / {P("linf")} | {o.Queries:F0} |\n");
        }
        return sb.ToString();
    }
}
