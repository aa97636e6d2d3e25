// Feature Squeezing
//   Paper:  W. Xu, D. Evans, Y. Qi, "Feature Squeezing: Detecting Adversarial Examples in Deep Neural Networks",
//           NDSS 2018 (arXiv:1704.01155); as a defence in "David and Goliath" Tables 10-11 (settings: Table 15).
//   Norm:   any (a pre-processing defence, evaluated on the examples made for the undefended models).
//   Squeezers: bit-depth reduction (ART FeatureSqueezing, bit_depth: x -> rint(x (2^b - 1)) / (2^b - 1) on [0, 1])
//           and median smoothing (ART SpatialSmoothing, window_size: scipy.ndimage.median_filter per channel, 'reflect').
//   Defence accuracy: the model on x squeezed by both, bit depth first (the order of ART's preprocessing list).
//   Detector (EvadeML's joint detector): score = max over the squeezers of L1(out(x), out(squeezer(x))), flagged when
//           score > threshold; the threshold is calibrated on clean training images for a false-positive rate.
//   Defaults: fpr 0.05 (EvadeML); presets from the paper's Table 15: cifar10 bit_depth 4 window_size 2, vww 8 / 6,
//           coffee 8 / 2.
//   Units:  a float model scores with its softmax probabilities; an int8 / int16 model with its raw quantized outputs
//           (steps of the output scale), the device core's unit, so its threshold is the one a board is given.
using QnnLab.Attacks.Targets;
using QnnLab.Engine;
using QnnLab.Hil;
using QnnLab.Inference;
using QnnLab.Model;

namespace QnnLab.Defences;

/// <summary>The defence's parameters, by ART's names; <see cref="Fpr"/> is the detector's calibration target.</summary>
public sealed record FeatureSqueezing(int BitDepth, int WindowSize, double Fpr = 0.05)
{
    public static readonly IReadOnlyList<string> Presets = ["cifar10", "vww", "coffee"];

    public static FeatureSqueezing Preset(string name) => name switch
    {
        "cifar10" => new(4, 2),
        "vww" => new(8, 6),
        "coffee" => new(8, 2),
        _ => throw new ArgumentException($"unknown Feature Squeezing preset '{name}' ({string.Join(", ", Presets)})"),
    };

    public FeatureSqueezing Validated()
    {
        if (BitDepth is < 1 or > 8)
        {
            throw new ArgumentException($"bit_depth {BitDepth}: must be 1..8");
        }
        if (WindowSize is < 2 or > HostSqueeze.MaxMedian)
        {
            throw new ArgumentException($"window_size {WindowSize}: must be 2..{HostSqueeze.MaxMedian} (the device core's range)");
        }
        if (Fpr is <= 0 or >= 1)
        {
            throw new ArgumentException($"fpr {Fpr}: must be in (0, 1)");
        }
        return this;
    }

    public override string ToString() =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"bit_depth={BitDepth} window_size={WindowSize} fpr={Fpr}");

    /// <summary>
    /// The detector threshold for a false-positive rate: the smallest calibration score t with at most fpr·N scores
    /// above it (flagged means score &gt; t). For an integer model t is one of its integer scores.
    /// </summary>
    public static double Threshold(IReadOnlyList<double> cleanScores, double fpr)
    {
        if (cleanScores.Count == 0)
        {
            throw new ArgumentException("threshold calibration needs at least one clean image");
        }
        double[] sorted = [.. cleanScores.Order()];
        int allowed = (int)Math.Floor(fpr * sorted.Length + 1e-9);
        return sorted[sorted.Length - 1 - Math.Min(allowed, sorted.Length - 1)];
    }
}

/// <summary>One image through the defence: the undefended label, each squeezed label and the detector score.</summary>
public readonly record struct SqueezeVerdict(int Label, int BitDepthLabel, int MedianLabel, int BothLabel, double Score);

/// <summary>A model of one precision with the defence around it.</summary>
public abstract class SqueezedModel : IDisposable
{
    protected SqueezedModel(FeatureSqueezing config, int height, int width, int channels)
    {
        Config = config.Validated();
        (Height, Width, Channels) = (height, width, channels);
    }

    public FeatureSqueezing Config { get; }
    public abstract string Precision { get; }
    public int Height { get; }
    public int Width { get; }
    public int Channels { get; }
    public int ImageSize => Height * Width * Channels;

    /// <summary>Verdicts of n images in [0, 1], HWC, back to back.</summary>
    public abstract SqueezeVerdict[] Verdicts(ReadOnlySpan<float> x, int n);

    /// <summary>A float model (TorchSharp) or an int8 / int16 model (the bit-exact engine) by its file.</summary>
    public static SqueezedModel Open(QnnModel model, FeatureSqueezing config) => model.Precision == QnnLab.Model.Precision.Float
        ? new FloatSqueezedModel(new TorchTarget(model), config)
        : new IntegerSqueezedModel(model, config);

    public abstract void Dispose();
}

/// <summary>A float model: squeezers on the real-valued input, the detector on softmax probabilities.</summary>
public sealed class FloatSqueezedModel : SqueezedModel
{
    private readonly AttackTarget _target;

    public FloatSqueezedModel(AttackTarget target, FeatureSqueezing config)
        : base(config, target.Height, target.Width, target.Channels)
    {
        _target = target;
    }

    public override string Precision => "float";

    /// <summary>ART's FeatureSqueezing on [0, 1]: rint(x L) / L with L = 2^b - 1 (rint rounds half to even).</summary>
    public static float[] BitDepth(ReadOnlySpan<float> x, int bits)
    {
        double levels = (1 << bits) - 1;
        var r = new float[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            double v = Math.Clamp(x[i], 0f, 1f);
            r[i] = (float)(Math.Round(v * levels, MidpointRounding.ToEven) / levels);
        }
        return r;
    }

    public override SqueezeVerdict[] Verdicts(ReadOnlySpan<float> x, int n)
    {
        int size = ImageSize;
        var bits = BitDepth(x, Config.BitDepth);
        var median = new float[x.Length];
        var both = new float[x.Length];
        for (int i = 0; i < n; i++)
        {
            HostSqueeze.Median<float>(x.Slice(i * size, size), Height, Width, Channels, Config.WindowSize).CopyTo(median, i * size);
            HostSqueeze.Median<float>(bits.AsSpan(i * size, size), Height, Width, Channels, Config.WindowSize).CopyTo(both, i * size);
        }
        int k = _target.Classes;
        float[] p = _target.Scores(x, n), pb = _target.Scores(bits, n), pm = _target.Scores(median, n), p2 = _target.Scores(both, n);
        int[] l = AttackTarget.ArgMaxRows(p, n, k), lb = AttackTarget.ArgMaxRows(pb, n, k), lm = AttackTarget.ArgMaxRows(pm, n, k), l2 = AttackTarget.ArgMaxRows(p2, n, k);
        var v = new SqueezeVerdict[n];
        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<float> o = p.AsSpan(i * k, k), ob = pb.AsSpan(i * k, k), om = pm.AsSpan(i * k, k);
            double l1b = 0, l1m = 0;
            for (int c = 0; c < k; c++)
            {
                l1b += Math.Abs(o[c] - ob[c]);
                l1m += Math.Abs(o[c] - om[c]);
            }
            v[i] = new SqueezeVerdict(l[i], lb[i], lm[i], l2[i], Math.Max(l1b, l1m));
        }
        return v;
    }

    public override void Dispose() => _target.Dispose();
}

/// <summary>
/// An int8 / int16 model as a board runs it: each image quantized to the model's input tensor, the squeezers on the
/// tensor's values (model-blob SPEC, <see cref="TensorSqueezer"/>), the detector on raw quantized outputs.
/// </summary>
public sealed class IntegerSqueezedModel : SqueezedModel
{
    private readonly IntegerTarget _quantizer;
    private readonly IntegerClassifier _engine;
    private readonly TensorSqueezer _squeezer;
    private readonly int _logitWidth;

    public IntegerSqueezedModel(QnnModel model, FeatureSqueezing config)
        : this(new IntegerTarget(model, maxBatch: 1), config)
    {
    }

    private IntegerSqueezedModel(IntegerTarget quantizer, FeatureSqueezing config)
        : base(config, quantizer.Height, quantizer.Width, quantizer.Channels)
    {
        _quantizer = quantizer;
        _engine = new IntegerClassifier(quantizer.Model, maxBatch: 1);
        _squeezer = new TensorSqueezer(_engine.Compiled);
        _logitWidth = _engine.Precision == QnnLab.Model.Precision.Int8 ? 1 : 2;
        Precision = _logitWidth == 1 ? "int8" : "int16";
    }

    public override string Precision { get; }

    /// <summary>The quantized input tensor of one image in [0, 1] (int8 values widened): what INPUT_TENSOR carries.</summary>
    public short[] Tensor(ReadOnlySpan<float> image)
    {
        byte[] q = _quantizer.QuantizedInput(image);
        return _logitWidth == 1
            ? Array.ConvertAll(q, b => (short)(sbyte)b)
            : System.Runtime.InteropServices.MemoryMarshal.Cast<byte, short>(q).ToArray();
    }

    /// <summary>Raw outputs of a tensor (int8 or int16 values widened).</summary>
    public int[] Outputs(short[] tensor) => LogitBytes.Decode(_engine.RawOutputsOfTensor(tensor), _logitWidth);

    public short[] SqueezeBitDepth(short[] tensor) => _squeezer.BitDepth(tensor, Config.BitDepth);

    public short[] SqueezeMedian(short[] tensor) => HostSqueeze.Median<short>(tensor, Height, Width, Channels, Config.WindowSize);

    /// <summary>The bytes INPUT_TENSOR sends for a tensor (little-endian, the model's element width).</summary>
    public byte[] TensorBytes(short[] tensor) => _logitWidth == 1
        ? Array.ConvertAll(tensor, v => (byte)(sbyte)v)
        : System.Runtime.InteropServices.MemoryMarshal.AsBytes(tensor.AsSpan()).ToArray();

    public override SqueezeVerdict[] Verdicts(ReadOnlySpan<float> x, int n)
    {
        int size = ImageSize;
        var v = new SqueezeVerdict[n];
        for (int i = 0; i < n; i++)
        {
            short[] q = Tensor(x.Slice(i * size, size));
            short[] qb = SqueezeBitDepth(q);
            int[] o = Outputs(q), ob = Outputs(qb), om = Outputs(SqueezeMedian(q)), o2 = Outputs(SqueezeMedian(qb));
            int score = Math.Max(L1(o, ob), L1(o, om));
            v[i] = new SqueezeVerdict(LogitBytes.ArgMax(o), LogitBytes.ArgMax(ob), LogitBytes.ArgMax(om), LogitBytes.ArgMax(o2), score);
        }
        return v;
    }

    /// <summary>L1 distance of two raw output vectors: the device core's detector score (SPEC "Detector").</summary>
    public static int L1(int[] a, int[] b)
    {
        int s = 0;
        for (int i = 0; i < a.Length; i++)
        {
            s += Math.Abs(a[i] - b[i]);
        }
        return s;
    }

    public override void Dispose()
    {
        _engine.Dispose();
        _quantizer.Dispose();
    }
}
