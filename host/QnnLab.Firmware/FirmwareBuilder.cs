using System.Globalization;

namespace QnnLab.Firmware;

/// <summary>What `qnnlab firmware build` asks for.</summary>
public sealed record FirmwareBuildRequest(string Board, IReadOnlyList<string> ModelBlobs, string Backend = "portable", string? CmsisNnDir = null,
    string? BuildDir = null);

/// <summary>A built board image and its memory use (flash = text + data, RAM = data + bss; the sim: file size, no RAM figure).</summary>
public sealed record FirmwareImage(string Board, string Image, long FlashBytes, long RamBytes, string Backend, IReadOnlyList<string> Models,
    string BuildDir);

/// <summary>
/// Configures and builds the firmware tree (firmware/CMakeLists.txt) for one board with model blobs linked into the
/// image (QNN_BOARD_MODELS, see firmware/boards/common/board_models.cmake) and reads the image's size.
/// </summary>
public static class FirmwareBuilder
{
    public static readonly string[] Boards = ["sim", "qemu", "nucleo-l552ze-q"];
    public static readonly string[] Backends = ["portable", "cmsis-nn"];

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
        throw new InvalidOperationException("cannot find the repository (firmware/CMakeLists.txt) above the current folder; run qnnlab inside the checkout");
    }

    /// <summary>The cmake configure arguments for a request (exposed so tests can check them without building).</summary>
    public static List<string> ConfigureArguments(string repoRoot, FirmwareBuildRequest request, string buildDir)
    {
        if (!Backends.Contains(request.Backend))
        {
            throw new ArgumentException($"unknown backend '{request.Backend}' (expected {string.Join(", ", Backends)})");
        }
        if (request.Backend == "cmsis-nn" && string.IsNullOrEmpty(request.CmsisNnDir))
        {
            throw new ArgumentException("--backend cmsis-nn needs --cmsis-nn-dir DIR (a checkout of ARM-software/CMSIS-NN; the project pins 99f736a6)");
        }
        (string? qnnBoard, _, int arena) = BoardFacts(request.Board);
        string fw = Path.Combine(repoRoot, "firmware");
        var args = new List<string> { "-S", fw, "-B", buildDir, "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release", "-DBUILD_TESTING=OFF",
            $"-DQNN_ARENA_SIZE={arena.ToString(CultureInfo.InvariantCulture)}" };
        if (qnnBoard is not null)
        {
            args.Add($"-DCMAKE_TOOLCHAIN_FILE={Path.Combine(fw, "cmake", "arm-none-eabi.cmake")}");
            args.Add($"-DQNN_BOARD={qnnBoard}");
        }
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
        Tool.RunChecked("cmake", ConfigureArguments(repoRoot, request, buildDir));
        Tool.RunChecked("cmake", ["--build", buildDir, "--target", target]);
        string image = Path.Combine(buildDir, "boards", board, qnnBoard is null ? target : target + ".elf");
        if (!File.Exists(image))
        {
            throw new InvalidOperationException($"the build finished but {image} is missing");
        }
        long flash, ram;
        if (qnnBoard is null)
        {
            (flash, ram) = (new FileInfo(image).Length, 0);
        }
        else
        {
            (long text, long data, long bss) = ParseSize(Tool.RunChecked("arm-none-eabi-size", [image]));
            (flash, ram) = (text + data, data + bss);
        }
        return new FirmwareImage(board, image, flash, ram, request.Backend, [.. request.ModelBlobs], buildDir);
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
        => ("openocd", ["-f", "boards/nucleo-l552ze-q/openocd.cfg", "-c", $"program {image} verify reset exit"]);

    /// <summary>A command line as a POSIX shell would read it (for --dry-run and logs).</summary>
    public static string ShellQuote(string exe, IEnumerable<string> args)
        => string.Join(' ', new[] { exe }.Concat(args).Select(a => a.Length > 0 && a.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=:+".Contains(c)) ? a : "'" + a.Replace("'", "'\\''", StringComparison.Ordinal) + "'"));
}
