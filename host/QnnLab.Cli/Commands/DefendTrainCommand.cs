using System.CommandLine;
using QnnLab.Data;
using QnnLab.Defences.Training;
using QnnLab.Inference;
using QnnLab.Model;
using QnnLab.Torch;

namespace QnnLab.Cli;

/// <summary>
/// `qnnlab defend train`: retrains a float model with a train-based defence (issue 12 item 1), then writes the float
/// model and our quantizer's int8 and 16x8 models as .tflite, the training log (CSV) and the loss plot into --out.
/// Progress goes to stderr; a killed run continues with --resume from its last epoch checkpoint.
/// </summary>
public static class DefendTrainCommand
{
    public static Command Create()
    {
        Option<string> defence = new("--defence") { Description = $"Train-based defence: {string.Join(", ", TrainBasedDefences.Names)}", Required = true };
        Option<string> model = CommonOptions.Model();
        Option<string> data = CommonOptions.Data();
        Option<int?> epochs = new("--epochs") { Description = "Training epochs (nb_epochs; default: the preset's)" };
        Option<string?> preset = new("--preset") { Description = "The paper's Table 15 settings for cifar10, vww or coffee (default: ART's defaults)" };
        Option<string[]> set = new("--set") { Description = "Override a parameter by its ART name: --set eps=0.004 (repeatable)", AllowMultipleArgumentsPerToken = true };
        Option<string> outDir = new("--out", "-o") { Description = "Folder for the models, the checkpoint, the log and the plot", DefaultValueFactory = _ => "qnnlab-out/defend-train" };
        Option<bool> resume = new("--resume") { Description = "Continue from the checkpoint in --out" };
        Option<int?> limit = CommonOptions.Limit();
        Option<double> bench = new("--bench-seconds") { Description = "First measure the raw TorchSharp forward+backward throughput of the model at the batch size for this long (0: skip)", DefaultValueFactory = _ => 3.0 };
        Option<string?> pixels = CommonOptions.PixelRange();
        Option<bool> json = CommonOptions.Json();
        var cmd = new Command("train", "Retrain a float model with a train-based defence (PGD / ensemble / Sinkhorn adversarial training, Defensive Distillation) and quantize it to int8 and 16x8")
        {
            defence, model, data, epochs, preset, set, outDir, resume, limit, bench, pixels, json,
        };
        cmd.SetAction((parse, cancel) =>
        {
            string name = parse.GetValue(defence)!;
            TrainingParameters p = TrainBasedDefences.Options(name, parse.GetValue(preset));
            p.SetAll(parse.GetValue(set) ?? []);
            if (parse.GetValue(epochs) is int e)
            {
                p.NbEpochs = e;
            }
            p.Validate();
            string path = CommonOptions.ResolveModel(parse.GetValue(model)!, cancel);
            QnnModel m = ModelFiles.Load(path, CommonOptions.ParsePixelRange(parse.GetValue(pixels)));
            if (m.Precision != Precision.Float)
            {
                throw new ModelException($"{path}: is a {ModelFiles.Name(m.Precision)} model; train-based defences retrain the float model (.h5 or float .tflite)");
            }
            ImageSet train = CommonOptions.LoadData(parse.GetValue(data)!, m, parse.GetValue(limit));
            string dir = parse.GetValue(outDir)!;
            Directory.CreateDirectory(dir);
            Console.Error.WriteLine($"{name}: {m.Name} on {train.Count} images from {train.Source}; {p}");

            FloatBenchmarkResult? raw = null;
            double benchSeconds = parse.GetValue(bench);
            if (benchSeconds > 0)
            {
                using var engine = new FloatEngine(m);
                raw = TrainingStepBenchmark.Run(engine, p.BatchSize, benchSeconds);
                Console.Error.WriteLine($"raw TorchSharp {raw}");
            }
            var run = new TrainingRun(dir) { Resume = parse.GetValue(resume), Progress = Console.Error.WriteLine, Cancel = cancel, Name = name };
            (QnnModel trained, IReadOnlyList<EpochLog> log) = TrainBasedDefences.Train(name, m, train, p, run);
            string stem = $"{m.Name}_{name}";
            (string f, string i8, string i16) = DefenceTrainer.WriteModels(trained, train, p.CalibrationImages, dir, stem);
            double seconds = log.Sum(l => l.Seconds);
            double imagesPerSecond = seconds > 0 ? log.Count * (double)train.Count / seconds : 0;
            Console.Error.WriteLine($"wrote {f}, {i8}, {i16}, {Path.Combine(dir, "training-log.csv")}, {Path.Combine(dir, "training-loss.png")}");
            Console.Error.WriteLine(FormattableString.Invariant($"training throughput {imagesPerSecond:F1} images/s over {log.Count} epoch(s)")
                + (raw is null ? "" : FormattableString.Invariant($"; raw forward+backward {raw.ImagesPerSecond:F1} images/s (batch {raw.Batch}, {raw.Threads} thread(s))")));
            if (parse.GetValue(json))
            {
                JsonOutput.Print(new Dictionary<string, object?>
                {
                    ["defence"] = name,
                    ["model"] = path,
                    ["images"] = train.Count,
                    ["parameters"] = p.Values(),
                    ["epochs"] = log.Count,
                    ["final_loss"] = log.Count > 0 ? log[^1].Loss : null,
                    ["clean_train_accuracy"] = log.Count > 0 ? log[^1].CleanAccuracy : null,
                    ["adversarial_train_accuracy"] = log.Count > 0 ? log[^1].AdversarialAccuracy : null,
                    ["train_images_per_s"] = imagesPerSecond,
                    ["raw_forward_backward_images_per_s"] = raw?.ImagesPerSecond,
                    ["threads"] = TorchRuntime.Threads,
                    ["float"] = f,
                    ["int8"] = i8,
                    ["int16"] = i16,
                    ["log"] = Path.Combine(dir, "training-log.csv"),
                    ["plot"] = Path.Combine(dir, "training-loss.png"),
                });
            }
            return Task.FromResult(0);
        });
        return cmd;
    }
}
