using QnnLab.Engine;
using QnnLab.Model;

namespace QnnLab.Attacks.Targets;

/// <summary>
/// `int8` / `int16`: the bit-exact integer engine (what the board computes). Each image is quantized with the model's
/// own input quantization (int8 with scale 1/255 lands on the pixel grid; int16 with 1/32767 keeps sub-pixel
/// perturbations). Scores are the dequantized softmax output; no gradients. With several threads a query batch is
/// split into contiguous parts, one engine each; every image's answer is the one a single thread gives (the engine
/// computes each image on its own).
/// </summary>
public sealed class IntegerTarget : AttackTarget
{
    private readonly QnnModel _model;
    private readonly IntegerEngine[] _engines;
    private readonly object _lock = new();

    /// <summary>Images a thread gets at least: below that, waking another thread costs more than it saves.</summary>
    private const int MinImagesPerThread = 8;

    public IntegerTarget(QnnModel model, int maxBatch = 64, KernelPath path = KernelPath.Auto, int threads = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        if (model.Precision == Precision.Float)
        {
            throw new ArgumentException($"{model.Name}: is a float model; the integer target needs an int8/int16 model");
        }
        _model = model;
        Compiled = IntegerModel.Compile(model);
        _engines = [.. Enumerable.Range(0, threads).Select(_ => new IntegerEngine(Compiled, maxBatch, path))];
        Name = Compiled.ActivationType == ElementType.Int8 ? "int8" : "int16";
        TensorSlot input = Compiled.Input;
        (Height, Width, Channels) = (input.Height, input.Width, input.Channels);
        Classes = Compiled.OutputSize;
    }

    public override string Name { get; }
    public override TargetCapabilities Capabilities => TargetCapabilities.Labels | TargetCapabilities.Scores;
    public override int Classes { get; }
    public override int Height { get; }
    public override int Width { get; }
    public override int Channels { get; }
    public IntegerModel Compiled { get; }
    public QnnModel Model => _model;
    public int Threads => _engines.Length;

    /// <summary>The quantized input tensor of each image, as the engine (and a board, via INPUT_TENSOR) receives it.</summary>
    public byte[] QuantizedInput(ReadOnlySpan<float> x)
    {
        float[] pixels = ToPixels(x);
        if (Compiled.ActivationType == ElementType.Int8)
        {
            var q = new sbyte[x.Length];
            EngineIo.QuantizeInput(Compiled, pixels, _model.Preprocessing, q);
            return System.Runtime.InteropServices.MemoryMarshal.AsBytes(q.AsSpan()).ToArray();
        }
        var q16 = new short[x.Length];
        EngineIo.QuantizeInput(Compiled, pixels, _model.Preprocessing, q16);
        return System.Runtime.InteropServices.MemoryMarshal.AsBytes(q16.AsSpan()).ToArray();
    }

    /// <summary>Raw output values (int8 or int16 widened to int) of <paramref name="n"/> images: what a board must equal.</summary>
    public int[] RawOutputs(ReadOnlySpan<float> x, int n)
    {
        float[] pixels = ToPixels(x);
        var result = new int[n * Classes];
        lock (_lock)
        {
            if (Compiled.ActivationType == ElementType.Int8)
            {
                var q = new sbyte[x.Length];
                var o = new sbyte[n * Classes];
                EngineIo.QuantizeInput(Compiled, pixels, _model.Preprocessing, q);
                InParts(n, (e, start, k) => e.Run(q.AsSpan(start * ImageSize, k * ImageSize), k, o.AsSpan(start * Classes, k * Classes)));
                for (int i = 0; i < o.Length; i++)
                {
                    result[i] = o[i];
                }
            }
            else
            {
                var q = new short[x.Length];
                var o = new short[n * Classes];
                EngineIo.QuantizeInput(Compiled, pixels, _model.Preprocessing, q);
                InParts(n, (e, start, k) => e.Run(q.AsSpan(start * ImageSize, k * ImageSize), k, o.AsSpan(start * Classes, k * Classes)));
                for (int i = 0; i < o.Length; i++)
                {
                    result[i] = o[i];
                }
            }
        }
        return result;
    }

    /// <summary>Images [0, n) in contiguous parts, one engine (thread) each.</summary>
    private void InParts(int n, Action<IntegerEngine, int, int> run)
    {
        int parts = Math.Clamp(n / MinImagesPerThread, 1, _engines.Length);
        if (parts == 1)
        {
            run(_engines[0], 0, n);
            return;
        }
        int each = (n + parts - 1) / parts;
        Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = parts }, t =>
        {
            int start = t * each;
            if (start < n)
            {
                run(_engines[t], start, Math.Min(each, n - start));
            }
        });
    }

    protected override float[] ComputeScores(ReadOnlySpan<float> x, int n)
    {
        int[] raw = RawOutputs(x, n);
        var scores = new float[raw.Length];
        for (int i = 0; i < n; i++)
        {
            float[] p = Compiled.ActivationType == ElementType.Int8
                ? EngineIo.Probabilities(Compiled, raw.AsSpan(i * Classes, Classes).ToArray().Select(v => (sbyte)v).ToArray())
                : EngineIo.Probabilities(Compiled, raw.AsSpan(i * Classes, Classes).ToArray().Select(v => (short)v).ToArray());
            p.CopyTo(scores, i * Classes);
        }
        return scores;
    }

    /// <summary>Labels from the raw outputs (ties to the lowest class), exactly as the board's.</summary>
    protected override int[] ComputeLabels(ReadOnlySpan<float> x, int n)
    {
        int[] raw = RawOutputs(x, n);
        var labels = new int[n];
        for (int i = 0; i < n; i++)
        {
            int best = 0;
            for (int c = 1; c < Classes; c++)
            {
                if (raw[(i * Classes) + c] > raw[(i * Classes) + best])
                {
                    best = c;
                }
            }
            labels[i] = best;
        }
        return labels;
    }

    public override float[] Effective(ReadOnlySpan<float> x)
    {
        (float scale, int zp) = Compiled.InputQuantization;
        InputPreprocessing pre = _model.Preprocessing;
        float[] pixels = ToPixels(x);
        var result = new float[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            int q = EngineIo.Quantize(pixels[i], pre, scale, zp, Compiled.ActivationType == ElementType.Int8 ? sbyte.MinValue : short.MinValue,
                Compiled.ActivationType == ElementType.Int8 ? sbyte.MaxValue : short.MaxValue);
            double real = (double)scale * (q - zp);
            result[i] = (float)((real - pre.Offset) / pre.Scale / 255.0);
        }
        return result;
    }

    private static float[] ToPixels(ReadOnlySpan<float> x)
    {
        var pixels = new float[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            pixels[i] = x[i] * 255f;
        }
        return pixels;
    }

    public override void Dispose()
    {
        foreach (IntegerEngine e in _engines)
        {
            e.Dispose();
        }
        base.Dispose();
    }
}
