using System.CommandLine;
using QnnLab.Model;

namespace QnnLab.Cli;

/// <summary>Runs the root command, turning known failures into one-line errors and exit codes.</summary>
public static class CliRunner
{
    public const int ExitError = 1;
    public const int ExitCancelled = 130;

    public static async Task<int> RunAsync(RootCommand root, string[] args)
    {
        using var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            // First Ctrl-C asks the running command to stop cleanly; a second one kills the process.
            if (!cts.IsCancellationRequested)
            {
                e.Cancel = true;
                cts.Cancel();
            }
        };
        try
        {
            ParseResult parsed = root.Parse(args);
            return await parsed.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false }, cts.Token);
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("qnnlab: cancelled");
            return ExitCancelled;
        }
        catch (Exception e) when (IsUserError(e))
        {
            Console.Error.WriteLine($"qnnlab: error: {e.Message}");
            return ExitError;
        }
    }

    private static bool IsUserError(Exception e) =>
        e is ModelException or System.Net.Http.HttpRequestException or IOException or UnauthorizedAccessException or ArgumentException or InvalidDataException or NotSupportedException;
}
