using System.Diagnostics;
using QnnLab.Model;

namespace QnnLab.Engine;

/// <summary>Throughput of the integer engine (the CLI's `qnnlab bench engine`).</summary>
public static class EngineBenchmark
{
    /// <param name="OperatorPaths">The kernel path each operator type ran on (see <see cref="IntegerEngine.OperatorPaths"/>).</param>
    public sealed record Result(string Model, string Path, int Batch, int Threads, int Images, double Seconds, double ImagesPerSecond,
        long PeakWorkingSetBytes, IReadOnlyDictionary<string, string> OperatorPaths, IReadOnlyList<OperatorTime>? Profile = null);

    /// <summary>One operator's share of the run: what it is, the path it ran on, seconds per image.</summary>
    public sealed record OperatorTime(int Index, string Kind, string Shape, string Path, double SecondsPerImage, double Share);

    /// <summary>
    /// Runs the model on random (seeded) inputs in batches of <paramref name="batch"/> for about
    /// <paramref name="seconds"/> seconds after one warm-up batch, on <paramref name="threads"/> threads with an
    /// engine each (1: the calling thread).
    /// </summary>
    /// <param name="profile">Also time every operator (on the first thread's engine).</param>
    public static Result Run(QnnModel model, int batch, double seconds, KernelPath path = KernelPath.Auto, int threads = 1, bool profile = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        IntegerModel compiled = IntegerModel.Compile(model);
        var engines = new IntegerEngine[threads];
        for (int t = 0; t < threads; t++)
        {
            engines[t] = new IntegerEngine(compiled, batch, path);
        }
        if (profile)
        {
            engines[0].StartProfile();
        }
        try
        {
            var counts = new int[threads];
            var sw = Stopwatch.StartNew();
            if (threads == 1)
            {
                counts[0] = Loop(engines[0], batch, seconds, sw);
            }
            else
            {
                using var start = new Barrier(threads, _ => sw.Restart());
                Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
                {
                    counts[t] = Loop(engines[t], batch, seconds, sw, start);
                });
            }
            double elapsed = sw.Elapsed.TotalSeconds;
            int images = counts.Sum();
            using Process self = Process.GetCurrentProcess();
            self.Refresh();
            return new Result(model.Name, KernelIsa.Name(path), batch, threads, images, elapsed, images / elapsed, self.PeakWorkingSet64,
                engines[0].OperatorPaths(), profile ? Times(engines[0], counts[0] + batch) : null);
        }
        finally
        {
            foreach (IntegerEngine e in engines)
            {
                e.Dispose();
            }
        }
    }

    /// <summary>Per-operator seconds per image over the engine's <paramref name="images"/> (warm-up included).</summary>
    private static List<OperatorTime> Times(IntegerEngine engine, int images)
    {
        IReadOnlyList<(CompiledOp Op, double Seconds)> p = engine.Profile();
        double total = p.Sum(t => t.Seconds);
        return [.. p.Select((t, i) => new OperatorTime(i, t.Op.Kind.ToString(), Describe(t.Op), engine.PathOf(t.Op), t.Seconds / images,
            total > 0 ? t.Seconds / total : 0))];
    }

    /// <summary>Input -> output shape (H x W x C per image), with the kernel and stride where there is one.</summary>
    public static string Describe(CompiledOp op)
    {
        static string S(TensorSlot t) => $"{t.Height}x{t.Width}x{t.Channels}";
        return op switch
        {
            ConvPlan c => $"{S(c.Input)} -> {S(c.Output)}, {c.KernelH}x{c.KernelW}/{c.StrideH}",
            DepthwisePlan d => $"{S(d.Input)} -> {S(d.Output)}, {d.KernelH}x{d.KernelW}/{d.StrideH}",
            FullyConnectedPlan f => $"{f.InputDepth} -> {f.OutputDepth}",
            PoolPlan p => $"{S(p.Input)} -> {S(p.Output)}",
            AddPlan a => S(a.Output),
            PadPlan p => $"{S(p.Input)} -> {S(p.Output)}",
            _ => S(op.Output),
        };
    }

    /// <summary>One warm-up batch, then batches until the shared clock passes <paramref name="seconds"/>.</summary>
    private static int Loop(IntegerEngine engine, int batch, double seconds, Stopwatch clock, Barrier? start = null)
    {
        IntegerModel compiled = engine.Model;
        var rng = new Random(12345);
        int inBytes = compiled.Input.BytesPerImage * batch, outBytes = compiled.Output.BytesPerImage * batch;
        bool is16 = compiled.ActivationType == ElementType.Int16;
        var in8 = new sbyte[is16 ? 0 : inBytes];
        var out8 = new sbyte[is16 ? 0 : outBytes];
        var in16 = new short[is16 ? inBytes / 2 : 0];
        var out16 = new short[is16 ? outBytes / 2 : 0];
        for (int i = 0; i < in8.Length; i++)
        {
            in8[i] = (sbyte)rng.Next(-128, 128);
        }
        for (int i = 0; i < in16.Length; i++)
        {
            in16[i] = (short)rng.Next(0, 32768);
        }
        void Once()
        {
            if (is16)
            {
                engine.Run(in16, batch, out16);
            }
            else
            {
                engine.Run(in8, batch, out8);
            }
        }
        Once();
        if (start is null)
        {
            clock.Restart();
        }
        else
        {
            start.SignalAndWait();
        }
        int images = 0;
        do
        {
            Once();
            images += batch;
        }
        while (clock.Elapsed.TotalSeconds < seconds);
        return images;
    }
}
