using System.Globalization;

namespace QnnLab.Firmware;

/// <summary>What `qnnlab firmware build` asks for.</summary>
public sealed record FirmwareBuildRequest(string Board, IReadOnlyList<string> ModelBlobs, string Backend = "portable", string? CmsisNnDir = null,
    string? BuildDir = null);

/// <summary>
/// A built board image and its memory use (flash = text + data, RAM = data + bss; the sim: file size, no RAM figure).
/// <paramref name="RunCommand"/> starts it: the sim with its models (it links no blobs and loads them when started),
/// QEMU with the board's UART on a pty, the NUCLEO by flashing it (openocd, run in the repository root).
/// </summary>
public sealed record FirmwareImage(string Board, string Image, long FlashBytes, long RamBytes, string Backend, IReadOnlyList<string> Models,
    string BuildDir, string? RunCommand = null);

/// <summary>
/// A firmware build that did not produce an image: the message is one line (the linker's region overflow, the first
/// compiler or CMake error, or the missing tool) and names the full log.
/// </summary>
public sealed class FirmwareBuildException(string message, string? logPath = null) : Exception(message)
{
    public string? LogPath { get; } = logPath;
}

/// <summary>
/// Configures and builds the firmware tree (firmware/CMakeLists.txt) for one board with model blobs linked into the
/// image (QNN_BOARD_MODELS, see firmware/boards/common/board_models.cmake) and reads the image's size.
/// </summary>
public static class FirmwareBuilder
{
    public static readonly string[] Boards = ["sim", "qemu", "nucleo-l552ze-q"];
    public static readonly string[] Backends = ["portable", "cmsis-nn"];

    /// <summary>
    /// QNN_MAX_INPUT_BYTES for the sim and QEMU: 224x224x3, the paper's coffee-leaf models (the core's default, 96x96x3,
    /// refuses them with QNN_E_LIMIT). The NUCLEO keeps the default: a coffee model's arena alone exceeds its SRAM.
    /// </summary>
    public const int LargeBoardMaxInputBytes = 224 * 224 * 3;

    /// <summary>QNN_CMSIS_SCRATCH_SIZE in firmware/core/src/kernels_cmsis_nn.c: the CMSIS-NN backend's static scratch.</summary>
    public const int CmsisNnScratchBytes = 16 * 1024;

    /// <summary>Board name to (QNN_BOARD, CMake target, arena bytes); "qemu" is short for qemu-mps2-an505.</summary>
    public static (string? QnnBoard, string Target, int Arena) BoardFacts(string board) => board switch
    {
        "sim" => (null, "qnn-sim", 1 << 20),
        "qemu" or "qemu-mps2-an505" => ("qemu-mps2-an505", "qnn-qemu-mps2-an505", 1 << 20),
        "nucleo-l552ze-q" or "nucleo" => ("nucleo-l552ze-q", "qnn-nucleo-l552ze-q", 160 * 1024),
        _ => throw new ArgumentException($"unknown board '{board}' (expected {string.Join(", ", Boards)})"),
    };

    /// <summary>The repository's root (the folder holding firmware/CMakeLists.txt), searched upward from <paramref name="start"/>.</summary>
    public static string FindRepoRoot(params string[] starts)
    {
        foreach (string start in starts)
        {
            for (string? d = Path.GetFullPath(start); d is not null; d = Path.GetDirectoryName(d))
            {
                if (File.Exists(Path.Combine(d, "firmware", "CMakeLists.txt")) && File.Exists(Path.Combine(d, "Firmware.sln")))
                {
                    return d;
                }
            }
        }
        // An IOException, so the CLI reports it as one line rather than a crash.
        throw new DirectoryNotFoundException("cannot find the repository (firmware/CMakeLists.txt) above the current folder; run qnnlab inside the checkout");
    }

    /// <summary>Refuses an unknown board or backend, and CMSIS-NN without a checkout, before anything is exported or built.</summary>
    public static void Validate(FirmwareBuildRequest request)
    {
        _ = BoardFacts(request.Board);
        if (!Backends.Contains(request.Backend))
        {
            throw new ArgumentException($"unknown backend '{request.Backend}' (expected {string.Join(", ", Backends)})");
        }
        if (request.Backend == "cmsis-nn" && string.IsNullOrEmpty(request.CmsisNnDir))
        {
            throw new ArgumentException("--backend cmsis-nn needs --cmsis-nn-dir DIR (a checkout of ARM-software/CMSIS-NN; the project pins 99f736a6)");
        }
        if (request.Backend == "cmsis-nn" && !File.Exists(Path.Combine(request.CmsisNnDir!, "Include", "arm_nnfunctions.h")))
        {
            throw new ArgumentException($"--cmsis-nn-dir {request.CmsisNnDir} is not a CMSIS-NN checkout (no Include/arm_nnfunctions.h)");
        }
    }

    /// <summary>The cmake configure arguments for a request (exposed so tests can check them without building).</summary>
    public static List<string> ConfigureArguments(string repoRoot, FirmwareBuildRequest request, string buildDir)
    {
        Validate(request);
        (string? qnnBoard, _, int arena) = BoardFacts(request.Board);
        if (qnnBoard == "nucleo-l552ze-q" && request.Backend == "cmsis-nn")
        {
            // The NUCLEO shell leaves ~7 KiB of its 256 KiB SRAM free: CMSIS-NN's static scratch comes out of the arena
            // (144 KiB still holds every model here; ResNet-8 16x8 needs 102 KiB), or the image overflows RAM.
            arena -= CmsisNnScratchBytes;
        }
        string fw = Path.Combine(repoRoot, "firmware");
        var args = new List<string> { "-S", fw, "-B", buildDir, "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release", "-DBUILD_TESTING=OFF",
            $"-DQNN_ARENA_SIZE={arena.ToString(CultureInfo.InvariantCulture)}" };
        if (qnnBoard is not null)
        {
            args.Add($"-DCMAKE_TOOLCHAIN_FILE={Path.Combine(fw, "cmake", "arm-none-eabi.cmake")}");
            args.Add($"-DQNN_BOARD={qnnBoard}");
        }
        args.Add($"-DQNN_MAX_INPUT_BYTES={(qnnBoard == "nucleo-l552ze-q" ? 96 * 96 * 3 : LargeBoardMaxInputBytes).ToString(CultureInfo.InvariantCulture)}");
        // Always set both, so a reused build folder forgets an earlier backend or model list.
        args.Add($"-DQNN_CMSIS_NN_DIR={(request.Backend == "cmsis-nn" ? Path.GetFullPath(request.CmsisNnDir!) : "")}");
        args.Add($"-DQNN_BOARD_MODELS={string.Join(';', request.ModelBlobs.Select(Path.GetFullPath))}");
        return args;
    }

    public static FirmwareImage Build(string repoRoot, FirmwareBuildRequest request)
    {
        (string? qnnBoard, string target, _) = BoardFacts(request.Board);
        string board = qnnBoard ?? "sim";
        foreach (string blob in request.ModelBlobs)
        {
            if (!File.Exists(blob))
            {
                throw new FileNotFoundException($"model blob {blob} not found");
            }
        }
        string buildDir = request.BuildDir ?? Path.Combine(repoRoot, "build", "firmware-images", $"{board}-{request.Backend}");
        List<string> configure = ConfigureArguments(repoRoot, request, buildDir);
        Directory.CreateDirectory(buildDir);
        string log = Path.Combine(buildDir, "qnnlab-build.log");
        File.WriteAllText(log, "");
        Step(board, log, "cmake", configure);
        Step(board, log, "cmake", ["--build", buildDir, "--target", target]);
        string image = Path.Combine(buildDir, "boards", board, qnnBoard is null ? target : target + ".elf");
        if (!File.Exists(image))
        {
            throw new FirmwareBuildException($"{board}: the build finished but {image} is missing (full log: {log})", log);
        }
        if (qnnBoard is null)
        {
            // The sim links no blobs (board_models.cmake is for the MCU shells): it loads them when started.
            string run = ShellQuote(image, ["--core", .. request.ModelBlobs.SelectMany(m => new[] { "--model", Path.GetFullPath(m) })]);
            return new FirmwareImage(board, image, new FileInfo(image).Length, 0, request.Backend, [.. request.ModelBlobs], buildDir, run);
        }
        (long text, long data, long bss) = ParseSize(Step(board, log, "arm-none-eabi-size", [image]));
        // QEMU: the board README's command (the pty it prints is the board's port); the NUCLEO: flashing it.
        string start = qnnBoard == "qemu-mps2-an505"
            ? ShellQuote("qemu-system-arm", ["-M", "mps2-an505", "-icount", "shift=0", "-serial", "pty", "-nographic", "-monitor", "none", "-kernel", image])
            : ShellQuote(FlashCommand(image).Exe, FlashCommand(image).Args);
        return new FirmwareImage(board, image, text + data, data + bss, request.Backend, [.. request.ModelBlobs], buildDir, start);
    }

    /// <summary>Runs one build tool, appending its output to the log; a failure becomes a one-line <see cref="FirmwareBuildException"/>.</summary>
    private static string Step(string board, string log, string exe, IReadOnlyList<string> args)
    {
        ToolResult r;
        try
        {
            r = Tool.Run(exe, args);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new FirmwareBuildException($"{board}: cannot run {exe} ({e.Message}); the firmware build needs cmake, ninja, gcc and, "
                + "for the MCU boards, arm-none-eabi-gcc (tools/install-deps installs them)", null);
        }
        File.AppendAllText(log, $"$ {ShellQuote(exe, args)}\n{r.Output}{r.Error}\n");
        if (r.ExitCode != 0)
        {
            throw new FirmwareBuildException($"{board} build failed: {FailureSummary(r.Output + "\n" + r.Error)} (full log: {log})", log);
        }
        return r.Output;
    }

    /// <summary>
    /// The line of a failed build's output a user needs: every linker region overflow ("region `FLASH' overflowed by
    /// N bytes": the models do not fit the chip), else the first compiler/CMake error, else the last line.
    /// </summary>
    public static string FailureSummary(string output)
    {
        string[] lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        string[] overflow = lines
            .Select(l => System.Text.RegularExpressions.Regex.Match(l, @"region `(\w+)' overflowed by (\d+) bytes"))
            .Where(m => m.Success)
            .Select(m => $"{m.Groups[1].Value} overflowed by {m.Groups[2].Value} bytes")
            .Distinct()
            .ToArray();
        if (overflow.Length > 0)
        {
            string why = overflow.All(o => o.StartsWith("FLASH", StringComparison.Ordinal))
                ? "the models linked in are too large"
                : "static RAM: arena (QNN_ARENA_SIZE), kernel scratch and the shell's buffers";
            return $"the image does not fit the chip's memory: {string.Join(", ", overflow)} ({why})";
        }
        string? error = lines.FirstOrDefault(l => l.Contains("error:", StringComparison.OrdinalIgnoreCase) || l.StartsWith("CMake Error", StringComparison.Ordinal));
        return error ?? (lines.Length > 0 ? lines[^1] : "no output");
    }

    /// <summary>Parses arm-none-eabi-size's Berkeley output ("text data bss dec hex filename").</summary>
    public static (long Text, long Data, long Bss) ParseSize(string output)
    {
        string[] lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (lines.Length < 2 || !lines[0].StartsWith("text", StringComparison.Ordinal))
        {
            throw new FormatException($"unexpected size output: {output}");
        }
        string[] f = lines[1].Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        return (long.Parse(f[0], CultureInfo.InvariantCulture), long.Parse(f[1], CultureInfo.InvariantCulture), long.Parse(f[2], CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// The openocd command that flashes an image onto the NUCLEO-L552ZE-Q through its ST-LINK; it runs in the
    /// repository root (the board config path is relative to it).
    /// </summary>
    public static (string Exe, string[] Args) FlashCommand(string image)
        => ("openocd", ["-f", "boards/nucleo-l552ze-q/openocd.cfg", "-c", $"program {TclWord(image)} verify reset exit"]);

    /// <summary>openocd reads -c as Tcl: a path with spaces or Tcl specials goes in braces, a plain one as it is.</summary>
    private static string TclWord(string s) =>
        s.Contains('{') || s.Contains('}') ? throw new ArgumentException($"openocd cannot take an image path with braces: {s}")
        : s.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=:+~".Contains(c)) ? s : "{" + s + "}";

    /// <summary>A command line as a POSIX shell would read it (for --dry-run and logs).</summary>
    public static string ShellQuote(string exe, IEnumerable<string> args)
        => string.Join(' ', new[] { exe }.Concat(args).Select(a => a.Length > 0 && a.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=:+".Contains(c)) ? a : "'" + a.Replace("'", "'\\''", StringComparison.Ordinal) + "'"));
}
