using System.CommandLine;
using QnnLab.Firmware;

namespace QnnLab.Cli;

/// <summary>`qnnlab firmware build`: a board image with model blobs linked in, and its flash/RAM use.</summary>
public static class FirmwareCommand
{
    public static Command Create()
    {
        Option<string> board = new("--board", "-b") { Description = "sim, qemu or nucleo-l552ze-q", Required = true };
        Option<string[]> models = new("--model", "-m")
        {
            Description = "Model to link into the image: a .qnnb blob, or an int8/16x8 .tflite exported on the fly (repeatable)",
            AllowMultipleArgumentsPerToken = false,
        };
        Option<string> backend = new("--backend") { Description = "Kernel backend: portable or cmsis-nn", DefaultValueFactory = _ => "portable" };
        Option<string?> cmsisDir = new("--cmsis-nn-dir") { Description = "Checkout of ARM-software/CMSIS-NN (needed for --backend cmsis-nn; pinned 99f736a6)" };
        Option<string?> buildDir = new("--build-dir") { Description = "CMake build folder (default build/firmware-images/<board>-<backend>)" };
        Option<bool> json = CommonOptions.Json();
        var build = new Command("build", "Configure and build a board image (CMake) with model blobs linked in; print its path and flash/RAM use")
        {
            board, models, backend, cmsisDir, buildDir, json,
        };
        build.SetAction(parse =>
        {
            string root = FirmwareBuilder.FindRepoRoot(Directory.GetCurrentDirectory(), AppContext.BaseDirectory);
            string b = parse.GetValue(board)!;
            (string? qnnBoard, _, _) = FirmwareBuilder.BoardFacts(b);
            string be = parse.GetValue(backend)!;
            string dir = parse.GetValue(buildDir) ?? Path.Combine(root, "build", "firmware-images", $"{qnnBoard ?? "sim"}-{be}");
            FirmwareBuilder.Validate(new FirmwareBuildRequest(b, [], be, parse.GetValue(cmsisDir), dir));
            var blobs = new List<string>();
            foreach (string m in parse.GetValue(models) ?? [])
            {
                blobs.Add(AsBlob(CommonOptions.ResolveModel(m), Path.Combine(dir, "models")));
            }
            Console.Error.WriteLine($"building {qnnBoard ?? "sim"} ({be}) with {blobs.Count} model blob(s) in {dir}...");
            FirmwareImage img;
            try
            {
                img = FirmwareBuilder.Build(root, new FirmwareBuildRequest(b, blobs, be, parse.GetValue(cmsisDir), dir));
            }
            catch (FirmwareBuildException e)
            {
                Console.Error.WriteLine($"qnnlab: error: {e.Message}");
                return CliRunner.ExitError;
            }
            Console.WriteLine($"image {img.Image}");
            Console.WriteLine(qnnBoard is null
                ? $"size {img.FlashBytes} bytes (host executable)"
                : $"flash {img.FlashBytes} bytes ({img.FlashBytes / 1024.0:F1} KiB), RAM {img.RamBytes} bytes ({img.RamBytes / 1024.0:F1} KiB), backend {img.Backend}");
            if (img.RunCommand is not null)
            {
                Console.WriteLine($"{(qnnBoard == "nucleo-l552ze-q" ? "flash" : "run")} {img.RunCommand}");
            }
            if (parse.GetValue(json))
            {
                JsonOutput.Print(new Dictionary<string, object?>
                {
                    ["board"] = img.Board,
                    ["image"] = img.Image,
                    ["flash_bytes"] = img.FlashBytes,
                    ["ram_bytes"] = img.RamBytes,
                    ["backend"] = img.Backend,
                    ["models"] = img.Models,
                    ["build_dir"] = img.BuildDir,
                    ["run"] = img.RunCommand,
                });
            }
            return 0;
        });
        return new Command("firmware", "Build device firmware images") { build };
    }

    /// <summary>A .qnnb is used as it is; a model file is exported into <paramref name="dir"/> first.</summary>
    private static string AsBlob(string path, string dir)
    {
        if (path.EndsWith(".qnnb", StringComparison.OrdinalIgnoreCase))
        {
            return Path.GetFullPath(path);
        }
        (ModelBlob blob, _) = ExportCommand.Export(path);
        Directory.CreateDirectory(dir);
        string file = Path.Combine(dir, Path.GetFileNameWithoutExtension(path) + ".qnnb");
        File.WriteAllBytes(file, blob.Bytes);
        Console.Error.WriteLine($"exported {path} -> {file} ({blob.Bytes.Length} bytes, arena {blob.ArenaBytes} bytes)");
        return file;
    }
}
