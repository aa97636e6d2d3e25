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
        // A stand-in checkout: only the header the validation looks for.
        string cmsis = Path.Combine(TestData.TempDir(), "cmsis-nn");
        Directory.CreateDirectory(Path.Combine(cmsis, "Include"));
        File.WriteAllText(Path.Combine(cmsis, "Include", "arm_nnfunctions.h"), "");
        var req = new FirmwareBuildRequest("nucleo-l552ze-q", ["/m/a.qnnb", "/m/b.qnnb"], "cmsis-nn", cmsis);
        List<string> args = FirmwareBuilder.ConfigureArguments("/repo", req, "/repo/build/x");
        CollectionAssert.Contains(args, "-DQNN_BOARD=nucleo-l552ze-q");
        CollectionAssert.Contains(args, "-DQNN_ARENA_SIZE=147456", "on the NUCLEO, CMSIS-NN's 16 KiB scratch comes out of the 160 KiB arena");
        CollectionAssert.Contains(args, $"-DQNN_CMSIS_NN_DIR={cmsis}");
        CollectionAssert.Contains(FirmwareBuilder.ConfigureArguments("/repo", req with { Backend = "portable" }, "/b"), "-DQNN_ARENA_SIZE=163840");
        CollectionAssert.Contains(args, "-DQNN_BOARD_MODELS=/m/a.qnnb;/m/b.qnnb");
        Assert.IsTrue(args.Any(a => a.StartsWith("-DCMAKE_TOOLCHAIN_FILE=", StringComparison.Ordinal)));

        List<string> sim = FirmwareBuilder.ConfigureArguments("/repo", new FirmwareBuildRequest("sim", []), "/b");
        Assert.IsFalse(sim.Any(a => a.StartsWith("-DCMAKE_TOOLCHAIN_FILE=", StringComparison.Ordinal)), "the sim builds with the host compiler");
        CollectionAssert.Contains(sim, "-DQNN_CMSIS_NN_DIR=");
        CollectionAssert.Contains(sim, "-DQNN_MAX_INPUT_BYTES=150528", "the sim takes the coffee models' 224x224x3 inputs");
        CollectionAssert.Contains(args, "-DQNN_MAX_INPUT_BYTES=27648", "the NUCLEO keeps 96x96x3");

        Assert.ThrowsExactly<ArgumentException>(() => FirmwareBuilder.ConfigureArguments("/repo", new FirmwareBuildRequest("sim", [], "cmsis-nn"), "/b"));
        Assert.ThrowsExactly<ArgumentException>(() => FirmwareBuilder.ConfigureArguments("/repo", new FirmwareBuildRequest("esp32", []), "/b"));
    }

    [TestMethod]
    public void FlashCommandBracesAPathOpenocdWouldSplit()
    {
        (string exe, string[] args) = FirmwareBuilder.FlashCommand("/my images/qnn.elf");
        Assert.AreEqual("openocd", exe);
        Assert.AreEqual("program {/my images/qnn.elf} verify reset exit", args[3], "openocd reads -c as Tcl: braces keep the path one word");
        Assert.ThrowsExactly<ArgumentException>(() => FirmwareBuilder.FlashCommand("/a{b}.elf"));
    }

    [TestMethod]
    public void FailureSummaryNamesTheOverflowingRegions()
    {
        // As GNU ld 2.40 (Debian's arm-none-eabi 12.2) prints it.
        const string ld = "[15/15] Linking C executable boards/nucleo-l552ze-q/qnn-nucleo-l552ze-q.elf\n"
            + "FAILED: boards/nucleo-l552ze-q/qnn-nucleo-l552ze-q.elf\n"
            + "/usr/lib/gcc/arm-none-eabi/12.2.1/../../../arm-none-eabi/bin/ld: qnn.elf section `.qnn_model' will not fit in region `FLASH'\n"
            + "/usr/lib/gcc/arm-none-eabi/12.2.1/../../../arm-none-eabi/bin/ld: region `FLASH' overflowed by 4072 bytes\n"
            + "/usr/lib/gcc/arm-none-eabi/12.2.1/../../../arm-none-eabi/bin/ld: region `RAM' overflowed by 16 bytes\n"
            + "collect2: error: ld returned 1 exit status\nninja: build stopped: subcommand failed.\n";
        Assert.AreEqual("the image does not fit the chip's memory: FLASH overflowed by 4072 bytes, RAM overflowed by 16 bytes "
            + "(static RAM: arena (QNN_ARENA_SIZE), kernel scratch and the shell's buffers)", FirmwareBuilder.FailureSummary(ld));
        Assert.AreEqual("the image does not fit the chip's memory: FLASH overflowed by 8 bytes (the models linked in are too large)",
            FirmwareBuilder.FailureSummary("ld: region `FLASH' overflowed by 8 bytes\n"));
        Assert.AreEqual("board.c:12:5: error: unknown type name 'foo'",
            FirmwareBuilder.FailureSummary("[1/9] Building C object board.c.obj\nboard.c:12:5: error: unknown type name 'foo'\nninja: build stopped\n"));
        Assert.AreEqual("ninja: build stopped", FirmwareBuilder.FailureSummary("something\nninja: build stopped\n"));
    }

    private static readonly string NucleoBuildDir = Path.Combine(TestData.RepoRoot, "build", "tests", "fw-nucleo-image");

    private static FirmwareImage BuildOrInconclusive(FirmwareBuildRequest request)
    {
        try
        {
            return FirmwareBuilder.Build(TestData.RepoRoot, request);
        }
        catch (FirmwareBuildException e) when (e.Message.Contains("cannot run", StringComparison.Ordinal))
        {
            Assert.Inconclusive($"needs cmake, ninja, gcc and arm-none-eabi-gcc: {e.Message}");
            throw;
        }
    }

    private static string ExportTo(string relative, string dir)
    {
        string blob = Path.Combine(dir, Path.GetFileNameWithoutExtension(relative) + ".qnnb");
        File.WriteAllBytes(blob, BlobExporter.Export(IntegerModel.Compile(GoldenModels.Load(relative))).Bytes);
        return blob;
    }

    [TestMethod]
    [Timeout(600_000, CooperativeCancellation = true)]
    [DataRow(GoldenModels.CifarInt8)]
    [DataRow(GoldenModels.CifarInt16)]
    [DataRow(GoldenModels.MlperfVwwInt8)]
    public void NucleoImageWithTheModelLinkedInFitsTheChip(string relative)
    {
        // The "must show": the STM32L552ZE has 512 KiB flash and 256 KiB SRAM; the linker script enforces
        // both, and the figures are checked here too.
        string blob = ExportTo(relative, TestData.TempDir());
        FirmwareImage img = BuildOrInconclusive(new FirmwareBuildRequest("nucleo-l552ze-q", [blob], BuildDir: NucleoBuildDir));
        byte[] blobBytes = File.ReadAllBytes(blob);
        Assert.IsGreaterThan(blobBytes.Length, img.FlashBytes, "the blob is linked into flash");
        Assert.AreEqual($"openocd -f boards/nucleo-l552ze-q/openocd.cfg -c 'program {img.Image} verify reset exit'", img.RunCommand);
        Assert.IsLessThan(512L * 1024, img.FlashBytes);
        Assert.IsGreaterThan(160L * 1024, img.RamBytes, "the static arena is in RAM");
        Assert.IsLessThan(256L * 1024, img.RamBytes);
        // The flash image (objcopy -O binary) carries the blob verbatim, 8-aligned as the core requires.
        byte[] bin = File.ReadAllBytes(Path.ChangeExtension(img.Image, ".bin"));
        int at = bin.AsSpan().IndexOf(blobBytes);
        Assert.IsGreaterThanOrEqualTo(0, at, "blob bytes in the flash image");
        Assert.AreEqual(0, at % 8, "blob alignment (flash starts 8-aligned)");
        Console.WriteLine($"{relative}: blob {blobBytes.Length} B, flash {img.FlashBytes} B, RAM {img.RamBytes} B");
    }

    [TestMethod]
    [Timeout(600_000, CooperativeCancellation = true)]
    [DataRow(GoldenModels.CifarInt8)]
    [DataRow(GoldenModels.CifarInt16)]
    [DataRow(GoldenModels.MlperfVwwInt8)]
    public void NucleoCmsisNnImageFitsTheChip(string relative)
    {
        // CMSIS-NN adds a 16 KiB static scratch: with the portable arena size the image overflowed RAM by 9560 bytes.
        string cmsis = CoreTools.CmsisNnDirOrInconclusive();
        string blob = ExportTo(relative, TestData.TempDir());
        FirmwareImage img = BuildOrInconclusive(new FirmwareBuildRequest("nucleo-l552ze-q", [blob], "cmsis-nn", cmsis,
            Path.Combine(TestData.RepoRoot, "build", "tests", "fw-nucleo-cmsis-image")));
        Assert.IsLessThan(512L * 1024, img.FlashBytes);
        Assert.IsLessThan(256L * 1024, img.RamBytes);
        Console.WriteLine($"{relative} (cmsis-nn): flash {img.FlashBytes} B, RAM {img.RamBytes} B");
    }

    [TestMethod]
    [Timeout(600_000, CooperativeCancellation = true)]
    public void ModelsTooLargeForTheChipFailWithTheLinkersOverflowInOneLine()
    {
        // Two 241 KiB VWW blobs and a ResNet-8 cannot share 512 KiB of flash.
        string dir = TestData.TempDir();
        string[] blobs = [ExportTo(GoldenModels.MlperfVwwInt8, dir), ExportTo(GoldenModels.VwwInt8, dir), ExportTo(GoldenModels.CifarInt8, dir)];
        FirmwareBuildException e = Assert.ThrowsExactly<FirmwareBuildException>(() =>
        {
            try
            {
                FirmwareBuilder.Build(TestData.RepoRoot, new FirmwareBuildRequest("nucleo-l552ze-q", blobs, BuildDir: NucleoBuildDir));
            }
            catch (FirmwareBuildException c) when (c.Message.Contains("cannot run", StringComparison.Ordinal))
            {
                Assert.Inconclusive($"needs cmake, ninja and arm-none-eabi-gcc: {c.Message}");
            }
        });
        StringAssert.StartsWith(e.Message, "nucleo-l552ze-q build failed: the image does not fit the chip's memory: FLASH overflowed by ");
        Assert.DoesNotContain("\n", e.Message);
        Assert.IsTrue(File.Exists(e.LogPath), "the full log is kept");
        StringAssert.Contains(File.ReadAllText(e.LogPath!), "region `FLASH' overflowed");
    }

    [TestMethod]
    [Timeout(600_000, CooperativeCancellation = true)]
    public void QemuImageCarriesTheBlobAndItsRunLineStartsTheBoard()
    {
        string blob = ExportTo(GoldenModels.CifarInt16, TestData.TempDir());
        FirmwareImage img = BuildOrInconclusive(new FirmwareBuildRequest("qemu", [blob],
            BuildDir: Path.Combine(TestData.RepoRoot, "build", "tests", "fw-qemu-image")));
        Assert.AreEqual("qemu-mps2-an505", img.Board);
        Assert.IsGreaterThanOrEqualTo(0, File.ReadAllBytes(img.Image).AsSpan().IndexOf(File.ReadAllBytes(blob)), "the ELF carries the blob's bytes");
        // The printed command starts the board with its UART on a pty (what `--board qemu` connects to).
        ToolResult r = Tool.Run("timeout", ["5", "sh", "-c", img.RunCommand + " </dev/null"]);
        if (r.ExitCode == 127)
        {
            Assert.Inconclusive("qemu-system-arm is not installed");
        }
        StringAssert.Contains(r.Output + r.Error, "char device redirected to /dev/pts/");
        Assert.AreEqual(124, r.ExitCode, "still running when timeout stopped it (a kernel that fails to load exits at once)");
    }

    [TestMethod]
    [Timeout(600_000, CooperativeCancellation = true)]
    public void SimImageLoadsItsModelsWhenStarted()
    {
        string blob = ExportTo(GoldenModels.CifarInt8, TestData.TempDir());
        FirmwareImage img = BuildOrInconclusive(new FirmwareBuildRequest("sim", [blob],
            BuildDir: Path.Combine(TestData.RepoRoot, "build", "tests", "fw-sim-image")));
        Assert.IsTrue(File.Exists(img.Image));
        Assert.AreEqual(new FileInfo(img.Image).Length, img.FlashBytes);
        Assert.AreEqual($"{img.Image} --core --model {blob}", img.RunCommand);
        // The sim links no blob: started with the run command it loads the file through the core's validator
        // (stdio with an empty stdin: it boots, finds the input closed and exits 0).
        ToolResult ok = Tool.Run("timeout", ["20", "sh", "-c", $"{img.RunCommand} --stdio </dev/null >/dev/null"]);
        Assert.AreEqual(0, ok.ExitCode, ok.Error);
        Assert.AreEqual("", ok.Error);
        // A coffee-leaf model (224x224x3 input) loads too.
        string coffee = ExportTo("paper-models/vanilla/coffee_cnn_int16.tflite", TestData.TempDir());
        ToolResult big = Tool.Run("timeout", ["20", "sh", "-c", $"{img.Image} --core --model {coffee} --stdio </dev/null >/dev/null"]);
        Assert.AreEqual(0, big.ExitCode, big.Error);
        // ... and a damaged blob at that path is refused, so the path really is read.
        byte[] bytes = File.ReadAllBytes(blob);
        bytes[^1] ^= 1;
        File.WriteAllBytes(blob, bytes);
        ToolResult bad = Tool.Run("timeout", ["20", "sh", "-c", $"{img.RunCommand} --stdio </dev/null >/dev/null"]);
        Assert.AreEqual(1, bad.ExitCode);
        StringAssert.Contains(bad.Error, "refused: CHECKSUM");
    }
}
