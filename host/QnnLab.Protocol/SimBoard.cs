using System.Diagnostics;

namespace QnnLab.Protocol;

/// <summary>Options of the sim board process (firmware/boards/sim/main.c).</summary>
public sealed record SimBoardOptions
{
    /// <summary>Link rate to emulate (bytes take 10 bit times); 0 = as fast as the pty goes.</summary>
    public int Baud { get; init; }
    public double DropRate { get; init; }
    public double CorruptRate { get; init; }
    public double DuplicateRate { get; init; }
    public ulong Seed { get; init; } = 1;
    /// <summary>Reset the board after every N inferences (whatever is in flight is lost).</summary>
    public int ResetEvery { get; init; }
    public bool SelectFirstModel { get; init; }
    /// <summary>Speak MLPerf Tiny's EEMBC text protocol instead (link benchmark baseline).</summary>
    public bool Eembc { get; init; }
    /// <summary>Talk over stdin/stdout instead of a pty.</summary>
    public bool Stdio { get; init; }

    internal IEnumerable<string> Arguments()
    {
        if (Stdio)
        {
            yield return "--stdio";
        }
        if (Eembc)
        {
            yield return "--eembc";
        }
        if (SelectFirstModel)
        {
            yield return "--select-first";
        }
        string F(double v) => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        foreach ((string name, string value, bool on) in new[]
        {
            ("--baud", Baud.ToString(System.Globalization.CultureInfo.InvariantCulture), Baud > 0),
            ("--drop", F(DropRate), DropRate > 0),
            ("--corrupt", F(CorruptRate), CorruptRate > 0),
            ("--dup", F(DuplicateRate), DuplicateRate > 0),
            ("--seed", Seed.ToString(System.Globalization.CultureInfo.InvariantCulture), true),
            ("--reset-every", ResetEvery.ToString(System.Globalization.CultureInfo.InvariantCulture), ResetEvery > 0),
        })
        {
            if (on)
            {
                yield return name;
                yield return value;
            }
        }
    }
}

/// <summary>
/// A running sim board: the device core built for x86 (qnn-sim). In pty mode it prints "pty: PATH" and the
/// host opens PATH like a serial port; in stdio mode <see cref="StdioStream"/> is the link.
/// </summary>
public sealed class SimBoard : IAsyncDisposable
{
    private readonly Process _process;

    private SimBoard(Process process, string? ptyPath)
    {
        _process = process;
        PtyPath = ptyPath;
    }

    public string? PtyPath { get; }
    public bool HasExited => _process.HasExited;

    /// <summary>The link in stdio mode (owned by the process).</summary>
    public Stream StdioStream => new DuplexStream(_process.StandardOutput.BaseStream, _process.StandardInput.BaseStream);

    public static async Task<SimBoard> StartAsync(string executable, SimBoardOptions options, CancellationToken ct = default)
    {
        var psi = new ProcessStartInfo(executable)
        {
            RedirectStandardInput = options.Stdio,
            RedirectStandardOutput = true,
            RedirectStandardError = false,
            UseShellExecute = false,
        };
        foreach (string a in options.Arguments())
        {
            psi.ArgumentList.Add(a);
        }
        Process p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {executable}");
        if (options.Stdio)
        {
            return new SimBoard(p, null);
        }
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        string? line = await p.StandardOutput.ReadLineAsync(timeout.Token).ConfigureAwait(false);
        if (line is null || !line.StartsWith("pty: ", StringComparison.Ordinal))
        {
            p.Kill();
            throw new InvalidOperationException($"{executable} did not announce its pty (got '{line}')");
        }
        return new SimBoard(p, line[5..].Trim());
    }

    /// <summary>Builds qnn-sim with CMake (once; CMake skips what is up to date) and returns its path.</summary>
    public static string Build(string repoRoot, string? buildDir = null)
    {
        buildDir ??= Path.Combine(repoRoot, "build", "sim");
        RunTool("cmake", ["-S", Path.Combine(repoRoot, "firmware", "boards", "sim"), "-B", buildDir, "-DCMAKE_BUILD_TYPE=Release"]);
        RunTool("cmake", ["--build", buildDir, "--target", "qnn-sim"]);
        return Path.Combine(buildDir, "qnn-sim");
    }

    internal static void RunTool(string exe, string[] args)
    {
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using Process p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {exe}");
        Task<string> err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"{exe} {string.Join(' ', args)} failed ({p.ExitCode}): {output}{err.Result}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            }
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
    }
}
