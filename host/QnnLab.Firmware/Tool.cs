using System.Diagnostics;

namespace QnnLab.Firmware;

/// <summary>The result of one external command (cmake, arm-none-eabi-size, the C golden runner).</summary>
public sealed record ToolResult(int ExitCode, string Output, string Error);

/// <summary>Runs external build and check tools, capturing their output.</summary>
public static class Tool
{
    public static ToolResult Run(string exe, IEnumerable<string> args, string? workingDirectory = null)
    {
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (workingDirectory is not null)
        {
            psi.WorkingDirectory = workingDirectory;
        }
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using Process p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {exe}");
        Task<string> err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return new ToolResult(p.ExitCode, output, err.Result);
    }

    /// <summary>Runs and throws <see cref="InvalidOperationException"/> with the tool's output when it fails.</summary>
    public static string RunChecked(string exe, IEnumerable<string> args, string? workingDirectory = null)
    {
        string[] list = [.. args];
        ToolResult r;
        try
        {
            r = Run(exe, list, workingDirectory);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"cannot run {exe}: {e.Message}", e);
        }
        if (r.ExitCode != 0)
        {
            throw new InvalidOperationException($"{exe} {string.Join(' ', list)} failed ({r.ExitCode}): {Tail(r.Output + r.Error, 4000)}");
        }
        return r.Output;
    }

    private static string Tail(string s, int n) => s.Length <= n ? s : s[^n..];
}
