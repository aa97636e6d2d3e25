using System.CommandLine;
using QnnLab.Model;

namespace QnnLab.Cli;

/// <summary>Runs the root command, turning known failures into one-line errors and exit codes.</summary>
public static class CliRunner
{
    public const int ExitError = 1;
    public const int ExitCancelled = 130;

    /// <param name="cancel">An outside stop request (tests, a host process), on top of Ctrl-C.</param>
    public static async Task<int> RunAsync(RootCommand root, string[] args, CancellationToken cancel = default)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        // First Ctrl-C asks the running command to stop cleanly; a second one kills the process.
        ConsoleCancelEventHandler onCtrlC = (_, e) =>
        {
            if (!cts.IsCancellationRequested)
            {
                e.Cancel = true;
                cts.Cancel();
            }
        };
        // Unhooked afterwards: a process that runs several commands (tests) must not cancel a disposed source.
        Console.CancelKeyPress += onCtrlC;
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
            // Some framework messages span lines (ArgumentOutOfRangeException adds "Actual value was ..."): keep one line.
            Console.Error.WriteLine($"qnnlab: error: {OneLine(e.Message)}");
            return ExitError;
        }
        finally
        {
            Console.CancelKeyPress -= onCtrlC;
        }
    }

    private static string OneLine(string message) =>
        string.Join("; ", message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private static bool IsUserError(Exception e) =>
        e is ModelException or System.Net.Http.HttpRequestException or IOException or UnauthorizedAccessException or ArgumentException or InvalidDataException or NotSupportedException;
}
