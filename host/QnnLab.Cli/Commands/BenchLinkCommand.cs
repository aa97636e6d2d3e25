using System.CommandLine;
using System.Globalization;
using QnnLab.Hil;
using QnnLab.Protocol;

namespace QnnLab.Cli;

/// <summary>
/// `qnnlab bench link`: CIFAR-size inputs through the sim board at an emulated line rate, with this project's
/// protocol and, in the same run, the way MLPerf Tiny's runner sends them (hex ASCII, 31 bytes per command,
/// one round trip each).
/// </summary>
public static class BenchLinkCommand
{
    /// <summary>What the issue asks of the protocol: payload at >= 90 % of the line's capacity.</summary>
    public const double TargetEfficiency = 0.90;

    public static Command Create()
    {
        Option<string> board = new("--board", "-b") { Description = "Only sim: the benchmark needs a board whose line rate it can set", DefaultValueFactory = _ => "sim" };
        Option<int> baud = new("--baud") { Description = "Emulated line rate (8N1: 10 bit times per byte)", DefaultValueFactory = _ => BoardLaunchOptions.DefaultSimBaud };
        Option<int> inputs = new("--inputs") { Description = "Inputs sent each way (the first fills the pipeline: use 40 or more for the figure)", DefaultValueFactory = _ => 50 };
        Option<int> bytes = new("--input-bytes") { Description = "Bytes per input (CIFAR-10: 32x32x3 = 3072)", DefaultValueFactory = _ => 3072 };
        Option<bool> json = CommonOptions.Json();
        var cmd = new Command("link", "Serial link payload throughput: our protocol vs MLPerf Tiny runner style, same inputs, same run")
        {
            board, baud, inputs, bytes, json,
        };
        cmd.SetAction(async (parse, cancel) =>
        {
            BoardTarget target = BoardTarget.Parse(parse.GetValue(board)!);
            if (target.Kind != BoardKind.Sim)
            {
                throw new ArgumentException($"--board {target}: bench link runs on the sim board only (it emulates the line rate and speaks both protocols)");
            }
            int rate = parse.GetValue(baud);
            int n = parse.GetValue(inputs);
            int size = parse.GetValue(bytes);
            if (rate < 1200)
            {
                throw new ArgumentException($"--baud {rate}: must be at least 1200");
            }
            if (n < 1)
            {
                throw new ArgumentException($"--inputs {n}: must be at least 1");
            }
            if (size is < 1 or > 65_536)
            {
                throw new ArgumentException($"--input-bytes {size}: must be 1..65536");
            }
            string sim = SimBoard.Build(FirmwareBuilds.FindRepoRoot());
            Console.Error.WriteLine($"bench link: {n} inputs of {size} bytes at {rate} baud, each protocol in turn...");
            LinkBenchmarkResult r = await LinkBenchmark.RunAsync(sim, rate, n, size, ct: cancel).ConfigureAwait(false);
            Print(r);
            if (parse.GetValue(json))
            {
                JsonOutput.Print(ToJson(r));
            }
            return 0;
        });
        return cmd;
    }

    public static void Print(LinkBenchmarkResult r)
    {
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(inv, $"link {r.Baud} baud 8N1: capacity {r.LineBytesPerSecond / 1000:F1} kB/s; {r.Inputs} inputs x {r.InputBytes} B"));
        Console.WriteLine("| protocol | seconds | payload kB/s | share of capacity | round trips |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        Console.WriteLine(string.Create(inv,
            $"| qnnlab (binary COBS frames, CRC-32, pipelined) | {r.ProtocolSeconds:F2} | {r.ProtocolPayloadBytesPerSecond / 1000:F1} | {r.ProtocolLinkEfficiency * 100:F1} % | {r.Inputs} |"));
        Console.WriteLine(string.Create(inv,
            $"| MLPerf Tiny runner style (hex ASCII, {LinkBenchmark.EembcBytesPerCommand} B per db command) | {r.EembcSeconds:F2} | {r.EembcPayloadBytesPerSecond / 1000:F1} | {r.EembcLinkEfficiency * 100:F1} % | {r.EembcRoundTrips} |"));
        string verdict = r.ProtocolLinkEfficiency >= TargetEfficiency ? "meets" : "misses";
        Console.WriteLine(string.Create(inv, $"ratio {r.Speedup:F2}x faster; the protocol {verdict} the {TargetEfficiency:P0} target"));
    }

    public static Dictionary<string, object?> ToJson(LinkBenchmarkResult r) => new()
    {
        ["baud"] = r.Baud,
        ["inputs"] = r.Inputs,
        ["input_bytes"] = r.InputBytes,
        ["capacity_bytes_per_s"] = r.LineBytesPerSecond,
        ["protocol_seconds"] = r.ProtocolSeconds,
        ["protocol_payload_bytes_per_s"] = r.ProtocolPayloadBytesPerSecond,
        ["protocol_link_utilization"] = r.ProtocolLinkEfficiency,
        ["mlperf_seconds"] = r.EembcSeconds,
        ["mlperf_payload_bytes_per_s"] = r.EembcPayloadBytesPerSecond,
        ["mlperf_link_utilization"] = r.EembcLinkEfficiency,
        ["mlperf_round_trips"] = r.EembcRoundTrips,
        ["ratio"] = r.Speedup,
        ["meets_target"] = r.ProtocolLinkEfficiency >= TargetEfficiency,
    };
}
