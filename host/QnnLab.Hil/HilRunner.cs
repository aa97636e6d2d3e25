using System.Diagnostics;
using System.Text.Json;
using QnnLab.Data;
using QnnLab.Protocol;
using QnnLab.Results;

namespace QnnLab.Hil;

/// <summary>What to run: the names recorded in the store, the input range and squeezing, or the run to resume.</summary>
public sealed record HilRunRequest
{
    /// <summary>The model as the user named it (recorded in the store).</summary>
    public required string ModelLabel { get; init; }
    public required string DataSpec { get; init; }
    public int? Limit { get; init; }
    public SqueezeSettings Squeeze { get; init; } = SqueezeSettings.Off;
    /// <summary>Continue this run: inputs already recorded are skipped.</summary>
    public long? Resume { get; init; }
}

/// <summary>A finished (or resumed-to-the-end) run: its summary and what this session did.</summary>
/// <param name="LogitMismatches">Inputs of this session whose logits (or detector score/verdict) differ from the host engine's in any bit.</param>
public sealed record HilRunOutcome(long RunId, RunSummary Summary, int RecordedNow, int AlreadyRecorded, int LogitMismatches, LinkCounters Counters);

/// <summary>
/// Streams a data set to a board and records, as the answers arrive, the board's and the host engine's
/// prediction, the board's raw logits and its stage timings. Resumable: (run, index) is the store's key, a
/// resumed run skips what is recorded, and a cancelled run is left "cancelled", ready for --resume.
/// </summary>
public static class HilRunner
{
    public static async Task<HilRunOutcome> RunAsync(BoardSession board, IHilModel model, ImageSet data, ResultStore store, HilRunRequest request,
        IProgress<(int Done, int Total)>? progress = null, CancellationToken ct = default)
    {
        if (data.Pixels is null)
        {
            throw new InvalidDataException($"{data.Source}: a board takes 8-bit pixels; this data set holds real values (adversarial examples must be rounded to pixels first)");
        }
        if (data.Height != model.Height || data.Width != model.Width || data.Channels != model.Channels)
        {
            throw new InvalidDataException($"{data.Source}: images are {data.Height}x{data.Width}x{data.Channels} but model '{model.Name}' takes {model.Height}x{model.Width}x{model.Channels}");
        }
        BoardConnection c = board.Connection;
        BoardInfo info = await PrepareBoardAsync(c, model, request.Squeeze, ct).ConfigureAwait(false);

        int total = Math.Min(data.Count, request.Limit ?? data.Count);
        long runId;
        HashSet<int> recorded;
        if (request.Resume is long resume)
        {
            RunInfo old = store.GetRun(resume);
            string squeeze = request.Squeeze.ToString();
            if (old.ModelHash != model.SourceHash)
            {
                throw new InvalidOperationException($"run {resume} was made with model {old.Model} (SHA-256 {old.ModelHash[..12]}…), not this one ({model.SourceHash[..12]}…): resume it with the same model");
            }
            if (old.Squeeze != squeeze)
            {
                throw new InvalidOperationException($"run {resume} used squeezing '{old.Squeeze}', not '{squeeze}': resume it with the same --squeeze");
            }
            if (old.Data != request.DataSpec)
            {
                throw new InvalidOperationException($"run {resume} read data '{old.Data}', not '{request.DataSpec}'");
            }
            runId = resume;
            total = old.Total;
            recorded = store.RecordedIndices(runId);
            store.SetStatus(runId, "running");
        }
        else
        {
            runId = store.CreateRun(new RunInfo
            {
                Kind = "hil",
                Board = board.Target.ToString(),
                Model = request.ModelLabel,
                ModelHash = model.SourceHash,
                Data = request.DataSpec,
                Precision = model.Precision,
                Squeeze = request.Squeeze.ToString(),
                Total = total,
                TimingUnit = UnitName(info.TimingUnit),
                BoardInfoJson = BoardInfoJson(info, board),
            });
            recorded = [];
        }

        int[] pending = Enumerable.Range(0, total).Where(i => !recorded.Contains(i)).ToArray();
        int pixels = data.ImageSize;
        IEnumerable<ReadOnlyMemory<byte>> Inputs()
        {
            foreach (int i in pending)
            {
                yield return data.Pixels.AsMemory(i * pixels, pixels);
            }
        }

        long wire0 = board.BytesWritten;
        long retries0 = c.Counters.Retransmissions;
        long resets0 = c.Counters.ResetsDetected;
        var clock = Stopwatch.StartNew();
        int done = 0, mismatches = 0;
        string status = "failed";
        progress?.Report((recorded.Count, total));
        try
        {
            await foreach (InferResult r in c.InferManyAsync(Inputs(), InferOptions.Default, ct).ConfigureAwait(false))
            {
                int index = pending[done];
                byte[] px = data.Pixels.AsSpan(index * pixels, pixels).ToArray();
                HostExpectation expected = model.Expect(px, request.Squeeze);
                byte[] logits = LogitBytes.Encode(r.Logits, r.LogitBytes);
                bool detectorDiffers = expected.DetectorScore is int score && ((int)r.DetectorScore != score || r.Adversarial != expected.Flagged);
                if (!logits.AsSpan().SequenceEqual(expected.Logits) || detectorDiffers)
                {
                    mismatches++;
                }
                ulong[] t = r.StageTimes;
                bool detector = request.Squeeze.Detector;
                store.Add(runId, new InputResult
                {
                    Index = index,
                    Label = data.Labels[index],
                    HostPrediction = expected.Label,
                    BoardPrediction = r.Label,
                    Logits = logits,
                    // the squeezers alone; the detector's extra inferences and comparison are stages of their own
                    SqueezeTime = request.Squeeze.Enabled ? (long)(t[InferResult.SqueezeBitDepth] + t[InferResult.SqueezeMedian]) : -1,
                    InferenceTime = (long)t[InferResult.Inference],
                    TotalTime = (long)r.TotalTime,
                    StageTimes = Array.ConvertAll(t, v => (long)v),
                    Flagged = detector ? r.Adversarial : null,
                    DetectorScore = detector ? (int)r.DetectorScore : null,
                });
                done++;
                progress?.Report((recorded.Count + done, total));
            }
            status = "done";
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            status = "cancelled";
            throw;
        }
        finally
        {
            clock.Stop();
            store.Flush();
            store.AddLinkStats(runId, new LinkStats(
                (long)done * pixels, board.BytesWritten - wire0, clock.Elapsed.TotalSeconds, board.LineBaud,
                c.Counters.Retransmissions - retries0, c.Counters.ResetsDetected - resets0));
            store.SetStatus(runId, status);
        }
        RunSummary summary = Summarize(store, runId);
        return new HilRunOutcome(runId, summary, done, recorded.Count, mismatches, c.Counters);
    }

    public static RunSummary Summarize(ResultStore store, long runId) =>
        RunSummary.Compute(store.GetRun(runId), store.Results(runId), store.GetLinkStats(runId));

    /// <summary>Selects the model if the board holds it, else uploads it; refuses a board that answers with another model's identity.</summary>
    public static async Task<BoardInfo> PrepareBoardAsync(BoardConnection c, IHilModel model, SqueezeSettings squeeze, CancellationToken ct)
    {
        BoardInfo info = await c.GetInfoAsync(ct).ConfigureAwait(false);
        string want = Convert.ToHexStringLower(model.BlobHash);
        ModelDescriptor d;
        if (info.Models.Any(m => m.Hash.AsSpan().SequenceEqual(model.BlobHash)))
        {
            d = await c.SelectModelAsync(model.BlobHash, ct).ConfigureAwait(false);
        }
        else if (c.Hello.Capabilities.HasFlag(Capabilities.Upload))
        {
            d = await c.UploadModelAsync(model.Blob, null, ct).ConfigureAwait(false);
        }
        else
        {
            throw new InvalidOperationException(
                $"board '{info.Board}' does not hold model '{model.Name}' (blob {want[..16]}…; it holds {string.Join(", ", info.Models.Select(m => $"{m.Name} {m.HashHex[..16]}…"))}) and takes no uploads: flash an image built with this model (qnnlab board flash)");
        }
        if (!d.Hash.AsSpan().SequenceEqual(model.BlobHash))
        {
            throw new InvalidOperationException($"board selected model {d.HashHex[..16]}… but the host's blob is {want[..16]}…: refusing to compare different models");
        }
        if (d.Height != model.Height || d.Width != model.Width || d.Channels != model.Channels)
        {
            throw new InvalidOperationException($"board's model takes {d.Height}x{d.Width}x{d.Channels} inputs, the host's {model.Height}x{model.Width}x{model.Channels}");
        }
        await c.SetSqueezeAsync(ToDevice(model, squeeze), ct).ConfigureAwait(false);
        return info;
    }

    public static SqueezeConfig ToDevice(IHilModel model, SqueezeSettings s) => !s.Enabled
        ? SqueezeConfig.Off
        : new SqueezeConfig((byte)s.Bits, (byte)s.Median, s.Detector,
            s.Detector ? model.DeviceThreshold(s.Threshold ?? SqueezeSettings.DefaultThreshold) : 0f);

    public static string UnitName(TimingUnit u) => u switch
    {
        TimingUnit.Cycles => "cycles",
        TimingUnit.Nanoseconds => "ns",
        TimingUnit.Instructions => "instructions",
        _ => u.ToString(),
    };

    private static string BoardInfoJson(BoardInfo info, BoardSession board) => JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["board"] = info.Board,
        ["backend"] = info.Backend,
        ["build_id"] = info.BuildId,
        ["clock_hz"] = info.ClockHz,
        ["timing_unit"] = UnitName(info.TimingUnit),
        ["timing_resolution"] = info.TimingResolution,
        ["link"] = board.LinkDescription,
        ["boot_id"] = board.Connection.Hello.BootId,
    });
}
