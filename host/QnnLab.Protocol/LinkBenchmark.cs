using System.Diagnostics;
using System.IO.Ports;
using System.Text;

namespace QnnLab.Protocol;

/// <summary>One link benchmark: the same inputs sent with this protocol and MLPerf-runner style.</summary>
public sealed record LinkBenchmarkResult(int Baud, int Inputs, int InputBytes, double ProtocolSeconds, double EembcSeconds,
    long EembcRoundTrips, long EembcBytesSent)
{
    /// <summary>What an 8N1 line carries at most (10 bit times per byte).</summary>
    public double LineBytesPerSecond => Baud / 10.0;
    public double ProtocolPayloadBytesPerSecond => (double)Inputs * InputBytes / ProtocolSeconds;
    public double EembcPayloadBytesPerSecond => (double)Inputs * InputBytes / EembcSeconds;
    /// <summary>Share of the line rate that carried input bytes.</summary>
    public double ProtocolLinkEfficiency => ProtocolPayloadBytesPerSecond / LineBytesPerSecond;
    public double EembcLinkEfficiency => EembcPayloadBytesPerSecond / LineBytesPerSecond;
    public double Speedup => EembcSeconds / ProtocolSeconds;

    public override string ToString() =>
        $"{Inputs} x {InputBytes} B at {Baud} baud: protocol {ProtocolSeconds:F2} s ({ProtocolPayloadBytesPerSecond:F0} B/s, " +
        $"{ProtocolLinkEfficiency:P0} of line rate); MLPerf-runner style {EembcSeconds:F2} s ({EembcPayloadBytesPerSecond:F0} B/s, " +
        $"{EembcLinkEfficiency:P0}, {EembcRoundTrips} round trips); speedup {Speedup:F2}x";
}

/// <summary>
/// Payload throughput of CIFAR-size inputs through the sim board at a given (emulated) baud rate: pipelined
/// binary INFER frames versus MLPerf Tiny's runner protocol (hex ASCII, at most 31 bytes per "db" command, one
/// round trip each, then "infer"). Both talk to the same fake executor, so the difference is the link protocol.
/// </summary>
public static class LinkBenchmark
{
    public const int EembcBytesPerCommand = 31;

    public static async Task<LinkBenchmarkResult> RunAsync(string simExecutable, int baud, int inputs, int inputBytes = 3072, int seed = 1,
        CancellationToken ct = default)
    {
        var rng = new Random(seed);
        var data = new List<byte[]>();
        for (int i = 0; i < inputs; i++)
        {
            var x = new byte[inputBytes];
            rng.NextBytes(x);
            data.Add(x);
        }
        double protocol = await RunProtocolAsync(simExecutable, baud, data, ct).ConfigureAwait(false);
        (double eembc, long trips, long sent) = await RunEembcAsync(simExecutable, baud, data, ct).ConfigureAwait(false);
        return new LinkBenchmarkResult(baud, inputs, inputBytes, protocol, eembc, trips, sent);
    }

    private static async Task<double> RunProtocolAsync(string sim, int baud, List<byte[]> data, CancellationToken ct)
    {
        await using SimBoard board = await SimBoard.StartAsync(sim, new SimBoardOptions { Baud = baud, SelectFirstModel = true }, ct).ConfigureAwait(false);
        await using BoardConnection c = await SerialLink.ConnectAsync(board.PtyPath!, baud, new BoardConnectionOptions
        {
            ResponseTimeout = TimeSpan.FromSeconds(5 + 3 * 8192.0 * 10 / baud),
        }, ct).ConfigureAwait(false);
        int n = 0;
        var sw = Stopwatch.StartNew();
        await foreach (InferResult _ in c.InferManyAsync(data.Select(d => (ReadOnlyMemory<byte>)d), null, ct).ConfigureAwait(false))
        {
            n++;
        }
        sw.Stop();
        if (n != data.Count)
        {
            throw new InvalidOperationException($"protocol run returned {n} results for {data.Count} inputs");
        }
        return sw.Elapsed.TotalSeconds;
    }

    private static async Task<(double Seconds, long RoundTrips, long BytesSent)> RunEembcAsync(string sim, int baud, List<byte[]> data, CancellationToken ct)
    {
        await using SimBoard board = await SimBoard.StartAsync(sim, new SimBoardOptions { Baud = baud, Eembc = true, SelectFirstModel = true }, ct)
            .ConfigureAwait(false);
        using SerialPort port = SerialLink.Open(board.PtyPath!, baud);
        Stream s = port.BaseStream;
        var reader = new LineReader(s);
        long trips = 0, sent = 0;
        async Task Command(string cmd)
        {
            byte[] b = Encoding.ASCII.GetBytes(cmd + "%");
            await s.WriteAsync(b, ct).ConfigureAwait(false);
            sent += b.Length;
            trips++;
            while (true)
            {
                string line = await reader.ReadLineAsync(ct).ConfigureAwait(false);
                if (line.StartsWith("e-", StringComparison.Ordinal))
                {
                    throw new InvalidOperationException($"EEMBC sim refused '{cmd[..Math.Min(cmd.Length, 20)]}': {line}");
                }
                if (line == "m-ready")
                {
                    return;
                }
            }
        }
        await Command("name").ConfigureAwait(false);
        trips = 0;
        sent = 0;
        var hex = new StringBuilder();
        var sw = Stopwatch.StartNew();
        foreach (byte[] x in data)
        {
            await Command($"db load {x.Length}").ConfigureAwait(false);
            for (int off = 0; off < x.Length; off += EembcBytesPerCommand)
            {
                hex.Clear().Append("db ");
                hex.Append(Convert.ToHexStringLower(x, off, Math.Min(EembcBytesPerCommand, x.Length - off)));
                await Command(hex.ToString()).ConfigureAwait(false);
            }
            await Command("infer 1 0").ConfigureAwait(false);
        }
        sw.Stop();
        return (sw.Elapsed.TotalSeconds, trips, sent);
    }

    /// <summary>CR/LF-terminated lines from a stream, without the buffering of a StreamReader getting in the way of timing.</summary>
    private sealed class LineReader(Stream s)
    {
        private readonly byte[] _buf = new byte[4096];
        private readonly StringBuilder _line = new();
        private int _n, _at;

        public async Task<string> ReadLineAsync(CancellationToken ct)
        {
            while (true)
            {
                if (_at == _n)
                {
                    _n = await s.ReadAsync(_buf, ct).ConfigureAwait(false);
                    _at = 0;
                    if (_n == 0)
                    {
                        throw new EndOfStreamException("EEMBC sim closed the link");
                    }
                }
                char c = (char)_buf[_at++];
                if (c == '\n')
                {
                    string l = _line.ToString().TrimEnd('\r');
                    _line.Clear();
                    return l;
                }
                _line.Append(c);
            }
        }
    }
}
