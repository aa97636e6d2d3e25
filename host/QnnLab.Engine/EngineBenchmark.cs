using System.Diagnostics;
using QnnLab.Model;

namespace QnnLab.Engine;

/// <summary>Throughput of the integer engine on one thread (the CLI's `qnnlab bench engine`).</summary>
public static class EngineBenchmark
{
    public sealed record Result(string Model, int Batch, int Images, double Seconds, double ImagesPerSecond, long PeakWorkingSetBytes, bool Vectorised);

    /// <summary>
    /// Runs the model on random (seeded) inputs in batches of <paramref name="batch"/> for about
    /// <paramref name="seconds"/> seconds after one warm-up batch, on the calling thread.
    /// </summary>
    public static Result Run(QnnModel model, int batch, double seconds, KernelPath path = KernelPath.Auto)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        IntegerModel compiled = IntegerModel.Compile(model);
        using var engine = new IntegerEngine(compiled, batch, path);
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
        int images = 0;
        var sw = Stopwatch.StartNew();
        do
        {
            Once();
            images += batch;
        }
        while (sw.Elapsed.TotalSeconds < seconds);
        sw.Stop();
        using Process self = Process.GetCurrentProcess();
        self.Refresh();
        return new Result(model.Name, batch, images, sw.Elapsed.TotalSeconds, images / sw.Elapsed.TotalSeconds, self.PeakWorkingSet64, engine.Vectorised);
    }
}
