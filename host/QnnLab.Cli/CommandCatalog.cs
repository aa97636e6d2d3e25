using System.CommandLine;

namespace QnnLab.Cli;

/// <summary>The list of top-level sub-commands.</summary>
public static class CommandCatalog
{
    public static IEnumerable<Command> All()
    {
        yield return VersionCommand.Create();
    }
}
