using System.Diagnostics;
using QnnLab.Model;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace QnnLab.Torch;

/// <summary>Inference throughput of the float engine on random pixel batches.</summary>
public sealed record FloatBenchmarkResult(string Model, int Batch, int Threads, int Images, double Seconds)
{
    public double ImagesPerSecond => Images / Seconds;

    public override string ToString() => $"{Model}: batch {Batch}, {Threads} thread(s): {ImagesPerSecond:F1} images/s ({Images} in {Seconds:F2} s)";
}

public static class FloatEngineBenchmark
{
    /// <summary>
    /// Runs logits-only forward passes (no gradients) for about <paramref name="seconds"/> after one
    /// warm-up batch. Threads default to 1, the setting the integer engine is compared at.
    /// </summary>
    public static FloatBenchmarkResult Run(QnnModel model, int batch, double seconds, int threads = 1, bool fakeQuant = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        using var engine = new FloatEngine(model, new FloatEngineOptions { Threads = threads, FakeQuantActivations = fakeQuant });
        int previousThreads = TorchRuntime.Threads;
        TorchRuntime.SetThreads(threads);
        try
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var generator = new TorchSharp.torch.Generator(1234);
            Tensor pixels = rand([batch, engine.Height, engine.Width, engine.Channels], generator: generator) * 255;
            using (NewDisposeScope())
            {
                engine.Logits(pixels); // warm-up: allocator and kernel selection
            }
            int images = 0;
            var clock = Stopwatch.StartNew();
            do
            {
                // One scope per pass: intermediates are freed now, not when the run ends.
                using var pass = NewDisposeScope();
                engine.Logits(pixels);
                images += batch;
            }
            while (clock.Elapsed.TotalSeconds < seconds);
            return new FloatBenchmarkResult(model.Name, batch, threads, images, clock.Elapsed.TotalSeconds);
        }
        finally
        {
            TorchRuntime.SetThreads(previousThreads);
        }
    }

    /// <summary>The two standard points: batch 1 and batch 64, one thread.</summary>
    public static IReadOnlyList<FloatBenchmarkResult> RunStandard(QnnModel model, double secondsEach = 3)
        => [Run(model, 1, secondsEach), Run(model, 64, secondsEach)];
}

/// <summary>Raw training-step throughput: forward, cross-entropy and backward to every weight (no optimizer, no attack).</summary>
public static class TrainingStepBenchmark
{
    /// <summary>
    /// Forward + backward passes of random pixel batches of <paramref name="batch"/> images through the engine's module
    /// for about <paramref name="seconds"/> after one warm-up pass, at the engine's current thread setting: the ceiling a
    /// training loop on the same engine can reach.
    /// </summary>
    public static FloatBenchmarkResult Run(FloatEngine engine, int batch, double seconds)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        engine.Module.SetTrainable(true);
        try
        {
            using var scope = NewDisposeScope();
            var generator = new TorchSharp.torch.Generator(1234);
            Tensor pixels = rand([batch, engine.Height, engine.Width, engine.Channels], generator: generator).mul(Scalars.Of(255));
            Tensor labels = randint(engine.Classes, [batch], generator: generator);
            void Pass()
            {
                using var pass = NewDisposeScope();
                engine.Module.zero_grad();
                TorchSharp.torch.nn.functional.cross_entropy(engine.Logits(pixels), labels).backward();
            }
            Pass();
            int images = 0;
            var clock = Stopwatch.StartNew();
            do
            {
                Pass();
                images += batch;
            }
            while (clock.Elapsed.TotalSeconds < seconds);
            return new FloatBenchmarkResult(engine.Model.Name + " forward+backward", batch, TorchRuntime.Threads, images, clock.Elapsed.TotalSeconds);
        }
        finally
        {
            engine.Module.zero_grad();
            engine.Module.SetTrainable(false);
        }
    }
}
