using System.CommandLine;
using System.Globalization;
using System.Text;
using QnnLab.Engine;

namespace QnnLab.Cli;

/// <summary>
/// `qnnlab bench boards`: a board-oracle attack (the board's own answers craft the examples) run with 1, 2, 4... sim
/// boards sharing its batches, each count a fresh run: work units (batches) per second beside the ideal linear
/// speed-up from the one-board figure of the same run, and a check that every count made the one-board examples.
/// </summary>
public static class BenchBoardsCommand
{
    public static Command Create()
    {
        Option<string> model = CommonOptions.Model();
        Option<string> data = CommonOptions.Data();
        Option<string> attack = new("--attack", "-a") { Description = "A labels/scores attack", DefaultValueFactory = _ => "square-linf" };
        Option<string[]> set = new("--set") { Description = "Override a parameter by its ART name (repeatable)", AllowMultipleArgumentsPerToken = true };
        Option<int> limit = new("--limit", "-n") { Description = "Images attacked per board count", DefaultValueFactory = _ => 64 };
        Option<int> batch = new("--batch") { Description = "Images per work unit", DefaultValueFactory = _ => 8 };
        Option<string> counts = new("--counts") { Description = "Board counts, comma-separated", DefaultValueFactory = _ => "1,2,4" };
        Option<string> board = new("--board") { Description = "The kind of board each entry is (sim, or qemu)", DefaultValueFactory = _ => "sim" };
        Option<string> outDir = new("--out", "-o") { Description = "Folder for each count's store and examples", DefaultValueFactory = _ => "qnnlab-out/bench-boards" };
        Option<bool> json = CommonOptions.Json();
        var cmd = new Command("boards", "Board-oracle attack throughput with 1, 2, 4 boards sharing the work, beside the ideal linear speed-up, same run")
        {
            model, data, attack, set, limit, batch, counts, board, outDir, json,
        };
        cmd.SetAction((parse, cancel) =>
        {
            int[] ks = [.. parse.GetValue(counts)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(k => int.TryParse(k, CultureInfo.InvariantCulture, out int v) && v >= 1 ? v : throw new ArgumentException($"--counts: '{k}' is not a board count"))];
            string kind = parse.GetValue(board)!;
            if (kind is not ("sim" or "qemu"))
            {
                throw new ArgumentException($"--board {kind}: sim or qemu (one process per entry; serial boards are counted with attack --boards)");
            }
            string dir = parse.GetValue(outDir)!;
            Directory.CreateDirectory(dir);
            var rows = new List<Dictionary<string, object?>>();
            byte[]? reference = null;
            double? oneBoard = null;
            foreach (int k in ks)
            {
                string name = $"{k}-boards";
                string store = Path.Combine(dir, name + ".sqlite");
                // a fresh run per count: a store left by an earlier bench would be resumed, not measured
                foreach (string stale in new[] { store, store + "-wal", store + "-shm" })
                {
                    File.Delete(stale);
                }
                var a = new AttackCommand.AttackArgs(parse.GetValue(attack)!, parse.GetValue(model)!, parse.GetValue(data)!, "board", null, null, null,
                    parse.GetValue(set) ?? [], parse.GetValue(limit), 0, parse.GetValue(batch), Path.Combine(dir, name), store, null, null)
                {
                    Board = string.Join(',', Enumerable.Repeat(kind, k)),
                };
                Console.Error.WriteLine($"bench boards: {k} {kind} board(s)");
                AttackCommand.AttackOutcome o = AttackCommand.Run(a, cancel);
                byte[] examples = File.ReadAllBytes(Path.Combine(dir, name, "x_adv.npy"));
                reference ??= examples;
                int n = o.Summaries[0].N;
                int units = (n + a.Batch - 1) / a.Batch;
                double perSecond = units / o.Seconds;
                oneBoard ??= k == 1 ? perSecond : null;
                rows.Add(new Dictionary<string, object?>
                {
                    ["boards"] = k,
                    ["images"] = n,
                    ["units"] = units,
                    ["seconds"] = o.Seconds,
                    ["units_per_second"] = perSecond,
                    ["board_queries_per_second"] = o.Board is { } b ? b.Queries / o.Seconds : 0,
                    ["speedup"] = oneBoard is double one ? perSecond / one : null,
                    ["ideal_speedup"] = oneBoard is null ? null : k,
                    ["rows_per_board"] = o.Board?.Rows,
                    ["logit_mismatches"] = o.Board?.LogitMismatches,
                    ["same_examples_as_first"] = examples.AsSpan().SequenceEqual(reference),
                });
            }
            var report = new Dictionary<string, object?>
            {
                ["cpu"] = CpuInfo.ModelName,
                ["logical_cpus"] = CpuInfo.Cores,
                ["board"] = kind,
                ["attack"] = parse.GetValue(attack),
                ["rows"] = rows,
            };
            if (parse.GetValue(json))
            {
                JsonOutput.Print(report);
            }
            else
            {
                Console.WriteLine(Markdown(report, rows, kind));
            }
            return Task.FromResult(0);
        });
        return cmd;
    }

    private static string Markdown(Dictionary<string, object?> report, List<Dictionary<string, object?>> rows, string kind)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(inv, $"{report["attack"]} crafted on {kind} boards; CPU {report["cpu"]} ({report["logical_cpus"]} logical CPUs, shared by the host and every {kind} process)\n\n");
        sb.Append("| boards | images | units | s | units/s | board queries/s | speed-up | ideal | rows per board | mismatches | same examples |\n");
        sb.Append("|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|\n");
        foreach (Dictionary<string, object?> r in rows)
        {
            string per = r["rows_per_board"] is IReadOnlyDictionary<string, int> d ? string.Join(", ", d.Select(kv => $"{kv.Key} {kv.Value}")) : "";
            sb.Append(inv, $"| {r["boards"]} | {r["images"]} | {r["units"]} | {(double)r["seconds"]!:F1} | {(double)r["units_per_second"]!:F3} | {(double)r["board_queries_per_second"]!:F1} | ");
            sb.Append(inv, $"{(r["speedup"] is double s ? s.ToString("F2", inv) : "-")} | {r["ideal_speedup"] ?? "-"} | {per} | {r["logit_mismatches"]} | {((bool)r["same_examples_as_first"]! ? "yes" : "NO")} |\n");
        }
        return sb.ToString();
    }
}
