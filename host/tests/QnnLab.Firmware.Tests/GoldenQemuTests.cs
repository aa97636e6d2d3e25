using QnnLab.TestSupport;

namespace QnnLab.Firmware.Tests;

/// <summary>
/// The same golden check on the Cortex-M33: the device core cross-built with arm-none-eabi-gcc (portable kernels)
/// runs under QEMU mps2-an505 with semihosting, reading the blob, pixels and expected outputs from files. Also
/// reports the instructions per inference (SysTick under -icount shift=0: one tick per 50 instructions).
/// </summary>
[TestClass]
public sealed class GoldenQemuTests
{
    /// <summary>Images per model: the x86 set (QEMU runs ResNet-8 at ~10 inferences per second).</summary>
    public const int Images = GoldenX86Tests.Images;

    private static readonly Lazy<(string? Runner, string? Why)> Built = new(() => BuildRunner("fw-qemu-golden", ""));

    private static readonly Dictionary<string, (string? Runner, string? Why)> BuiltCmsis = [];

    /// <summary>The golden runner cross-built for the M33 (semihosting); with a CMSIS-NN checkout it has both backends.</summary>
    private static (string? Runner, string? Why) BuildRunner(string folder, string cmsisNnDir)
    {
        string fw = Path.Combine(TestData.RepoRoot, "firmware");
        string dir = Path.Combine(TestData.RepoRoot, "build", "tests", folder);
        try
        {
            Tool.RunChecked("qemu-system-arm", ["--version"]);
            Tool.RunChecked("cmake", ["-S", fw, "-B", dir, "-G", "Ninja", $"-DCMAKE_TOOLCHAIN_FILE={Path.Combine(fw, "cmake", "arm-none-eabi.cmake")}",
                "-DCMAKE_BUILD_TYPE=Release", "-DQNN_BOARD=qemu-mps2-an505", "-DBUILD_TESTING=ON", "-DQNN_ARENA_SIZE=1048576",
                $"-DQNN_CMSIS_NN_DIR={cmsisNnDir}"]);
            Tool.RunChecked("cmake", ["--build", dir, "--target", "qnn_golden_runner"]);
            return (Path.Combine(dir, "tests", "qnn_golden_runner"), null);
        }
        catch (InvalidOperationException e)
        {
            return (null, e.Message);
        }
    }

    /// <summary>newlib's rdimon start-up reads the semihosting command line into 256 bytes; a longer one arrives as garbage.</summary>
    public const int CommandLineLimit = 255;

    /// <summary>
    /// Runs the ARM golden runner under QEMU; the semihosting arguments are its argv. File arguments are passed relative
    /// to the first one's folder (QEMU runs there), so a checkout's depth cannot push the command line past newlib's limit.
    /// </summary>
    public static ToolResult RunOnQemu(string runner, params string[] args)
    {
        string? dir = args.Where(File.Exists).Select(Path.GetDirectoryName).FirstOrDefault();
        string[] argv = [.. args.Select(a => dir is not null && File.Exists(a) ? Path.GetRelativePath(dir, a) : a)];
        if (argv.Any(a => a.Contains(',', StringComparison.Ordinal)))
        {
            Assert.Inconclusive("QEMU's -semihosting-config cannot pass arguments containing commas");
        }
        string line = string.Join(' ', ["qnn_golden_runner", .. argv]);
        Assert.IsLessThanOrEqualTo(CommandLineLimit, line.Length, $"semihosting command line too long for newlib: {line}");
        string semi = "enable=on,target=native,arg=qnn_golden_runner," + string.Join(',', argv.Select(a => "arg=" + a));
        return Tool.Run("qemu-system-arm", ["-M", "mps2-an505", "-cpu", "cortex-m33", "-nographic", "-monitor", "none", "-serial", "none",
            "-icount", "shift=0", "-kernel", Path.GetFullPath(runner), "-semihosting-config", semi], dir);
    }

    [TestMethod]
    [Timeout(600_000, CooperativeCancellation = true)]
    [DataRow(GoldenModels.CifarInt8)]
    [DataRow(GoldenModels.CifarInt16)]
    [DataRow(GoldenModels.VwwInt8)]
    [DataRow(GoldenModels.VwwInt16)]
    public void CortexM33CoreMatchesTheHostEngineOnEveryLogit(string relative)
    {
        (string? runner, string? why) = Built.Value;
        if (runner is null)
        {
            Assert.Inconclusive($"cannot cross-build the core for QEMU (needs arm-none-eabi-gcc, qemu-system-arm, cmake, ninja): {why}");
        }
        Golden g = Golden.Prepare(relative, Images);
        ToolResult r = RunOnQemu(runner!, g.Blob, g.Inputs, g.Expected, "portable");
        Assert.AreEqual(0, r.ExitCode, r.Output + r.Error);
        StringAssert.Contains(r.Output, $"{Images} records, {Images * g.Outputs} elements, 0 mismatches");
        Console.WriteLine(r.Output.Trim());
    }

    [TestMethod]
    [Timeout(600_000, CooperativeCancellation = true)]
    [DataRow(GoldenModels.CifarInt8)]
    [DataRow(GoldenModels.CifarInt16)]
    [DataRow(GoldenModels.VwwInt8)]
    [DataRow(GoldenModels.VwwInt16)]
    public void CortexM33CmsisNnCoreMatchesTheHostEngineOnEveryLogit(string relative)
    {
        // Opt-in ($QNN_CMSIS_NN_DIR): the DSP paths of CMSIS-NN on the M33 against the host engine.
        string cmsis = CoreTools.CmsisNnDirOrInconclusive();
        if (!BuiltCmsis.TryGetValue(cmsis, out (string? Runner, string? Why) built))
        {
            BuiltCmsis[cmsis] = built = BuildRunner("fw-qemu-golden-cmsis-nn", cmsis);
        }
        if (built.Runner is null)
        {
            Assert.Inconclusive($"cannot cross-build the core with CMSIS-NN for QEMU: {built.Why}");
        }
        Golden g = Golden.Prepare(relative, Images);
        ToolResult r = RunOnQemu(built.Runner!, g.Blob, g.Inputs, g.Expected, "cmsis-nn");
        Assert.AreEqual(0, r.ExitCode, r.Output + r.Error);
        StringAssert.Contains(r.Output, "backend cmsis-nn");
        StringAssert.Contains(r.Output, $"{Images} records, {Images * g.Outputs} elements, 0 mismatches");
        Console.WriteLine(r.Output.Trim());
    }
}
