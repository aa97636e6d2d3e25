using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using QnnLab.Data;
using QnnLab.Inference;
using QnnLab.Model;

namespace QnnLab.Cli;

/// <summary>
/// `qnnlab defend accuracy`: the paper's Table 8 from a config: the clean accuracy of each defended model at each
/// precision (float on TorchSharp, int16 / int8 on the bit-exact engine), beside the paper's, with the difference in
/// images where the data set is the paper's own (its N given as "paper_n").
/// </summary>
public static class DefendAccuracyCommand
{
    public static Command Create()
    {
        Option<string> config = new("--config", "-c") { Description = "Accuracy config (JSON), e.g. experiments/table8-cifar10.json", Required = true };
        Option<string> outDir = new("--out", "-o") { Description = "Folder for the table (Markdown and CSV)", DefaultValueFactory = _ => "qnnlab-out/experiments" };
        Option<int?> limit = new("--limit", "-n") { Description = "Only the first N images (a quick look; the table then says so and shows no image difference)" };
        var cmd = new Command("accuracy", "Clean accuracy of defended models per precision beside the paper's (Table 8)")
        {
            config, outDir, limit,
        };
        cmd.SetAction((parse, cancel) =>
        {
            string md = Run(parse.GetValue(config)!, parse.GetValue(outDir)!, parse.GetValue(limit), cancel);
            Console.WriteLine(md);
            return Task.FromResult(0);
        });
        return cmd;
    }

    public sealed record Cell(string Defence, string Precision, string Model, int N, int Correct, double? Paper, double Seconds)
    {
        public double Accuracy => N == 0 ? 0 : (double)Correct / N;
    }

    public static string Run(string configPath, string outPath, int? limit, CancellationToken cancel)
    {
        using JsonDocument doc = ExperimentCommand.LoadConfig(configPath);
        JsonElement c = doc.RootElement;
        string name = Path.GetFileNameWithoutExtension(configPath);
        string data = c.GetProperty("data").GetString()!;
        int? n = limit ?? (c.TryGetProperty("limit", out JsonElement l) && l.ValueKind == JsonValueKind.Number ? l.GetInt32() : null);
        int? paperN = c.TryGetProperty("paper_n", out JsonElement pn) ? pn.GetInt32() : null;
        var cells = new List<Cell>();
        // The set depends only on the model's input shape (folders and leaves are resized to it): read it once per shape.
        var sets = new Dictionary<string, ImageSet>();
        foreach (JsonElement d in c.GetProperty("defences").EnumerateArray())
        {
            string defence = d.GetProperty("name").GetString()!;
            JsonElement paper = d.TryGetProperty("paper", out JsonElement p) ? p : default;
            foreach (JsonProperty m in d.GetProperty("models").EnumerateObject())
            {
                cancel.ThrowIfCancellationRequested();
                string file = m.Value.GetString()!;
                QnnModel model = ModelFiles.Load(file);
                string shape = string.Join('x', model.InputTensor.Shape);
                if (!sets.TryGetValue(shape, out ImageSet? set))
                {
                    sets[shape] = set = CommonOptions.LoadData(data, model, n);
                }
                using IClassifier clf = Classifiers.Create(model, ModelFiles.ParsePrecision(m.Name), null, Environment.ProcessorCount);
                Console.Error.WriteLine($"defend accuracy {name}: {defence}, {m.Name} ({Path.GetFileName(file)}) on {set.Count} images");
                EvalCommand.EvalResult r = EvalCommand.Evaluate(clf, set, cancel);
                double? theirs = paper.ValueKind == JsonValueKind.Object && paper.TryGetProperty(m.Name, out JsonElement t) ? t.GetDouble() : null;
                cells.Add(new Cell(defence, m.Name, file, r.N, r.Correct, theirs, r.Seconds));
            }
        }
        if (cells.Count == 0)
        {
            throw new ArgumentException($"{configPath}: no defences with models");
        }
        string md = Table(c, data, cells, paperN);
        Directory.CreateDirectory(outPath);
        File.WriteAllText(Path.Combine(outPath, name + ".md"), md);
        var csv = new StringBuilder("defence,precision,model,n,correct,accuracy,paper\n");
        foreach (Cell x in cells)
        {
            csv.Append(CultureInfo.InvariantCulture, $"{x.Defence},{x.Precision},{Path.GetFileName(x.Model)},{x.N},{x.Correct},{x.Accuracy:F4},{x.Paper?.ToString("F2", CultureInfo.InvariantCulture)}\n");
        }
        File.WriteAllText(Path.Combine(outPath, name + ".csv"), csv.ToString());
        Console.Error.WriteLine($"defend accuracy {name}: wrote {Path.Combine(outPath, name + ".md")} and .csv");
        return md;
    }

    /// <summary>
    /// One row per precision, one column per defence: ours as % and correct / N, the paper's %, and when N is the
    /// paper's N the difference in images (the paper's % times N is a whole number of images).
    /// </summary>
    public static string Table(JsonElement c, string data, IReadOnlyList<Cell> cells, int? paperN)
    {
        string[] defences = [.. cells.Select(x => x.Defence).Distinct()];
        string[] precisions = [.. cells.Select(x => x.Precision).Distinct()];
        int[] ns = [.. cells.Select(x => x.N).Distinct()];
        bool samePopulation = paperN is int pn && ns.Length == 1 && ns[0] == pn;
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"### {c.GetProperty("title").GetString()}\n\n");
        sb.Append(CultureInfo.InvariantCulture, $"N = {string.Join(" / ", ns)} images of {data}. {c.GetProperty("paper_note").GetString()}. ");
        sb.Append(samePopulation
            ? $"Each cell: ours (correct / N), the paper's, and ours minus the paper's in images (N = {paperN}, the paper's test set).\n\n"
            : "Each cell: ours (correct / N) and the paper's; not the paper's test set, so no difference in images.\n\n");
        sb.Append("| precision |").Append(string.Concat(defences.Select(d => $" {d} |"))).Append('\n');
        sb.Append("|---|").Append(string.Concat(defences.Select(_ => "---:|"))).Append('\n');
        foreach (string p in precisions)
        {
            sb.Append(CultureInfo.InvariantCulture, $"| {p} |");
            foreach (string d in defences)
            {
                Cell? x = cells.FirstOrDefault(k => k.Defence == d && k.Precision == p);
                if (x is null)
                {
                    sb.Append(" - |");
                    continue;
                }
                string paper = x.Paper is double v ? $" / paper {v.ToString("F2", CultureInfo.InvariantCulture)} %" : "";
                string diff = samePopulation && x.Paper is double w
                    ? $" ({(x.Correct - (int)Math.Round(w * x.N / 100)).ToString("+0;-0;0", CultureInfo.InvariantCulture)} images)"
                    : "";
                sb.Append(CultureInfo.InvariantCulture, $" {x.Accuracy * 100:F2} % ({x.Correct} / {x.N}){paper}{diff} |");
            }
            sb.Append('\n');
        }
        return sb.ToString();
    }
}
