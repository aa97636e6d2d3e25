using System.CommandLine;
using System.Globalization;
using System.Text;
using QnnLab.Attacks;
using QnnLab.Attacks.Runs;
using QnnLab.Attacks.Targets;
using QnnLab.Data;
using QnnLab.Hil;
using QnnLab.Inference;
using QnnLab.Model;

namespace QnnLab.Cli;

/// <summary>
/// `qnnlab attack`: adversarial examples for a model on a data set, crafted on one target and evaluated on it and on
/// the targets they transfer to; every image recorded in a SQLite store (resumable), examples and tables under --out.
/// </summary>
public static class AttackCommand
{
    public const string DefaultStore = "qnnlab-out/attacks.sqlite";

    public static Command Create()
    {
        Option<string> attack = new("--attack", "-a") { Description = $"Attack: {string.Join(", ", AttackCatalog.Names)}", Required = true };
        Option<string> model = CommonOptions.Model();
        Option<string> data = CommonOptions.Data();
        Option<string?> target = new("--target", "-t")
        {
            Description = $"Target the examples are crafted on: {string.Join(", ", TargetFactory.Names)}, board (the --board; scores/labels attacks only) " +
                "(default: float for a float model, dequantized for an int one)",
        };
        Option<string?> board = new("--board", "--boards")
        {
            Description = "Also evaluate the examples on a board: sim, qemu or a serial port; it gets each image's quantized input tensor and its every logit is checked against the host engine's. " +
                "Several, comma-separated (sim,sim,/dev/ttyACM0), share the batches in parallel, one connection each; a board that fails is retired and its batch goes to the others",
        };
        Option<string[]> boardFaults = new("--board-faults")
        {
            Description = "Sim faults for board K of --boards, K:FAULTS (repeatable), e.g. 2:die=40 (gone after 40 inferences) or 1:drop=0.001,resets=2",
            AllowMultipleArgumentsPerToken = true,
        };
        Option<string?> boardModel = new("--board-model")
        {
            Description = "The int8/int16 model file the board runs (default: --model if it is an integer model, else the int8 --transfer-to file, else the int16 one)",
        };
        Option<string?> transfer = new("--transfer-to")
        {
            Description = "Comma-separated targets the examples are also evaluated on: int8, int16 (the --model quantized on --calibration, or the model itself), or model files",
        };
        Option<string?> calibration = new("--calibration") { Description = "Calibration data spec, to quantize a float --model for int8/int16 targets" };
        Option<string?> preset = new("--preset")
        {
            Description = "The paper's configuration for a data set: cifar10, vww, coffee, or none for ART's defaults (default: from the data spec)",
        };
        Option<string[]> set = new("--set") { Description = "Override a parameter by its ART name: --set eps=0.004 (repeatable)", AllowMultipleArgumentsPerToken = true };
        Option<int?> limit = CommonOptions.Limit();
        Option<int> seed = new("--seed") { Description = "Seed of randomised attacks", DefaultValueFactory = _ => 0 };
        Option<int> batch = new("--batch") { Description = "Images attacked together (each batch's result is stored before the next)", DefaultValueFactory = _ => 32 };
        Option<string?> outDir = new("--out", "-o") { Description = "Folder for x_adv.npy, y.npy, summary.md/.json and results.csv" };
        Option<string> store = new("--store") { Description = "SQLite store of attack runs", DefaultValueFactory = _ => DefaultStore };
        Option<long?> resume = new("--resume") { Description = "Continue run RUN of the store where it stopped (same --model and --data)" };
        Option<bool> json = CommonOptions.Json();
        Option<string?> pixels = CommonOptions.PixelRange();
        Option<int> threads = CommonOptions.Threads();
        var cmd = new Command("attack", "Adversarial examples: craft on one target, evaluate on it and on the targets they transfer to")
        {
            attack, model, data, target, transfer, board, boardModel, boardFaults, calibration, preset, set, limit, seed, batch, outDir, store, resume, json, pixels, threads,
        };
        cmd.SetAction((parse, cancel) =>
        {
            var a = new AttackArgs(parse.GetValue(attack)!, parse.GetValue(model)!, parse.GetValue(data)!, parse.GetValue(target), parse.GetValue(transfer),
                parse.GetValue(calibration), parse.GetValue(preset), parse.GetValue(set) ?? [], parse.GetValue(limit), parse.GetValue(seed),
                parse.GetValue(batch), parse.GetValue(outDir), parse.GetValue(store)!, parse.GetValue(resume), parse.GetValue(pixels))
            {
                Board = parse.GetValue(board),
                BoardModel = parse.GetValue(boardModel),
                BoardFaults = ParseBoardFaults(parse.GetValue(boardFaults) ?? []),
                Threads = CommonOptions.ThreadsOf(parse, threads),
            };
            AttackOutcome o = Run(a, cancel);
            if (parse.GetValue(json))
            {
                JsonOutput.Print(o.ToJson());
            }
            else
            {
                Console.WriteLine(SummaryMarkdown(o));
            }
            return Task.FromResult(0);
        });
        return cmd;
    }

    public sealed record AttackArgs(string Attack, string Model, string Data, string? Target, string? TransferTo, string? Calibration, string? Preset,
        string[] Set, int? Limit, int Seed, int Batch, string? Out, string Store, long? Resume, string? Pixels, bool ReuseMatching = false)
    {
        /// <summary>sim, qemu or a serial port the examples are also evaluated on (or crafted on, with --target board); several, comma-separated, share the batches.</summary>
        public string? Board { get; init; }
        public string? BoardModel { get; init; }
        /// <summary>Sim faults by the board's position (1-based) in <see cref="Board"/>.</summary>
        public IReadOnlyDictionary<int, FaultSpec> BoardFaults { get; init; } = new Dictionary<int, FaultSpec>();
        /// <summary>Where the sim board and the QEMU image are built from (tests give their checkout).</summary>
        public string? RepoRoot { get; init; }
        /// <summary>Only these images of the set (an experiment shard's blocks); null: all of them.</summary>
        public int[]? Indices { get; init; }
        /// <summary>Integer engine threads of each int8/int16 target (craft and transfer).</summary>
        public int Threads { get; init; } = 1;
    }

    /// <summary>
    /// The boards' figures of a run: their links, answers compared with the host engine, and mismatches (0 on a bit-exact
    /// board); <see cref="Seconds"/> is the busiest board's wait (boards answer in parallel), <see cref="Rows"/> the rows each answered.
    /// </summary>
    public sealed record BoardCheck(string Link, long Compared, long LogitMismatches, long Queries, double Seconds)
    {
        public IReadOnlyDictionary<string, int> Rows { get; init; } = new Dictionary<string, int>();
        public int Boards { get; init; } = 1;
    }

    public sealed record AttackOutcome(long Run, AttackRunInfo Info, string Preset, IReadOnlyList<PrecisionSummary> Summaries, double Queries,
        double GradientQueries, double Seconds, string Store, string? Out, BoardCheck? Board = null)
    {
        public Dictionary<string, object?> ToJson()
        {
            Dictionary<string, double> By(Func<PrecisionSummary, double> f) => Summaries.ToDictionary(s => s.Precision, f);
            return new Dictionary<string, object?>
            {
                ["attack"] = Info.Attack,
                ["parameters"] = Info.Parameters,
                ["preset"] = Preset,
                ["run"] = Run,
                ["model"] = Info.Model,
                ["data"] = Info.Data,
                ["crafted_on"] = Info.CraftTarget,
                ["seed"] = Info.Seed,
                ["n"] = Summaries.Count == 0 ? 0 : Summaries[0].N,
                ["clean_accuracy"] = By(s => s.CleanAccuracy),
                ["adversarial_accuracy"] = By(s => s.AdversarialAccuracy),
                ["success_rate"] = By(s => s.SuccessRate),
                ["l0"] = By(s => s.MeanAll.L0),
                ["l1"] = By(s => s.MeanAll.L1),
                ["l2"] = By(s => s.MeanAll.L2),
                ["linf"] = By(s => s.MeanAll.Linf),
                ["successful"] = Summaries.ToDictionary(s => s.Precision, s => new Dictionary<string, double>
                {
                    ["l0"] = s.MeanSuccessful.L0,
                    ["l1"] = s.MeanSuccessful.L1,
                    ["l2"] = s.MeanSuccessful.L2,
                    ["linf"] = s.MeanSuccessful.Linf,
                }),
                ["queries"] = Queries,
                ["gradient_queries"] = GradientQueries,
                ["seconds"] = Seconds,
                ["store"] = Store,
                ["out"] = Out,
                ["board"] = Board is null ? null : new Dictionary<string, object?>
                {
                    ["link"] = Board.Link,
                    ["compared"] = Board.Compared,
                    ["logit_mismatches"] = Board.LogitMismatches,
                    ["queries"] = Board.Queries,
                    ["queries_per_second"] = Board.Seconds > 0 ? Board.Queries / Board.Seconds : 0,
                    ["rows"] = Board.Rows,
                },
            };
        }
    }

    public static AttackOutcome Run(AttackArgs a, CancellationToken cancel)
    {
        if (a.Batch < 1)
        {
            throw new ArgumentException($"--batch {a.Batch}: must be 1 or more");
        }
        string modelPath = CommonOptions.ResolveModel(a.Model, cancel);
        QnnModel m = ModelFiles.Load(modelPath, CommonOptions.ParsePixelRange(a.Pixels));
        using var store = new AttackStore(a.Store);
        AttackRunInfo? previous = a.Resume is long id ? store.GetRun(id) : null;
        if (previous is not null && (previous.Attack != a.Attack || previous.Model != modelPath || previous.Data != a.Data))
        {
            throw new ArgumentException($"--resume {previous.Id}: that run attacked {previous.Model} on {previous.Data} with {previous.Attack}; " +
                $"give the same --attack, --model and --data");
        }
        // Every worker (one per board) gets its own attack instance: attacks keep per-call state.
        Attack NewAttack()
        {
            if (previous is null)
            {
                return Configured(a.Attack, a.Preset, a.Data, a.Set).Attack;
            }
            Attack stored = AttackCatalog.Create(a.Attack);
            foreach (string kv in previous.Parameters.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                int eq = kv.IndexOf('=', StringComparison.Ordinal);
                if (kv[(eq + 1)..].Length > 0)
                {
                    stored.Parameters.Set(kv[..eq], kv[(eq + 1)..]);
                }
            }
            return stored;
        }
        (Attack attack, string preset) = previous is not null ? (NewAttack(), "stored") : Configured(a.Attack, a.Preset, a.Data, a.Set);

        ImageSet? calib = a.Calibration is string c ? CommonOptions.LoadData(c, m, null) : null;
        int seed = previous?.Seed ?? a.Seed;
        ImageSet set = CommonOptions.LoadData(a.Data, m, previous?.Total ?? a.Limit);
        // Stored as the craft target's spec, then the --transfer-to items as given and the board's spec (a resume
        // rebuilds the same targets).
        string[] transferItems = previous is not null
            ? [.. SplitEvals(previous.Evals).Skip(1)]
            : SplitEvals(a.TransferTo ?? "");
        string? boardSpec = previous is null && a.Board is string b
            ? BoardOracle.SpecFor(BoardOracle.ParseList(b), BoardModelPath(a, m, modelPath, transferItems, cancel))
            : null;
        string craftName = previous?.CraftTarget ?? (a.Target == "board"
            ? boardSpec ?? throw new ArgumentException("--target board: name the board with --board sim|qemu|PORT")
            : a.Target ?? TargetFactory.DefaultFor(m));
        if (boardSpec is not null && boardSpec != craftName)
        {
            transferItems = [.. transferItems, boardSpec];
        }
        // The boards of the run (craft or evaluation target), one worker each; a host-only run has one worker.
        IReadOnlyList<BoardTarget>? boards = new[] { craftName }.Concat(transferItems).Select(BoardOracle.ParseSpec).FirstOrDefault(p => p is not null)?.Boards;
        var owned = new List<AttackTarget>();
        try
        {
            AttackTarget Open(string spec, int k) => BoardOracle.ParseSpec(spec) is not null
                ? OpenBoard(spec, k, m, a, cancel)
                : TransferTarget(spec, m, calib, a.Threads, cancel);
            var workers = new List<AttackWorker>();
            for (int k = 0; k < (boards?.Count ?? 1); k++)
            {
                AttackTarget craft = BoardOracle.ParseSpec(craftName) is not null ? OpenBoard(craftName, k, m, a, cancel) : TargetFactory.Create(craftName, m, calib, a.Threads);
                owned.Add(craft);
                if (attack.WhyCannotAttack(craft) is string why)
                {
                    // Before loading anything else: the same error Generate would give, at once.
                    throw new ArgumentException(why);
                }
                var evals = new Dictionary<string, AttackTarget> { [craft.Name] = craft };
                foreach (string item in transferItems)
                {
                    AttackTarget t = Open(item, k);
                    owned.Add(t);
                    if (!evals.TryAdd(t.Name, t))
                    {
                        throw new ArgumentException($"--transfer-to {item}: a '{t.Name}' target is already evaluated");
                    }
                    if (t.ImageSize != craft.ImageSize || t.Classes != craft.Classes)
                    {
                        throw new ArgumentException($"--transfer-to {item}: takes {t.Height}x{t.Width}x{t.Channels} images into {t.Classes} classes; " +
                            $"the model takes {craft.Height}x{craft.Width}x{craft.Channels} into {craft.Classes}");
                    }
                }
                workers.Add(new AttackWorker(k == 0 ? attack : NewAttack(), craft, evals, boards is null ? null : BoardOracle.LabelOf(boards[k], k + 1)));
            }
            AttackTarget craft0 = workers[0].Craft;
            IReadOnlyDictionary<string, AttackTarget> evals0 = workers[0].Evals;
            if (set.ImageSize != craft0.ImageSize)
            {
                throw new ArgumentException($"{set.Source}: images of {set.Height}x{set.Width}x{set.Channels}; the model takes {craft0.Height}x{craft0.Width}x{craft0.Channels}");
            }

            var info = new AttackRunInfo(0, attack.Name, attack.Parameters.ToString(), craftName, modelPath, a.Data,
                string.Join(',', [craftName, .. transferItems]), seed, set.Count, "running");
            // An experiment continues the run of the same configuration if the store has one (finished or not).
            AttackRunInfo? same = previous ?? (a.ReuseMatching ? store.Runs().FirstOrDefault(r => r with { Id = 0, Status = "" } == info with { Status = "" }) : null);
            long run = same?.Id ?? store.CreateRun(info);
            if (same is not null)
            {
                store.SetStatus(run, "running");
            }
            Console.Error.WriteLine($"attack: run {run} in {a.Store}: {attack.Name} ({attack.Norm}; {attack.Parameters}; preset {preset}) " +
                $"crafted on {craft0.Name}, evaluated on {string.Join(", ", evals0.Keys)}; {set.Count} images of {set.Source}, seed {seed}" +
                (workers.Count > 1 ? $"; {workers.Count} boards share the batches ({string.Join(", ", workers.Select(w => w.Board))})" : ""));
            // An experiment also reuses the examples of a finished run crafted the same way and evaluated elsewhere
            // (Table 5's float row and Table 6's transfer row of the same attack): evaluated again, not crafted again.
            AttackRunInfo? source = a.ReuseMatching
                ? store.Runs().FirstOrDefault(r => r.Status == "done" && r.Evals != info.Evals && r with { Id = 0, Status = "", Evals = "" } == info with { Status = "", Evals = "" })
                : null;
            if (source is not null)
            {
                Console.Error.WriteLine($"attack: reusing the examples of run {source.Id} (crafted the same way, evaluated on {source.Evals}): evaluating them, not crafting again");
            }
            int[] indices = a.Indices is int[] some ? [.. some.Where(i => i >= 0 && i < set.Count)] : [.. Enumerable.Range(0, set.Count)];
            var progress = new ProgressReporter("attack", indices.Length);
            var job = new AttackJob(workers, set, indices, a.Batch, seed)
            {
                Crafted = source is null ? null : store.Results(source.Id).ToDictionary(r => r.Index),
            };
            try
            {
                AttackRunner.Run(job, store, run, p => progress.Report(p.Done,
                    $"adversarial accuracy {p.AdversarialAccuracy * 100:F1} %, {p.QueriesPerSecond:F0} queries/s"), cancel, why => Console.Error.WriteLine($"attack: {why}"));
            }
            catch (OperationCanceledException)
            {
                store.SetStatus(run, "stopped");
                Console.Error.WriteLine($"attack: stopped; continue with --store {a.Store} --resume {run}");
                throw;
            }
            IReadOnlyList<AttackImageResult> results = store.Results(run);
            // A shard records only its blocks: its run is whole only after the merge.
            store.SetStatus(run, results.Count == set.Count ? "done" : "partial");
            IReadOnlyList<PrecisionSummary> summaries = AttackSummary.Of(results);
            progress.Finish(string.Join(", ", summaries.Select(s => $"{s.Precision} {s.AdversarialAccuracy * 100:F1} %")));
            BoardOracle[] oracles = [.. owned.OfType<BoardOracle>()];
            // Boards work in parallel: the slowest one's time is the run's board time.
            BoardCheck? check = oracles.Length == 0 ? null
                : new BoardCheck(string.Join("; ", oracles.Select(o => o.Link)), oracles.Sum(o => o.Compared), oracles.Sum(o => o.LogitMismatches),
                    oracles.Sum(o => o.Queries), oracles.Max(o => o.BoardTime.TotalSeconds))
                {
                    Rows = results.Where(r => r.Board is not null).GroupBy(r => r.Board!).OrderBy(g => g.Key, StringComparer.Ordinal)
                        .ToDictionary(g => g.Key, g => g.Count()),
                    Boards = oracles.Length,
                };
            if (check is not null)
            {
                Console.Error.WriteLine($"attack: board {check.Link}: {check.Compared} answers compared with the host engine logit by logit, {check.LogitMismatches} mismatches" +
                    (check.Boards > 1 ? $"; rows answered: {string.Join(", ", check.Rows.Select(kv => $"{kv.Key} {kv.Value}"))}" : ""));
            }
            if (attack is QnnLab.Attacks.Attacks.AutoAttack aa && aa.ImagesAttacked > 0)
            {
                // AutoAttack's own report, over the images attacked in this session (a resumed run's earlier ones are not in it)
                Console.Error.WriteLine($"autoattack: robust accuracy after each component over {aa.ImagesAttacked} images: " +
                    string.Join(", ", aa.RobustTotal.Select(t => $"{t.Component} {100.0 * t.Robust / aa.ImagesAttacked:F1} %")));
            }
            var outcome = new AttackOutcome(run, store.GetRun(run), preset, summaries,
                results.Count == 0 ? 0 : results.Average(r => r.Queries), results.Count == 0 ? 0 : results.Average(r => r.GradientQueries),
                progress.Elapsed.TotalSeconds, a.Store, a.Out, check);
            if (a.Out is string dir && a.Indices is null)
            {
                WriteOutputs(dir, outcome, results, set, craft0);
            }
            return outcome;
        }
        finally
        {
            foreach (AttackTarget t in owned)
            {
                t.Dispose();
            }
        }
    }

    /// <summary>Board <paramref name="k"/> (0-based) of a board spec, with the faults --board-faults gives it.</summary>
    private static BoardOracle OpenBoard(string spec, int k, QnnModel m, AttackArgs a, CancellationToken cancel)
    {
        (IReadOnlyList<BoardTarget> boards, string path) = BoardOracle.ParseSpec(spec)!.Value;
        BoardTarget board = boards[k];
        FaultSpec faults = a.BoardFaults.TryGetValue(k + 1, out FaultSpec? f) ? f : FaultSpec.None;
        Console.Error.WriteLine($"attack: starting the {BoardOracle.LabelOf(board, k + 1)} board with {Path.GetFileName(path)}{(faults.Any ? $" (faults {faults})" : "")}...");
        return BoardOracle.OpenAsync(board, path, m.Preprocessing, new BoardLaunchOptions { RepoRoot = a.RepoRoot, Faults = faults }, cancel, spec).GetAwaiter().GetResult();
    }

    /// <summary>
    /// --transfer-to items, split at the commas between them: a board spec's own list (<c>board:sim,sim=MODEL</c>) stays one item.
    /// </summary>
    private static string[] SplitEvals(string list)
    {
        var items = new List<string>();
        foreach (string part in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (items.Count > 0 && items[^1].StartsWith("board:", StringComparison.Ordinal) && !items[^1].Contains('=', StringComparison.Ordinal))
            {
                items[^1] += "," + part;
            }
            else
            {
                items.Add(part);
            }
        }
        return [.. items];
    }

    /// <summary>--board-faults K:SPEC (repeatable): the sim faults of board K of the list, e.g. 2:die=40 to watch its units move to the others.</summary>
    public static IReadOnlyDictionary<int, FaultSpec> ParseBoardFaults(IEnumerable<string> items)
    {
        var faults = new Dictionary<int, FaultSpec>();
        foreach (string item in items)
        {
            int colon = item.IndexOf(':', StringComparison.Ordinal);
            if (colon < 1 || !int.TryParse(item[..colon], CultureInfo.InvariantCulture, out int k) || k < 1)
            {
                throw new ArgumentException($"--board-faults {item}: give K:FAULTS with K the board's position in --boards (1-based), e.g. 2:die=40");
            }
            faults[k] = FaultSpec.Parse(item[(colon + 1)..]);
        }
        return faults;
    }

    /// <summary>--board-model, else the attacked model if it is an integer one, else the int8 (then int16) --transfer-to file.</summary>
    private static string BoardModelPath(AttackArgs a, QnnModel m, string modelPath, string[] transferItems, CancellationToken cancel)
    {
        if (a.BoardModel is string given)
        {
            return CommonOptions.ResolveModel(given, cancel);
        }
        if (m.Precision != Precision.Float)
        {
            return modelPath;
        }
        var files = transferItems.Where(File.Exists).Select(f => (Path: f, Model: ModelFiles.Load(f))).ToList();
        foreach (Precision p in new[] { Precision.Int8, Precision.Int16 })
        {
            if (files.FirstOrDefault(f => f.Model.Precision == p).Path is string hit)
            {
                return CommonOptions.ResolveModel(hit, cancel);
            }
        }
        throw new ArgumentException($"--board {a.Board}: {Path.GetFileName(modelPath)} is a float model and no --transfer-to item is an int8/int16 model file; " +
            "name the model the board runs with --board-model FILE");
    }

    private static AttackTarget TransferTarget(string item, QnnModel m, ImageSet? calib, int threads, CancellationToken cancel)
    {
        if (item is "int8" or "int16")
        {
            return TargetFactory.Create(item, m, calib, threads);
        }
        if (!File.Exists(item))
        {
            throw new ArgumentException($"--transfer-to {item}: neither int8, int16 nor a model file");
        }
        QnnModel other = ModelFiles.Load(CommonOptions.ResolveModel(item, cancel), m.Preprocessing);
        return other.Precision == Precision.Float ? new TorchTarget(other) : new IntegerTarget(other, threads: threads);
    }

    /// <summary>The attack with --preset (or the one the data spec implies) and the --set overrides applied; and the preset's name.</summary>
    public static (Attack Attack, string Preset) Configured(string name, string? preset, string data, IEnumerable<string> set)
    {
        Attack attack = AttackCatalog.Create(name);
        string applied = ApplyPreset(attack, preset, data);
        attack.Parameters.SetAll(set);
        return (attack, applied);
    }

    /// <summary>Applies --preset (or the one the data spec implies); returns its name for the report.</summary>
    private static string ApplyPreset(Attack attack, string? preset, string data)
    {
        string? name = preset?.ToLowerInvariant() ?? ImpliedPreset(data);
        if (name is null or "none")
        {
            return "none (ART defaults)";
        }
        if (preset is null && !attack.Presets.ContainsKey(name))
        {
            return "none (ART defaults)";
        }
        attack.ApplyPreset(name);
        return name;
    }

    private static string? ImpliedPreset(string data)
    {
        string d = data.ToLowerInvariant();
        return d.StartsWith("cifar10:", StringComparison.Ordinal) ? "cifar10"
            : d.StartsWith("coffee:", StringComparison.Ordinal) ? "coffee"
            : d.Contains("vww", StringComparison.Ordinal) ? "vww"
            : null;
    }

    private static void WriteOutputs(string dir, AttackOutcome o, IReadOnlyList<AttackImageResult> results, ImageSet set, AttackTarget craft)
    {
        Directory.CreateDirectory(dir);
        int size = craft.ImageSize;
        var x = new float[results.Count * size];
        var y = new long[results.Count];
        for (int i = 0; i < results.Count; i++)
        {
            results[i].Adversarial.CopyTo(x.AsSpan(i * size, size));
            y[i] = results[i].Label;
        }
        NpyWriter.Write(Path.Combine(dir, "x_adv.npy"), x, results.Count, craft.Height, craft.Width, craft.Channels);
        NpyWriter.Write(Path.Combine(dir, "y.npy"), y, results.Count);
        File.WriteAllText(Path.Combine(dir, "summary.md"), SummaryMarkdown(o));
        File.WriteAllText(Path.Combine(dir, "summary.json"), System.Text.Json.JsonSerializer.Serialize(o.ToJson()) + "\n");
        var csv = new StringBuilder("index,label");
        string[] precisions = [.. o.Summaries.Select(s => s.Precision)];
        foreach (string p in precisions)
        {
            csv.Append(CultureInfo.InvariantCulture, $",{p}_clean,{p}_adversarial,{p}_l0,{p}_l1,{p}_l2,{p}_linf");
        }
        csv.Append(",queries,gradient_queries,board\n");
        foreach (AttackImageResult r in results)
        {
            csv.Append(CultureInfo.InvariantCulture, $"{r.Index},{r.Label}");
            foreach (string p in precisions)
            {
                EvalOutcome e = r.Evals[p];
                csv.Append(CultureInfo.InvariantCulture, $",{e.CleanLabel},{e.AdversarialLabel},{e.Distortion.L0:G6},{e.Distortion.L1:G6},{e.Distortion.L2:G6},{e.Distortion.Linf:G6}");
            }
            csv.Append(CultureInfo.InvariantCulture, $",{r.Queries:G6},{r.GradientQueries:G6},{r.Board}\n");
        }
        File.WriteAllText(Path.Combine(dir, "results.csv"), csv.ToString());
        Console.Error.WriteLine($"attack: wrote x_adv.npy, y.npy ({set.Source}, first {results.Count}), summary.md, summary.json, results.csv to {dir}");
    }

    /// <summary>The run's table: one row per precision, N, seed and images named above it.</summary>
    public static string SummaryMarkdown(AttackOutcome o)
    {
        var sb = new StringBuilder();
        int n = o.Summaries.Count == 0 ? 0 : o.Summaries[0].N;
        sb.Append(CultureInfo.InvariantCulture, $"{o.Info.Attack} ({o.Info.Parameters}; preset {o.Preset}), crafted on {o.Info.CraftTarget}; ");
        sb.Append(CultureInfo.InvariantCulture, $"N = {n} (first {n} images of {o.Info.Data}), seed {o.Info.Seed}, run {o.Run}\n\n");
        sb.Append("| precision | clean acc. | adv. acc. | success | L0 | L1 | L2 | Linf | L2 (succ.) | Linf (succ.) |\n");
        sb.Append("|---|---|---|---|---|---|---|---|---|---|\n");
        foreach (PrecisionSummary s in o.Summaries)
        {
            sb.Append(CultureInfo.InvariantCulture,
                $"| {s.Precision} | {s.CleanAccuracy * 100:F1} % | {s.AdversarialAccuracy * 100:F1} % | {s.SuccessRate * 100:F1} % | {s.MeanAll.L0:F0} | {s.MeanAll.L1:F3} | {s.MeanAll.L2:F4} | {s.MeanAll.Linf:F4} | {s.MeanSuccessful.L2:F4} | {s.MeanSuccessful.Linf:F4} |\n");
        }
        sb.Append(CultureInfo.InvariantCulture, $"\nqueries per image {o.Queries:F0} (gradients {o.GradientQueries:F0}), {o.Seconds:F1} s\n");
        if (o.Board is BoardCheck b)
        {
            sb.Append(CultureInfo.InvariantCulture,
                $"board: {b.Link}; {b.Compared} answers compared with the host engine on every logit, {b.LogitMismatches} mismatches; {(b.Seconds > 0 ? b.Queries / b.Seconds : 0):F1} board queries/s");
            sb.Append(b.Boards > 1 ? $"; rows answered: {string.Join(", ", b.Rows.Select(kv => $"{kv.Key} {kv.Value}"))}\n" : "\n");
        }
        return sb.ToString();
    }
}
