using System.CommandLine;
using QnnLab.Firmware;

namespace QnnLab.Cli;

/// <summary>`qnnlab board flash`: programs an image onto the NUCLEO-L552ZE-Q with openocd (ST-LINK).</summary>
public static class BoardFlashCommand
{
    public static Command Create()
    {
        Option<string> image = new("--image") { Description = "The .elf to flash (qnnlab firmware build --board nucleo-l552ze-q prints it)", Required = true };
        Option<bool> dryRun = new("--dry-run") { Description = "Print the openocd command instead of running it" };
        var cmd = new Command("flash", "Flash a firmware image onto the NUCLEO-L552ZE-Q through its ST-LINK (openocd)") { image, dryRun };
        cmd.SetAction(parse =>
        {
            string elf = Path.GetFullPath(parse.GetValue(image)!);
            (string exe, string[] args) = FirmwareBuilder.FlashCommand(elf);
            string line = FirmwareBuilder.ShellQuote(exe, args);
            if (parse.GetValue(dryRun))
            {
                Console.WriteLine(line);
                return 0;
            }
            if (!File.Exists(elf))
            {
                throw new FileNotFoundException($"image {elf} not found");
            }
            string root = FirmwareBuilder.FindRepoRoot(Directory.GetCurrentDirectory(), AppContext.BaseDirectory);
            Console.Error.WriteLine(line);
            ToolResult r;
            try
            {
                r = Tool.Run(exe, args, root);
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                Console.Error.WriteLine($"qnnlab: error: cannot run {exe} ({e.Message}); install openocd 0.12+ (Debian: apt install openocd)");
                return CliRunner.ExitError;
            }
            Console.Error.Write(r.Output + r.Error);
            return r.ExitCode;
        });
        return cmd;
    }
}
