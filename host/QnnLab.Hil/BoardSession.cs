using System.Diagnostics;
using System.Globalization;
using QnnLab.Protocol;

namespace QnnLab.Hil;

/// <summary>How to start and reach a board.</summary>
public sealed record BoardLaunchOptions
{
    /// <summary>Sim: the emulated line rate; serial port: the port's rate. QEMU's pty has none.</summary>
    public int? Baud { get; init; }
    public FaultSpec Faults { get; init; } = FaultSpec.None;
    /// <summary>Sim only: run the fake executor (a documented checksum "model") instead of the device core.</summary>
    public bool FakeExecutor { get; init; }
    /// <summary>Checkout holding firmware/ (found from the working directory when null).</summary>
    public string? RepoRoot { get; init; }
    public TimeSpan? ResponseTimeout { get; init; }
    /// <summary>
    /// Sim only: model blobs the board holds from boot, as a flashed board does. A reset then costs a
    /// SELECT_MODEL instead of a new upload (which a faulty link may keep interrupting).
    /// </summary>
    public IReadOnlyList<byte[]> Preloaded { get; init; } = [];
    public Action<string>? Log { get; init; }

    /// <summary>Serial port only: the rate the board boots at (the NUCLEO image's LPUART default).</summary>
    public int BootBaud { get; init; } = DefaultSerialBaud;

    public const int DefaultSimBaud = 921_600;
    public const int DefaultSerialBaud = 115_200;
}

/// <summary>
/// A started board (sim or QEMU child process, or a serial port) with the protocol open on it. Counts the
/// bytes that cross the link so runs can report throughput and the share of the link's capacity.
/// </summary>
public sealed class BoardSession : IAsyncDisposable
{
    private readonly Process? _process;
    private readonly CountingStream _stream;

    private BoardSession(BoardTarget target, Process? process, CountingStream stream, BoardConnection connection, int baud, string link)
    {
        Target = target;
        _process = process;
        _stream = stream;
        Connection = connection;
        LineBaud = baud;
        LinkDescription = link;
        if (process is not null)
        {
            // A sim or QEMU board that exits leaves a hung-up pty whose reads and writes may never complete: fail the
            // link at once instead, as an unplugged board's port does.
            process.EnableRaisingEvents = true;
            process.Exited += (_, _) => stream.MarkGone($"the {target} board's process exited{ExitCode(process)}");
            if (process.HasExited)
            {
                stream.MarkGone($"the {target} board's process exited{ExitCode(process)}");
            }
        }
    }

    private static string ExitCode(Process p)
    {
        try
        {
            return $" (code {p.ExitCode})";
        }
        catch (InvalidOperationException)
        {
            return "";
        }
    }

    public BoardTarget Target { get; }
    public BoardConnection Connection { get; }
    /// <summary>Line rate of the link (0: unthrottled, as QEMU's pty).</summary>
    public int LineBaud { get; }
    public string LinkDescription { get; }
    public long BytesWritten => _stream.BytesWritten;
    public long BytesRead => _stream.BytesRead;
    public bool ProcessExited => _process is { HasExited: true };

    /// <summary>
    /// Whether the board's process (sim or QEMU) has exited or exits within <paramref name="timeout"/>; false at once
    /// for a serial board. A dying process's pty can fail a read a moment before the runtime reports the exit.
    /// </summary>
    public bool ExitsWithin(TimeSpan timeout) => _process is Process p && (p.HasExited || p.WaitForExit(timeout));

    public static async Task<BoardSession> OpenAsync(BoardTarget target, BoardLaunchOptions? options = null, CancellationToken ct = default)
    {
        options ??= new BoardLaunchOptions();
        Launched l = await LaunchAsync(target, options, ct).ConfigureAwait(false);
        return await ConnectAsync(target, l.Process, l.Port, l.PortBaud, l.LineBaud, l.Link, options, l.Timeout, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Starts the board and opens its port without the protocol: conformance tests write raw (even broken)
    /// frames. Disposing the result closes the port and stops the board process.
    /// </summary>
    public static async Task<RawBoardLink> OpenRawAsync(BoardTarget target, BoardLaunchOptions? options = null, CancellationToken ct = default)
    {
        options ??= new BoardLaunchOptions();
        Launched l = await LaunchAsync(target, options, ct).ConfigureAwait(false);
        try
        {
            return new RawBoardLink(SerialLink.Open(l.Port, l.PortBaud), l.Process);
        }
        catch
        {
            if (l.Process is not null)
            {
                Kill(l.Process);
            }
            throw;
        }
    }

    private sealed record Launched(Process? Process, string Port, int PortBaud, int LineBaud, string Link, TimeSpan Timeout);

    private static async Task<Launched> LaunchAsync(BoardTarget target, BoardLaunchOptions options, CancellationToken ct)
    {
        if (target.Kind != BoardKind.Sim && options.Faults.Any)
        {
            throw new ArgumentException("--faults works on the sim board only (it injects them in its own link)");
        }
        switch (target.Kind)
        {
            case BoardKind.Sim:
                {
                    string root = options.RepoRoot ?? FirmwareBuilds.FindRepoRoot();
                    string exe = FirmwareBuilds.SimWithCore(root);
                    int baud = options.Baud ?? BoardLaunchOptions.DefaultSimBaud;
                    var args = new List<string>();
                    if (!options.FakeExecutor)
                    {
                        args.Add("--core");
                    }
                    string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);
                    if (baud > 0)
                    {
                        args.AddRange(["--baud", baud.ToString(CultureInfo.InvariantCulture)]);
                    }
                    FaultSpec f = options.Faults;
                    if (f.Drop > 0)
                    {
                        args.AddRange(["--drop", F(f.Drop)]);
                    }
                    if (f.Corrupt > 0)
                    {
                        args.AddRange(["--corrupt", F(f.Corrupt)]);
                    }
                    if (f.Duplicate > 0)
                    {
                        args.AddRange(["--dup", F(f.Duplicate)]);
                    }
                    if (f.ResetEvery > 0)
                    {
                        args.AddRange(["--reset-every", f.ResetEvery.ToString(CultureInfo.InvariantCulture)]);
                    }
                    if (f.DieAfter > 0)
                    {
                        args.AddRange(["--die-after", f.DieAfter.ToString(CultureInfo.InvariantCulture)]);
                    }
                    args.AddRange(["--seed", f.Seed.ToString(CultureInfo.InvariantCulture)]);
                    foreach (byte[] blob in options.Preloaded)
                    {
                        string file = Path.Combine(Path.GetTempPath(), $"qnnlab-{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(blob))[..16]}.qnnb");
                        if (!File.Exists(file) || new FileInfo(file).Length != blob.Length)
                        {
                            string tmp = file + "." + Environment.ProcessId;
                            await File.WriteAllBytesAsync(tmp, blob, ct).ConfigureAwait(false);
                            File.Move(tmp, file, overwrite: true);
                        }
                        args.AddRange(["--model", file]);
                    }
                    Process p = Start(exe, args);
                    string pty = await AnnouncedPtyAsync(p, exe, line => line.StartsWith("pty: ", StringComparison.Ordinal) ? line[5..].Trim() : null,
                        TimeSpan.FromSeconds(10), ct).ConfigureAwait(false);
                    string link = baud > 0 ? $"sim pty {pty} at {baud} baud" : $"sim pty {pty}";
                    return new Launched(p, pty, 115200, baud, link, TimeSpan.FromSeconds(3));
                }
            case BoardKind.Qemu:
                {
                    string root = options.RepoRoot ?? FirmwareBuilds.FindRepoRoot();
                    if (!FirmwareBuilds.OnPath("qemu-system-arm"))
                    {
                        throw new InvalidOperationException("qemu-system-arm is not installed (tools/install-deps installs it)");
                    }
                    string elf = FirmwareBuilds.QemuImage(root);
                    Process p = Start("qemu-system-arm", ["-M", "mps2-an505", "-icount", "shift=0", "-serial", "pty", "-nographic", "-monitor", "none", "-kernel", elf]);
                    string pty = await AnnouncedPtyAsync(p, "qemu-system-arm", ParseQemuPty, TimeSpan.FromSeconds(15), ct).ConfigureAwait(false);
                    // Emulated inference is slow: a ResNet-8 takes a good part of a second of wall time.
                    return new Launched(p, pty, 115200, 0, $"qemu mps2-an505 pty {pty}", TimeSpan.FromSeconds(20));
                }
            default:
                {
                    // A board boots at its default rate; another --baud is reached with SET_BAUD after the handshake.
                    int boot = options.BootBaud;
                    return new Launched(null, target.Port!, boot, boot, $"{target.Port} at {boot} baud", TimeSpan.FromSeconds(5));
                }
        }
    }

    /// <summary>"char device redirected to /dev/pts/N (label serial0)" -> /dev/pts/N.</summary>
    public static string? ParseQemuPty(string line)
    {
        const string marker = "char device redirected to ";
        int i = line.IndexOf(marker, StringComparison.Ordinal);
        if (i < 0)
        {
            return null;
        }
        string rest = line[(i + marker.Length)..];
        int end = rest.IndexOf(' ', StringComparison.Ordinal);
        return end < 0 ? rest.Trim() : rest[..end];
    }

    private static Process Start(string exe, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo(exe)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }
        return Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {exe}");
    }

    /// <summary>Reads the child's stdout and stderr until one line names its pty (QEMU uses either stream).</summary>
    private static async Task<string> AnnouncedPtyAsync(Process p, string what, Func<string, string?> parse, TimeSpan limit, CancellationToken ct)
    {
        var found = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var seen = new System.Collections.Concurrent.ConcurrentQueue<string>();
        async Task Pump(StreamReader r)
        {
            try
            {
                while (await r.ReadLineAsync(CancellationToken.None).ConfigureAwait(false) is { } line)
                {
                    if (!found.Task.IsCompleted)
                    {
                        seen.Enqueue(line);
                        if (parse(line) is { } pty)
                        {
                            found.TrySetResult(pty);
                        }
                    }
                }
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
            {
            }
        }
        // Keep draining both streams for the child's whole life so it never blocks on a full pipe.
        Task outPump = Pump(p.StandardOutput);
        Task errPump = Pump(p.StandardError);
        _ = Task.WhenAll(outPump, errPump).ContinueWith(_ => found.TrySetException(
            new InvalidOperationException($"{what} exited before announcing its pty: {string.Join(" | ", seen)}")), TaskScheduler.Default);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(limit);
        try
        {
            return await found.Task.WaitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch
        {
            Kill(p);
            throw;
        }
    }

    private static async Task<BoardSession> ConnectAsync(BoardTarget target, Process? p, string port, int portBaud, int lineBaud, string link,
        BoardLaunchOptions options, TimeSpan defaultTimeout, CancellationToken ct)
    {
        System.IO.Ports.SerialPort? serial = null;
        try
        {
            serial = SerialLink.Open(port, portBaud);
            var stream = new CountingStream(serial);
            System.IO.Ports.SerialPort opened = serial;
            var opts = new BoardConnectionOptions
            {
                ResponseTimeout = options.ResponseTimeout ?? defaultTimeout,
                Log = options.Log,
                SwitchHostBaud = b =>
                {
                    opened.BaudRate = (int)b;
                    return Task.CompletedTask;
                },
            };
            BoardConnection c = await BoardConnection.OpenAsync(stream, opts, ownsStream: true, ct).ConfigureAwait(false);
            if (target.Kind == BoardKind.Serial && options.Baud is int want && want != portBaud)
            {
                try
                {
                    await SwitchBaudAsync(c, want, ct).ConfigureAwait(false);
                }
                catch
                {
                    await c.DisposeAsync().ConfigureAwait(false);
                    throw;
                }
                lineBaud = want;
                link = $"{target.Port} at {want} baud (switched from {portBaud})";
            }
            return new BoardSession(target, p, stream, c, lineBaud, link);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            serial?.Dispose();
            if (p is not null)
            {
                Kill(p);
            }
            throw new IOException($"{port}: cannot open the board's serial port: {e.Message}", e);
        }
        catch
        {
            serial?.Dispose();
            if (p is not null)
            {
                Kill(p);
            }
            throw;
        }
    }

    /// <summary>SET_BAUD to a rate the board lists (answered at the old rate, then both sides switch).</summary>
    private static async Task SwitchBaudAsync(BoardConnection c, int want, CancellationToken ct)
    {
        HelloInfo h = c.Hello;
        if (!h.Capabilities.HasFlag(Capabilities.SetBaud) || !h.SupportedBauds.Contains((uint)want))
        {
            string offered = h.SupportedBauds.Length == 0 ? "none" : string.Join(", ", h.SupportedBauds);
            throw new InvalidOperationException($"--baud {want}: the board cannot switch to that rate (it offers: {offered})");
        }
        await c.SetBaudAsync((uint)want, ct).ConfigureAwait(false);
    }

    internal static void Kill(Process p)
    {
        try
        {
            if (!p.HasExited)
            {
                p.Kill();
                p.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
        }
        p.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: true })
        {
            // before its Exited event may have run
            _stream.MarkGone($"the {Target} board's process exited{ExitCode(_process)}");
        }
        await Connection.DisposeAsync().ConfigureAwait(false);
        if (_process is not null)
        {
            Kill(_process);
        }
    }

    /// <summary>
    /// A serial port's stream that counts the bytes each way and closes the port with it; once the board is gone
    /// (<see cref="MarkGone"/>) every pending and later read or write fails with an <see cref="IOException"/> naming why.
    /// </summary>
    private sealed class CountingStream(System.IO.Ports.SerialPort port) : Stream
    {
        private readonly Stream _s = port.BaseStream;
        private readonly CancellationTokenSource _gone = new();
        private string _goneWhy = "";
        private long _written;
        private long _read;

        public void MarkGone(string why)
        {
            _goneWhy = why;
            try
            {
                _gone.Cancel();
            }
            catch (ObjectDisposedException)
            {
            }
        }

        private async Task<T> UnlessGone<T>(Task<T> io)
        {
            try
            {
                return await io.WaitAsync(_gone.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_gone.IsCancellationRequested)
            {
                throw new IOException(_goneWhy);
            }
        }

        public long BytesWritten => Interlocked.Read(ref _written);
        public long BytesRead => Interlocked.Read(ref _read);

        public override bool CanRead => true;
        public override bool CanWrite => true;
        public override bool CanSeek => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = _s.Read(buffer, offset, count);
            Interlocked.Add(ref _read, n);
            return n;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            int n = await UnlessGone(_s.ReadAsync(buffer, cancellationToken).AsTask()).ConfigureAwait(false);
            Interlocked.Add(ref _read, n);
            return n;
        }

        public override void Write(byte[] buffer, int offset, int count)
        {
            _s.Write(buffer, offset, count);
            Interlocked.Add(ref _written, count);
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await UnlessGone(Done(_s.WriteAsync(buffer, cancellationToken).AsTask())).ConfigureAwait(false);
            Interlocked.Add(ref _written, buffer.Length);
        }

        private static async Task<bool> Done(Task t)
        {
            await t.ConfigureAwait(false);
            return true;
        }

        public override void Flush() => _s.Flush();
        public override Task FlushAsync(CancellationToken cancellationToken) => UnlessGone(Done(_s.FlushAsync(cancellationToken)));
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                if (_gone.IsCancellationRequested)
                {
                    // SerialPort.Dispose waits for queued writes to drain, which a dead pty never does: drop them.
                    try
                    {
                        port.DiscardOutBuffer();
                    }
                    catch (Exception e) when (e is IOException or InvalidOperationException or UnauthorizedAccessException)
                    {
                    }
                    // ...and should it still wait, leave it waiting on a pool thread rather than hang the caller.
                    _ = Task.Run(port.Dispose).Wait(TimeSpan.FromSeconds(2));
                }
                else
                {
                    port.Dispose();
                }
                _gone.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}

/// <summary>A started board's port without the protocol on it (see <see cref="BoardSession.OpenRawAsync"/>).</summary>
public sealed class RawBoardLink(System.IO.Ports.SerialPort port, Process? process) : IAsyncDisposable
{
    public Stream Stream { get; } = port.BaseStream;

    public ValueTask DisposeAsync()
    {
        port.Dispose();
        if (process is not null)
        {
            BoardSession.Kill(process);
        }
        return ValueTask.CompletedTask;
    }
}
