using QnnLab.Engine;
using QnnLab.Hil;
using QnnLab.Inference;
using QnnLab.Model;
using QnnLab.Protocol;

namespace QnnLab.Attacks.Targets;

/// <summary>
/// `board`: a sim, QEMU or real board running an int8/int16 model, asked over the serial protocol. Each image is sent
/// as the model's quantized input tensor (INPUT_TENSOR), exactly the bytes the host engine quantizes it to, so the
/// board sees what the host engine sees; every answer's logits are compared with the host engine's, and a mismatch is
/// counted (a bit-exact board has none). Labels are the board's own; scores are its logits through the model's
/// dequantization and softmax, as the integer target computes them. No gradients.
/// </summary>
public sealed class BoardOracle : AttackTarget
{
    private readonly BoardSession _session;
    private readonly IntegerTarget _host;
    private long _compared;
    private long _mismatches;
    private long _boardMicros;

    private BoardOracle(BoardSession session, IntegerTarget host, string spec)
    {
        _session = session;
        _host = host;
        Spec = spec;
    }

    /// <summary>
    /// Whether <paramref name="e"/> is a board going away or its link failing (the unit it was on can go to another
    /// board), rather than a fault of the attack or the host.
    /// </summary>
    public static bool IsBoardFailure(Exception e) =>
        e is IOException or TimeoutException or ProtocolException or ObjectDisposedException
        || (e is AggregateException a && a.InnerExceptions.All(IsBoardFailure));

    public override string Name => "board";
    public override TargetCapabilities Capabilities => TargetCapabilities.Labels | TargetCapabilities.Scores;
    public override int Classes => _host.Classes;
    public override int Height => _host.Height;
    public override int Width => _host.Width;
    public override int Channels => _host.Channels;

    /// <summary>What the store records to rebuild this target on a resume: <c>board:KIND[,KIND...]=MODEL</c>.</summary>
    public string Spec { get; }

    public string Link => _session.LinkDescription;

    /// <summary>Answers compared logit by logit with the host engine.</summary>
    public long Compared => Interlocked.Read(ref _compared);

    /// <summary>Answers whose logits (any one of them) or label differ from the host engine's.</summary>
    public long LogitMismatches => Interlocked.Read(ref _mismatches);

    /// <summary>Wall time spent waiting for the board's answers.</summary>
    public TimeSpan BoardTime => TimeSpan.FromTicks(Interlocked.Read(ref _boardMicros) * 10);

    /// <summary>The spec of a run on <paramref name="boards"/> (one, or several sharing the work) running <paramref name="modelPath"/>.</summary>
    public static string SpecFor(IReadOnlyList<BoardTarget> boards, string modelPath) => $"board:{string.Join(',', boards)}={modelPath}";

    /// <summary>Splits <c>board:KIND[,KIND...]=MODEL</c> into the boards and the model file; null when <paramref name="spec"/> names no board.</summary>
    public static (IReadOnlyList<BoardTarget> Boards, string ModelPath)? ParseSpec(string spec)
    {
        if (!spec.StartsWith("board:", StringComparison.Ordinal))
        {
            return null;
        }
        int eq = spec.IndexOf('=', StringComparison.Ordinal);
        if (eq < 0)
        {
            throw new ArgumentException($"'{spec}': expected board:KIND[,KIND...]=MODEL (KIND sim, qemu or a serial port)");
        }
        return (ParseList(spec[6..eq]), spec[(eq + 1)..]);
    }

    /// <summary>
    /// <c>sim,sim,/dev/ttyACM0</c>: the boards of a run. A serial port named twice is refused (one connection each);
    /// sim and qemu may repeat, each entry its own process.
    /// </summary>
    public static IReadOnlyList<BoardTarget> ParseList(string list)
    {
        BoardTarget[] boards = [.. list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(BoardTarget.Parse)];
        if (boards.Length == 0)
        {
            throw new ArgumentException($"--boards '{list}': name at least one board (sim, qemu or a serial port)");
        }
        if (boards.Where(b => b.Kind == BoardKind.Serial).GroupBy(b => b.Port).FirstOrDefault(g => g.Count() > 1) is { } twice)
        {
            throw new ArgumentException($"--boards '{list}': {twice.Key} is named twice; a serial port takes one connection");
        }
        return boards;
    }

    /// <summary>How rows name board <paramref name="position"/> (1-based) of a run's list: <c>sim#2</c>, <c>/dev/ttyACM0#1</c>.</summary>
    public static string LabelOf(BoardTarget board, int position) => $"{board}#{position}";

    /// <summary>
    /// Starts (or opens) <paramref name="board"/>, gives it the model of <paramref name="modelPath"/> (selected if it
    /// holds it, uploaded if it takes uploads) with squeezing off. <paramref name="preprocessing"/> is the attack
    /// model's, so the tensors sent are the ones the host engine of the same file computes on.
    /// </summary>
    public static async Task<BoardOracle> OpenAsync(BoardTarget board, string modelPath, InputPreprocessing preprocessing,
        BoardLaunchOptions? options = null, CancellationToken ct = default, string? spec = null)
    {
        QnnModel model = ModelFiles.Load(modelPath, preprocessing);
        if (model.Precision is not (Precision.Int8 or Precision.Int16))
        {
            throw new ArgumentException($"board target: {modelPath} is {ModelFiles.Name(model.Precision)}; a board runs an int8 or int16 model (--board-model FILE)");
        }
        var host = new IntegerTarget(model);
        try
        {
            using var hil = new EngineHilModel(modelPath);
            BoardSession session = await BoardSession.OpenAsync(board, (options ?? new BoardLaunchOptions()) with { Preloaded = [hil.Blob] }, ct)
                .ConfigureAwait(false);
            try
            {
                await HilRunner.PrepareBoardAsync(session.Connection, hil, SqueezeSettings.Off, ct).ConfigureAwait(false);
                return new BoardOracle(session, host, spec ?? SpecFor([board], modelPath));
            }
            catch
            {
                await session.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }
        catch
        {
            host.Dispose();
            throw;
        }
    }

    /// <summary>The board's raw logits for <paramref name="n"/> images, checked against the host engine's.</summary>
    public int[] RawOutputs(ReadOnlySpan<float> x, int n) => Ask(x, n).Raw;

    private (int[] Raw, int[] Labels) Ask(ReadOnlySpan<float> x, int n)
    {
        int size = ImageSize;
        var inputs = new ReadOnlyMemory<byte>[n];
        for (int i = 0; i < n; i++)
        {
            inputs[i] = _host.QuantizedInput(x.Slice(i * size, size));
        }
        int[] expected = _host.RawOutputs(x, n);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        InferResult[] answers = Collect(inputs).GetAwaiter().GetResult();
        Interlocked.Add(ref _boardMicros, (long)clock.Elapsed.TotalMicroseconds);
        var raw = new int[n * Classes];
        var labels = new int[n];
        for (int i = 0; i < n; i++)
        {
            InferResult a = answers[i];
            if (a.Logits.Length != Classes)
            {
                throw new InvalidOperationException($"board answered {a.Logits.Length} logits for a model with {Classes} classes");
            }
            a.Logits.CopyTo(raw, i * Classes);
            labels[i] = a.Label;
            bool same = a.Label == LogitBytes.ArgMax(a.Logits) && a.Logits.AsSpan().SequenceEqual(expected.AsSpan(i * Classes, Classes));
            Interlocked.Increment(ref _compared);
            if (!same)
            {
                Interlocked.Increment(ref _mismatches);
            }
        }
        return (raw, labels);
    }

    private async Task<InferResult[]> Collect(ReadOnlyMemory<byte>[] inputs)
    {
        var results = new List<InferResult>(inputs.Length);
        try
        {
            await foreach (InferResult r in _session.Connection.InferManyAsync(inputs, new InferOptions(InputTensor: true)).ConfigureAwait(false))
            {
                results.Add(r);
            }
        }
        catch (Exception e) when (_session.ExitsWithin(TimeSpan.FromSeconds(1)))
        {
            // the link's own error ("the port is closed") hides why: the board is gone
            throw new IOException($"{Link}: the board's process exited", e);
        }
        return [.. results];
    }

    protected override float[] ComputeScores(ReadOnlySpan<float> x, int n)
    {
        int[] raw = RawOutputs(x, n);
        IntegerModel compiled = _host.Compiled;
        var scores = new float[raw.Length];
        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<int> row = raw.AsSpan(i * Classes, Classes);
            float[] p = compiled.ActivationType == ElementType.Int8
                ? EngineIo.Probabilities(compiled, Array.ConvertAll(row.ToArray(), v => (sbyte)v))
                : EngineIo.Probabilities(compiled, Array.ConvertAll(row.ToArray(), v => (short)v));
            p.CopyTo(scores, i * Classes);
        }
        return scores;
    }

    /// <summary>The board's own labels (the device core breaks ties to the lowest class).</summary>
    protected override int[] ComputeLabels(ReadOnlySpan<float> x, int n) => Ask(x, n).Labels;

    public override float[] Effective(ReadOnlySpan<float> x) => _host.Effective(x);

    public override void Dispose()
    {
        _session.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _host.Dispose();
        base.Dispose();
    }
}
