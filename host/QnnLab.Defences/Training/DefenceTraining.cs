using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using QnnLab.Attacks;
using QnnLab.Data;
using QnnLab.Inference;
using QnnLab.Model;
using QnnLab.Reports;
using QnnLab.Tflite;
using QnnLab.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace QnnLab.Defences.Training;

/// <summary>
/// The training settings every train-based defence shares, by the names ART's trainers give them (nb_epochs,
/// batch_size) plus the optimizer. The paper's scripts (QNN-Defenses/*.py) train with batch 32 and, for the adversarial
/// trainers, Keras' SGD() at its defaults (learning rate 0.01, no momentum); the distiller uses Adam() (1e-3).
/// </summary>
public class TrainingParameters : AttackParameters
{
    [Param("nb_epochs", "training epochs")]
    public int NbEpochs { get; set; } = 50;

    [Param("batch_size", "training batch size")]
    public int BatchSize { get; set; } = 32;

    [Param("optimizer", "sgd or adam")]
    public string Optimizer { get; set; } = "sgd";

    [Param("learning_rate", "optimizer learning rate")]
    public double LearningRate { get; set; } = 0.01;

    [Param("momentum", "SGD momentum (ignored by adam)")]
    public double Momentum { get; set; }

    [Param("seed", "seed of the shuffle and of every random start")]
    public int Seed { get; set; }

    [Param("calibration_images", "training images the int8 / 16x8 quantizer calibrates on")]
    public int CalibrationImages { get; set; } = 1000;

    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(NbEpochs, 1, "nb_epochs");
        ArgumentOutOfRangeException.ThrowIfLessThan(BatchSize, 1, "batch_size");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(LearningRate, "learning_rate");
        ArgumentOutOfRangeException.ThrowIfLessThan(CalibrationImages, 1, "calibration_images");
        if (Optimizer is not ("sgd" or "adam"))
        {
            throw new ArgumentException($"optimizer '{Optimizer}': use sgd or adam");
        }
    }
}

/// <summary>
/// What a defence trains on one batch: the loss (a scalar on the module's graph; the loop back-propagates it) and the
/// logits the clean and adversarial training accuracies are counted from (null when the defence has no such view).
/// </summary>
public readonly record struct StepOutcome(Tensor Loss, Tensor? CleanLogits, Tensor? AdversarialLogits);

/// <summary>
/// Where a batch lies in the run (0-based epoch and step) and its own seed, derived from the run seed, the epoch and
/// the step, so a resumed run draws the same random starts as an uninterrupted one.
/// </summary>
public readonly record struct StepInfo(int Epoch, int Step, int StepsPerEpoch, int Seed)
{
    /// <summary>The step's index over the whole run.</summary>
    public long GlobalStep => ((long)Epoch * StepsPerEpoch) + Step;
}

public interface ITrainingObjective
{
    /// <summary>The batch's loss. <paramref name="pixels"/> are [N,H,W,C] in 0..255, <paramref name="labels"/> int64 [N].</summary>
    StepOutcome Step(FloatEngine engine, Tensor pixels, Tensor labels, StepInfo step);
}

/// <summary>One line of the training log.</summary>
public sealed record EpochLog(int Epoch, int Steps, double Loss, double CleanAccuracy, double? AdversarialAccuracy, double Seconds)
{
    public double ImagesPerSecond(int images) => Seconds > 0 ? images / Seconds : 0;
}

/// <summary>Where a training run keeps its checkpoint, log and plot, and how it reports.</summary>
public sealed record TrainingRun(string Dir)
{
    /// <summary>Continue from the checkpoint in <see cref="Dir"/> (if there is one) instead of starting over.</summary>
    public bool Resume { get; init; }

    /// <summary>Progress lines (stderr in the CLI).</summary>
    public Action<string>? Progress { get; init; }

    /// <summary>Steps between progress lines (the end of each epoch always reports).</summary>
    public int ProgressEvery { get; init; } = 50;

    /// <summary>Checked before every step: a cancelled run stops like a killed one (the last epoch checkpoint stays).</summary>
    public CancellationToken Cancel { get; init; }

    /// <summary>Called after every step with (epoch, step) (1-based): tests use it to stop mid-epoch.</summary>
    public Action<int, int>? OnStep { get; init; }

    /// <summary>Title of the loss plot and of the log.</summary>
    public string Name { get; init; } = "training";
}

/// <summary>
/// The training loop of the train-based defences: seeded shuffle per epoch, the defence's loss per batch, a
/// checkpoint after every epoch (weights, optimizer state, log) from which a killed run resumes to the same weights
/// as an uninterrupted one, a CSV log and a loss plot.
/// </summary>
/// <remarks>
/// Resuming is exact because nothing random carries over between epochs in memory: epoch e shuffles the identity
/// order with <c>Random(Mix(seed, e))</c> and step s of it draws its random starts from <c>Mix(seed, e, s)</c>; the
/// module's parameters (TorchSharp's module save) and the optimizer's state (<see cref="TrainingOptimizer"/>: Adam's
/// moments and step count, SGD's momentum buffers) are saved in binary, so they come back bit for bit. The graph has no dropout and no batch statistics (Keras
/// batch normalisation is folded into the convolutions on import), so torch's own generator is never drawn from.
/// </remarks>
public static class DefenceTrainer
{
    private const string StateFile = "checkpoint.json";

    public static int Mix(int seed, int epoch, int step = -1)
    {
        unchecked
        {
            uint h = 2166136261;
            foreach (int v in new[] { seed, epoch, step })
            {
                h = (h ^ (uint)v) * 16777619;
                h ^= h >> 13;
            }
            return (int)(h & 0x7fffffff);
        }
    }

    /// <summary>Trains <paramref name="engine"/>'s module in place on <paramref name="set"/>; returns the whole log (resumed epochs included).</summary>
    public static IReadOnlyList<EpochLog> Train(FloatEngine engine, ImageSet set, TrainingParameters p, ITrainingObjective objective, TrainingRun run)
    {
        p.Validate();
        Directory.CreateDirectory(run.Dir);
        Parameter[] parameters = engine.Module.parameters().ToArray();
        using var optimizer = new TrainingOptimizer(parameters, p.Optimizer, p.LearningRate, p.Momentum);
        var log = new List<EpochLog>();
        int start = 0;
        string fingerprint = Fingerprint(p, set, engine);
        if (run.Resume && Load(run.Dir) is Checkpoint c)
        {
            if (c.Fingerprint != fingerprint)
            {
                throw new InvalidOperationException($"{run.Dir}: the checkpoint was made with other settings, data or model ({c.Fingerprint}); now {fingerprint}. Start over without --resume or use another folder");
            }
            engine.Module.load(Path.Combine(run.Dir, c.ModelFile));
            optimizer.Load(Path.Combine(run.Dir, c.OptimizerFile));
            log.AddRange(c.Log);
            start = c.Epoch;
            run.Progress?.Invoke($"{run.Name}: resumed after epoch {c.Epoch} from {run.Dir}");
        }
        else if (!run.Resume)
        {
            // A fresh run: an old checkpoint here is not ours to continue (and its files would linger).
            File.Delete(Path.Combine(run.Dir, StateFile));
            foreach (string old in Directory.EnumerateFiles(run.Dir, "epoch-*.*").Where(f => f.EndsWith(".weights", StringComparison.Ordinal) || f.EndsWith(".optimizer", StringComparison.Ordinal)))
            {
                File.Delete(old);
            }
        }

        int imageSize = engine.ImageSize;
        int stepsPerEpoch = (set.Count + p.BatchSize - 1) / p.BatchSize;
        for (int epoch = start; epoch < p.NbEpochs; epoch++)
        {
            var clock = Stopwatch.StartNew();
            int[] order = Enumerable.Range(0, set.Count).ToArray();
            new Random(Mix(p.Seed, epoch)).Shuffle(order);
            double lossSum = 0;
            long clean = 0, adversarial = 0;
            bool hasAdversarial = false;
            int seen = 0;
            for (int step = 0; step < stepsPerEpoch; step++)
            {
                run.Cancel.ThrowIfCancellationRequested();
                int first = step * p.BatchSize;
                int n = Math.Min(p.BatchSize, set.Count - first);
                using (NewDisposeScope())
                {
                    var batch = new float[n * imageSize];
                    var labels = new long[n];
                    for (int i = 0; i < n; i++)
                    {
                        set.CopyImage(order[first + i], batch.AsSpan(i * imageSize, imageSize));
                        labels[i] = set.Labels[order[first + i]];
                    }
                    Tensor x = tensor(batch, [n, engine.Height, engine.Width, engine.Channels]);
                    Tensor y = tensor(labels);
                    engine.Module.SetTrainable(true);
                    optimizer.ZeroGrad();
                    StepOutcome o = objective.Step(engine, x, y, new StepInfo(epoch, step, stepsPerEpoch, Mix(p.Seed, epoch, step)));
                    engine.Module.SetTrainable(true);
                    o.Loss.backward();
                    optimizer.Step();
                    engine.Module.SetTrainable(false);
                    float loss = o.Loss.item<float>();
                    if (!float.IsFinite(loss))
                    {
                        throw new InvalidOperationException(FormattableString.Invariant(
                            $"{run.Name}: the loss diverged ({loss}) at epoch {epoch + 1} step {step + 1}; lower learning_rate (now {p.LearningRate})"));
                    }
                    lossSum += loss * n;
                    if (o.CleanLogits is Tensor cl)
                    {
                        clean += cl.argmax(1).eq(y).sum().item<long>();
                    }
                    if (o.AdversarialLogits is Tensor al)
                    {
                        hasAdversarial = true;
                        adversarial += al.argmax(1).eq(y).sum().item<long>();
                    }
                }
                seen += n;
                if (run.Progress is not null && (step + 1) % run.ProgressEvery == 0 && step + 1 < stepsPerEpoch)
                {
                    run.Progress(Line(run.Name, epoch + 1, p.NbEpochs, $"step {step + 1}/{stepsPerEpoch}", lossSum / seen, (double)clean / seen,
                        hasAdversarial ? (double)adversarial / seen : null, clock.Elapsed.TotalSeconds, seen));
                }
                run.OnStep?.Invoke(epoch + 1, step + 1);
            }
            var e = new EpochLog(epoch + 1, stepsPerEpoch, lossSum / set.Count, (double)clean / set.Count,
                hasAdversarial ? (double)adversarial / set.Count : null, clock.Elapsed.TotalSeconds);
            log.Add(e);
            Save(run.Dir, epoch + 1, fingerprint, engine, optimizer, log);
            WriteLog(run.Dir, run.Name, log, set.Count);
            run.Progress?.Invoke(Line(run.Name, e.Epoch, p.NbEpochs, "done:", e.Loss, e.CleanAccuracy, e.AdversarialAccuracy, e.Seconds, set.Count));
        }
        engine.Module.SetTrainable(false);
        return log;
    }

    private static string Line(string name, int epoch, int epochs, string what, double loss, double clean, double? adv, double seconds, int images)
        => FormattableString.Invariant($"{name}: epoch {epoch}/{epochs} {what} loss {loss:F4} clean acc {clean:P1}")
            + (adv is double a ? FormattableString.Invariant($" adv acc {a:P1}") : "")
            + FormattableString.Invariant($" {seconds:F1} s, {images / Math.Max(seconds, 1e-9):F1} images/s");

    /// <summary>The float model, and int8 and 16x8 ones from our quantizer calibrated on the first training images, as .tflite files in <paramref name="dir"/>.</summary>
    public static (string Float, string Int8, string Int16) WriteModels(QnnModel trained, ImageSet train, int calibrationImages, string dir, string stem)
    {
        Directory.CreateDirectory(dir);
        ImageSet calib = train.Take(Math.Min(calibrationImages, train.Count));
        string f = Path.Combine(dir, stem + "_float.tflite");
        string i8 = Path.Combine(dir, stem + "_int8.tflite");
        string i16 = Path.Combine(dir, stem + "_int16.tflite");
        WriteAtomically(trained, f);
        WriteAtomically(Classifiers.Quantize(trained, Precision.Int8, calib), i8);
        WriteAtomically(Classifiers.Quantize(trained, Precision.Int16, calib), i16);
        return (f, i8, i16);
    }

    private static void WriteAtomically(QnnModel m, string path)
    {
        string tmp = path + ".tmp";
        TfliteWriter.Write(m, tmp);
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>training-log.csv and training-loss.png beside the checkpoint.</summary>
    public static void WriteLog(string dir, string name, IReadOnlyList<EpochLog> log, int images)
    {
        var sb = new StringBuilder("epoch,steps,loss,clean_acc,adv_acc,seconds,images_per_s\n");
        foreach (EpochLog e in log)
        {
            sb.Append(CultureInfo.InvariantCulture, $"{e.Epoch},{e.Steps},{e.Loss:R},{e.CleanAccuracy:R},{(e.AdversarialAccuracy is double a ? a.ToString("R", CultureInfo.InvariantCulture) : "")},{e.Seconds:F3},{e.ImagesPerSecond(images):F2}\n");
        }
        File.WriteAllText(Path.Combine(dir, "training-log.csv"), sb.ToString());
        double[] x = [.. log.Select(e => (double)e.Epoch)];
        Plots.Lines([("loss", x, [.. log.Select(e => e.Loss)])], name + ": training loss", "epoch", "mean loss", Path.Combine(dir, "training-loss.png"));
    }

    private sealed record Checkpoint(int Epoch, string Fingerprint, string ModelFile, string OptimizerFile, List<EpochLog> Log);

    private static Checkpoint? Load(string dir)
    {
        string path = Path.Combine(dir, StateFile);
        return File.Exists(path) ? JsonSerializer.Deserialize<Checkpoint>(File.ReadAllText(path)) : null;
    }

    /// <summary>
    /// Weights and optimizer state go to files named by the epoch; the state file that points at them is replaced last
    /// (by a rename), so a kill at any moment leaves the previous complete checkpoint or the new one.
    /// </summary>
    private static void Save(string dir, int epoch, string fingerprint, FloatEngine engine, TrainingOptimizer optimizer, List<EpochLog> log)
    {
        Checkpoint? old = Load(dir);
        string model = $"epoch-{epoch:D4}.weights";
        string opt = $"epoch-{epoch:D4}.optimizer";
        engine.Module.save(Path.Combine(dir, model));
        optimizer.Save(Path.Combine(dir, opt));
        string tmp = Path.Combine(dir, StateFile + ".tmp");
        File.WriteAllText(tmp, JsonSerializer.Serialize(new Checkpoint(epoch, fingerprint, model, opt, log)));
        File.Move(tmp, Path.Combine(dir, StateFile), overwrite: true);
        if (old is not null && old.Epoch != epoch)
        {
            File.Delete(Path.Combine(dir, old.ModelFile));
            File.Delete(Path.Combine(dir, old.OptimizerFile));
        }
    }

    /// <summary>Settings, data and model identity: a checkpoint resumes only the run it came from (nb_epochs may grow).</summary>
    private static string Fingerprint(TrainingParameters p, ImageSet set, FloatEngine engine)
    {
        string settings = string.Join(" ", p.Values().Where(kv => kv.Key != "nb_epochs").OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Key}={kv.Value}")));
        int labelHash = 17;
        foreach (int l in set.Labels)
        {
            labelHash = unchecked((labelHash * 31) + l);
        }
        return string.Create(CultureInfo.InvariantCulture, $"{p.GetType().DeclaringType?.Name ?? p.GetType().Name} {settings} images={set.Count} labels#{labelHash:x8} model={engine.Model.Name}");
    }
}

/// <summary>
/// Standard training: cross-entropy of the (temperature-scaled) logits on the clean images. The baseline the
/// adversarial trainers are compared with at the same budget, and the teacher phase of Defensive Distillation.
/// </summary>
public sealed class CleanTraining(double temperature = 1) : ITrainingObjective
{
    public StepOutcome Step(FloatEngine engine, Tensor pixels, Tensor labels, StepInfo step)
    {
        Tensor logits = engine.Logits(pixels);
        Tensor scaled = temperature == 1 ? logits : logits.div(Scalars.Of(temperature));
        return new StepOutcome(nn.functional.cross_entropy(scaled, labels), logits.detach(), null);
    }
}
