namespace QnnLab.Results;

/// <summary>Median and 5th/95th percentiles of one timing stage (nearest-rank on the sorted values).</summary>
public sealed record LatencyStats(string Stage, int Count, double Median, double P5, double P95, double Min, double Max)
{
    public static LatencyStats? Of(string stage, IEnumerable<long> values)
    {
        long[] v = values.Where(x => x >= 0).Order().ToArray();
        if (v.Length == 0)
        {
            return null;
        }
        return new LatencyStats(stage, v.Length, Percentile(v, 50), Percentile(v, 5), Percentile(v, 95), v[0], v[^1]);
    }

    /// <summary>Linear interpolation between closest ranks (numpy's default).</summary>
    public static double Percentile(long[] sorted, double p)
    {
        double pos = (sorted.Length - 1) * p / 100.0;
        int lo = (int)Math.Floor(pos);
        int hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
    }
}

/// <summary>
/// Mean time of each of the <see cref="Stages"/> over the inputs that reported them (means, unlike medians, add up:
/// the stacked bars of the report). Overheads are fractions of one inference: the squeezers alone (bit depth +
/// median) and the whole detector (squeezers, its extra inferences and the comparison; quantization, which every
/// request has, is its own figure).
/// </summary>
public sealed record StageBreakdown(int Count, double[] Mean)
{
    public double Inference => Mean[Stages.Inference];
    public double Squeezers => Mean[Stages.SqueezeBitDepth] + Mean[Stages.SqueezeMedian];
    public double ExtraInferences => Mean[Stages.InferenceBitDepth] + Mean[Stages.InferenceMedian];
    public double Detector => Squeezers + ExtraInferences + Mean[Stages.Compare];
    public double Total => Mean.Sum();

    public double SqueezersOverhead => Inference > 0 ? Squeezers / Inference : 0;
    public double DetectorOverhead => Inference > 0 ? Detector / Inference : 0;
    public double QuantizeShare => Inference > 0 ? Mean[Stages.Quantize] / Inference : 0;

    /// <summary>Null when no input reported its stages (a store from before schema 3).</summary>
    public static StageBreakdown? Of(IEnumerable<InputResult> results)
    {
        long[][] rows = results.Select(r => r.StageTimes).Where(t => t.Length == Stages.Count).ToArray();
        if (rows.Length == 0)
        {
            return null;
        }
        return new StageBreakdown(rows.Length, Enumerable.Range(0, Stages.Count).Select(i => rows.Average(t => (double)t[i])).ToArray());
    }
}

/// <summary>What a run came to: accuracy on the board, agreement with the host engine, latency, link use.</summary>
public sealed record RunSummary(
    RunInfo Run,
    int N,
    double BoardAccuracy,
    double HostAccuracy,
    double HostAgreement,
    int Disagreements,
    IReadOnlyList<LatencyStats> Latency,
    LinkStats Link,
    double LinkUtilization,
    double? DetectionRate,
    int[] PerClassCorrect,
    int[] PerClassTotal,
    StageBreakdown? Breakdown = null)
{
    /// <summary>Bits on the wire per byte for 8N1 framing (start + 8 data + stop).</summary>
    public const int BitsPerByte = 10;

    public static RunSummary Compute(RunInfo run, IReadOnlyList<InputResult> results, LinkStats link)
    {
        int n = results.Count;
        int boardOk = results.Count(r => r.BoardPrediction == r.Label);
        int hostOk = results.Count(r => r.HostPrediction == r.Label);
        int withHost = results.Count(r => r.HostPrediction >= 0);
        int agree = results.Count(r => r.HostPrediction >= 0 && r.HostPrediction == r.BoardPrediction);
        var latency = new List<LatencyStats>();
        foreach ((string stage, Func<InputResult, long> sel) in new (string, Func<InputResult, long>)[]
                 { ("squeeze", r => r.SqueezeTime), ("inference", r => r.InferenceTime), ("total", r => r.TotalTime) })
        {
            if (LatencyStats.Of(stage, results.Select(sel)) is { } s)
            {
                latency.Add(s);
            }
        }
        double capacityBytes = link.Baud > 0 ? link.Seconds * link.Baud / BitsPerByte : 0;
        double utilization = capacityBytes > 0 ? link.WireBytes / capacityBytes : 0;
        int flaggedKnown = results.Count(r => r.Flagged is not null);
        double? detection = flaggedKnown > 0 ? (double)results.Count(r => r.Flagged == true) / flaggedKnown : null;
        int classes = results.Count == 0 ? 0 : results.Max(r => r.Label) + 1;
        var correct = new int[classes];
        var total = new int[classes];
        foreach (InputResult r in results)
        {
            total[r.Label]++;
            if (r.BoardPrediction == r.Label)
            {
                correct[r.Label]++;
            }
        }
        return new RunSummary(run, n,
            n == 0 ? 0 : (double)boardOk / n,
            withHost == 0 ? 0 : (double)hostOk / withHost,
            withHost == 0 ? 0 : (double)agree / withHost,
            withHost - agree, latency, link, utilization, detection, correct, total, StageBreakdown.Of(results));
    }

    public LatencyStats? Stage(string name) => Latency.FirstOrDefault(l => l.Stage == name);
}
