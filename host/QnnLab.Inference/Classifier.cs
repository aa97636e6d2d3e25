using QnnLab.Data;
using QnnLab.Engine;
using QnnLab.Model;
using QnnLab.Torch;

namespace QnnLab.Inference;

/// <summary>A model that labels images, whatever engine runs it.</summary>
public interface IClassifier : IDisposable
{
    QnnModel Model { get; }
    Precision Precision { get; }
    int Classes { get; }
    int Height { get; }
    int Width { get; }
    int Channels { get; }

    /// <summary>Classifies images [start, start+count) of <paramref name="set"/> (pixel units).</summary>
    void Classify(ImageSet set, int start, int count, Span<int> labels, Span<float> probabilities);
}

/// <summary>The bit-exact integer engine behind <see cref="IClassifier"/>; also exposes raw outputs.</summary>
public sealed class IntegerClassifier : IClassifier
{
    private readonly IntegerEngine _engine;
    private readonly float[] _pixels;
    private readonly sbyte[] _in8 = [];
    private readonly short[] _in16 = [];
    private readonly sbyte[] _out8 = [];
    private readonly short[] _out16 = [];

    public IntegerClassifier(QnnModel model, int maxBatch = 64, KernelPath path = KernelPath.Auto)
    {
        Model = model;
        Compiled = IntegerModel.Compile(model);
        _engine = new IntegerEngine(Compiled, maxBatch, path);
        MaxBatch = maxBatch;
        TensorSlot input = Compiled.Input;
        (Height, Width, Channels) = (input.Height, input.Width, input.Channels);
        Classes = Compiled.OutputSize;
        _pixels = new float[maxBatch * Compiled.InputSize];
        if (Compiled.ActivationType == ElementType.Int8)
        {
            _in8 = new sbyte[maxBatch * Compiled.InputSize];
            _out8 = new sbyte[maxBatch * Classes];
        }
        else
        {
            _in16 = new short[maxBatch * Compiled.InputSize];
            _out16 = new short[maxBatch * Classes];
        }
    }

    public QnnModel Model { get; }
    public IntegerModel Compiled { get; }
    public int MaxBatch { get; }
    public Precision Precision => Compiled.ActivationType == ElementType.Int8 ? Precision.Int8 : Precision.Int16;
    public int Classes { get; }
    public int Height { get; }
    public int Width { get; }
    public int Channels { get; }
    public bool Vectorised => _engine.Vectorised;

    public void Classify(ImageSet set, int start, int count, Span<int> labels, Span<float> probabilities)
    {
        CheckShape(this, set);
        for (int done = 0; done < count; done += MaxBatch)
        {
            int n = Math.Min(MaxBatch, count - done);
            RunRaw(set, start + done, n);
            for (int i = 0; i < n; i++)
            {
                float[] p;
                if (Precision == Precision.Int8)
                {
                    ReadOnlySpan<sbyte> row = _out8.AsSpan(i * Classes, Classes);
                    labels[done + i] = EngineIo.ArgMax(row);
                    p = EngineIo.Probabilities(Compiled, row);
                }
                else
                {
                    ReadOnlySpan<short> row = _out16.AsSpan(i * Classes, Classes);
                    labels[done + i] = EngineIo.ArgMax(row);
                    p = EngineIo.Probabilities(Compiled, row);
                }
                p.CopyTo(probabilities.Slice((done + i) * Classes, Classes));
            }
        }
    }

    /// <summary>
    /// Raw quantized outputs (little-endian int8 or int16 bytes, <see cref="Classes"/> values per image) of
    /// images [start, start+count): what a board must reproduce bit for bit.
    /// </summary>
    public byte[] RawOutputs(ImageSet set, int start, int count)
    {
        CheckShape(this, set);
        int width = Precision == Precision.Int8 ? 1 : 2;
        var result = new byte[count * Classes * width];
        for (int done = 0; done < count; done += MaxBatch)
        {
            int n = Math.Min(MaxBatch, count - done);
            RunRaw(set, start + done, n);
            ReadOnlySpan<byte> src = Precision == Precision.Int8
                ? System.Runtime.InteropServices.MemoryMarshal.AsBytes(_out8.AsSpan(0, n * Classes))
                : System.Runtime.InteropServices.MemoryMarshal.AsBytes(_out16.AsSpan(0, n * Classes));
            src.CopyTo(result.AsSpan(done * Classes * width));
        }
        return result;
    }

    private void RunRaw(ImageSet set, int start, int n)
    {
        int size = Compiled.InputSize;
        for (int i = 0; i < n; i++)
        {
            set.CopyImage(start + i, _pixels.AsSpan(i * size, size));
        }
        ReadOnlySpan<float> px = _pixels.AsSpan(0, n * size);
        if (Precision == Precision.Int8)
        {
            EngineIo.QuantizeInput(Compiled, px, Model.Preprocessing, _in8.AsSpan(0, n * size));
            _engine.Run(_in8.AsSpan(0, n * size), n, _out8.AsSpan(0, n * Classes));
        }
        else
        {
            EngineIo.QuantizeInput(Compiled, px, Model.Preprocessing, _in16.AsSpan(0, n * size));
            _engine.Run(_in16.AsSpan(0, n * size), n, _out16.AsSpan(0, n * Classes));
        }
    }

    internal static void CheckShape(IClassifier c, ImageSet set)
    {
        if (set.Height != c.Height || set.Width != c.Width || set.Channels != c.Channels)
        {
            throw new InvalidDataException(
                $"{set.Source}: images are {set.Height}x{set.Width}x{set.Channels} but model '{c.Model.Name}' takes {c.Height}x{c.Width}x{c.Channels}");
        }
    }

    public void Dispose() => _engine.Dispose();
}

/// <summary>The TorchSharp float engine behind <see cref="IClassifier"/> (float models, or an int model's dequantized view).</summary>
public sealed class FloatClassifier : IClassifier
{
    private readonly FloatEngine _engine;

    public FloatClassifier(QnnModel model, FloatEngineOptions? options = null)
    {
        Model = model;
        _engine = new FloatEngine(model, options);
    }

    public QnnModel Model { get; }
    public FloatEngine Engine => _engine;
    public Precision Precision => Precision.Float;
    public int Classes => _engine.Classes;
    public int Height => _engine.Height;
    public int Width => _engine.Width;
    public int Channels => _engine.Channels;

    public void Classify(ImageSet set, int start, int count, Span<int> labels, Span<float> probabilities)
    {
        IntegerClassifier.CheckShape(this, set);
        const int Batch = 64;
        for (int done = 0; done < count; done += Batch)
        {
            int n = Math.Min(Batch, count - done);
            ForwardResult r = _engine.Forward(set, start + done, n);
            r.Predictions().CopyTo(labels.Slice(done, n));
            r.Probabilities.AsSpan(0, n * Classes).CopyTo(probabilities.Slice(done * Classes, n * Classes));
        }
    }

    public void Dispose() => _engine.Dispose();
}
