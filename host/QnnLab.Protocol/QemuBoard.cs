using System.Diagnostics;
using System.Text.RegularExpressions;

namespace QnnLab.Protocol;

/// <summary>
/// The qemu-mps2-an505 board: the Cortex-M33 firmware image on QEMU with a deterministic instruction count
/// (-icount shift=0), its UART0 on a pty that the host opens like a serial port.
/// </summary>
public sealed partial class QemuBoard : IAsyncDisposable
{
    private readonly Process _process;

    private QemuBoard(Process process, string ptyPath)
    {
        _process = process;
        PtyPath = ptyPath;
    }

    public string PtyPath { get; }

    public static async Task<QemuBoard> StartAsync(string elf, string qemu = "qemu-system-arm", CancellationToken ct = default)
    {
        var psi = new ProcessStartInfo(qemu)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (string a in new[] { "-M", "mps2-an505", "-icount", "shift=0", "-serial", "pty", "-nographic", "-monitor", "none", "-kernel", elf })
        {
            psi.ArgumentList.Add(a);
        }
        Process p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {qemu}");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(15));
        Task<string?> err = p.StandardError.ReadLineAsync(timeout.Token).AsTask();
        try
        {
            // QEMU announces the pty on stdout or stderr depending on the version.
            while (true)
            {
                Task<string?> outLine = p.StandardOutput.ReadLineAsync(timeout.Token).AsTask();
                Task<string?> first = await Task.WhenAny(outLine, err).ConfigureAwait(false);
                string? line = await first.ConfigureAwait(false);
                if (line is null)
                {
                    throw new InvalidOperationException($"{qemu} exited before announcing its pty");
                }
                Match m = PtyLine().Match(line);
                if (m.Success)
                {
                    return new QemuBoard(p, m.Groups[1].Value);
                }
                if (first == err)
                {
                    err = p.StandardError.ReadLineAsync(timeout.Token).AsTask();
                }
            }
        }
        catch
        {
            p.Kill();
            p.Dispose();
            throw;
        }
    }

    /// <summary>Cross-builds the board image with CMake and arm-none-eabi-gcc; returns the ELF's path.</summary>
    public static string Build(string repoRoot, string? buildDir = null)
    {
        buildDir ??= Path.Combine(repoRoot, "build", "qemu-board");
        SimBoard.RunTool("cmake", ["-S", Path.Combine(repoRoot, "firmware", "boards", "qemu-mps2-an505"), "-B", buildDir]);
        SimBoard.RunTool("cmake", ["--build", buildDir]);
        return Path.Combine(buildDir, "qnn-qemu-mps2-an505.elf");
    }

    [GeneratedRegex(@"char device redirected to (/dev/\S+)")]
    private static partial Regex PtyLine();

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
