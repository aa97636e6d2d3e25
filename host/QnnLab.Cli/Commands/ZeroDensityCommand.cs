using System.CommandLine;
using System.Globalization;
using System.Text;
using QnnLab.Attacks.Runs;
using QnnLab.Attacks.Targets;
using QnnLab.Data;
using QnnLab.Inference;
using QnnLab.Model;

namespace QnnLab.Cli;

/// <summary>
/// `qnnlab zero-density`: the paper's gradient-masking diagnostic (A2) for one or more models: the share of input values
/// whose finite-difference gradient estimate is exactly zero, per step h.
/// </summary>
public static class ZeroDensityCommand
{
    /// <summary>The paper's step (zero_density_estimated_grad.py: epsilon 1e-5), then a sweep up to about one pixel step.</summary>
    public const string DefaultSteps = "0.00001,0.0001,0.001,0.003921569,0.01";

    public static Command Create()
    {
        Option<string[]> models = new("--model", "-m")
        {
            Description = "Model files (repeatable): a float model is asked through TorchSharp, an int8/int16 one through the bit-exact engine",
            Required = true,
            AllowMultipleArgumentsPerToken = true,
        };
        Option<string> data = CommonOptions.Data();
        Option<int?> limit = CommonOptions.Limit();
        Option<string> steps = new("--h") { Description = "Comma-separated steps h (inputs in [0, 1])", DefaultValueFactory = _ => DefaultSteps };
        Option<bool> json = CommonOptions.Json();
        var cmd = new Command("zero-density", "Gradient masking: how often a finite-difference gradient estimate is exactly zero (paper A2)")
        {
            models, data, limit, steps, json,
        };
        cmd.SetAction((parse, cancel) =>
        {
            double[] hs = [.. parse.GetValue(steps)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(t => double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v > 0 ? v
                    : throw new ArgumentException($"--h '{t}': not a positive number"))];
            var rows = new List<Dictionary<string, object?>>();
            var md = new StringBuilder("| model | precision | h | N | zero density (mean %) | min % | max % | queries |\n|---|---|---:|---:|---:|---:|---:|---:|\n");
            foreach (string file in parse.GetValue(models)!)
            {
                string path = CommonOptions.ResolveModel(file, cancel);
                QnnModel m = ModelFiles.Load(path);
                ImageSet set = CommonOptions.LoadData(parse.GetValue(data)!, m, parse.GetValue(limit));
                using AttackTarget target = m.Precision == Precision.Float ? new TorchTarget(m) : new IntegerTarget(m);
                float[] x = set.UnitImages();
                foreach (double h in hs)
                {
                    cancel.ThrowIfCancellationRequested();
                    var progress = new ProgressReporter($"zero-density {Path.GetFileName(path)} h={h:G4}", set.Count);
                    long q0 = target.Queries;
                    double[] per = ZeroDensity.PerImage(target, x, set.Labels, set.Count, h, imageDone: d => progress.Report(d));
                    progress.Finish($"{per.Average() * 100:F2} %");
                    var row = new Dictionary<string, object?>
                    {
                        ["model"] = Path.GetFileName(path),
                        ["precision"] = target.Name,
                        ["h"] = h,
                        ["n"] = set.Count,
                        ["zero_density"] = per.Average(),
                        ["min"] = per.Min(),
                        ["max"] = per.Max(),
                        ["queries"] = target.Queries - q0,
                        ["seconds"] = progress.Elapsed.TotalSeconds,
                    };
                    rows.Add(row);
                    md.Append(CultureInfo.InvariantCulture,
                        $"| {row["model"]} | {target.Name} | {h:G4} | {set.Count} | {per.Average() * 100:F2} | {per.Min() * 100:F2} | {per.Max() * 100:F2} | {row["queries"]} |\n");
                }
            }
            if (parse.GetValue(json))
            {
                JsonOutput.Print(new Dictionary<string, object?> { ["rows"] = rows });
            }
            else
            {
                Console.WriteLine($"zero density on the first N images of {parse.GetValue(data)}: share of input values whose symmetric difference of p_y at step h is exactly 0\n");
                Console.WriteLine(md.ToString());
            }
            return Task.FromResult(0);
        });
        return cmd;
    }
}
