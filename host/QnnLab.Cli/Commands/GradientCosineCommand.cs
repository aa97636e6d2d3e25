using System.CommandLine;
using System.Globalization;
using System.Text;
using QnnLab.Attacks;
using QnnLab.Attacks.Attacks;
using QnnLab.Attacks.Runs;
using QnnLab.Attacks.Targets;
using QnnLab.Data;
using QnnLab.Inference;
using QnnLab.Model;

namespace QnnLab.Cli;

/// <summary>
/// `qnnlab gradient-cosine`: the paper's Table 7 (A4, gradient misalignment) and A5: per image, the cosine between the
/// float model's input gradient and each integer model's dequantized gradient, averaged; and DeepFool's minimal L2 (the
/// distance to the nearest boundary) on each of them.
/// </summary>
public static class GradientCosineCommand
{
    public static Command Create()
    {
        Option<string> model = CommonOptions.Model();
        Option<string[]> compare = new("--compare")
        {
            Description = "int8/int16 model files whose dequantized gradients are compared with --model's (repeatable)",
            Required = true,
            AllowMultipleArgumentsPerToken = true,
        };
        Option<string> data = CommonOptions.Data();
        Option<int?> limit = CommonOptions.Limit();
        Option<bool> noDeepFool = new("--no-deepfool") { Description = "Skip DeepFool's minimal L2 per precision" };
        Option<bool> fakeQuant = new("--fake-quant")
        {
            Description = "Also compare each integer model with its activations fake-quantized (the STE surrogate): the dequantized view of an int16 and an int8 model that share int8 weights is one and the same float model",
        };
        Option<bool> json = CommonOptions.Json();
        var cmd = new Command("gradient-cosine", "Gradient misalignment between a float model and its quantized versions (paper Table 7), and DeepFool's distance to the boundary")
        {
            model, compare, data, limit, noDeepFool, fakeQuant, json,
        };
        cmd.SetAction((parse, cancel) =>
        {
            string path = CommonOptions.ResolveModel(parse.GetValue(model)!, cancel);
            QnnModel m = ModelFiles.Load(path);
            if (m.Precision != Precision.Float)
            {
                throw new ArgumentException($"{path}: the reference must be the float model (its quantized versions go to --compare)");
            }
            ImageSet set = CommonOptions.LoadData(parse.GetValue(data)!, m, parse.GetValue(limit));
            int n = set.Count;
            float[] x = set.UnitImages();
            using var reference = new TorchTarget(m);
            var targets = new List<(string Name, TorchTarget Target)> { ("float", reference) };
            foreach (string file in parse.GetValue(compare)!)
            {
                QnnModel q = ModelFiles.Load(CommonOptions.ResolveModel(file, cancel), m.Preprocessing);
                if (q.Precision == Precision.Float)
                {
                    throw new ArgumentException($"--compare {file}: is a float model; give int8/int16 files");
                }
                targets.Add((ModelFiles.Name(q.Precision), new TorchTarget(q)));
                if (parse.GetValue(fakeQuant))
                {
                    string name = ModelFiles.Name(q.Precision) + " fake-quant";
                    targets.Add((name, new TorchTarget(new QnnLab.Torch.FloatEngine(q, new QnnLab.Torch.FloatEngineOptions { FakeQuantActivations = true }), name, ownsEngine: true)));
                }
            }
            try
            {
                var rows = new List<Dictionary<string, object?>>();
                var md = new StringBuilder("| precision | mean cosine with float | images with a direction | zero gradients | DeepFool minimal L2 (mean) |\n|---|---:|---:|---:|---:|\n");
                foreach ((string name, TorchTarget t) in targets)
                {
                    cancel.ThrowIfCancellationRequested();
                    double[] cos = GradientCosine.PerImage(reference, t, x, set.Labels, n);
                    double[] valid = [.. cos.Where(v => !double.IsNaN(v))];
                    double? minimal = null;
                    if (!parse.GetValue(noDeepFool))
                    {
                        var deepfool = (DeepFool)AttackCatalog.Create("deepfool");
                        deepfool.Generate(t, x, set.Labels, n, seed: 0);
                        minimal = deepfool.MinimalL2.Average();
                    }
                    rows.Add(new Dictionary<string, object?>
                    {
                        ["precision"] = name,
                        ["cosine"] = valid.Length == 0 ? null : valid.Average(),
                        ["images"] = valid.Length,
                        ["zero_gradients"] = n - valid.Length,
                        ["deepfool_minimal_l2"] = minimal,
                    });
                    md.Append(CultureInfo.InvariantCulture,
                        $"| {name} | {(valid.Length == 0 ? "-" : valid.Average().ToString("F4", CultureInfo.InvariantCulture))} | {valid.Length} | {n - valid.Length} | {(minimal is double d ? d.ToString("F4", CultureInfo.InvariantCulture) : "-")} |\n");
                }
                if (parse.GetValue(json))
                {
                    JsonOutput.Print(new Dictionary<string, object?> { ["model"] = Path.GetFileName(path), ["n"] = n, ["rows"] = rows });
                }
                else
                {
                    Console.WriteLine($"{Path.GetFileName(path)} vs its dequantized integer models on the first {n} images of {set.Source}: per-image cosine of the input gradients of the cross-entropy (images where either gradient is exactly zero have no direction and are left out), and DeepFool's mean minimal L2 (ART defaults) on each\n");
                    Console.WriteLine(md.ToString());
                }
            }
            finally
            {
                foreach ((string _, TorchTarget t) in targets.Skip(1))
                {
                    t.Dispose();
                }
            }
            return Task.FromResult(0);
        });
        return cmd;
    }
}
