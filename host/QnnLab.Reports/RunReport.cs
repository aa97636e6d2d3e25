using System.Globalization;
using System.Text;
using System.Text.Json;
using QnnLab.Results;

namespace QnnLab.Reports;

/// <summary>
/// Writes a run's report: summary.md, results.csv, summary.json and PNG plots (latency histogram per
/// stage, Feature Squeezing overhead when squeezing was measured, accuracy per class).
/// </summary>
public static class RunReport
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Writes every file into <paramref name="dir"/> and returns their paths.</summary>
    public static IReadOnlyList<string> Write(string dir, RunSummary s, IReadOnlyList<InputResult> results, string[]? classNames = null)
    {
        Directory.CreateDirectory(dir);
        string prefix = $"run{s.Run.Id}";
        var files = new List<string>
        {
            WriteText(Path.Combine(dir, $"{prefix}-summary.md"), Markdown(s, classNames)),
            WriteText(Path.Combine(dir, $"{prefix}-results.csv"), Csv(results)),
            WriteText(Path.Combine(dir, $"{prefix}-summary.json"), Json(s)),
        };
        files.AddRange(Plots.WriteRunPlots(dir, prefix, s, results, classNames));
        return files;
    }

    public static string Markdown(RunSummary s, string[]? classNames)
    {
        var b = new StringBuilder();
        RunInfo r = s.Run;
        b.AppendLine(Inv, $"# Run {r.Id}: {r.Kind} on {r.Board}");
        b.AppendLine();
        b.AppendLine("| | |");
        b.AppendLine("|---|---|");
        b.AppendLine(Inv, $"| model | `{r.Model}` ({r.Precision}) |");
        b.AppendLine(Inv, $"| model hash | `{r.ModelHash}` |");
        b.AppendLine(Inv, $"| data | `{r.Data}` |");
        b.AppendLine(Inv, $"| Feature Squeezing | {(r.Squeeze.Length == 0 ? "off" : r.Squeeze)} |");
        b.AppendLine(Inv, $"| inputs | {s.N} of {r.Total} ({r.Status}) |");
        b.AppendLine(Inv, $"| board accuracy | {s.BoardAccuracy * 100:F2} % |");
        b.AppendLine(Inv, $"| host engine accuracy | {s.HostAccuracy * 100:F2} % |");
        b.AppendLine(Inv, $"| agreement with host engine | {s.HostAgreement * 100:F2} % ({s.Disagreements} disagreements) |");
        if (s.DetectionRate is double d)
        {
            b.AppendLine(Inv, $"| flagged as adversarial | {d * 100:F2} % |");
        }
        b.AppendLine(Inv, $"| link | {s.Link.PayloadBytes} payload B, {s.Link.WireBytes} wire B in {s.Link.Seconds:F2} s at {s.Link.Baud} baud: {s.LinkUtilization * 100:F1} % of capacity; {s.Link.Retries} retries, {s.Link.Resets} board resets |");
        b.AppendLine();
        b.AppendLine(Inv, $"## Latency ({r.TimingUnit})");
        b.AppendLine();
        b.AppendLine("| stage | n | median | p5 | p95 | min | max |");
        b.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (LatencyStats l in s.Latency)
        {
            b.AppendLine(Inv, $"| {l.Stage} | {l.Count} | {l.Median:F0} | {l.P5:F0} | {l.P95:F0} | {l.Min:F0} | {l.Max:F0} |");
        }
        b.AppendLine();
        b.AppendLine("## Accuracy per class");
        b.AppendLine();
        b.AppendLine("| class | correct | total | accuracy |");
        b.AppendLine("|---|---:|---:|---:|");
        for (int c = 0; c < s.PerClassTotal.Length; c++)
        {
            string name = classNames is not null && c < classNames.Length ? classNames[c] : c.ToString(Inv);
            double acc = s.PerClassTotal[c] == 0 ? 0 : 100.0 * s.PerClassCorrect[c] / s.PerClassTotal[c];
            b.AppendLine(Inv, $"| {name} | {s.PerClassCorrect[c]} | {s.PerClassTotal[c]} | {acc:F1} % |");
        }
        return b.ToString();
    }

    public static string Csv(IReadOnlyList<InputResult> results)
    {
        var b = new StringBuilder("index,label,host_prediction,board_prediction,squeeze_time,inference_time,total_time,flagged,detector_score,logits_hex\n");
        foreach (InputResult x in results)
        {
            b.Append(Inv, $"{x.Index},{x.Label},{x.HostPrediction},{x.BoardPrediction},{x.SqueezeTime},{x.InferenceTime},{x.TotalTime},");
            b.Append(x.Flagged is bool f ? (f ? "1" : "0") : "").Append(',');
            b.Append(x.DetectorScore?.ToString(Inv) ?? "").Append(',');
            b.Append(Convert.ToHexString(x.Logits)).Append('\n');
        }
        return b.ToString();
    }

    public static string Json(RunSummary s) => JsonSerializer.Serialize(ToJsonObject(s), new JsonSerializerOptions { WriteIndented = true });

    /// <summary>The summary as the flat object `hil run --json` prints.</summary>
    public static Dictionary<string, object?> ToJsonObject(RunSummary s)
    {
        LatencyStats? main = s.Stage("inference") ?? s.Stage("total");
        var o = new Dictionary<string, object?>
        {
            ["run"] = s.Run.Id,
            ["board"] = s.Run.Board,
            ["model"] = s.Run.Model,
            ["model_hash"] = s.Run.ModelHash,
            ["precision"] = s.Run.Precision,
            ["data"] = s.Run.Data,
            ["squeeze"] = s.Run.Squeeze,
            ["status"] = s.Run.Status,
            ["n"] = s.N,
            ["board_accuracy"] = s.BoardAccuracy,
            ["host_accuracy"] = s.HostAccuracy,
            ["host_agreement"] = s.HostAgreement,
            ["disagreements"] = s.Disagreements,
            ["latency_median"] = main?.Median,
            ["latency_p5"] = main?.P5,
            ["latency_p95"] = main?.P95,
            ["latency_unit"] = s.Run.TimingUnit,
            ["link_utilization"] = s.LinkUtilization,
            ["link_payload_bytes"] = s.Link.PayloadBytes,
            ["link_seconds"] = s.Link.Seconds,
            ["baud"] = s.Link.Baud,
            ["retries"] = s.Link.Retries,
            ["resets"] = s.Link.Resets,
            ["detection_rate"] = s.DetectionRate,
        };
        foreach (LatencyStats l in s.Latency)
        {
            o[$"latency_{l.Stage}_median"] = l.Median;
        }
        return o;
    }

    private static string WriteText(string path, string text)
    {
        // Write to a temporary file and rename, so a full disk never leaves a half-written report behind.
        string tmp = path + ".tmp";
        File.WriteAllText(tmp, text);
        File.Move(tmp, path, overwrite: true);
        return path;
    }
}
