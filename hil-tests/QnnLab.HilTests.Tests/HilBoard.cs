using QnnLab.Data;
using QnnLab.Hil;
using QnnLab.TestSupport;

namespace QnnLab.HilTests.Tests;

/// <summary>The board under test (QNN_HIL_BOARD), its launch, and the shared models and images.</summary>
internal static class HilBoard
{
    public static BoardTarget Target { get; } = BoardTarget.Parse(Environment.GetEnvironmentVariable("QNN_HIL_BOARD") is { Length: > 0 } b ? b : "sim");

    /// <summary>Inputs per bit-exact check: QEMU emulates the Cortex-M33 instruction by instruction.</summary>
    public static int Inputs => Target.Kind == BoardKind.Sim ? 40 : 8;

    public static async Task<BoardSession> OpenAsync()
    {
        try
        {
            return await BoardSession.OpenAsync(Target, Options()).ConfigureAwait(false);
        }
        catch (InvalidOperationException e) when (e.Message.Contains("not installed", StringComparison.Ordinal))
        {
            Assert.Inconclusive($"board {Target}: {e.Message}");
            throw;
        }
        catch (IOException e) when (Target.Kind == BoardKind.Serial)
        {
            Assert.Inconclusive($"board {Target} not reachable: {e.Message}");
            throw;
        }
    }

    public static async Task<RawBoardLink> OpenRawAsync()
    {
        try
        {
            return await BoardSession.OpenRawAsync(Target, Options()).ConfigureAwait(false);
        }
        catch (InvalidOperationException e) when (e.Message.Contains("not installed", StringComparison.Ordinal))
        {
            Assert.Inconclusive($"board {Target}: {e.Message}");
            throw;
        }
    }

    /// <summary>The board as an attack target running <paramref name="modelPath"/> (inconclusive where QEMU is not installed).</summary>
    public static async Task<QnnLab.Attacks.Targets.BoardOracle> OpenOracleAsync(string modelPath, QnnLab.Model.InputPreprocessing preprocessing)
    {
        try
        {
            return await QnnLab.Attacks.Targets.BoardOracle.OpenAsync(Target, modelPath, preprocessing, Options()).ConfigureAwait(false);
        }
        catch (InvalidOperationException e) when (e.Message.Contains("not installed", StringComparison.Ordinal))
        {
            Assert.Inconclusive($"board {Target}: {e.Message}");
            throw;
        }
    }

    private static BoardLaunchOptions Options() => new() { RepoRoot = TestData.RepoRoot, Baud = Target.Kind == BoardKind.Sim ? 0 : null };

    public static ImageSet Cifar(int count) =>
        Cifar10.ReadBatch(TestData.Require("cifar10/cifar-10-batches-bin/test_batch.bin"), count);

    public static string Model(string precision) => TestData.Require($"paper-models/vanilla/cifar_resnet_{precision}.tflite");
}
