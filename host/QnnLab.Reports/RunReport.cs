using System.Globalization;
using System.Text;
using System.Text.Json;
using QnnLab.Results;

namespace QnnLab.Reports;

/// <summary>
/// Writes a run's report: summary.md, results.csv, summary.json and PNG plots (latency histogram per
/// stage, the board's stage breakdown as stacked bars when squeezing was measured, accuracy per class).
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
        if (s.Breakdown is { } st)
        {
            b.AppendLine(Inv, $"## Stages on the board (mean {r.TimingUnit} over {st.Count} inputs)");
            b.AppendLine();
            b.AppendLine(Inv, $"{OverheadLine(st)}.");
            b.AppendLine();
            b.AppendLine("| stage | mean | % of one inference |");
            b.AppendLine("|---|---:|---:|");
            for (int i = 0; i < Stages.Count; i++)
            {
                b.AppendLine(Inv, $"| {Stages.Labels[i]} | {st.Mean[i]:F0} | {Percent(st.Mean[i], st.Inference)} |");
            }
            b.AppendLine(Inv, $"| whole request | {st.Total:F0} | {Percent(st.Total, st.Inference)} |");
            b.AppendLine();
        }
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

    /// <summary>"squeezers +x % and detector +y % of one inference (quantization z %)".</summary>
    public static string OverheadLine(StageBreakdown st) =>
        string.Create(Inv, $"squeezers +{st.SqueezersOverhead * 100:F1} % and the whole detector +{st.DetectorOverhead * 100:F1} % of one inference (quantization {st.QuantizeShare * 100:F1} %)");

    private static string Percent(double v, double of) => of > 0 ? (100 * v / of).ToString("F1", Inv) + " %" : "-";

    public static string Csv(IReadOnlyList<InputResult> results)
    {
        var b = new StringBuilder("index,label,host_prediction,board_prediction,squeeze_time,inference_time,total_time,");
        b.Append(string.Concat(Stages.Names.Select(n => $"t_{n},"))).Append("flagged,detector_score,logits_hex\n");
        foreach (InputResult x in results)
        {
            b.Append(Inv, $"{x.Index},{x.Label},{x.HostPrediction},{x.BoardPrediction},{x.SqueezeTime},{x.InferenceTime},{x.TotalTime},");
            for (int i = 0; i < Stages.Count; i++)
            {
                b.Append(x.StageTimes.Length == Stages.Count ? x.StageTimes[i].ToString(Inv) : "").Append(',');
            }
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
        if (s.Breakdown is { } st)
        {
            for (int i = 0; i < Stages.Count; i++)
            {
                o[$"stage_{Stages.Names[i]}_mean"] = st.Mean[i];
            }
            o["squeezers_overhead"] = st.SqueezersOverhead;
            o["detector_overhead"] = st.DetectorOverhead;
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
