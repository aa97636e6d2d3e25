using System.Security.Cryptography;
using System.Text;
using QnnLab.Data;
using QnnLab.Inference;
using QnnLab.Model;

namespace QnnLab.Hil;

/// <summary>What the host engine says a board must answer for one input: label, raw logits (little-endian, as the board sends them), detector verdict.</summary>
public sealed record HostExpectation(int Label, byte[] Logits, int? DetectorScore = null, bool? Flagged = null);

/// <summary>Turns a loaded model into the blob the device core runs (shared/model-blob/SPEC.md).</summary>
public delegate byte[] BlobExport(QnnModel model, string modelPath);

/// <summary>A model as a HIL run needs it: the blob the board runs and the host's bit-exact reference.</summary>
public interface IHilModel : IDisposable
{
    string Name { get; }
    string Precision { get; }
    /// <summary>SHA-256 of the model file (hex); identifies the model in the result store.</summary>
    string SourceHash { get; }
    byte[] Blob { get; }
    /// <summary>SHA-256 of the blob: the identity the board reports.</summary>
    byte[] BlobHash { get; }
    int Height { get; }
    int Width { get; }
    int Channels { get; }
    /// <summary>A real-valued detector threshold (L1 of probabilities) in the board's integer score unit.</summary>
    float DeviceThreshold(double threshold);
    HostExpectation Expect(byte[] pixels, SqueezeSettings squeeze);
}

public static class LogitBytes
{
    /// <summary>Signed logits as little-endian bytes of the given width (1 or 2), the layout of the host engine's raw outputs.</summary>
    public static byte[] Encode(IReadOnlyList<int> logits, int width)
    {
        var b = new byte[logits.Count * width];
        for (int i = 0; i < logits.Count; i++)
        {
            for (int j = 0; j < width; j++)
            {
                b[(i * width) + j] = (byte)(logits[i] >> (8 * j));
            }
        }
        return b;
    }

    public static int[] Decode(byte[] bytes, int width)
    {
        var v = new int[bytes.Length / width];
        for (int i = 0; i < v.Length; i++)
        {
            v[i] = width == 1 ? (sbyte)bytes[i] : BitConverter.ToInt16(bytes, i * 2);
        }
        return v;
    }

    /// <summary>Argmax, ties to the lowest index (the device core's rule).</summary>
    public static int ArgMax(int[] v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++)
        {
            if (v[i] > v[best])
            {
                best = i;
            }
        }
        return best;
    }
}

/// <summary>An int8 or 16x8 model file: the host's integer engine is the reference, the blob comes from an exporter.</summary>
public sealed class EngineHilModel : IHilModel
{
    private readonly IntegerClassifier _engine;
    private readonly int _logitWidth;
    private readonly float _outputScale;
    private TensorSqueezer? _tensorSqueezer;

    /// <summary>The device core's blob, made by <see cref="QnnLab.Firmware.BlobExporter"/>.</summary>
    public static readonly BlobExport DefaultExport = (model, path) =>
        QnnLab.Firmware.BlobExporter.Export(QnnLab.Engine.IntegerModel.Compile(model), Convert.FromHexString(ModelFiles.Sha256(path))).Bytes;

    public EngineHilModel(string path)
        : this(path, DefaultExport)
    {
    }

    public EngineHilModel(string path, BlobExport export)
    {
        QnnModel model = ModelFiles.Load(path);
        if (model.Precision is not (QnnLab.Model.Precision.Int8 or QnnLab.Model.Precision.Int16))
        {
            throw new ModelException($"{path}: a board runs int8 or 16x8 models; this one is {ModelFiles.Name(model.Precision)} (qnnlab quantize makes one)");
        }
        _engine = new IntegerClassifier(model, maxBatch: 1);
        Name = model.Name;
        Precision = ModelFiles.Name(model.Precision);
        SourceHash = ModelFiles.Sha256(path);
        Blob = export(model, path);
        BlobHash = SHA256.HashData(Blob);
        _logitWidth = _engine.Precision == QnnLab.Model.Precision.Int8 ? 1 : 2;
        _outputScale = model.OutputTensor.Quant?.Scale ?? throw new ModelException($"{path}: the output tensor has no quantization");
    }

    public string Name { get; }
    public string Precision { get; }
    public string SourceHash { get; }
    public byte[] Blob { get; }
    public byte[] BlobHash { get; }
    public int Height => _engine.Height;
    public int Width => _engine.Width;
    public int Channels => _engine.Channels;

    /// <summary>SPEC: the host converts a real threshold t as floor(t / s_out).</summary>
    public float DeviceThreshold(double threshold) => (float)Math.Floor(threshold / _outputScale);

    public HostExpectation Expect(byte[] pixels, SqueezeSettings squeeze)
    {
        var squeezed = new List<byte[]>();
        if (squeeze.Bits > 0)
        {
            squeezed.Add(Run(null, HostSqueeze.BitDepth(pixels, squeeze.Bits)));
        }
        if (squeeze.Median > 1)
        {
            squeezed.Add(Run(HostSqueeze.Median(pixels, Height, Width, Channels, squeeze.Median), null));
        }
        return Combine(Run(pixels, null), squeezed, squeeze);
    }

    /// <summary>
    /// What a board answers for a quantized input tensor (INPUT_TENSOR; int8 or int16 values, the model's
    /// activation type) with <paramref name="squeeze"/> on: the squeezers act on the tensor's values.
    /// </summary>
    public HostExpectation ExpectTensor(short[] tensor, SqueezeSettings squeeze)
    {
        var squeezed = new List<byte[]>();
        if (squeeze.Bits > 0)
        {
            _tensorSqueezer ??= new TensorSqueezer(_engine.Compiled);
            squeezed.Add(_engine.RawOutputsOfTensor(_tensorSqueezer.BitDepth(tensor, squeeze.Bits)));
        }
        if (squeeze.Median > 1)
        {
            squeezed.Add(_engine.RawOutputsOfTensor(HostSqueeze.Median<short>(tensor, Height, Width, Channels, squeeze.Median)));
        }
        return Combine(_engine.RawOutputsOfTensor(tensor), squeezed, squeeze);
    }

    /// <summary>One squeezer: its answer; the detector: the original's answer with the max L1 score (SPEC "Detector").</summary>
    private HostExpectation Combine(byte[] raw, List<byte[]> squeezed, SqueezeSettings squeeze)
    {
        if (!squeeze.Enabled)
        {
            return Result(raw);
        }
        if (!squeeze.Detector)
        {
            return Result(squeezed[0]);
        }
        int[] original = LogitBytes.Decode(raw, _logitWidth);
        int score = 0;
        foreach (byte[] s in squeezed)
        {
            int[] v = LogitBytes.Decode(s, _logitWidth);
            score = Math.Max(score, original.Zip(v, (a, b) => Math.Abs(a - b)).Sum());
        }
        float threshold = DeviceThreshold(squeeze.Threshold ?? SqueezeSettings.DefaultThreshold);
        return new HostExpectation(LogitBytes.ArgMax(original), raw, score, score > threshold);
    }

    private HostExpectation Result(byte[] logits) => new(LogitBytes.ArgMax(LogitBytes.Decode(logits, _logitWidth)), logits);

    private byte[] Run(byte[]? pixels, float[]? values)
    {
        var set = new ImageSet("hil", Height, Width, Channels, [0], pixels, values);
        return _engine.RawOutputs(set, 0, 1);
    }

    public void Dispose() => _engine.Dispose();
}

/// <summary>
/// The fake executor's documented checksum "model" (firmware/protocol/fake/qnn_fake_device.h), uploaded as a
/// FAKEQNN1 blob: lets runs, resume and fault handling be tested on a sim without the device core.
/// </summary>
public sealed class FakeHilModel : IHilModel
{
    private readonly int _outputs;

    public FakeHilModel(int height = 32, int width = 32, int channels = 3, int outputs = 10, string name = "fake-hil")
    {
        (Height, Width, Channels, _outputs, Name) = (height, width, channels, outputs, name);
        var b = new List<byte>(Encoding.ASCII.GetBytes("FAKEQNN1"));
        foreach (int v in new[] { height, width, channels, outputs })
        {
            b.Add((byte)v);
            b.Add((byte)(v >> 8));
        }
        b.AddRange([1, 1, 1]); // int8, 1-byte inputs, 1-byte outputs
        b.AddRange(Encoding.ASCII.GetBytes(name));
        Blob = [.. b];
        BlobHash = SHA256.HashData(Blob);
        SourceHash = Convert.ToHexStringLower(BlobHash);
    }

    public string Name { get; }
    public string Precision => "int8";
    public string SourceHash { get; }
    public byte[] Blob { get; }
    public byte[] BlobHash { get; }
    public int Height { get; }
    public int Width { get; }
    public int Channels { get; }

    public float DeviceThreshold(double threshold) => (float)threshold;

    public HostExpectation Expect(byte[] pixels, SqueezeSettings squeeze)
    {
        if (squeeze.Median > 1 || squeeze.Detector)
        {
            throw new NotSupportedException("the fake executor squeezes bit depth only");
        }
        int[] logits = Logits(pixels, squeeze.Bits);
        return new HostExpectation(LogitBytes.ArgMax(logits), LogitBytes.Encode(logits, 1));
    }

    /// <summary>logit_k = (sum of x[i], i % n == k) mod 256 - 128, x = the pixel's top b bits when squeezing.</summary>
    public int[] Logits(byte[] pixels, int bits)
    {
        var sums = new long[_outputs];
        int mask = bits is > 0 and < 8 ? 0xFF << (8 - bits) & 0xFF : 0xFF;
        for (int i = 0; i < pixels.Length; i++)
        {
            sums[i % _outputs] += pixels[i] & mask;
        }
        return sums.Select(s => (int)(s % 256) - 128).ToArray();
    }

    public void Dispose()
    {
    }
}
