using System.CommandLine;
using QnnLab.Data;
using QnnLab.Inference;
using QnnLab.Model;

namespace QnnLab.Cli;

/// <summary>`qnnlab eval`: accuracy of a model on a data set with the host engines.</summary>
public static class EvalCommand
{
    public static Command Create()
    {
        Option<string> model = CommonOptions.Model();
        Option<string> data = CommonOptions.Data();
        Option<string?> precision = CommonOptions.Precision();
        Option<int?> limit = CommonOptions.Limit();
        Option<bool> json = CommonOptions.Json();
        Option<string?> pixels = CommonOptions.PixelRange();
        Option<string?> calibration = new("--calibration") { Description = "Calibration data spec, to run a float model as int8/int16 (quantized on the fly)" };
        Option<int> threads = new("--threads")
        {
            Description = "Integer engine threads (default: all cores); results equal one thread's",
            DefaultValueFactory = _ => Environment.ProcessorCount,
        };
        var cmd = new Command("eval", "Accuracy of a model on a data set (integer engine for int models, TorchSharp for float)")
        {
            model, data, precision, limit, json, pixels, calibration, threads,
        };
        cmd.SetAction((parse, cancel) =>
        {
            int nThreads = parse.GetValue(threads);
            if (nThreads < 1)
            {
                throw new ArgumentException($"--threads {nThreads}: must be 1 or more");
            }
            string modelPath = CommonOptions.ResolveModel(parse.GetValue(model)!);
            QnnModel m = ModelFiles.Load(modelPath, CommonOptions.ParsePixelRange(parse.GetValue(pixels)));
            Precision? wanted = parse.GetValue(precision) is string p ? ModelFiles.ParsePrecision(p) : null;
            ImageSet? calib = parse.GetValue(calibration) is string c ? CommonOptions.LoadData(c, m, null) : null;
            ImageSet set = CommonOptions.LoadData(parse.GetValue(data)!, m, parse.GetValue(limit));
            using IClassifier clf = Classifiers.Create(m, wanted, calib, nThreads);
            EvalResult r = Evaluate(clf, set, cancel);
            string prec = ModelFiles.Name(clf.Precision);
            Console.Error.WriteLine($"{Path.GetFileName(modelPath)} ({prec}, {m.Preprocessing.Description}) on {set.Source}: " +
                $"{r.Correct}/{r.N} = {r.Accuracy * 100:F2} % in {r.Seconds:F1} s ({r.N / Math.Max(r.Seconds, 1e-9):F0} img/s)");
            if (parse.GetValue(json))
            {
                JsonOutput.Print(new Dictionary<string, object?>
                {
                    ["accuracy"] = r.Accuracy,
                    ["n"] = r.N,
                    ["correct"] = r.Correct,
                    ["precision"] = prec,
                    ["model"] = modelPath,
                    ["data"] = parse.GetValue(data),
                    ["preprocessing"] = m.Preprocessing.Description,
                    ["seconds"] = r.Seconds,
                    ["images_per_s"] = r.N / Math.Max(r.Seconds, 1e-9),
                    ["threads"] = clf is IntegerClassifier ic ? ic.Threads : null,
                    ["kernel_paths"] = (clf as IntegerClassifier)?.OperatorPaths(),
                    ["cpu"] = QnnLab.Engine.CpuInfo.ModelName,
                });
            }
            else
            {
                Console.WriteLine($"accuracy {r.Accuracy * 100:F2} % ({r.Correct}/{r.N}), {prec}");
            }
            return Task.FromResult(0);
        });
        return cmd;
    }

    public sealed record EvalResult(int N, int Correct, double Seconds, int[] Predictions)
    {
        public double Accuracy => N == 0 ? 0 : (double)Correct / N;
    }

    /// <summary>Classifies the whole set in chunks, with progress and cancellation between chunks.</summary>
    public static EvalResult Evaluate(IClassifier clf, ImageSet set, CancellationToken cancel)
    {
        var progress = new ProgressReporter("eval", set.Count);
        var labels = new int[set.Count];
        // Chunks of several batches per thread, so every engine has work between progress reports.
        int chunk = 256 * (clf is IntegerClassifier ic ? ic.Threads : 1);
        var probs = new float[chunk * clf.Classes];
        int correct = 0;
        for (int start = 0; start < set.Count; start += chunk)
        {
            cancel.ThrowIfCancellationRequested();
            int n = Math.Min(chunk, set.Count - start);
            clf.Classify(set, start, n, labels.AsSpan(start, n), probs);
            for (int i = start; i < start + n; i++)
            {
                correct += labels[i] == set.Labels[i] ? 1 : 0;
            }
            progress.Report(start + n, $"accuracy {100.0 * correct / (start + n):F2} %");
        }
        progress.Finish($"accuracy {100.0 * correct / Math.Max(set.Count, 1):F2} %");
        return new EvalResult(set.Count, correct, progress.Elapsed.TotalSeconds, labels);
    }
}
