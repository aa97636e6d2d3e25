using System.CommandLine;

namespace QnnLab.Cli;

/// <summary>The list of top-level sub-commands.</summary>
public static class CommandCatalog
{
    public static IEnumerable<Command> All()
    {
        yield return InfoCommand.Create();
        yield return EvalCommand.Create();
        yield return QuantizeCommand.Create();
        yield return AttackCommand.Create();
        yield return ExperimentCommand.Create();
        yield return DefendCommand.Create();
        yield return ZeroDensityCommand.Create();
        yield return GradientCosineCommand.Create();
        yield return ExportCommand.Create();
        yield return FirmwareCommand.Create();
        yield return BoardCommand.Create();
        yield return BenchCommand.Create();
        yield return HilCommand.Create();
        yield return ReportCommand.Create();
        yield return QuickstartCommand.Create();
        yield return VersionCommand.Create();
    }
}
