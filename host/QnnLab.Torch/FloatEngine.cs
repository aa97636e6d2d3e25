using System.Diagnostics;
using QnnLab.Data;
using QnnLab.Model;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;
using Tensor = TorchSharp.torch.Tensor;

namespace QnnLab.Torch;

public sealed record FloatEngineOptions
{
    public static readonly FloatEngineOptions Default = new();

    /// <summary>Fake-quantize activations of a quantized model (see <see cref="TorchModelOptions"/>).</summary>
    public bool FakeQuantActivations { get; init; }

    /// <summary>libtorch intra-op threads; null keeps <see cref="TorchRuntime.DefaultThreads"/>.</summary>
    public int? Threads { get; init; }

    /// <summary>Batch size of the whole-set helpers (evaluation, activation ranges).</summary>
    public int BatchSize { get; init; } = 64;
}

/// <summary>Logits and probabilities of a batch, row-major [Count, Classes].</summary>
public sealed record ForwardResult(int Count, int Classes, float[] Logits, float[] Probabilities)
{
    /// <summary>Predicted class of each image; ties go to the lowest index, as numpy's argmax.</summary>
    public int[] Predictions()
    {
        var result = new int[Count];
        for (int i = 0; i < Count; i++)
        {
            result[i] = ArgMax(Probabilities.AsSpan(i * Classes, Classes));
        }
        return result;
    }

    public static int ArgMax(ReadOnlySpan<float> row)
    {
        int best = 0;
        for (int c = 1; c < row.Length; c++)
        {
            if (row[c] > row[best])
            {
                best = c;
            }
        }
        return best;
    }
}

/// <summary>dLoss/dPixel for each input element (NHWC, pixel units) and the loss value(s).</summary>
public sealed record GradientResult(float[] Gradient, float[] Loss, float[] Logits);

/// <summary>A captured tensor in NHWC layout.</summary>
public sealed record TensorValue(int[] Shape, float[] Data);

/// <summary>
/// The float engine: a model's float (or dequantized) view on TorchSharp, fed with pixel-unit
/// images (0..255, HWC) and the model's <see cref="InputPreprocessing"/>. Forward passes, input
/// gradients for attacks, activation ranges for the quantizer, and training. Not thread-safe.
/// The array methods manage native memory themselves; callers of the tensor methods in a loop
/// should open a <c>torch.NewDisposeScope()</c> per iteration, or intermediates pile up.
/// </summary>
public sealed class FloatEngine : IDisposable
{
    private readonly float _scale;
    private readonly float _offset;


    public FloatEngine(QnnModel model, FloatEngineOptions? options = null)
    {
        Options = options ?? FloatEngineOptions.Default;
        TorchRuntime.EnsureLoaded(Options.Threads);
        Model = model;
        Module = TorchModel.FromQnnModel(model, new TorchModelOptions { FakeQuantActivations = Options.FakeQuantActivations });
        int[] shape = model.InputTensor.Shape;
        if (shape.Length != 4)
        {
            throw new ModelException($"{model.Name}: input shape [{string.Join(",", shape)}] is not NHWC");
        }
        (Height, Width, Channels) = (shape[1], shape[2], shape[3]);
        int[] logits = model.Tensors[Module.LogitsTensor].Shape;
        Classes = logits[^1];
        _scale = model.Preprocessing.Scale;
        _offset = model.Preprocessing.Offset;

    }

    public QnnModel Model { get; }
    public TorchModel Module { get; }
    public FloatEngineOptions Options { get; }
    public int Height { get; }
    public int Width { get; }
    public int Channels { get; }
    public int Classes { get; }
    public int ImageSize => Height * Width * Channels;

    // ---------------------------------------------------------------- torch-level API (attacks)

    /// <summary>Pixels [N,H,W,C] (0..255) to the model's real-valued input.</summary>
    public Tensor Preprocess(Tensor pixels)
    {
        Tensor x = _scale == 1f ? pixels : pixels.mul(Scalars.Of(_scale));
        return _offset == 0f ? x : x.add(Scalars.Of(_offset));
    }

    /// <summary>Pre-softmax logits [N, classes] of pixel-unit images [N,H,W,C]; differentiable.</summary>
    public Tensor Logits(Tensor pixels) => Module.Logits(Preprocess(pixels));

    /// <summary>Probabilities [N, classes] (the model's softmax, or softmax of the logits).</summary>
    public Tensor Probabilities(Tensor pixels) => LogitsAndProbabilities(pixels).Probabilities;

    /// <summary>Logits and probabilities from one pass through the graph.</summary>
    public (Tensor Logits, Tensor Probabilities) LogitsAndProbabilities(Tensor pixels)
    {
        if (!Module.EndsInSoftmax)
        {
            Tensor logits = Logits(pixels);
            return (logits, F.softmax(logits, -1));
        }
        var captured = new Dictionary<int, Tensor>();
        Tensor probs = Module.Run(Preprocess(pixels), Module.OutputTensor, [Module.LogitsTensor], captured);
        return (captured[Module.LogitsTensor], probs.reshape(pixels.shape[0], -1));
    }

    /// <summary>
    /// Gradient of sum(loss(logits)) with respect to the pixels; does not touch the parameters'
    /// .grad (so it can run inside a training step). Returns (gradient, loss values, logits), detached.
    /// </summary>
    public (Tensor Gradient, Tensor Loss, Tensor Logits) InputGradient(Tensor pixels, Func<Tensor, Tensor> loss)
    {
        using var scope = NewDisposeScope();
        Tensor p = pixels.detach().requires_grad_(true);
        Tensor logits = Logits(p);
        Tensor l = loss(logits);
        Tensor total = l.dim() == 0 ? l : l.sum();
        Tensor grad = autograd.grad([total], [p])[0];
        return (grad.detach().MoveToOuterDisposeScope(), l.detach().MoveToOuterDisposeScope(), logits.detach().MoveToOuterDisposeScope());
    }

    /// <summary>Per-sample cross-entropy on the logits (the default attack loss).</summary>
    public static Func<Tensor, Tensor> CrossEntropy(Tensor labels)
        => logits => F.cross_entropy(logits, labels, reduction: nn.Reduction.None);

    // ---------------------------------------------------------------- array API

    /// <summary>Forward pass over <paramref name="count"/> HWC images in pixel units.</summary>
    public ForwardResult Forward(ReadOnlySpan<float> pixels, int count)
    {
        CheckBatch(pixels.Length, count);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor x = ToTensor(pixels, count);
        var (logits, probs) = LogitsAndProbabilities(x);
        return new ForwardResult(count, Classes, ToArray(logits), ToArray(probs));
    }

    public ForwardResult Forward(ImageSet set, int start, int count) => Forward(Pixels(set, start, count), count);

    /// <summary>Forward over a whole set in batches of <see cref="FloatEngineOptions.BatchSize"/>.</summary>
    public ForwardResult Evaluate(ImageSet set)
    {
        CheckSet(set);
        var logits = new float[set.Count * Classes];
        var probs = new float[set.Count * Classes];
        for (int start = 0; start < set.Count; start += Options.BatchSize)
        {
            int n = Math.Min(Options.BatchSize, set.Count - start);
            ForwardResult r = Forward(set, start, n);
            r.Logits.CopyTo(logits, start * Classes);
            r.Probabilities.CopyTo(probs, start * Classes);
        }
        return new ForwardResult(set.Count, Classes, logits, probs);
    }

    /// <summary>Top-1 accuracy on the set (argmax of the probabilities, ties to the lowest class).</summary>
    public double Accuracy(ImageSet set)
    {
        int[] predictions = Evaluate(set).Predictions();
        int correct = 0;
        for (int i = 0; i < predictions.Length; i++)
        {
            correct += predictions[i] == set.Labels[i] ? 1 : 0;
        }
        return (double)correct / set.Count;
    }

    /// <summary>Gradient of the per-sample cross-entropy of the logits, in pixel units.</summary>
    public GradientResult InputGradient(ReadOnlySpan<float> pixels, int count, int[] labels)
    {
        if (labels.Length != count)
        {
            throw new ArgumentException($"{labels.Length} labels for {count} images");
        }
        using var scope = NewDisposeScope();
        Tensor target = tensor(labels.Select(l => (long)l).ToArray());
        return InputGradient(pixels, count, CrossEntropy(target));
    }

    /// <summary>Gradient of sum(loss(logits)) in pixel units, for a caller's loss over the logits [N, classes].</summary>
    public GradientResult InputGradient(ReadOnlySpan<float> pixels, int count, Func<Tensor, Tensor> loss)
    {
        CheckBatch(pixels.Length, count);
        using var scope = NewDisposeScope();
        var (grad, l, logits) = InputGradient(ToTensor(pixels, count), loss);
        return new GradientResult(ToArray(grad), ToArray(l), ToArray(logits));
    }

    /// <summary>
    /// Values of the listed tensors (default: every non-constant tensor) for a batch, NHWC with
    /// the batch as first dimension. Includes the input as the model sees it (preprocessed).
    /// </summary>
    public Dictionary<int, TensorValue> Intermediates(ReadOnlySpan<float> pixels, int count, IEnumerable<int>? tensors = null)
    {
        CheckBatch(pixels.Length, count);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Dictionary<int, Tensor> captured = Capture(ToTensor(pixels, count), tensors);
        return captured.ToDictionary(kv => kv.Key, kv => new TensorValue(kv.Value.shape.Select(d => (int)d).ToArray(), ToArray(kv.Value)));
    }

    /// <summary>Min and max of every activation tensor over the set (for the quantizer's calibration).</summary>
    public Dictionary<int, (float Min, float Max)> ActivationRanges(ImageSet set)
    {
        CheckSet(set);
        var ranges = new Dictionary<int, (float Min, float Max)>();
        for (int start = 0; start < set.Count; start += Options.BatchSize)
        {
            int n = Math.Min(Options.BatchSize, set.Count - start);
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            foreach (var (index, t) in Capture(ToTensor(Pixels(set, start, n), n), null))
            {
                float min = t.min().item<float>();
                float max = t.max().item<float>();
                ranges[index] = ranges.TryGetValue(index, out var r) ? (Math.Min(r.Min, min), Math.Max(r.Max, max)) : (min, max);
            }
        }
        return ranges;
    }

    private Dictionary<int, Tensor> Capture(Tensor pixels, IEnumerable<int>? tensors)
    {
        HashSet<int> wanted = tensors is null
            ? Enumerable.Range(0, Model.Tensors.Count).Where(i => !Model.Tensors[i].IsConstant).ToHashSet()
            : tensors.ToHashSet();
        var captured = new Dictionary<int, Tensor>();
        int last = Model.Operators.Count > 0 ? Model.Operators[^1].Outputs[0] : Model.Inputs[0];
        Module.Run(Preprocess(pixels), last, wanted, captured);
        return captured;
    }

    // ---------------------------------------------------------------- training

    /// <summary>
    /// Trains the module's weights on the set (cross-entropy on the logits). The trained weights
    /// stay in <see cref="Module"/>; <see cref="ExportFloatModel"/> writes them into a float model.
    /// </summary>
    public TrainResult Train(ImageSet set, TrainOptions options)
    {
        CheckSet(set);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.BatchSize, 1);
        Parameter[] parameters = Module.parameters().ToArray();
        Module.SetTrainable(true);
        using optim.Optimizer optimizer = options.Optimizer switch
        {
            OptimizerKind.Adam => optim.Adam(parameters, options.LearningRate, weight_decay: options.WeightDecay),
            _ => optim.SGD(parameters, options.LearningRate, momentum: options.Momentum, weight_decay: options.WeightDecay),
        };
        var rng = new Random(options.Seed);
        var epochs = new List<TrainEpoch>();
        int[] order = Enumerable.Range(0, set.Count).ToArray();
        try
        {
            for (int epoch = 0; epoch < options.Epochs; epoch++)
            {
                var clock = Stopwatch.StartNew();
                if (options.Shuffle)
                {
                    rng.Shuffle(order);
                }
                double lossSum = 0;
                int correct = 0;
                for (int start = 0; start < set.Count; start += options.BatchSize)
                {
                    int n = Math.Min(options.BatchSize, set.Count - start);
                    using var scope = NewDisposeScope();
                    var batch = new float[n * ImageSize];
                    var labels = new long[n];
                    for (int i = 0; i < n; i++)
                    {
                        set.CopyImage(order[start + i], batch.AsSpan(i * ImageSize, ImageSize));
                        labels[i] = set.Labels[order[start + i]];
                    }
                    Tensor x = tensor(batch, [n, Height, Width, Channels]);
                    Tensor y = tensor(labels);
                    if (options.InputTransform is not null)
                    {
                        x = options.InputTransform(x, y).detach();
                    }
                    optimizer.zero_grad();
                    Tensor logits = Logits(x);
                    Tensor loss = F.cross_entropy(logits, y);
                    loss.backward();
                    optimizer.step();
                    lossSum += loss.item<float>() * n;
                    correct += (int)logits.argmax(1).eq(y).sum().item<long>();
                }
                var e = new TrainEpoch(epoch + 1, lossSum / set.Count, (double)correct / set.Count, clock.Elapsed.TotalSeconds);
                epochs.Add(e);
                options.OnEpoch?.Invoke(e);
            }
        }
        finally
        {
            Module.SetTrainable(false);
        }
        return new TrainResult(epochs);
    }

    /// <summary>A copy of the (float) source model with the module's current weights.</summary>
    public QnnModel ExportFloatModel() => Module.ToQnnModel();

    // ---------------------------------------------------------------- helpers

    public float[] Pixels(ImageSet set, int start, int count)
    {
        CheckSet(set);
        var buffer = new float[count * ImageSize];
        for (int i = 0; i < count; i++)
        {
            set.CopyImage(start + i, buffer.AsSpan(i * ImageSize, ImageSize));
        }
        return buffer;
    }

    private Tensor ToTensor(ReadOnlySpan<float> pixels, int count)
        => tensor(pixels.ToArray(), [count, Height, Width, Channels]);

    private static float[] ToArray(Tensor t) => t.detach().contiguous().data<float>().ToArray();

    private void CheckBatch(int length, int count)
    {
        if (count < 1 || length != count * ImageSize)
        {
            throw new ArgumentException($"{length} values for {count} images of {Height}x{Width}x{Channels}");
        }
    }

    private void CheckSet(ImageSet set)
    {
        if (set.Height != Height || set.Width != Width || set.Channels != Channels)
        {
            throw new ArgumentException($"{set.Source}: images are {set.Height}x{set.Width}x{set.Channels}, {Model.Name} takes {Height}x{Width}x{Channels} (resize first)");
        }
    }

    public void Dispose() => Module.Dispose();
}

public enum OptimizerKind
{
    Sgd,
    Adam,
}

public sealed record TrainOptions
{
    public int Epochs { get; init; } = 1;
    public int BatchSize { get; init; } = 32;
    public double LearningRate { get; init; } = 1e-3;
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Adam;
    /// <summary>SGD momentum (ignored by Adam).</summary>
    public double Momentum { get; init; } = 0.9;
    public double WeightDecay { get; init; }
    public int Seed { get; init; }
    public bool Shuffle { get; init; } = true;

    /// <summary>
    /// Per-batch hook: pixel-unit images [N,H,W,C] and labels [N] in, images to train on out
    /// (adversarial training replaces them with attacked ones). Its result is detached.
    /// </summary>
    public Func<Tensor, Tensor, Tensor>? InputTransform { get; init; }

    public Action<TrainEpoch>? OnEpoch { get; init; }
}

public sealed record TrainEpoch(int Epoch, double MeanLoss, double Accuracy, double Seconds);

public sealed record TrainResult(IReadOnlyList<TrainEpoch> Epochs)
{
    public double FinalLoss => Epochs.Count > 0 ? Epochs[^1].MeanLoss : double.NaN;
}
