using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using QnnLab.Attacks;
using QnnLab.Data;
using QnnLab.Defences.Training;
using QnnLab.Reports;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace QnnLab.Defences.Generative;

/// <summary>
/// How the PixelCNN is trained: maximum likelihood (cross-entropy of the 256-way softmax per sub-pixel) on the
/// classifier's training images, Adam as in the PixelCNN papers. Defaults sized for a 2-core laptop CPU; the paper's
/// PixelCNN (over 2M parameters) would be layers/channels far above these.
/// </summary>
public sealed class PixelCnnTrainingParameters : AttackParameters
{
    [Param("nb_epochs", "training epochs")]
    public int NbEpochs { get; set; } = 1;

    [Param("batch_size", "training batch size")]
    public int BatchSize { get; set; } = 32;

    [Param("learning_rate", "Adam learning rate")]
    public double LearningRate { get; set; } = 0.001;

    [Param("layers", "residual masked 3x3 layers after the 7x7 input layer")]
    public int Layers { get; set; } = 5;

    [Param("channels", "hidden channels of every layer")]
    public int Channels { get; set; } = 48;

    [Param("seed", "seed of the initial weights and of the shuffle")]
    public int Seed { get; set; }

    [Param("checkpoint_every", "steps between mid-epoch checkpoints (an epoch's end always checkpoints)")]
    public int CheckpointEvery { get; set; } = 100;

    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(NbEpochs, 1, "nb_epochs");
        ArgumentOutOfRangeException.ThrowIfLessThan(BatchSize, 1, "batch_size");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(LearningRate, "learning_rate");
        ArgumentOutOfRangeException.ThrowIfLessThan(CheckpointEvery, 1, "checkpoint_every");
    }
}

/// <summary>A trained PixelCNN on disk: its shape and what it was trained on, beside the weights.</summary>
public sealed record PixelCnnInfo(PixelCnnShape Shape, string Data, int Images, int Epochs, double BitsPerDim, string WeightsFile)
{
    public const string FileName = "pixelcnn.json";

    /// <summary>Reads a folder's (or a pixelcnn.json's) model; also gives the weights file (results are keyed by its hash).</summary>
    public static (PixelCnn Model, PixelCnnInfo Info, string WeightsPath) Load(string path)
    {
        string json = Directory.Exists(path) ? Path.Combine(path, FileName) : path;
        if (!File.Exists(json))
        {
            throw new FileNotFoundException($"{json}: no trained PixelCNN here (run `qnnlab defend pixeldefend train` first)");
        }
        PixelCnnInfo info = JsonSerializer.Deserialize<PixelCnnInfo>(File.ReadAllText(json))
            ?? throw new InvalidDataException($"{json}: empty");
        string weights = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(json))!, info.WeightsFile);
        var model = new PixelCnn(info.Shape, 0);
        try
        {
            model.load(weights);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            model.Dispose();
            throw new InvalidDataException($"{weights}: not the weights of a {info.Shape} PixelCNN: {e.Message}", e);
        }
        model.eval();
        return (model, info, weights);
    }
}

/// <summary>One line of the PixelCNN training log: mean negative log-likelihood in nats per sub-pixel, and in bits/dim.</summary>
public sealed record PixelCnnEpochLog(int Epoch, int Steps, double Nats, double Seconds)
{
    public double BitsPerDim => Nats / Math.Log(2);
}

/// <summary>
/// The PixelCNN training loop: seeded shuffle per epoch, checkpoints every few steps and at each epoch's end (weights,
/// Adam's state, position, running loss), from which a killed run resumes to the same weights as an uninterrupted one.
/// </summary>
public static class PixelCnnTrainer
{
    private const string StateFile = "checkpoint.json";

    private sealed record Checkpoint(int Epoch, int Step, double LossSum, int Seen, double Seconds, string Fingerprint, string ModelFile, string OptimizerFile, List<PixelCnnEpochLog> Log);

    public static PixelCnnInfo Train(ImageSet set, PixelCnnTrainingParameters p, TrainingRun run, string dataSpec)
    {
        p.Validate();
        if (set.Pixels is null)
        {
            throw new ArgumentException($"{set.Source}: the PixelCNN learns 8-bit images; this set has float values");
        }
        Directory.CreateDirectory(run.Dir);
        var shape = new PixelCnnShape(set.Height, set.Width, set.Channels, p.Layers, p.Channels);
        using var model = new PixelCnn(shape, p.Seed);
        using var optimizer = new TrainingOptimizer(model.parameters(), "adam", p.LearningRate, 0);
        string fingerprint = string.Create(CultureInfo.InvariantCulture,
            $"{shape} batch={p.BatchSize} lr={p.LearningRate:R} seed={p.Seed} data={dataSpec} images={set.Count}");
        var log = new List<PixelCnnEpochLog>();
        int startEpoch = 0, startStep = 0, seen = 0;
        double lossSum = 0, seconds = 0;
        string statePath = Path.Combine(run.Dir, StateFile);
        if (run.Resume && File.Exists(statePath))
        {
            Checkpoint c = JsonSerializer.Deserialize<Checkpoint>(File.ReadAllText(statePath))!;
            if (c.Fingerprint != fingerprint)
            {
                throw new InvalidOperationException($"{run.Dir}: the checkpoint was made with other settings or data ({c.Fingerprint}); now {fingerprint}. Start over without --resume or use another folder");
            }
            model.load(Path.Combine(run.Dir, c.ModelFile));
            optimizer.Load(Path.Combine(run.Dir, c.OptimizerFile));
            (startEpoch, startStep, lossSum, seen, seconds) = (c.Epoch, c.Step, c.LossSum, c.Seen, c.Seconds);
            log.AddRange(c.Log);
            run.Progress?.Invoke($"{run.Name}: resumed at epoch {c.Epoch + 1} step {c.Step} from {run.Dir}");
        }
        else if (!run.Resume)
        {
            File.Delete(statePath);
        }

        int size = set.ImageSize, steps = (set.Count + p.BatchSize - 1) / p.BatchSize;
        for (int epoch = startEpoch; epoch < p.NbEpochs; epoch++)
        {
            var clock = Stopwatch.StartNew();
            int[] order = Enumerable.Range(0, set.Count).ToArray();
            new Random(DefenceTrainer.Mix(p.Seed, epoch)).Shuffle(order);
            for (int step = epoch == startEpoch ? startStep : 0; step < steps; step++)
            {
                run.Cancel.ThrowIfCancellationRequested();
                int first = step * p.BatchSize, n = Math.Min(p.BatchSize, set.Count - first);
                using (NewDisposeScope())
                {
                    var unit = new float[n * size];
                    var target = new long[n * size];
                    for (int i = 0; i < n; i++)
                    {
                        ReadOnlySpan<byte> px = set.Pixels.AsSpan(order[first + i] * size, size);
                        for (int k = 0; k < size; k++)
                        {
                            unit[(i * size) + k] = px[k] / 255f;
                            target[(i * size) + k] = px[k];
                        }
                    }
                    long[] dims = [n, set.Height, set.Width, set.Channels];
                    optimizer.ZeroGrad();
                    Tensor loss = model.Loss(tensor(unit, dims), tensor(target, dims));
                    loss.backward();
                    optimizer.Step();
                    double l = loss.item<float>();
                    if (!double.IsFinite(l))
                    {
                        throw new InvalidOperationException(FormattableString.Invariant($"{run.Name}: the loss diverged ({l}) at epoch {epoch + 1} step {step + 1}; lower learning_rate"));
                    }
                    lossSum += l * n;
                }
                seen += n;
                bool last = step + 1 == steps;
                if (last || (step + 1) % p.CheckpointEvery == 0)
                {
                    double elapsed = seconds + clock.Elapsed.TotalSeconds;
                    if (last)
                    {
                        log.Add(new PixelCnnEpochLog(epoch + 1, steps, lossSum / seen, elapsed));
                        (lossSum, seen, seconds) = (0, 0, 0);
                        Save(run.Dir, new Checkpoint(epoch + 1, 0, 0, 0, 0, fingerprint, "", "", log), model, optimizer);
                        WriteLog(run.Dir, run.Name, log, set.Count);
                    }
                    else
                    {
                        Save(run.Dir, new Checkpoint(epoch, step + 1, lossSum, seen, elapsed, fingerprint, "", "", log), model, optimizer);
                    }
                }
                if (run.Progress is not null && (last || (step + 1) % run.ProgressEvery == 0))
                {
                    double elapsed = last ? log[^1].Seconds : seconds + clock.Elapsed.TotalSeconds;
                    double nats = last ? log[^1].Nats : lossSum / seen;
                    int images = last ? set.Count : seen;
                    run.Progress(FormattableString.Invariant(
                        $"{run.Name}: epoch {epoch + 1}/{p.NbEpochs} step {step + 1}/{steps} loss {nats:F4} nats = {nats / Math.Log(2):F3} bits/dim, {images / Math.Max(elapsed, 1e-9):F2} images/s"));
                }
                run.OnStep?.Invoke(epoch + 1, step + 1);
            }
            seconds = 0;
        }
        const string weights = "pixelcnn.weights";
        model.save(Path.Combine(run.Dir, weights));
        var info = new PixelCnnInfo(shape, dataSpec, set.Count, p.NbEpochs, log.Count > 0 ? log[^1].BitsPerDim : double.NaN, weights);
        File.WriteAllText(Path.Combine(run.Dir, PixelCnnInfo.FileName), JsonSerializer.Serialize(info, new JsonSerializerOptions { WriteIndented = true }));
        return info;
    }

    /// <summary>Weights and optimizer state under new names; the state file pointing at them is replaced last (a rename).</summary>
    private static void Save(string dir, Checkpoint c, PixelCnn model, TrainingOptimizer optimizer)
    {
        string statePath = Path.Combine(dir, StateFile);
        Checkpoint? old = File.Exists(statePath) ? JsonSerializer.Deserialize<Checkpoint>(File.ReadAllText(statePath)) : null;
        string stem = string.Create(CultureInfo.InvariantCulture, $"epoch-{c.Epoch:D4}-step-{c.Step:D6}");
        c = c with { ModelFile = stem + ".weights", OptimizerFile = stem + ".optimizer" };
        model.save(Path.Combine(dir, c.ModelFile));
        optimizer.Save(Path.Combine(dir, c.OptimizerFile));
        File.WriteAllText(statePath + ".tmp", JsonSerializer.Serialize(c));
        File.Move(statePath + ".tmp", statePath, overwrite: true);
        if (old is not null && old.ModelFile != c.ModelFile)
        {
            File.Delete(Path.Combine(dir, old.ModelFile));
            File.Delete(Path.Combine(dir, old.OptimizerFile));
        }
    }

    private static void WriteLog(string dir, string name, IReadOnlyList<PixelCnnEpochLog> log, int images)
    {
        var sb = new StringBuilder("epoch,steps,nats_per_subpixel,bits_per_dim,seconds,images_per_s\n");
        foreach (PixelCnnEpochLog e in log)
        {
            sb.Append(CultureInfo.InvariantCulture, $"{e.Epoch},{e.Steps},{e.Nats:R},{e.BitsPerDim:R},{e.Seconds:F3},{images / Math.Max(e.Seconds, 1e-9):F2}\n");
        }
        File.WriteAllText(Path.Combine(dir, "training-log.csv"), sb.ToString());
        Plots.Lines([("bits/dim", [.. log.Select(e => (double)e.Epoch)], [.. log.Select(e => e.BitsPerDim)])], name + ": training loss", "epoch", "bits/dim", Path.Combine(dir, "training-loss.png"));
    }
}
