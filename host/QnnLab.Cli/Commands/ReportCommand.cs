using System.CommandLine;
using QnnLab.Data;
using QnnLab.Reports;
using QnnLab.Results;

namespace QnnLab.Cli;

/// <summary>`qnnlab report`: Markdown, CSV, JSON and PNG plots for the runs of a result store.</summary>
public static class ReportCommand
{
    public static Command Create()
    {
        Option<string> store = new("--store") { Description = "SQLite result store", Required = true };
        Option<long?> run = new("--run") { Description = "Only this run (default: every run in the store)" };
        Option<string> output = new("--out", "-o") { Description = "Output folder", DefaultValueFactory = _ => "qnnlab-out" };
        var cmd = new Command("report", "Write a report (summary.md, results.csv, summary.json, PNG plots) per run of a store") { store, run, output };
        cmd.SetAction(parse =>
        {
            string path = parse.GetValue(store)!;
            if (!File.Exists(path))
            {
                throw new IOException($"{path}: no such result store");
            }
            using var s = new ResultStore(path);
            IReadOnlyList<RunInfo> runs = s.ListRuns();
            if (parse.GetValue(run) is long id)
            {
                runs = [s.GetRun(id)];
            }
            if (runs.Count == 0)
            {
                throw new InvalidDataException($"{path}: the store holds no runs");
            }
            foreach (string f in Write(s, runs.Select(r => r.Id), parse.GetValue(output)!))
            {
                Console.WriteLine(f);
            }
            return 0;
        });
        return cmd;
    }

    /// <summary>Writes each run's report files into <paramref name="dir"/>; returns their paths.</summary>
    public static IReadOnlyList<string> Write(ResultStore store, IEnumerable<long> runIds, string dir)
    {
        var files = new List<string>();
        foreach (long id in runIds)
        {
            RunInfo info = store.GetRun(id);
            IReadOnlyList<InputResult> results = store.Results(id);
            RunSummary summary = RunSummary.Compute(info, results, store.GetLinkStats(id));
            string[]? classes = info.Data.StartsWith("cifar10", StringComparison.OrdinalIgnoreCase) ? Cifar10.ClassNames : null;
            files.AddRange(RunReport.Write(dir, summary, results, classes));
        }
        return files;
    }
}
