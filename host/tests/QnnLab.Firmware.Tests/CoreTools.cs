using QnnLab.Firmware;
using QnnLab.TestSupport;

namespace QnnLab.Firmware.Tests;

/// <summary>
/// The device core's host tools (qnn_blob_check, qnn_golden_runner), built once per test run from firmware/ with
/// gcc, unsanitized and optimised so 200-image golden runs stay fast. Null paths + the reason when cmake/gcc are missing.
/// </summary>
internal static class CoreTools
{
    private static readonly Lazy<(string? Dir, string? Why)> Built = new(() =>
    {
        string fw = Path.Combine(TestData.RepoRoot, "firmware");
        string dir = Path.Combine(TestData.RepoRoot, "build", "tests", "fw-golden");
        try
        {
            Tool.RunChecked("cmake", ["-S", fw, "-B", dir, "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release", "-DBUILD_TESTING=ON", "-DQNN_ARENA_SIZE=1048576",
                $"-DQNN_MAX_INPUT_BYTES={FirmwareBuilder.LargeBoardMaxInputBytes}"]);
            Tool.RunChecked("cmake", ["--build", dir, "--target", "qnn_blob_check", "qnn_golden_runner"]);
            return (Path.Combine(dir, "tests"), null);
        }
        catch (InvalidOperationException e)
        {
            return (null, e.Message);
        }
    });

    public static string Path_(string tool)
    {
        (string? dir, string? why) = Built.Value;
        if (dir is null)
        {
            Assert.Inconclusive($"cannot build the device core's host tools (needs cmake, ninja, gcc): {why}");
        }
        return Path.Combine(dir!, tool);
    }

    /// <summary>
    /// A CMSIS-NN checkout (pinned 99f736a6) named by $QNN_CMSIS_NN_DIR, or Inconclusive: it is in no package registry
    /// and never committed here, so the CMSIS-NN checks run where someone has fetched it.
    /// </summary>
    public static string CmsisNnDirOrInconclusive()
    {
        string? dir = Environment.GetEnvironmentVariable("QNN_CMSIS_NN_DIR");
        if (string.IsNullOrEmpty(dir) || !File.Exists(Path.Combine(dir, "Include", "arm_nnfunctions.h")))
        {
            Assert.Inconclusive("set QNN_CMSIS_NN_DIR to a checkout of ARM-software/CMSIS-NN (commit 99f736a6) to run the CMSIS-NN checks");
        }
        return Path.GetFullPath(dir!);
    }

    public static string BlobCheck => Path_("qnn_blob_check");
    public static string GoldenRunner => Path_("qnn_golden_runner");

    /// <summary>Validates blob bytes with the C validator: (exit status = qnn_status, first output line).</summary>
    public static (int Status, string Line) Check(byte[] blob)
    {
        string file = Path.Combine(TestData.TempDir(), "b.qnnb");
        File.WriteAllBytes(file, blob);
        ToolResult r = Tool.Run(BlobCheck, [file]);
        return (r.ExitCode, r.Output.Trim());
    }
}
