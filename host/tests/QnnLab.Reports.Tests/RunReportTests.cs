using System.Text.Json;
using QnnLab.Reports;
using QnnLab.Results;
using QnnLab.TestSupport;

namespace QnnLab.Reports.Tests;

[TestClass]
public sealed class RunReportTests
{
    [TestMethod]
    public void WritesMarkdownCsvJsonAndPngPlots()
    {
        var run = new RunInfo { Id = 7, Kind = "hil", Board = "sim", Model = "m.tflite", Data = "d", Total = 40, TimingUnit = "ns", Squeeze = "bits=5,median=2" };
        var results = Enumerable.Range(0, 40).Select(i => new InputResult
        {
            Index = i,
            Label = i % 4,
            HostPrediction = i % 4,
            BoardPrediction = i % 5 == 0 ? 0 : i % 4,
            Logits = [1, 2, 3, 4],
            SqueezeTime = 100,
            InferenceTime = 1000,
            TotalTime = 3130,
            // quantize, bit depth, median, inference, the two squeezed inferences, comparison
            StageTimes = [20, 40, 60, 1000, 1000, 1000, 10],
        }).ToList();
        RunSummary s = RunSummary.Compute(run, results, new LinkStats(1000, 1100, 1, 115200, 0, 0));
        string dir = TestData.TempDir();
        IReadOnlyList<string> files = RunReport.Write(dir, s, results, ["a", "b", "c", "d"]);

        string md = File.ReadAllText(Path.Combine(dir, "run7-summary.md"));
        StringAssert.Contains(md, $"| board accuracy | {s.BoardAccuracy * 100:F2} % |");
        StringAssert.Contains(md, "| inference | 40 |");
        StringAssert.Contains(md, "squeezers +10.0 % and the whole detector +211.0 % of one inference (quantization 2.0 %)");
        StringAssert.Contains(md, "| median squeeze | 60 | 6.0 % |");
        StringAssert.Contains(md, "| whole request | 3130 | 313.0 % |");
        string[] csv = File.ReadAllLines(Path.Combine(dir, "run7-results.csv"));
        Assert.HasCount(41, csv);
        Assert.AreEqual("5,1,1,0,", csv[6][..8], "row of input 5: label 1, host 1, board 0");
        StringAssert.StartsWith(csv[0], "index,label,host_prediction,board_prediction,squeeze_time,inference_time,total_time,t_quantize,t_squeeze_bit_depth,");
        StringAssert.Contains(csv[6], ",100,1000,3130,20,40,60,1000,1000,1000,10,");
        using JsonDocument j = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "run7-summary.json")));
        Assert.AreEqual(40, j.RootElement.GetProperty("n").GetInt32());
        Assert.AreEqual(s.HostAgreement, j.RootElement.GetProperty("host_agreement").GetDouble(), 1e-12);
        Assert.AreEqual(2.11, j.RootElement.GetProperty("detector_overhead").GetDouble(), 1e-12);
        Assert.AreEqual(60, j.RootElement.GetProperty("stage_squeeze_median_mean").GetDouble());

        string[] pngs = files.Where(f => f.EndsWith(".png", StringComparison.Ordinal)).ToArray();
        CollectionAssert.IsSubsetOf(new[] { "run7-latency-inference.png", "run7-stage-breakdown.png", "run7-accuracy-per-class.png" },
            pngs.Select(Path.GetFileName).ToArray());
        foreach (string p in pngs)
        {
            byte[] head = File.ReadAllBytes(p)[..8];
            CollectionAssert.AreEqual(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, head, p);
        }
    }
}
