using System.CommandLine;
using System.Reflection;

namespace QnnLab.Cli;

public static class VersionCommand
{
    public static Command Create()
    {
        var cmd = new Command("version", "Print the qnnlab version");
        cmd.SetAction(_ =>
        {
            string v = typeof(VersionCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
            Console.WriteLine($"qnnlab {v}");
            return 0;
        });
        return cmd;
    }
}
