using System.Text;
using QnnLab.Cli;

namespace QnnLab.Cli.Tests;

/// <summary>What one in-process qnnlab run printed and returned.</summary>
public sealed record CliRun(int ExitCode, string Stdout, string Stderr)
{
    public string[] StdoutLines => Lines(Stdout);
    public string[] StderrLines => Lines(Stderr);

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();

    public override string ToString() => $"exit {ExitCode}\n--- stdout ---\n{Stdout}--- stderr ---\n{Stderr}";
}

/// <summary>
/// Runs qnnlab in this process exactly as Program.cs does (same root command, same runner), with stdout and
/// stderr captured. Console is process-wide, so runs are serialised (the assembly is DoNotParallelize too).
/// </summary>
public static class CliHarness
{
    private static readonly SemaphoreSlim OneAtATime = new(1, 1);

    public static Task<CliRun> RunAsync(params string[] args) => RunAsync(CancellationToken.None, args);

    public static async Task<CliRun> RunAsync(CancellationToken cancel, params string[] args)
    {
        await OneAtATime.WaitAsync();
        TextWriter oldOut = Console.Out, oldErr = Console.Error;
        var stdout = new StringWriter(new StringBuilder()) { NewLine = "\n" };
        var stderr = new StringWriter(new StringBuilder()) { NewLine = "\n" };
        try
        {
            Console.SetOut(stdout);
            Console.SetError(stderr);
            int rc = await CliRunner.RunAsync(QnnLabApp.BuildRoot(), args, cancel);
            return new CliRun(rc, stdout.ToString(), stderr.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
            OneAtATime.Release();
        }
    }
}
