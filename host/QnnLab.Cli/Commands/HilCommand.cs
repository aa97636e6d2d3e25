using System.CommandLine;
using System.Globalization;
using QnnLab.Data;
using QnnLab.Hil;
using QnnLab.Protocol;
using QnnLab.Reports;
using QnnLab.Results;

namespace QnnLab.Cli;

/// <summary>`qnnlab hil run`: streams a data set to a board (sim, QEMU or a real one) and records its answers beside the host engine's.</summary>
public static class HilCommand
{
    public const string DefaultStore = "qnnlab-out/hil.sqlite";

    public static Command Create()
    {
        var cmd = new Command("hil", "Hardware in the loop: run models on a board and compare with the host engine");
        cmd.Subcommands.Add(Run());
        return cmd;
    }

    public static Option<string> Board() => new("--board", "-b")
    {
        Description = "sim, qemu, or a serial port (/dev/ttyACM0, COM3)",
        DefaultValueFactory = _ => "sim",
    };

    public static Option<int?> Baud() => new("--baud") { Description = "Line rate: the sim's emulated rate (default 921600); a serial board's, switched to with SET_BAUD after the handshake at its boot rate 115200" };

    private static Command Run()
    {
        Option<string> board = Board();
        Option<string> model = CommonOptions.Model();
        Option<string> data = CommonOptions.Data();
        Option<int?> limit = CommonOptions.Limit();
        Option<string?> squeeze = new("--squeeze") { Description = "Feature Squeezing on the board: bits=5 | median=2 | bits=5,median=2[,threshold=T] (two squeezers: the detector)" };
        Option<string> store = new("--store") { Description = "SQLite result store", DefaultValueFactory = _ => DefaultStore };
        Option<long?> resume = new("--resume") { Description = "Continue run RUN of the store where it stopped" };
        Option<string?> faults = new("--faults") { Description = "Sim only: drop=P,corrupt=P,duplicate=P (per byte, both directions),resets=N (per 1,000 inputs)" };
        Option<int?> baud = Baud();
        Option<bool> json = CommonOptions.Json();
        var cmd = new Command("run", "Stream inputs to a board; record board and host predictions, logits and timings; summarise")
        {
            board, model, data, limit, squeeze, store, resume, faults, baud, json,
        };
        cmd.SetAction(async (parse, cancel) =>
        {
            var args = new HilArgs(
                BoardTarget.Parse(parse.GetValue(board)!),
                parse.GetValue(model)!,
                parse.GetValue(data)!,
                parse.GetValue(limit),
                SqueezeSettings.Parse(parse.GetValue(squeeze)),
                parse.GetValue(store)!,
                parse.GetValue(resume),
                FaultSpec.Parse(parse.GetValue(faults)),
                parse.GetValue(baud));
            return await Guard(async () =>
            {
                HilRunOutcome o = await ExecuteAsync(args, cancel).ConfigureAwait(false);
                PrintSummary(o);
                if (parse.GetValue(json))
                {
                    Dictionary<string, object?> obj = RunReport.ToJsonObject(o.Summary);
                    obj["logit_mismatches"] = o.LogitMismatches;
                    obj["store"] = args.Store;
                    JsonOutput.Print(obj);
                }
                return 0;
            }).ConfigureAwait(false);
        });
        return cmd;
    }

    public sealed record HilArgs(BoardTarget Board, string Model, string Data, int? Limit, SqueezeSettings Squeeze, string Store,
        long? Resume = null, FaultSpec? Faults = null, int? Baud = null);

    /// <summary>Opens the board, runs (or resumes) and returns the outcome; a cancelled run stays resumable.</summary>
    public static async Task<HilRunOutcome> ExecuteAsync(HilArgs a, CancellationToken cancel, string? repoRoot = null)
    {
        string modelPath = CommonOptions.ResolveModel(a.Model, cancel);
        string dataSpec = CommonOptions.ResolveData(a.Data, cancel);
        ImageSet set = DataSpec.Load(dataSpec);
        using var model = new EngineHilModel(modelPath);
        using var store = new ResultStore(a.Store);
        Console.Error.WriteLine($"hil: starting {a.Board} board...");
        await using BoardSession session = await BoardSession.OpenAsync(a.Board,
            new BoardLaunchOptions { Baud = a.Baud, Faults = a.Faults ?? FaultSpec.None, RepoRoot = repoRoot, Preloaded = [model.Blob] }, cancel).ConfigureAwait(false);
        Console.Error.WriteLine($"hil: {session.LinkDescription}; model {model.Name} ({model.Precision}, blob {Convert.ToHexStringLower(model.BlobHash)[..16]}…, {model.Blob.Length} bytes)");
        int total = Math.Min(set.Count, a.Limit ?? set.Count);
        var progress = new ProgressReporter($"hil {a.Board}{(a.Squeeze.Enabled ? " " + a.Squeeze : "")}", total);
        HilRunOutcome o;
        try
        {
            o = await HilRunner.RunAsync(session, model, set, store, new HilRunRequest
            {
                ModelLabel = a.Model,
                DataSpec = a.Data,
                Limit = a.Limit,
                Squeeze = a.Squeeze,
                Resume = a.Resume,
            }, new SyncProgress(p => progress.Report(p.Done)), cancel).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            progress.Finish("cancelled");
            Console.Error.WriteLine($"hil: cancelled; continue with --store {a.Store} --resume <run> (see qnnlab report --store {a.Store})");
            throw;
        }
        progress.Finish(session.Connection.Counters.ToString());
        return o;
    }

    public static void PrintSummary(HilRunOutcome o)
    {
        RunSummary s = o.Summary;
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(inv, $"run {o.RunId} ({s.Run.Status}) on {s.Run.Board}: {s.N} inputs ({o.RecordedNow} now, {o.AlreadyRecorded} before)"));
        Console.WriteLine(string.Create(inv, $"  board accuracy {s.BoardAccuracy * 100:F2} %, host engine {s.HostAccuracy * 100:F2} %, agreement {s.HostAgreement * 100:F2} % ({s.Disagreements} disagreements, {o.LogitMismatches} logit mismatches this session)"));
        foreach (LatencyStats l in s.Latency)
        {
            Console.WriteLine(string.Create(inv, $"  {l.Stage,-9} median {l.Median:F0} p5 {l.P5:F0} p95 {l.P95:F0} {s.Run.TimingUnit}"));
        }
        if (s.Breakdown is { } st && s.Run.Squeeze.Length > 0)
        {
            string stages = string.Join(", ", Enumerable.Range(0, Stages.Count).Where(i => st.Mean[i] > 0).Select(i => string.Create(inv, $"{Stages.Labels[i]} {st.Mean[i]:F0}")));
            Console.WriteLine($"  stages (mean {s.Run.TimingUnit}): {stages}");
            Console.WriteLine($"  {RunReport.OverheadLine(st)}");
        }
        if (s.Link.Seconds > 0)
        {
            string share = s.Link.Baud > 0
                ? string.Create(inv, $"{s.LinkUtilization * 100:F1} % of {s.Link.Baud} baud capacity")
                : "no line rate to compare with (pty)";
            Console.WriteLine(string.Create(inv, $"  link: {s.Link.PayloadBytes / s.Link.Seconds / 1000:F1} kB/s payload, {share}, {s.Link.Retries} retransmissions, {s.Link.Resets} board resets"));
        }
    }

    /// <summary>Board and run failures (no board, refused model, protocol errors) become one-line errors.</summary>
    public static async Task<int> Guard(Func<Task<int>> action)
    {
        try
        {
            return await action().ConfigureAwait(false);
        }
        catch (Exception e) when (e is InvalidOperationException or ProtocolException or TimeoutException)
        {
            Console.Error.WriteLine($"qnnlab: error: {e.Message}");
            return CliRunner.ExitError;
        }
    }

    /// <summary>Progress reported on the caller's thread (Progress&lt;T&gt; would post to the thread pool and reorder).</summary>
    private sealed class SyncProgress(Action<(int Done, int Total)> report) : IProgress<(int Done, int Total)>
    {
        public void Report((int Done, int Total) value) => report(value);
    }
}
