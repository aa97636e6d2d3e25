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

/// <summary>
/// The bit-exact integer engine behind <see cref="IClassifier"/>; also exposes raw outputs. With several threads,
/// batches of <see cref="MaxBatch"/> images are shared out to one engine per thread; every image's result is the
/// one a single thread gives (the engine computes each image on its own).
/// </summary>
public sealed class IntegerClassifier : IClassifier
{
    private readonly Worker[] _workers;

    public IntegerClassifier(QnnModel model, int maxBatch = 64, KernelPath path = KernelPath.Auto, int threads = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        Model = model;
        Compiled = IntegerModel.Compile(model);
        MaxBatch = maxBatch;
        TensorSlot input = Compiled.Input;
        (Height, Width, Channels) = (input.Height, input.Width, input.Channels);
        Classes = Compiled.OutputSize;
        _workers = new Worker[threads];
        for (int t = 0; t < threads; t++)
        {
            _workers[t] = new Worker(this, path);
        }
    }

    public QnnModel Model { get; }
    public IntegerModel Compiled { get; }
    public int MaxBatch { get; }
    public int Threads => _workers.Length;
    public Precision Precision => Compiled.ActivationType == ElementType.Int8 ? Precision.Int8 : Precision.Int16;
    public int Classes { get; }
    public int Height { get; }
    public int Width { get; }
    public int Channels { get; }

    /// <summary>The engine's kernel path per operator type (see <see cref="IntegerEngine.OperatorPaths"/>).</summary>
    public IReadOnlyDictionary<string, string> OperatorPaths() => _workers[0].Engine.OperatorPaths();

    public void Classify(ImageSet set, int start, int count, Span<int> labels, Span<float> probabilities)
    {
        CheckShape(this, set);
        int[] labelArray = new int[count];
        float[] probArray = new float[count * Classes];
        ForEachBatch(count, (w, done, n) =>
        {
            w.Run(set, start + done, n);
            for (int i = 0; i < n; i++)
            {
                float[] p;
                if (Precision == Precision.Int8)
                {
                    ReadOnlySpan<sbyte> row = w.Out8.AsSpan(i * Classes, Classes);
                    labelArray[done + i] = EngineIo.ArgMax(row);
                    p = EngineIo.Probabilities(Compiled, row);
                }
                else
                {
                    ReadOnlySpan<short> row = w.Out16.AsSpan(i * Classes, Classes);
                    labelArray[done + i] = EngineIo.ArgMax(row);
                    p = EngineIo.Probabilities(Compiled, row);
                }
                p.CopyTo(probArray.AsSpan((done + i) * Classes, Classes));
            }
        });
        labelArray.CopyTo(labels);
        probArray.CopyTo(probabilities);
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
        ForEachBatch(count, (w, done, n) =>
        {
            w.Run(set, start + done, n);
            ReadOnlySpan<byte> src = Precision == Precision.Int8
                ? System.Runtime.InteropServices.MemoryMarshal.AsBytes(w.Out8.AsSpan(0, n * Classes))
                : System.Runtime.InteropServices.MemoryMarshal.AsBytes(w.Out16.AsSpan(0, n * Classes));
            src.CopyTo(result.AsSpan(done * Classes * width));
        });
        return result;
    }

    /// <summary>
    /// Raw quantized outputs (little-endian bytes) of one image given as the model's quantized input tensor
    /// (int8 or int16 values): what a board sent that tensor over INPUT_TENSOR must answer.
    /// </summary>
    public byte[] RawOutputsOfTensor(ReadOnlySpan<short> tensor)
    {
        if (tensor.Length != Compiled.InputSize)
        {
            throw new ArgumentException($"tensor of {tensor.Length} values for a model taking {Compiled.InputSize}");
        }
        lock (_workers)
        {
            Worker w = _workers[0];
            if (Precision == Precision.Int8)
            {
                var q = new sbyte[tensor.Length];
                for (int i = 0; i < q.Length; i++)
                {
                    q[i] = checked((sbyte)tensor[i]);
                }
                w.Engine.Run(q, 1, w.Out8.AsSpan(0, Classes));
                return System.Runtime.InteropServices.MemoryMarshal.AsBytes(w.Out8.AsSpan(0, Classes)).ToArray();
            }
            w.Engine.Run(tensor, 1, w.Out16.AsSpan(0, Classes));
            return System.Runtime.InteropServices.MemoryMarshal.AsBytes(w.Out16.AsSpan(0, Classes)).ToArray();
        }
    }

    /// <summary>Runs <paramref name="body"/>(worker, offset, n) on every batch of up to <see cref="MaxBatch"/> images, one worker per thread.</summary>
    private void ForEachBatch(int count, Action<Worker, int, int> body)
    {
        int batches = (count + MaxBatch - 1) / MaxBatch;
        int threads = Math.Min(_workers.Length, batches);
        if (threads <= 1)
        {
            for (int done = 0; done < count; done += MaxBatch)
            {
                body(_workers[0], done, Math.Min(MaxBatch, count - done));
            }
            return;
        }
        int next = -1;
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            for (int b = Interlocked.Increment(ref next); b < batches; b = Interlocked.Increment(ref next))
            {
                int done = b * MaxBatch;
                body(_workers[t], done, Math.Min(MaxBatch, count - done));
            }
        });
    }

    /// <summary>One thread's engine and buffers.</summary>
    private sealed class Worker : IDisposable
    {
        private readonly IntegerClassifier _owner;
        private readonly float[] _pixels;
        private readonly sbyte[] _in8 = [];
        private readonly short[] _in16 = [];

        public Worker(IntegerClassifier owner, KernelPath path)
        {
            _owner = owner;
            IntegerModel m = owner.Compiled;
            Engine = new IntegerEngine(m, owner.MaxBatch, path);
            _pixels = new float[owner.MaxBatch * m.InputSize];
            if (m.ActivationType == ElementType.Int8)
            {
                _in8 = new sbyte[owner.MaxBatch * m.InputSize];
                Out8 = new sbyte[owner.MaxBatch * owner.Classes];
            }
            else
            {
                _in16 = new short[owner.MaxBatch * m.InputSize];
                Out16 = new short[owner.MaxBatch * owner.Classes];
            }
        }

        public IntegerEngine Engine { get; }
        public sbyte[] Out8 { get; } = [];
        public short[] Out16 { get; } = [];

        public void Run(ImageSet set, int start, int n)
        {
            IntegerModel m = _owner.Compiled;
            int size = m.InputSize;
            for (int i = 0; i < n; i++)
            {
                set.CopyImage(start + i, _pixels.AsSpan(i * size, size));
            }
            ReadOnlySpan<float> px = _pixels.AsSpan(0, n * size);
            if (m.ActivationType == ElementType.Int8)
            {
                EngineIo.QuantizeInput(m, px, _owner.Model.Preprocessing, _in8.AsSpan(0, n * size));
                Engine.Run(_in8.AsSpan(0, n * size), n, Out8.AsSpan(0, n * _owner.Classes));
            }
            else
            {
                EngineIo.QuantizeInput(m, px, _owner.Model.Preprocessing, _in16.AsSpan(0, n * size));
                Engine.Run(_in16.AsSpan(0, n * size), n, Out16.AsSpan(0, n * _owner.Classes));
            }
        }

        public void Dispose() => Engine.Dispose();
    }

    internal static void CheckShape(IClassifier c, ImageSet set)
    {
        if (set.Height != c.Height || set.Width != c.Width || set.Channels != c.Channels)
        {
            throw new InvalidDataException(
                $"{set.Source}: images are {set.Height}x{set.Width}x{set.Channels} but model '{c.Model.Name}' takes {c.Height}x{c.Width}x{c.Channels}");
        }
    }

    public void Dispose()
    {
        foreach (Worker w in _workers)
        {
            w.Dispose();
        }
    }
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
