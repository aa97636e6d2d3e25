using QnnLab.Protocol;
using QnnLab.TestSupport;

namespace QnnLab.Protocol.Tests;

/// <summary>The Cortex-M33 image on QEMU mps2-an505, reached through its UART0 pty like a real port.</summary>
[TestClass]
public sealed class QemuBoardTests
{
    private static readonly Lazy<(string? Elf, string? Why)> Built = new(() =>
    {
        try
        {
            return (QemuBoard.Build(TestData.RepoRoot, Path.Combine(TestData.RepoRoot, "build", "tests", "qemu-board")), null);
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return (null, e.Message);
        }
    });

    private static async Task<QemuBoard> StartAsync()
    {
        (string? elf, string? why) = Built.Value;
        if (elf is null)
        {
            Assert.Inconclusive($"cannot cross-build the QEMU board (needs cmake, arm-none-eabi-gcc): {why}");
        }
        try
        {
            return await QemuBoard.StartAsync(elf!);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Assert.Inconclusive($"qemu-system-arm is not installed: {e.Message}");
            throw;
        }
    }

    [TestMethod]
    [Timeout(120_000, CooperativeCancellation = true)]
    public async Task HandshakeInfoAndInferenceOverTheUartPty()
    {
        await using QemuBoard qemu = await StartAsync();
        await using BoardConnection c = await SerialLink.ConnectAsync(qemu.PtyPath, 115200,
            new BoardConnectionOptions { ResponseTimeout = TimeSpan.FromSeconds(5) });
        Assert.AreEqual(Frame.ProtocolVersion, c.Hello.ProtocolVersion);
        Assert.AreEqual(4096, c.Hello.MaxPayload);
        BoardInfo info = await c.GetInfoAsync();
        Assert.AreEqual("qemu-mps2-an505", info.Board);
        Assert.AreEqual(TimingUnit.Instructions, info.TimingUnit);
        Assert.AreEqual(50u, info.TimingResolution);
        Assert.AreEqual(20_000_000u, info.ClockHz);

        await c.SelectModelAsync(FakeModel.CifarHash);
        List<byte[]> inputs = Enumerable.Range(0, 6).Select(i => FakeModel.Input(3072, 400 + i)).ToList();
        int k = 0;
        await foreach (InferResult r in c.InferManyAsync(inputs.Select(x => (ReadOnlyMemory<byte>)x)))
        {
            FakeModel.AssertMatches(r, inputs[k++], 10, 1);
            Assert.AreEqual(0UL, r.StageTimes[InferResult.Inference] % 50, "SysTick counts whole 50-instruction ticks");
            Assert.IsGreaterThan(0UL, r.StageTimes[InferResult.Inference]);
        }
        Assert.AreEqual(6, k);
        Assert.AreEqual(6u, (await c.GetStatsAsync()).Inferences);

        // -icount makes the instruction count deterministic: repetitions differ only by where the
        // 50-instruction SysTick boundary falls (one tick).
        BenchmarkResult b = await c.BenchmarkAsync(inputs[0], 5);
        Assert.IsLessThanOrEqualTo(50UL, b.Max - b.Min);

        uint boot = c.Hello.BootId;
        await c.ResetAsync();
        Assert.AreNotEqual(boot, c.Hello.BootId);
        FakeModel.AssertMatches(await c.InferAsync(inputs[1]), inputs[1], 10, 1);
    }
}
