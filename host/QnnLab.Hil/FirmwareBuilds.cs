using System.Diagnostics;

namespace QnnLab.Hil;

/// <summary>
/// Builds the board images the launchers need, from the firmware tree (CMake skips what is up to date):
/// the sim with the real device core (not the sanitized test build: the sim runs long) and the QEMU image.
/// </summary>
public static class FirmwareBuilds
{
    /// <summary>The checkout: the first folder above the working directory or the program that holds Firmware.sln and firmware/.</summary>
    public static string FindRepoRoot()
    {
        foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (DirectoryInfo? d = new(start); d is not null; d = d.Parent)
            {
                if (File.Exists(Path.Combine(d.FullName, "Firmware.sln")) && Directory.Exists(Path.Combine(d.FullName, "firmware")))
                {
                    return d.FullName;
                }
            }
        }
        throw new InvalidOperationException("cannot find the QNN Edge Lab checkout (Firmware.sln) above the working directory; run qnnlab from inside it");
    }

    private static readonly Lock BuildLock = new();

    /// <summary>qnn-sim with the device core (--core), built in build/hil/sim.</summary>
    public static string SimWithCore(string repoRoot)
    {
        string dir = Path.Combine(repoRoot, "build", "hil", "sim");
        lock (BuildLock)
        {
            Configure(repoRoot, dir, ["-DCMAKE_BUILD_TYPE=Release", "-DBUILD_TESTING=OFF", "-DQNN_ARENA_SIZE=1048576"]);
            Run("cmake", ["--build", dir, "--target", "qnn-sim"]);
        }
        return Path.Combine(dir, "boards", "sim", "qnn-sim");
    }

    /// <summary>The mps2-an505 image with the device core, built in build/hil/qemu (needs arm-none-eabi-gcc).</summary>
    public static string QemuImage(string repoRoot)
    {
        string dir = Path.Combine(repoRoot, "build", "hil", "qemu");
        if (!OnPath("arm-none-eabi-gcc"))
        {
            throw new InvalidOperationException("arm-none-eabi-gcc is not installed, so the QEMU image cannot be built (tools/install-deps installs it)");
        }
        lock (BuildLock)
        {
            Configure(repoRoot, dir, [
                $"-DCMAKE_TOOLCHAIN_FILE={Path.Combine(repoRoot, "firmware", "cmake", "arm-none-eabi.cmake")}",
                "-DQNN_BOARD=qemu-mps2-an505", "-DQNN_ARENA_SIZE=1048576", "-DBUILD_TESTING=OFF", "-DCMAKE_BUILD_TYPE=Release"]);
            Run("cmake", ["--build", dir]);
        }
        return Path.Combine(dir, "boards", "qemu-mps2-an505", "qnn-qemu-mps2-an505.elf");
    }

    private static void Configure(string repoRoot, string dir, string[] defines)
    {
        if (File.Exists(Path.Combine(dir, "CMakeCache.txt")))
        {
            return; // configured before; the build step re-runs CMake when its inputs changed
        }
        var args = new List<string> { "-S", Path.Combine(repoRoot, "firmware"), "-B", dir };
        if (OnPath("ninja"))
        {
            args.AddRange(["-G", "Ninja"]);
        }
        args.AddRange(defines);
        Run("cmake", [.. args]);
    }

    public static bool OnPath(string exe) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Any(d => d.Length > 0 && File.Exists(Path.Combine(d, exe)));

    private static void Run(string exe, string[] args)
    {
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using Process p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {exe}");
        Task<string> err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            string all = (output + err.Result).Trim();
            throw new InvalidOperationException($"{exe} {string.Join(' ', args)} failed ({p.ExitCode}): {all[Math.Max(0, all.Length - 2000)..]}");
        }
    }
}
