namespace QnnLab.Results;

/// <summary>What a run is: set once when it starts, read back to resume or report it.</summary>
public sealed record RunInfo
{
    public long Id { get; init; }
    public required string Kind { get; init; }          // "hil", "eval", ...
    public required string Board { get; init; }          // "sim", "qemu", "/dev/ttyACM0", "host"
    public required string Model { get; init; }          // model file as the user gave it
    public string ModelHash { get; init; } = "";
    public required string Data { get; init; }           // data spec
    public string Precision { get; init; } = "";
    public string Squeeze { get; init; } = "";           // e.g. "bits=5,median=2", empty when off
    public int Total { get; init; }                      // inputs the run will process
    public string TimingUnit { get; init; } = "";        // "cycles", "instructions", "ns"
    public string Status { get; init; } = "running";     // running, done, failed, cancelled
    public string Created { get; init; } = "";
    public string BoardInfoJson { get; init; } = "{}";   // what the board reported at handshake
}

/// <summary>
/// The board's stages per inference, in the protocol's order (shared/protocol/SPEC.md, `results`): they do not
/// overlap and sum to the request's time; a stage that did not run is 0.
/// </summary>
public static class Stages
{
    public const int Quantize = 0, SqueezeBitDepth = 1, SqueezeMedian = 2, Inference = 3, InferenceBitDepth = 4, InferenceMedian = 5, Compare = 6;
    public const int Count = 7;

    /// <summary>Names in reports, CSV headers and JSON keys.</summary>
    public static readonly string[] Names = ["quantize", "squeeze_bit_depth", "squeeze_median", "inference", "inference_bit_depth", "inference_median", "compare"];

    /// <summary>Labels in plots and tables.</summary>
    public static readonly string[] Labels = ["quantization", "bit-depth squeeze", "median squeeze", "inference", "inference, bit-depth squeezed", "inference, median squeezed", "L1 comparison"];
}

/// <summary>One input's outcome. Timings are in the run's <see cref="RunInfo.TimingUnit"/>; -1 = not measured.</summary>
public sealed record InputResult
{
    public required int Index { get; init; }
    public required int Label { get; init; }
    public int HostPrediction { get; init; } = -1;
    public required int BoardPrediction { get; init; }
    public byte[] Logits { get; init; } = [];            // raw quantized logits as the board sent them
    /// <summary>The squeezers alone (bit depth + median); in stores before schema 3 also the detector's extra runs.</summary>
    public long SqueezeTime { get; init; } = -1;
    public long InferenceTime { get; init; } = -1;
    public long TotalTime { get; init; } = -1;
    /// <summary>Each of the <see cref="Stages"/>, or empty where not measured (stores before schema 3).</summary>
    public long[] StageTimes { get; init; } = [];
    public bool? Flagged { get; init; }                  // Feature Squeezing detector verdict, if enabled
    public int? DetectorScore { get; init; }
}

/// <summary>Link traffic of a run, accumulated across resumes.</summary>
public sealed record LinkStats(long PayloadBytes, long WireBytes, double Seconds, long Baud, long Retries, long Resets);

/// <summary>
/// A reset the host made: Kind "protocol" (RESET request) or "hardware" (NRST pulsed through Via); Outcome
/// "recovered" or "failed"; Recorded = inputs of the run recorded before it.
/// </summary>
public sealed record BoardResetRecord(int Recorded, string Kind, string Via, string Outcome, string Reason)
{
    public string Time { get; init; } = "";
}

/// <summary>Energy of one stage of one inference ("total": the whole pipeline): µJ over its time window, and how many power samples covered it.</summary>
public sealed record EnergyRecord(string Stage, double Microjoules, double Seconds, int Samples);
