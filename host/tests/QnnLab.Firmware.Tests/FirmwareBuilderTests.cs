using QnnLab.Engine;
using QnnLab.TestSupport;

namespace QnnLab.Firmware.Tests;

[TestClass]
public sealed class FirmwareBuilderTests
{
    [TestMethod]
    public void FlashDryRunIsTheOpenocdProgramCommand()
    {
        (string exe, string[] args) = FirmwareBuilder.FlashCommand("/images/qnn-nucleo-l552ze-q.elf");
        Assert.AreEqual("openocd -f boards/nucleo-l552ze-q/openocd.cfg -c 'program /images/qnn-nucleo-l552ze-q.elf verify reset exit'",
            FirmwareBuilder.ShellQuote(exe, args));
        Assert.IsTrue(File.Exists(Path.Combine(TestData.RepoRoot, args[1])), "the board's openocd config exists where the command says");
    }

    [TestMethod]
    public void ParsesArmNoneEabiSize()
    {
        const string output = "   text\t   data\t    bss\t    dec\t    hex\tfilename\n 123456\t    100\t  20000\t 143556\t  230c4\tqnn.elf\n";
        Assert.AreEqual((123456L, 100L, 20000L), FirmwareBuilder.ParseSize(output));
    }

    [TestMethod]
    public void ConfigureArgumentsNameTheBoardBackendAndModels()
    {
        var req = new FirmwareBuildRequest("nucleo-l552ze-q", ["/m/a.qnnb", "/m/b.qnnb"], "cmsis-nn", "/tmp/cmsis-nn");
        List<string> args = FirmwareBuilder.ConfigureArguments("/repo", req, "/repo/build/x");
        CollectionAssert.Contains(args, "-DQNN_BOARD=nucleo-l552ze-q");
        CollectionAssert.Contains(args, "-DQNN_ARENA_SIZE=163840");
        CollectionAssert.Contains(args, "-DQNN_CMSIS_NN_DIR=/tmp/cmsis-nn");
        CollectionAssert.Contains(args, "-DQNN_BOARD_MODELS=/m/a.qnnb;/m/b.qnnb");
        Assert.IsTrue(args.Any(a => a.StartsWith("-DCMAKE_TOOLCHAIN_FILE=", StringComparison.Ordinal)));

        List<string> sim = FirmwareBuilder.ConfigureArguments("/repo", new FirmwareBuildRequest("sim", []), "/b");
        Assert.IsFalse(sim.Any(a => a.StartsWith("-DCMAKE_TOOLCHAIN_FILE=", StringComparison.Ordinal)), "the sim builds with the host compiler");
        CollectionAssert.Contains(sim, "-DQNN_CMSIS_NN_DIR=");

        Assert.ThrowsExactly<ArgumentException>(() => FirmwareBuilder.ConfigureArguments("/repo", new FirmwareBuildRequest("sim", [], "cmsis-nn"), "/b"));
        Assert.ThrowsExactly<ArgumentException>(() => FirmwareBuilder.ConfigureArguments("/repo", new FirmwareBuildRequest("esp32", []), "/b"));
    }

    [TestMethod]
    [Timeout(600_000, CooperativeCancellation = true)]
    public void NucleoImageWithResNet8Int8FitsTheChip()
    {
        // The "must show": the STM32L552ZE has 512 KiB flash and 256 KiB SRAM; the linker script enforces
        // both, and the figures are checked here too.
        string blob = Path.Combine(TestData.TempDir(), "resnet8.qnnb");
        File.WriteAllBytes(blob, BlobExporter.Export(IntegerModel.Compile(GoldenModels.Load(GoldenModels.CifarInt8))).Bytes);
        FirmwareImage img;
        try
        {
            img = FirmwareBuilder.Build(TestData.RepoRoot, new FirmwareBuildRequest("nucleo-l552ze-q", [blob],
                BuildDir: Path.Combine(TestData.RepoRoot, "build", "tests", "fw-nucleo-image")));
        }
        catch (InvalidOperationException e) when (e.Message.Contains("cannot run", StringComparison.Ordinal))
        {
            Assert.Inconclusive($"needs cmake, ninja and arm-none-eabi-gcc: {e.Message}");
            return;
        }
        long blobBytes = new FileInfo(blob).Length;
        Assert.IsGreaterThan(blobBytes, img.FlashBytes, "the blob is linked into flash");
        Assert.IsLessThan(512L * 1024, img.FlashBytes);
        Assert.IsGreaterThan(160L * 1024, img.RamBytes, "the static arena is in RAM");
        Assert.IsLessThan(256L * 1024, img.RamBytes);
    }
}
