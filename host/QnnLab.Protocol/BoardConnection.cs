using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;

namespace QnnLab.Protocol;

public sealed class BoardConnectionOptions
{
    /// <summary>How long an answer may take before the request is sent again (add the inference time of slow boards).</summary>
    public TimeSpan ResponseTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Retransmissions of one request without any sign of a lossy link (no malformed frame, no NAK since the
    /// previous send) before it fails with a <see cref="TimeoutException"/>: a silent board fails fast.
    /// </summary>
    public int MaxRetries { get; init; } = 10;

    /// <summary>
    /// Retransmissions of one request in all, where the link shows damage (malformed frames, NAKs): a board
    /// behind a noisy link is alive, and at 1 % byte errors a small frame needs several tries.
    /// </summary>
    public int MaxRetriesOnLossyLink { get; init; } = 300;

    /// <summary>Floor of the adaptive retransmission timeout (which is learned from the board's answer times).</summary>
    public TimeSpan MinResponseTimeout { get; init; } = TimeSpan.FromMilliseconds(3);

    /// <summary>Smallest piece an input is staged in when the link keeps damaging bigger frames.</summary>
    public int MinInputChunk { get; init; } = 32;

    /// <summary>Requests in flight; null = the device's max_inflight (never more).</summary>
    public int? Window { get; init; }

    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Switches the host side of the link to a new baud rate (for SET_BAUD on a real port).</summary>
    public Func<uint, Task>? SwitchHostBaud { get; init; }

    public Action<string>? Log { get; init; }
}

/// <summary>What the link went through (host side); device-side counters come from STATS.</summary>
public sealed class LinkCounters
{
    internal long _requests, _retransmissions, _duplicateAnswers, _naks, _badFrames, _resets, _notCachedReissues, _probes, _restaged, _abandoned, _abandonedButRan;

    public long Requests => Interlocked.Read(ref _requests);
    public long Retransmissions => Interlocked.Read(ref _retransmissions);
    public long DuplicateAnswersIgnored => Interlocked.Read(ref _duplicateAnswers);
    public long NaksReceived => Interlocked.Read(ref _naks);
    public long MalformedFramesReceived => Interlocked.Read(ref _badFrames);
    public long ResetsDetected => Interlocked.Read(ref _resets);
    public long NotCachedReissues => Interlocked.Read(ref _notCachedReissues);
    public long Probes => Interlocked.Read(ref _probes);
    public long InputsRestaged => Interlocked.Read(ref _restaged);

    /// <summary>
    /// Input frames given up on because the link kept damaging frames of that size (the input was then sent
    /// again in smaller pieces). An abandoned INFER may have run on the board with its answer lost.
    /// </summary>
    public long InputFramesAbandoned => Interlocked.Read(ref _abandoned);

    /// <summary>Abandoned input frames the board had run after all: asked again under their seq, it replayed the answer.</summary>
    public long AbandonedFramesThatRan => Interlocked.Read(ref _abandonedButRan);

    public override string ToString() =>
        $"requests={Requests} retransmissions={Retransmissions} duplicates={DuplicateAnswersIgnored} naks={NaksReceived} " +
        $"malformed={MalformedFramesReceived} resets={ResetsDetected} reissued={NotCachedReissues} probes={Probes} restaged={InputsRestaged} " +
        $"abandoned={InputFramesAbandoned} abandoned-but-ran={AbandonedFramesThatRan}";
}

public sealed record InferOptions(bool InputTensor = false, bool NoLogits = false)
{
    public static readonly InferOptions Default = new();
}

/// <summary>
/// Host end of the serial protocol over any <see cref="Stream"/> (a serial port, a pty, an in-memory pipe):
/// handshake and version check, pipelined requests within the device's window, retransmission on
/// timeout / NAK / answer gaps (same sequence number, so the device never runs a request twice), reset
/// detection (BOOT frame or a changed boot id) with recovery: re-handshake, re-select the model (re-upload
/// it if the board lost it), re-apply squeezing, resend what was unanswered. Each request yields exactly
/// one answer to its caller.
/// </summary>
public sealed class BoardConnection : IAsyncDisposable
{
    private readonly Stream _stream;
    private readonly bool _ownsStream;
    private readonly BoardConnectionOptions _options;
    private readonly FrameDecoder _decoder = new();
    private readonly object _lock = new();
    private readonly Dictionary<ushort, Pending> _pending = [];
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly SemaphoreSlim _stagingLock = new(1, 1);
    private readonly CancellationTokenSource _shutdown = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private SemaphoreSlim _window = new(1, 1);
    private Task _readerTask = Task.CompletedTask;
    private Task _monitorTask = Task.CompletedTask;
    private TaskCompletionSource _ready = Ready();
    private HelloInfo? _hello;
    private ushort _lastSeq;
    private long _order;
    private int _epoch;
    private bool _recovering;
    private bool _resetAgain;
    private bool _probing;
    private Exception? _fault;
    private byte[]? _selectedModel;
    private byte[]? _uploadedBlob;
    private SqueezeConfig? _squeeze;
    // Link adaptation (under _lock): answer-time estimates per request type, damage seen, input frame size.
    private readonly Dictionary<MessageType, ServiceTime> _serviceTimes = [];
    private readonly ServiceTime _replayTime = new();
    private long _lastAnswerAt;
    private long _lastDamageAt = long.MinValue / 2; // "long ago", without overflowing now - it
    private int _inputFrameLimit = int.MaxValue;
    private int _inputFramesSeen, _inputFramesFirstTry;

    private BoardConnection(Stream stream, bool ownsStream, BoardConnectionOptions options)
    {
        _stream = stream;
        _ownsStream = ownsStream;
        _options = options;
    }

    public HelloInfo Hello => _hello ?? throw new InvalidOperationException("no handshake yet");
    public LinkCounters Counters { get; } = new();

    /// <summary>Incremented on every board reset the connection detected.</summary>
    public int ResetEpoch => Volatile.Read(ref _epoch);

    public int Window { get; private set; } = 1;

    /// <summary>
    /// Largest number of input bytes one frame carries now: the board's inline limit on a clean link, less
    /// when the link damages big frames (inputs are then staged in pieces of this size).
    /// </summary>
    public int InputFrameLimit
    {
        get
        {
            lock (_lock)
            {
                return Math.Min(_inputFrameLimit, InlineLimit);
            }
        }
    }

    private int InlineLimit => Hello.MaxPayload - 8;

    /// <summary>Starts reading, synchronises the link and does the HELLO handshake.</summary>
    public static async Task<BoardConnection> OpenAsync(Stream stream, BoardConnectionOptions? options = null, bool ownsStream = true,
        CancellationToken ct = default)
    {
        var c = new BoardConnection(stream, ownsStream, options ?? new BoardConnectionOptions());
        c._readerTask = Task.Run(() => c.ReadLoopAsync(c._shutdown.Token));
        c._monitorTask = Task.Run(() => c.MonitorLoopAsync(c._shutdown.Token));
        try
        {
            await c.HandshakeAsync(ct).ConfigureAwait(false);
        }
        catch
        {
            await c.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return c;
    }

    private async Task HandshakeAsync(CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_options.HandshakeTimeout);
        await WriteAsync([0], timeout.Token).ConfigureAwait(false); // ends any partial frame the board holds
        Frame f = await SendAsync(MessageType.Hello, Payloads.Hello(), internalRequest: true, timeout.Token).ConfigureAwait(false);
        HelloInfo hello = ParseHello(f);
        Window = Math.Max(1, Math.Min(_options.Window ?? hello.MaxInflight, hello.MaxInflight));
        _window = new SemaphoreSlim(Window, Window);
        lock (_lock)
        {
            _hello = hello;
        }
        Log($"handshake: boot {hello.BootId:X8}, max payload {hello.MaxPayload}, window {Window}, caps {hello.Capabilities}");
    }

    private static HelloInfo ParseHello(Frame f)
    {
        Check(f, "HELLO");
        HelloInfo hello = HelloInfo.Parse(f.Payload);
        if (hello.ProtocolVersion != Frame.ProtocolVersion)
        {
            throw new ProtocolException(StatusCode.BadVersion, $"board speaks protocol {hello.ProtocolVersion}, host {Frame.ProtocolVersion}");
        }
        if (hello.MaxPayload < 256 || hello.MaxInflight < 1)
        {
            throw new ProtocolException(StatusCode.BadPayload, $"board announces impossible limits (payload {hello.MaxPayload}, in flight {hello.MaxInflight})");
        }
        return hello;
    }

    // ---- typed requests ----

    public async Task<HelloInfo> PingAsync(CancellationToken ct = default)
    {
        Frame f = await SendAsync(MessageType.Hello, Payloads.Hello(), false, ct).ConfigureAwait(false);
        return ParseHello(f);
    }

    public async Task<BoardInfo> GetInfoAsync(CancellationToken ct = default)
        => BoardInfo.Parse(Check(await SendAsync(MessageType.Info, [], false, ct).ConfigureAwait(false), "INFO").Payload);

    public async Task<DeviceStats> GetStatsAsync(CancellationToken ct = default)
        => DeviceStats.Parse(Check(await SendAsync(MessageType.Stats, [], false, ct).ConfigureAwait(false), "STATS").Payload);

    /// <summary>Selects a model the board holds; it is selected again after a board reset.</summary>
    public async Task<ModelDescriptor> SelectModelAsync(byte[] hash, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(hash.Length, 32);
        Frame f = Check(await SendAsync(MessageType.SelectModel, hash, false, ct).ConfigureAwait(false), "SELECT_MODEL");
        _selectedModel = hash;
        return ModelDescriptor.Parse(f.Payload);
    }

    /// <summary>Uploads a model blob (resuming what the board already holds of it) and selects it.</summary>
    public async Task<ModelDescriptor> UploadModelAsync(byte[] blob, IProgress<long>? progress = null, CancellationToken ct = default)
    {
        byte[] hash = SHA256.HashData(blob);
        ModelDescriptor m = await UploadAsync(blob, hash, progress, false, ct).ConfigureAwait(false);
        _uploadedBlob = blob;
        _selectedModel = hash;
        return m;
    }

    private async Task<ModelDescriptor> UploadAsync(byte[] blob, byte[] hash, IProgress<long>? progress, bool internalRequest, CancellationToken ct)
    {
        int chunk = Hello.MaxPayload - 4;
        for (int attempt = 0; ; attempt++)
        {
            Frame begin = Check(await SendAsync(MessageType.UploadBegin, Payloads.UploadBegin((uint)blob.Length, hash), internalRequest, ct).ConfigureAwait(false), "UPLOAD_BEGIN");
            long next = BitConverter.ToUInt32(begin.Payload, 0);
            progress?.Report(next);
            bool restart = false;
            // Chunks go out pipelined; a refused one (gap after a loss, upload forgotten by a reset) restarts from the board's offset.
            var inFlight = new List<Task<Frame>>();
            for (long off = next; off < blob.Length && !restart; off += chunk)
            {
                int n = (int)Math.Min(chunk, blob.Length - off);
                inFlight.Add(SendAsync(MessageType.UploadChunk, Payloads.OffsetChunk((uint)off, blob.AsSpan((int)off, n)), internalRequest, ct));
                if (inFlight.Count >= Window || off + n >= blob.Length)
                {
                    foreach (Frame f in await Task.WhenAll(inFlight).ConfigureAwait(false))
                    {
                        if (f.Status is StatusCode.UploadOffset or StatusCode.NoUpload)
                        {
                            restart = true;
                        }
                        else
                        {
                            Check(f, "UPLOAD_CHUNK");
                            progress?.Report(BitConverter.ToUInt32(f.Payload, 0));
                        }
                    }
                    inFlight.Clear();
                }
            }
            if (!restart)
            {
                Frame end = await SendAsync(MessageType.UploadEnd, [], internalRequest, ct).ConfigureAwait(false);
                if (end.Status is not (StatusCode.UploadOffset or StatusCode.NoUpload))
                {
                    return ModelDescriptor.Parse(Check(end, "UPLOAD_END").Payload);
                }
            }
            if (attempt >= _options.MaxRetries)
            {
                throw new ProtocolException(StatusCode.UploadOffset, "upload kept being interrupted");
            }
        }
    }

    /// <summary>Sets Feature Squeezing on the board; re-applied after a board reset.</summary>
    public async Task SetSqueezeAsync(SqueezeConfig config, CancellationToken ct = default)
    {
        Check(await SendAsync(MessageType.SetSqueeze, config.ToPayload(), false, ct).ConfigureAwait(false), "SET_SQUEEZE");
        _squeeze = config;
    }

    /// <summary>Runs one input (pixels, or the input tensor's bytes with <see cref="InferOptions.InputTensor"/>).</summary>
    public async Task<InferResult> InferAsync(ReadOnlyMemory<byte> input, InferOptions? options = null, CancellationToken ct = default)
    {
        options ??= InferOptions.Default;
        Frame f = await RunInputAsync(input, (data, offset) => Payloads.Infer(data.Span, options.InputTensor, options.NoLogits, 1, offset),
            MessageType.Infer, ct).ConfigureAwait(false);
        return InferResult.ParseAll(Check(f, "INFER").Payload)[0];
    }

    /// <summary>Several small inputs in one frame (their total must fit the board's max payload).</summary>
    public async Task<InferResult[]> InferBatchAsync(IReadOnlyList<ReadOnlyMemory<byte>> inputs, InferOptions? options = null, CancellationToken ct = default)
    {
        options ??= InferOptions.Default;
        byte[] all = inputs.SelectMany(i => i.ToArray()).ToArray();
        Frame f = await SendAsync(MessageType.Infer, Payloads.Infer(all, options.InputTensor, options.NoLogits, inputs.Count), false, ct).ConfigureAwait(false);
        return InferResult.ParseAll(Check(f, "INFER").Payload);
    }

    /// <summary>Streams inputs with up to <see cref="Window"/> requests in flight; results come back in input order, one per input.</summary>
    public async IAsyncEnumerable<InferResult> InferManyAsync(IEnumerable<ReadOnlyMemory<byte>> inputs, InferOptions? options = null,
        [EnumeratorCancellation] CancellationToken ct = default)
    {
        var queue = new Queue<Task<InferResult>>();
        foreach (ReadOnlyMemory<byte> input in inputs)
        {
            queue.Enqueue(InferAsync(input, options, ct));
            // keep one more queued than the window so the link never idles while an answer is parsed
            if (queue.Count > Window)
            {
                yield return await queue.Dequeue().ConfigureAwait(false);
            }
        }
        while (queue.Count > 0)
        {
            yield return await queue.Dequeue().ConfigureAwait(false);
        }
    }

    public async Task<BenchmarkResult> BenchmarkAsync(ReadOnlyMemory<byte> input, int repetitions, bool inputTensor = false, CancellationToken ct = default)
    {
        Frame f = await RunInputAsync(input, (data, offset) => Payloads.Benchmark(data.Span, repetitions, inputTensor, offset), MessageType.Benchmark, ct)
            .ConfigureAwait(false);
        return BenchmarkResult.Parse(Check(f, "BENCHMARK").Payload);
    }

    /// <summary>Resets the board and waits until the connection has recovered (model and squeezing re-applied).</summary>
    public async Task ResetAsync(CancellationToken ct = default)
    {
        int epoch = ResetEpoch;
        Check(await SendAsync(MessageType.Reset, [], false, ct).ConfigureAwait(false), "RESET");
        var deadline = Stopwatch.StartNew();
        while (ResetEpoch == epoch)
        {
            if (deadline.Elapsed > _options.HandshakeTimeout)
            {
                await ProbeAsync().ConfigureAwait(false); // the BOOT frame may have been lost
                deadline.Restart();
            }
            await Task.Delay(5, ct).ConfigureAwait(false);
        }
        await WaitReadyAsync(ct).ConfigureAwait(false);
    }

    /// <summary>Switches the link's baud rate (board first, then host via <see cref="BoardConnectionOptions.SwitchHostBaud"/>).</summary>
    public async Task SetBaudAsync(uint baud, CancellationToken ct = default)
    {
        if (_options.SwitchHostBaud is null)
        {
            throw new InvalidOperationException("SetBaudAsync needs BoardConnectionOptions.SwitchHostBaud");
        }
        Check(await SendAsync(MessageType.SetBaud, Payloads.U32(baud), false, ct).ConfigureAwait(false), "SET_BAUD");
        await Task.Delay(20, ct).ConfigureAwait(false);
        await _options.SwitchHostBaud(baud).ConfigureAwait(false);
        await WriteAsync([0], ct).ConfigureAwait(false);
        await PingAsync(ct).ConfigureAwait(false);
    }

    private static Frame Check(Frame f, string what)
    {
        if (f.Status != StatusCode.Ok)
        {
            throw new ProtocolException(f.Status, $"{what} refused by the board");
        }
        return f;
    }

    /// <summary>
    /// One input through INFER/BENCHMARK: inline when it fits a frame, else staged with INPUT_CHUNK (again after
    /// a reset). When the link keeps damaging frames of the current size, the frame is abandoned and the input
    /// sent again in smaller pieces (see <see cref="InputFrameLimit"/>).
    /// </summary>
    private async Task<Frame> RunInputAsync(ReadOnlyMemory<byte> input, Func<ReadOnlyMemory<byte>, uint, byte[]> build, MessageType type, CancellationToken ct)
    {
        for (int round = 0; ; round++)
        {
            int limit = InputFrameLimit;
            try
            {
                if (input.Length <= limit)
                {
                    return await SendAsync(type, build(input, 0), false, ct, input.Length).ConfigureAwait(false);
                }
                return await RunStagedAsync(input, build, type, limit, ct).ConfigureAwait(false);
            }
            catch (FrameAbandonedException abandoned) when (round < 64)
            {
                // The board may have run the abandoned frame (only its answer lost or late): ask it under the same
                // seq first, so an input runs once. A cached answer comes back as a replay; an unknown seq meets an
                // empty payload and is refused without running anything. Only then the input goes again, smaller.
                Frame asked = await SendAsync(type, [], false, ct, reuseSeq: abandoned.Seq).ConfigureAwait(false);
                if (asked.Status != StatusCode.BadPayload || asked.Payload.Length != 0)
                {
                    Interlocked.Increment(ref Counters._abandonedButRan);
                    return asked;
                }
            }
        }
    }

    private async Task<Frame> RunStagedAsync(ReadOnlyMemory<byte> input, Func<ReadOnlyMemory<byte>, uint, byte[]> build, MessageType type, int chunk,
        CancellationToken ct)
    {
        // One staging buffer on the board: staged inputs take turns.
        await _stagingLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            int tail = input.Length % chunk;
            if (tail == 0)
            {
                tail = chunk;
            }
            int staged = input.Length - tail;
            for (int attempt = 0; ; attempt++)
            {
                int epoch = ResetEpoch;
                var acks = new List<Task<Frame>>();
                for (int off = 0; off < staged; off += chunk)
                {
                    int n = Math.Min(chunk, staged - off);
                    acks.Add(SendAsync(MessageType.InputChunk, Payloads.OffsetChunk((uint)off, input.Span.Slice(off, n)), false, ct, n));
                }
                try
                {
                    await Task.WhenAll(acks).ConfigureAwait(false);
                }
                catch (Exception)
                {
                    // WhenAll has let every chunk settle (none can land on the board later); the first failure is rethrown below
                }
                foreach (Task<Frame> a in acks)
                {
                    Check(await a.ConfigureAwait(false), "INPUT_CHUNK");
                }
                Frame f = await SendAsync(type, build(input[staged..], (uint)staged), false, ct, tail).ConfigureAwait(false);
                bool lost = f.Status == StatusCode.NotStaged || ResetEpoch != epoch;
                if (!lost || attempt >= _options.MaxRetries)
                {
                    return f;
                }
                Interlocked.Increment(ref Counters._restaged);
            }
        }
        finally
        {
            _stagingLock.Release();
        }
    }

    /// <summary>An input frame the host stopped retransmitting because the link kept damaging frames of its size.</summary>
    private sealed class FrameAbandonedException(ushort seq) : Exception("input frame abandoned: the link damages frames of this size")
    {
        public ushort Seq { get; } = seq;
    }

    /// <summary>Jacobson/Karels estimate of how long the board takes to answer one request of a type once it is at the head of its queue.</summary>
    private sealed class ServiceTime
    {
        public double Mean, Deviation;

        public void Add(double sample)
        {
            if (Mean == 0 && Deviation == 0)
            {
                Mean = sample;
                Deviation = sample / 2;
                return;
            }
            Deviation = 0.75 * Deviation + 0.25 * Math.Abs(Mean - sample);
            Mean = 0.875 * Mean + 0.125 * sample;
        }
    }

    // ---- request machinery ----

    private sealed class Pending
    {
        public required ushort Seq;
        public required MessageType Type;
        public required byte[] Wire;
        public required byte[] ReplayWire;
        public required bool Internal;
        public required long Order;
        /// <summary>Input bytes the frame carries (0: not an input frame); such frames may be abandoned.</summary>
        public int InputBytes;
        public readonly TaskCompletionSource<Frame> Answer = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public long SentAt;
        public int SentEpoch;
        public int Attempts;
        /// <summary>Retransmissions after which no malformed frame or NAK had come back: the board may be gone.</summary>
        public int SilentAttempts;
        public int Timeouts;
        public Frame? Suspect;
    }

    private static TaskCompletionSource Ready()
    {
        var t = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        t.SetResult();
        return t;
    }

    private Task WaitReadyAsync(CancellationToken ct)
    {
        Task ready;
        lock (_lock)
        {
            ready = _ready.Task;
        }
        return ready.WaitAsync(ct);
    }

    /// <summary>Sends a request and returns its answer (any status). Answers lost as NOT_CACHED are re-issued under a new seq.</summary>
    private async Task<Frame> SendAsync(MessageType type, byte[] payload, bool internalRequest, CancellationToken ct, int inputBytes = 0,
        ushort? reuseSeq = null)
    {
        if (_fault is not null)
        {
            throw new IOException("the board connection failed", _fault);
        }
        if (!internalRequest)
        {
            await _window.WaitAsync(ct).ConfigureAwait(false);
        }
        try
        {
            while (true)
            {
                if (!internalRequest)
                {
                    await WaitReadyAsync(ct).ConfigureAwait(false);
                }
                Frame f = await SendOnceAsync(type, payload, internalRequest, ct, inputBytes, reuseSeq).ConfigureAwait(false);
                if (f.Status != StatusCode.NotCached)
                {
                    return f;
                }
                reuseSeq = null;
                Interlocked.Increment(ref Counters._notCachedReissues);
            }
        }
        finally
        {
            if (!internalRequest)
            {
                _window.Release();
            }
        }
    }

    private async Task<Frame> SendOnceAsync(MessageType type, byte[] payload, bool internalRequest, CancellationToken ct, int inputBytes,
        ushort? reuseSeq)
    {
        Pending p;
        lock (_lock)
        {
            ushort seq = _lastSeq;
            if (reuseSeq is ushort again && !_pending.ContainsKey(again))
            {
                seq = again; // asking after an abandoned frame (see RunInputAsync)
            }
            else
            {
                do
                {
                    seq = (ushort)(seq == ushort.MaxValue ? 1 : seq + 1);
                }
                while (_pending.ContainsKey(seq));
                _lastSeq = seq;
            }
            p = new Pending
            {
                Seq = seq,
                Type = type,
                Wire = Frame.Request(type, seq, payload).ToWire(),
                ReplayWire = [0, .. Frame.Request(type, seq, payload, FrameFlags.Replay).ToWire()],
                Internal = internalRequest,
                Order = _order++,
                InputBytes = inputBytes,
            };
            p.SentAt = _clock.ElapsedTicks;
            p.SentEpoch = _epoch;
            _pending[seq] = p;
        }
        Interlocked.Increment(ref Counters._requests);
        try
        {
            using CancellationTokenRegistration reg = ct.Register(() => p.Answer.TrySetCanceled(ct));
            await WriteAsync(p.Wire, ct).ConfigureAwait(false);
            return await p.Answer.Task.ConfigureAwait(false);
        }
        finally
        {
            lock (_lock)
            {
                if (_pending.TryGetValue(p.Seq, out Pending? q) && q == p)
                {
                    _pending.Remove(p.Seq);
                }
            }
        }
    }

    private async Task WriteAsync(byte[] bytes, CancellationToken ct)
    {
        await _writeLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            await _stream.WriteAsync(bytes, ct).ConfigureAwait(false);
            await _stream.FlushAsync(ct).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Sends a request again (same seq), or abandons an input frame the link keeps damaging.</summary>
    private void Retransmit(Pending p, bool afterReset = false)
    {
        bool abandon = false;
        lock (_lock)
        {
            if (!_pending.TryGetValue(p.Seq, out Pending? q) || q != p || p.Answer.Task.IsCompleted)
            {
                return;
            }
            if (!afterReset && p.InputBytes > _options.MinInputChunk
                && ((p.Attempts >= AbandonAfterRetries && LinkLossy(_clock.ElapsedTicks)) || p.InputBytes > _inputFrameLimit))
            {
                // A frame this big keeps getting damaged: the input goes again in smaller pieces. (On a clean link
                // missing answers say nothing about frame size: a silent board then fails after MaxRetries.)
                _inputFrameLimit = Math.Min(_inputFrameLimit, Math.Max(_options.MinInputChunk, p.InputBytes / 2));
                _pending.Remove(p.Seq);
                abandon = true;
            }
            else
            {
                if (p.Attempts >= LossyRetryLimit || p.SilentAttempts >= _options.MaxRetries)
                {
                    return; // the monitor fails it when its time is up
                }
                if (_lastDamageAt < p.SentAt && !LinkLossy(_clock.ElapsedTicks))
                {
                    p.SilentAttempts++;
                }
                p.Attempts++;
                p.SentAt = _clock.ElapsedTicks;
                p.SentEpoch = _epoch;
            }
        }
        if (abandon)
        {
            Interlocked.Increment(ref Counters._abandoned);
            Log($"abandoned {p.Type} seq {p.Seq} ({p.InputBytes} input bytes) after {p.Attempts} retransmissions; input frames now <= {InputFrameLimit} bytes");
            p.Answer.TrySetException(new FrameAbandonedException(p.Seq));
            return;
        }
        Interlocked.Increment(ref Counters._retransmissions);
        _ = WriteAsync(p.ReplayWire, _shutdown.Token).ContinueWith(t => Fail(t.Exception!), CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
    }

    /// <summary>Sends of one input frame before it is given up (then the input is split smaller).</summary>
    private const int AbandonAfterRetries = 3;

    /// <summary>Input frames between two decisions to grow or shrink the input frame size.</summary>
    private const int AdaptEvery = 32;

    /// <summary>Damage (malformed frames, NAKs) seen within the last response timeout: missing answers are losses, not a gone board.</summary>
    private bool LinkLossy(long now) => now - _lastDamageAt < (long)(_options.ResponseTimeout.TotalSeconds * Stopwatch.Frequency);

    private int LossyRetryLimit => Math.Max(_options.MaxRetries, _options.MaxRetriesOnLossyLink);

    /// <summary>
    /// Retransmission timeout of a request type on a lossy link: the board's learned answer time (mean + 4
    /// deviations, never under <see cref="BoardConnectionOptions.MinResponseTimeout"/>); for a type not yet
    /// answered cleanly, the slowest known type's, or 100 ms (a short guess costs a retransmission the board
    /// answers from its cache, and on a lossy link waiting long costs more).
    /// </summary>
    private long LossyTimeoutTicks(MessageType type, long max, long min)
    {
        if (_serviceTimes.TryGetValue(type, out ServiceTime? t))
        {
            return Math.Clamp((long)(t.Mean + 4 * t.Deviation), min, max);
        }
        return _serviceTimes.Count == 0
            ? Math.Min(max, Stopwatch.Frequency / 10)
            : Math.Clamp(_serviceTimes.Values.Max(s => (long)(s.Mean + 4 * s.Deviation)), min, max);
    }

    /// <summary>Learns from an answered request (under _lock): its answer time, and how input frames fare on this link.</summary>
    private void LearnFromAnswer(Pending p, bool replay, long now)
    {
        if (replay && p.Attempts > 0)
        {
            // most likely the answer to the last send (if to an earlier one, the estimate errs short: a spare retransmission)
            _replayTime.Add(Math.Max(0, now - Math.Max(p.SentAt, _lastAnswerAt)));
        }
        else if (p.Attempts == 0 && p.SentEpoch == _epoch)
        {
            // Karn: only first sends give clean samples. The board answers in order, so the time counts from
            // when it could start on this request: its send, or the previous answer if that came later.
            long start = Math.Max(p.SentAt, _lastAnswerAt);
            if (!_serviceTimes.TryGetValue(p.Type, out ServiceTime? t))
            {
                _serviceTimes[p.Type] = t = new ServiceTime();
            }
            t.Add(Math.Max(0, now - start));
        }
        _lastAnswerAt = now;
        if (p.InputBytes == 0)
        {
            return;
        }
        _inputFramesSeen++;
        if (p.Attempts == 0)
        {
            _inputFramesFirstTry++;
        }
        if (_inputFramesSeen >= AdaptEvery)
        {
            double firstTry = (double)_inputFramesFirstTry / _inputFramesSeen;
            int current = Math.Min(_inputFrameLimit, InlineLimit);
            if (firstTry < 0.5)
            {
                _inputFrameLimit = Math.Max(_options.MinInputChunk, current / 2);
            }
            else if (firstTry >= 0.9 && _inputFrameLimit < InlineLimit)
            {
                // doubling the frame keeps >= ~80 % of them whole
                _inputFrameLimit = current * 2 >= InlineLimit ? int.MaxValue : current * 2;
            }
            _inputFramesSeen = _inputFramesFirstTry = 0;
        }
    }

    private async Task ReadLoopAsync(CancellationToken ct)
    {
        var buf = new byte[8192];
        try
        {
            while (!ct.IsCancellationRequested)
            {
                int n = await _stream.ReadAsync(buf, ct).ConfigureAwait(false);
                if (n == 0)
                {
                    Fail(new EndOfStreamException("the board link closed"));
                    return;
                }
                for (int i = 0; i < n; i++)
                {
                    DecodeResult? r = _decoder.Push(buf[i]);
                    if (r is { } result)
                    {
                        Handle(result);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            Fail(e);
        }
    }

    private void Handle(DecodeResult r)
    {
        if (r.Frame is not Frame f)
        {
            Interlocked.Increment(ref Counters._badFrames);
            lock (_lock)
            {
                _lastDamageAt = _clock.ElapsedTicks;
            }
            return;
        }
        if (f.Type == (byte)MessageType.Boot)
        {
            HelloInfo boot;
            try
            {
                boot = HelloInfo.Parse(f.Payload);
            }
            catch (ProtocolException)
            {
                return;
            }
            OnBoot(boot);
            return;
        }
        if (f.Type == (byte)MessageType.Nak)
        {
            Interlocked.Increment(ref Counters._naks);
            // Answers come in order, so the oldest unanswered request is the frame the board just dropped.
            Pending? oldest;
            lock (_lock)
            {
                _lastDamageAt = _clock.ElapsedTicks;
                oldest = _recovering ? null : _pending.Values.Where(q => q.Suspect is null).MinBy(q => q.Order);
            }
            if (oldest is not null)
            {
                Retransmit(oldest);
            }
            return;
        }
        if (!f.IsResponse)
        {
            return;
        }
        Pending? p;
        List<Pending> gaps = [];
        bool probe = false;
        lock (_lock)
        {
            if (!_pending.TryGetValue(f.Seq, out p) || (byte)((byte)p.Type | Frame.ResponseBit) != f.Type || p.Answer.Task.IsCompleted || p.Suspect is not null)
            {
                Interlocked.Increment(ref Counters._duplicateAnswers);
                return;
            }
            // A board that lost its model or staged input may have reset without us seeing BOOT: check before failing the request.
            if (!p.Internal && f.Status is StatusCode.NoModel or StatusCode.NotStaged && (_selectedModel is not null || f.Status == StatusCode.NotStaged))
            {
                if (_recovering || p.SentEpoch != _epoch)
                {
                    return; // sent into the reset: recovery resends it
                }
                p.Suspect = f;
                probe = true;
            }
            else
            {
                _pending.Remove(f.Seq);
                LearnFromAnswer(p, f.Flags.HasFlag(FrameFlags.Replay), _clock.ElapsedTicks);
                if (!_recovering)
                {
                    gaps = _pending.Values.Where(q => q.Order < p.Order && q.SentAt < p.SentAt && q.Suspect is null).ToList();
                }
            }
        }
        if (probe)
        {
            _ = ProbeAsync();
            return;
        }
        if (f.Type == ((byte)MessageType.Hello | Frame.ResponseBit) && f.Status == StatusCode.Ok && _hello is not null)
        {
            try
            {
                OnBoot(HelloInfo.Parse(f.Payload));
            }
            catch (ProtocolException)
            {
            }
        }
        foreach (Pending g in gaps)
        {
            Retransmit(g); // answered out of turn: the earlier request was lost
        }
        p.Answer.TrySetResult(f);
    }

    private void OnBoot(HelloInfo hello)
    {
        lock (_lock)
        {
            if (_hello is null || hello.BootId == _hello.BootId)
            {
                return;
            }
            _hello = hello;
            _epoch++;
            Interlocked.Increment(ref Counters._resets);
            Log($"board reset detected (boot {hello.BootId:X8})");
            if (_recovering)
            {
                _resetAgain = true;
                return;
            }
            _recovering = true;
            _ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        _ = Task.Run(RecoverAsync);
    }

    private async Task RecoverAsync()
    {
        CancellationToken ct = _shutdown.Token;
        try
        {
            while (true)
            {
                lock (_lock)
                {
                    _resetAgain = false;
                }
                await WriteAsync([0], ct).ConfigureAwait(false);
                Frame hf = await SendAsync(MessageType.Hello, Payloads.Hello(), true, ct).ConfigureAwait(false);
                HelloInfo hello = ParseHello(hf);
                lock (_lock)
                {
                    _hello = hello;
                }
                if (_selectedModel is { } hash)
                {
                    Frame sel = await SendAsync(MessageType.SelectModel, hash, true, ct).ConfigureAwait(false);
                    if (sel.Status == StatusCode.UnknownModel && _uploadedBlob is { } blob)
                    {
                        await UploadAsync(blob, hash, null, true, ct).ConfigureAwait(false); // the board kept it in RAM
                    }
                    else
                    {
                        Check(sel, "SELECT_MODEL after reset");
                    }
                }
                if (_squeeze is { } sq)
                {
                    Check(await SendAsync(MessageType.SetSqueeze, sq.ToPayload(), true, ct).ConfigureAwait(false), "SET_SQUEEZE after reset");
                }
                List<Pending> resend;
                lock (_lock)
                {
                    if (_resetAgain)
                    {
                        continue;
                    }
                    _recovering = false;
                    resend = _pending.Values.Where(q => !q.Internal).OrderBy(q => q.Order).ToList();
                    foreach (Pending q in resend)
                    {
                        q.Suspect = null;
                        q.Attempts = 0; // a fresh board: the retry budget starts again
                        q.SilentAttempts = 0;
                    }
                    _ready.TrySetResult();
                }
                foreach (Pending q in resend)
                {
                    Retransmit(q, afterReset: true);
                }
                Log($"recovered: resent {resend.Count} unanswered request(s)");
                return;
            }
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            Fail(new IOException("could not recover after a board reset", e));
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Asks the board for its boot id: a changed one starts recovery; otherwise suspect answers stand.</summary>
    private async Task ProbeAsync()
    {
        lock (_lock)
        {
            if (_probing)
            {
                return;
            }
            _probing = true;
        }
        Interlocked.Increment(ref Counters._probes);
        try
        {
            Frame f = await SendAsync(MessageType.Hello, Payloads.Hello(), true, _shutdown.Token).ConfigureAwait(false);
            HelloInfo hello = ParseHello(f);
            OnBoot(hello);
            List<Pending> settled = [];
            lock (_lock)
            {
                if (!_recovering)
                {
                    settled = _pending.Values.Where(q => q.Suspect is not null).ToList();
                    foreach (Pending q in settled)
                    {
                        _pending.Remove(q.Seq);
                    }
                }
            }
            foreach (Pending q in settled)
            {
                q.Answer.TrySetResult(q.Suspect!);
            }
        }
        catch (Exception) when (_shutdown.IsCancellationRequested)
        {
        }
        catch (Exception)
        {
            // a probe that times out is retried by the monitor
        }
        finally
        {
            lock (_lock)
            {
                _probing = false;
            }
        }
    }

    private async Task MonitorLoopAsync(CancellationToken ct)
    {
        long maxTicks = (long)(_options.ResponseTimeout.TotalSeconds * Stopwatch.Frequency);
        long minTicks = Math.Min(maxTicks, (long)(_options.MinResponseTimeout.TotalSeconds * Stopwatch.Frequency));
        try
        {
            while (!ct.IsCancellationRequested)
            {
                await Task.Delay(2, ct).ConfigureAwait(false);
                long now = _clock.ElapsedTicks;
                List<Pending> due = [];
                List<Pending> expired = [];
                bool probe = false;
                lock (_lock)
                {
                    // A clean link keeps the configured timeout: a missing answer there is most likely a slow one, and a
                    // spurious retransmission of a 3 KiB frame costs a whole input's line time. Once the link shows
                    // damage (malformed frames, NAKs), missing answers are losses: retry at the board's learned pace.
                    bool lossy = LinkLossy(now);
                    // The board answers in order: a request is overdue once the answer times of everything queued
                    // before it, and its own, have passed since it was sent or since the last answer came.
                    long queued = 0;
                    foreach (Pending p in _pending.Values.OrderBy(q => q.Order))
                    {
                        if (p.Suspect is not null || (_recovering && !p.Internal))
                        {
                            continue;
                        }
                        bool overdue = now - p.SentAt >= maxTicks;
                        if (lossy && !overdue)
                        {
                            // a repeat is most likely answered from the board's cache (a REPLAY): at the pace of replays
                            long own = p.Attempts > 0
                                ? (_replayTime.Mean > 0 ? Math.Clamp((long)(_replayTime.Mean + 4 * _replayTime.Deviation), minTicks, maxTicks) : 4 * minTicks)
                                : LossyTimeoutTicks(p.Type, maxTicks, minTicks);
                            queued = Math.Min(maxTicks, queued + own);
                            overdue = now - Math.Max(p.SentAt, _lastAnswerAt) >= queued;
                        }
                        if (!overdue)
                        {
                            continue;
                        }
                        if (p.Attempts >= LossyRetryLimit || p.SilentAttempts >= _options.MaxRetries)
                        {
                            expired.Add(p);
                            continue;
                        }
                        p.Timeouts++;
                        // silence: maybe a reset whose BOOT got lost (on a lossy link timeouts are mostly losses: probe less)
                        probe |= p.Timeouts % (lossy ? 30 : 3) == 0 && !p.Internal;
                        due.Add(p);
                    }
                    foreach (Pending p in expired)
                    {
                        _pending.Remove(p.Seq);
                    }
                }
                foreach (Pending p in expired)
                {
                    p.Answer.TrySetException(new TimeoutException(
                        $"no answer to {p.Type} seq {p.Seq} after {p.Attempts} retransmissions ({p.SilentAttempts} with no sign of the board)"));
                }
                foreach (Pending p in due)
                {
                    Retransmit(p);
                }
                if (probe)
                {
                    _ = ProbeAsync();
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void Fail(Exception e)
    {
        List<Pending> all;
        lock (_lock)
        {
            _fault ??= e;
            all = [.. _pending.Values];
            _pending.Clear();
            _ready.TrySetException(e);
        }
        foreach (Pending p in all)
        {
            p.Answer.TrySetException(new IOException("the board connection failed", e));
        }
    }

    private void Log(string message) => _options.Log?.Invoke(message);

    public async ValueTask DisposeAsync()
    {
        if (_shutdown.IsCancellationRequested)
        {
            return;
        }
        _shutdown.Cancel();
        Fail(new ObjectDisposedException(nameof(BoardConnection)));
        if (_ownsStream)
        {
            await _stream.DisposeAsync().ConfigureAwait(false);
        }
        try
        {
            await Task.WhenAll(_readerTask, _monitorTask).WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // the reader may be stuck in a port read that ignores cancellation; the port is closed now
        }
        _shutdown.Dispose();
    }
}
