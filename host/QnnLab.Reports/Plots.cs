using QnnLab.Results;
using ScottPlot;

namespace QnnLab.Reports;

/// <summary>PNG plots with ScottPlot.</summary>
public static class Plots
{
    private const int Width = 800;
    private const int Height = 500;

    public static IEnumerable<string> WriteRunPlots(string dir, string prefix, RunSummary s, IReadOnlyList<InputResult> results, string[]? classNames)
    {
        string unit = s.Run.TimingUnit;
        foreach ((string stage, Func<InputResult, long> sel) in new (string, Func<InputResult, long>)[]
                 { ("squeeze", r => r.SqueezeTime), ("inference", r => r.InferenceTime), ("total", r => r.TotalTime) })
        {
            double[] v = results.Select(sel).Where(x => x >= 0).Select(x => (double)x).ToArray();
            if (v.Length == 0)
            {
                continue;
            }
            string path = Path.Combine(dir, $"{prefix}-latency-{stage}.png");
            Histogram(v, $"{stage} latency, run {s.Run.Id} ({s.Run.Board})", $"{stage} ({unit})", path);
            yield return path;
        }

        if (s.Breakdown is { } st && s.Run.Squeeze.Length > 0 && st.Inference > 0)
        {
            string path = Path.Combine(dir, $"{prefix}-stage-breakdown.png");
            string title = string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"Stages on {s.Run.Board}, run {s.Run.Id} ({s.Run.Squeeze})\nsqueezers +{st.SqueezersOverhead * 100:F1} %, whole detector +{st.DetectorOverhead * 100:F1} % of one inference");
            StageBars(st, title, $"mean {unit} per input", path);
            yield return path;
        }

        if (s.PerClassTotal.Length > 0)
        {
            string path = Path.Combine(dir, $"{prefix}-accuracy-per-class.png");
            double[] acc = s.PerClassTotal.Select((t, c) => t == 0 ? 0 : 100.0 * s.PerClassCorrect[c] / t).ToArray();
            var plt = new Plot();
            plt.Add.Bars(acc);
            double[] pos = Enumerable.Range(0, acc.Length).Select(i => (double)i).ToArray();
            string[] labels = pos.Select(p => classNames is not null && (int)p < classNames.Length ? classNames[(int)p] : ((int)p).ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            plt.Axes.Bottom.SetTicks(pos, labels);
            plt.Title($"Board accuracy per class, run {s.Run.Id}");
            plt.YLabel("accuracy (%)");
            plt.Axes.SetLimitsY(0, 105);
            plt.SavePng(path, Width, Height);
            yield return path;
        }
    }

    /// <summary>
    /// The board's stages as stacked bars, one bar per group: quantization, the inference, the squeezers (bit depth
    /// under median), the detector's extra inferences, its comparison, and the whole request (every stage stacked).
    /// </summary>
    public static void StageBars(StageBreakdown st, string title, string yLabel, string path)
    {
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        string Pct(double v) => string.Create(inv, $"{(st.Inference > 0 ? 100 * v / st.Inference : 0):F1} %");
        (string Name, int[] Stages)[] groups =
        [
            ($"quantization\n{Pct(st.Mean[Stages.Quantize])}", [Stages.Quantize]),
            ("inference\n100 %", [Stages.Inference]),
            ($"squeezers\n+{Pct(st.Squeezers)}", [Stages.SqueezeBitDepth, Stages.SqueezeMedian]),
            ($"extra inferences\n+{Pct(st.ExtraInferences)}", [Stages.InferenceBitDepth, Stages.InferenceMedian]),
            ($"comparison\n+{Pct(st.Mean[Stages.Compare])}", [Stages.Compare]),
            ($"whole request\n{Pct(st.Total)}", Enumerable.Range(0, Stages.Count).ToArray()),
        ];
        Color[] colors = Enumerable.Range(0, Stages.Count).Select(i => new ScottPlot.Palettes.Category10().GetColor(i)).ToArray();
        var plt = new Plot();
        var bars = new List<Bar>();
        for (int g = 0; g < groups.Length; g++)
        {
            double bottom = 0;
            foreach (int stage in groups[g].Stages)
            {
                bars.Add(new Bar { Position = g, ValueBase = bottom, Value = bottom + st.Mean[stage], FillColor = colors[stage] });
                bottom += st.Mean[stage];
            }
            bars[^1].Label = bottom.ToString("N0", inv); // the group's mean on top: small stages stay readable
        }
        plt.Add.Bars(bars);
        for (int i = 0; i < Stages.Count; i++)
        {
            plt.Legend.ManualItems.Add(new LegendItem { LabelText = Stages.Labels[i], FillColor = colors[i] });
        }
        plt.ShowLegend(Alignment.UpperLeft);
        plt.Axes.Bottom.SetTicks(Enumerable.Range(0, groups.Length).Select(g => (double)g).ToArray(), groups.Select(g => g.Name).ToArray());
        plt.Title(title);
        plt.YLabel(yLabel);
        plt.Axes.Margins(bottom: 0);
        plt.SavePng(path, Width, Height);
    }

    /// <summary>One line with markers per series (e.g. adversarial accuracy against eps for float / int16 / int8).</summary>
    public static void Lines(IReadOnlyList<(string Name, double[] X, double[] Y)> series, string title, string xLabel, string yLabel, string path)
    {
        var plt = new Plot();
        foreach ((string name, double[] x, double[] y) in series)
        {
            var line = plt.Add.Scatter(x, y);
            line.LegendText = name;
            line.MarkerSize = 6;
        }
        plt.ShowLegend();
        plt.Title(title);
        plt.XLabel(xLabel);
        plt.YLabel(yLabel);
        plt.SavePng(path, Width, Height);
    }

    public static void Histogram(double[] values, string title, string xLabel, string path)
    {
        var plt = new Plot();
        double min = values.Min();
        double max = values.Max();
        if (max <= min)
        {
            max = min + 1;
        }
        var hist = ScottPlot.Statistics.Histogram.WithBinCount(Math.Clamp(values.Length / 5, 5, 50), min, max);
        hist.AddRange(values);
        double width = hist.FirstBinSize;
        var bars = plt.Add.Bars(hist.Bins.Select(b => b + width / 2).ToArray(), hist.Counts);
        foreach (Bar bar in bars.Bars)
        {
            bar.Size = width; // bars touch, as a histogram's should
        }
        plt.Title(title);
        plt.XLabel(xLabel);
        plt.YLabel("inputs");
        plt.Axes.Margins(bottom: 0);
        plt.SavePng(path, Width, Height);
    }
}
