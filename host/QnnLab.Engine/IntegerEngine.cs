using System.Diagnostics;
using System.Runtime.InteropServices;
using QnnLab.Engine.Kernels;
using QnnLab.Model;

namespace QnnLab.Engine;

/// <summary>
/// Runs a compiled integer model on batches of images, bit-exactly as TFLM's reference kernels.
/// Holds the arena and scratch buffers: one engine per thread (the <see cref="IntegerModel"/> can be shared).
/// The run loop allocates nothing; batches larger than <see cref="MaxBatch"/> are processed in tiles.
/// </summary>
public sealed unsafe class IntegerEngine : IDisposable
{
    private readonly byte[] _arena;
    private readonly byte* _arenaPtr;
    private readonly FastKernels? _fast;
    private GCHandle _arenaHandle;
    private long[]? _opTicks;

    public IntegerEngine(IntegerModel model, int maxBatch = 64, KernelPath path = KernelPath.Auto)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        Model = model;
        MaxBatch = maxBatch;
        _arena = new byte[Math.Max(1, model.ArenaBytesPerImage * maxBatch) + 64];
        _arenaHandle = GCHandle.Alloc(_arena, GCHandleType.Pinned);
        _arenaPtr = (byte*)_arenaHandle.AddrOfPinnedObject();
        _arenaPtr += (64 - ((long)_arenaPtr % 64)) % 64; // align the arena base for vector loads
        Isa = KernelIsa.For(path);
        if (FastKernels.Supports(Isa))
        {
            _fast = new FastKernels(model, Isa);
        }
    }

    /// <summary>The instruction sets this engine's kernels use.</summary>
    public KernelIsa Isa { get; }

    public IntegerModel Model { get; }
    public int MaxBatch { get; }
    public long ArenaBytes => _arena.LongLength;

    /// <summary>The kernel path <paramref name="op"/> runs on: avx-vnni, avx512bw, avx2, portable or reference.</summary>
    public string PathOf(CompiledOp op) => _fast?.PathOf(op) ?? KernelIsa.ReferenceName;

    /// <summary>
    /// For each operator type of the model, the paths its operators run on (e.g. CONV_2D: avx512bw; ADD: avx2),
    /// in the model's order: what `bench engine` and `eval --json` report.
    /// </summary>
    public IReadOnlyDictionary<string, string> OperatorPaths()
    {
        var result = new Dictionary<string, List<string>>();
        foreach (CompiledOp op in Model.Ops)
        {
            string kind = op.Kind.ToString();
            if (!result.TryGetValue(kind, out List<string>? paths))
            {
                result[kind] = paths = [];
            }
            string path = PathOf(op);
            if (!paths.Contains(path))
            {
                paths.Add(path);
            }
        }
        return result.ToDictionary(kv => kv.Key, kv => string.Join("+", kv.Value));
    }

    /// <summary>Runs <paramref name="batch"/> int8 images (HWC, concatenated) and writes their int8 outputs.</summary>
    public void Run(ReadOnlySpan<sbyte> inputs, int batch, Span<sbyte> outputs)
    {
        CheckType(ElementType.Int8);
        RunBytes(MemoryMarshal.AsBytes(inputs), batch, MemoryMarshal.AsBytes(outputs));
    }

    /// <summary>Runs <paramref name="batch"/> int16 images and writes their int16 outputs.</summary>
    public void Run(ReadOnlySpan<short> inputs, int batch, Span<short> outputs)
    {
        CheckType(ElementType.Int16);
        RunBytes(MemoryMarshal.AsBytes(inputs), batch, MemoryMarshal.AsBytes(outputs));
    }

    /// <summary>
    /// Runs one image and returns every operator's output widened to int, in execution order
    /// (for debugging against another implementation).
    /// </summary>
    public IReadOnlyList<(CompiledOp Op, int[] Values)> RunWithIntermediates(ReadOnlySpan<byte> inputBytes)
    {
        var list = new List<(CompiledOp, int[])>();
        int inBytes = Model.Input.BytesPerImage;
        if (inputBytes.Length != inBytes)
        {
            throw new ArgumentException($"expected {inBytes} input bytes, got {inputBytes.Length}");
        }
        inputBytes.CopyTo(new Span<byte>(_arenaPtr + Model.Input.OffsetPerImage, inBytes));
        foreach (CompiledOp op in Model.Ops)
        {
            Execute(op, 1);
            list.Add((op, ReadSlot(op.Output, 1)));
        }
        return list;
    }

    private int[] ReadSlot(TensorSlot slot, int batch)
    {
        int n = slot.ElementsPerImage * batch;
        var values = new int[n];
        byte* p = _arenaPtr + (slot.OffsetPerImage * batch);
        for (int i = 0; i < n; i++)
        {
            values[i] = slot.Type == ElementType.Int16 ? ((short*)p)[i] : ((sbyte*)p)[i];
        }
        return values;
    }

    private void CheckType(ElementType t)
    {
        if (Model.ActivationType != t)
        {
            throw new InvalidOperationException($"model '{Model.Source.Name}' takes {Model.ActivationType} inputs, not {t}");
        }
    }

    private void RunBytes(ReadOnlySpan<byte> inputs, int batch, Span<byte> outputs)
    {
        int inBytes = Model.Input.BytesPerImage, outBytes = Model.Output.BytesPerImage;
        if (inputs.Length < (long)inBytes * batch || outputs.Length < (long)outBytes * batch)
        {
            throw new ArgumentException($"buffers too small for {batch} images ({inBytes} input and {outBytes} output bytes each)");
        }
        for (int start = 0; start < batch; start += MaxBatch)
        {
            int tile = Math.Min(MaxBatch, batch - start);
            inputs.Slice(start * inBytes, tile * inBytes).CopyTo(new Span<byte>(_arenaPtr + (Model.Input.OffsetPerImage * tile), tile * inBytes));
            if (_opTicks is null)
            {
                foreach (CompiledOp op in Model.Ops)
                {
                    Execute(op, tile);
                }
            }
            else
            {
                RunTimed(tile, _opTicks);
            }
            new ReadOnlySpan<byte>(_arenaPtr + (Model.Output.OffsetPerImage * tile), tile * outBytes).CopyTo(outputs.Slice(start * outBytes, tile * outBytes));
        }
    }

    /// <summary>
    /// From now on, every run adds each operator's wall time to a per-operator total (`bench engine --profile`);
    /// off by default, the timed loop is a separate one so the plain run pays nothing.
    /// </summary>
    public void StartProfile() => _opTicks = new long[Model.Ops.Count];

    /// <summary>Seconds spent in each operator (in the model's order) since <see cref="StartProfile"/>.</summary>
    public IReadOnlyList<(CompiledOp Op, double Seconds)> Profile()
        => _opTicks is null ? [] : [.. Model.Ops.Select((op, i) => (op, _opTicks[i] / (double)Stopwatch.Frequency))];

    private void RunTimed(int tile, long[] ticks)
    {
        for (int i = 0; i < Model.Ops.Count; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            Execute(Model.Ops[i], tile);
            ticks[i] += Stopwatch.GetTimestamp() - t0;
        }
    }

    private byte* At(TensorSlot slot, int batch) => _arenaPtr + (slot.OffsetPerImage * batch);

    private void Execute(CompiledOp op, int batch)
    {
        void* output = At(op.Output, batch);
        switch (op)
        {
            case ConvPlan p:
                if (_fast is null || !_fast.Conv(p, At(p.Input, batch), output, batch))
                {
                    ReferenceKernels.Conv(p, At(p.Input, batch), output, batch);
                }
                break;
            case DepthwisePlan p:
                if (_fast is null || !_fast.Depthwise(p, At(p.Input, batch), output, batch))
                {
                    ReferenceKernels.Depthwise(p, At(p.Input, batch), output, batch);
                }
                break;
            case FullyConnectedPlan p:
                if (_fast is null || !_fast.FullyConnected(p, At(p.Input, batch), output, batch))
                {
                    ReferenceKernels.FullyConnected(p, At(p.Input, batch), output, batch);
                }
                break;
            case PoolPlan p:
                ReferenceKernels.Pool(p, At(p.Input, batch), output, batch);
                break;
            case AddPlan p:
                if (_fast is null || !_fast.Add(p, At(p.Input1, batch), At(p.Input2, batch), output, batch))
                {
                    ReferenceKernels.Add(p, At(p.Input1, batch), At(p.Input2, batch), output, batch);
                }
                break;
            case PadPlan p:
                ReferenceKernels.Pad(p, At(p.Input, batch), output, batch);
                break;
            case ReshapePlan p:
                Buffer.MemoryCopy(At(p.Input, batch), output, (long)p.Output.BytesPerImage * batch, (long)p.Input.BytesPerImage * batch);
                break;
            case SoftmaxPlan p:
                ReferenceKernels.Softmax(p, At(p.Input, batch), output, batch);
                break;
            case RequantizePlan p:
                ReferenceKernels.Requantize(p, At(p.Input, batch), output, batch);
                break;
            default:
                throw new InvalidOperationException($"no kernel for {op.GetType().Name}");
        }
    }

    public void Dispose()
    {
        if (_arenaHandle.IsAllocated)
        {
            _arenaHandle.Free();
        }
        _fast?.Dispose();
    }
}
