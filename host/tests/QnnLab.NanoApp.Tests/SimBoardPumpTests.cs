using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO.Pipelines;
using QnnLab.NanoApp;
using QnnLab.Protocol;
using QnnLab.TestSupport;

namespace QnnLab.NanoApp.Tests;

/// <summary>
/// The nanoFramework app's logic (FramePump + LinkSupervisor, the very files the board build compiles)
/// run between the host's serial driver and the sim board, which stands in for the native protocol engine
/// the app calls through interop. Every answer that crosses the app must equal what the same board
/// answers over a direct link, also when the app's UART fails mid-stream, with no retransmission needed.
/// </summary>
[TestClass]
public sealed class SimBoardPumpTests
{
    private static readonly Lazy<(string? Path, string? Why)> Sim = new(() =>
    {
        try
        {
            return (SimBoard.Build(TestData.RepoRoot, Path.Combine(TestData.RepoRoot, "build", "tests", "nano-sim")), null);
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return (null, e.Message);
        }
    });

    private static string SimExecutable
    {
        get
        {
            (string? path, string? why) = Sim.Value;
            if (path is null)
            {
                Assert.Inconclusive($"cannot build the sim board (needs cmake and a C compiler): {why}");
            }
            return path!;
        }
    }

    [TestMethod]
    [DataRow(0, DisplayName = "clean UART")]
    [DataRow(7, DisplayName = "UART fails every 7th call")]
    [Timeout(120_000, CooperativeCancellation = true)]
    public async Task AnswersThroughTheAppEqualTheBoardsDirectAnswers(int failEvery)
    {
        string sim = SimExecutable;
        var inputs = Enumerable.Range(0, 40).Select(i => Pixels(3072, i)).ToList();

        // Reference: the same board, spoken to directly.
        List<InferResult> expected;
        await using (SimBoard direct = await SimBoard.StartAsync(sim, new SimBoardOptions { Stdio = true, SelectFirstModel = true }))
        await using (BoardConnection c = await BoardConnection.OpenAsync(direct.StdioStream))
        {
            expected = [];
            await foreach (InferResult r in c.InferManyAsync(inputs.Select(x => (ReadOnlyMemory<byte>)x)))
            {
                expected.Add(r);
            }
        }

        await using SimBoard board = await SimBoard.StartAsync(sim, new SimBoardOptions { Stdio = true, SelectFirstModel = true });
        using var engine = new SimBoardEngine(board);
        var uart = new PipeUart(failEvery);
        var pump = new FramePump(engine, 512, 512, 4);
        var supervisor = new LinkSupervisor(uart, pump, new StopwatchClock(), new BackoffPolicy(1, 8),
            new StatusIndicator(new NoLeds()), idleSleepMs: 1, stableAfterMs: 100);
        using var stop = new CancellationTokenSource();
        var loop = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                int sleep = supervisor.Tick();
                if (sleep > 0)
                {
                    Thread.Sleep(Math.Min(sleep, 5));
                }
            }
        });
        try
        {
            await using BoardConnection host = await BoardConnection.OpenAsync(uart.HostStream, new BoardConnectionOptions
            {
                ResponseTimeout = TimeSpan.FromSeconds(3), // generous: a retransmission then means a lost answer, not a slow machine
            });
            BoardInfo info = await host.GetInfoAsync();
            Assert.AreEqual("sim", info.Board);
            // Pipelined, as hil runs stream: several requests in flight through the app's buffers.
            var got = new List<InferResult>();
            await foreach (InferResult r in host.InferManyAsync(inputs.Select(x => (ReadOnlyMemory<byte>)x)))
            {
                got.Add(r);
            }
            Assert.HasCount(expected.Count, got);
            for (int i = 0; i < got.Count; i++)
            {
                Assert.AreEqual(expected[i].Label, got[i].Label, $"input {i}: label");
                CollectionAssert.AreEqual(expected[i].Logits, got[i].Logits, $"input {i}: every logit");
            }
            if (failEvery > 0)
            {
                Assert.IsGreaterThan(0, supervisor.TotalFailures, "the UART faults were injected");
                Assert.IsGreaterThan(1, supervisor.Opens, "the app reopened its UART after each failure");
            }
            Assert.AreEqual(0, pump.EngineFaults);
            // The host's protocol would paper over a lost or mangled answer by retransmitting: the app must
            // not need that. Every answer arrives whole and once, faults or not.
            Assert.AreEqual(0L, host.Counters.Retransmissions, host.Counters.ToString());
            Assert.AreEqual(0L, host.Counters.MalformedFramesReceived, host.Counters.ToString());
        }
        finally
        {
            stop.Cancel();
            await loop;
        }
    }

    private static byte[] Pixels(int n, int seed)
    {
        var x = new byte[n];
        new Random(seed).NextBytes(x);
        return x;
    }

    /// <summary>The native protocol engine's stand-in: the sim board over stdin/stdout, never blocking the pump.</summary>
    private sealed class SimBoardEngine : IProtocolEngine, IDisposable
    {
        private readonly Stream _toBoard;
        private readonly ConcurrentQueue<byte> _fromBoard = new();
        private readonly Task _reader;
        private readonly CancellationTokenSource _stop = new();

        public SimBoardEngine(SimBoard board)
        {
            Stream s = board.StdioStream;
            _toBoard = s;
            _reader = Task.Run(async () =>
            {
                var buf = new byte[4096];
                while (!_stop.IsCancellationRequested)
                {
                    int n = await s.ReadAsync(buf, _stop.Token);
                    if (n == 0)
                    {
                        return;
                    }
                    for (int i = 0; i < n; i++)
                    {
                        _fromBoard.Enqueue(buf[i]);
                    }
                }
            });
        }

        public int Feed(byte[] rx, int count)
        {
            _toBoard.Write(rx, 0, count);
            _toBoard.Flush();
            return count;
        }

        public int Poll(byte[] tx)
        {
            int n = 0;
            while (n < tx.Length && _fromBoard.TryDequeue(out byte b))
            {
                tx[n++] = b;
            }
            return n;
        }

        public void Dispose() => _stop.Cancel();
    }

    /// <summary>The app's UART, wired to an in-memory host stream; optionally fails every Nth call.</summary>
    private sealed class PipeUart : ISerialLink
    {
        private readonly Pipe _hostToApp = new();
        private readonly Pipe _appToHost = new();
        private readonly int _failEvery;
        private int _calls;

        public PipeUart(int failEvery)
        {
            _failEvery = failEvery;
            HostStream = new DuplexStream(_appToHost.Reader.AsStream(), _hostToApp.Writer.AsStream());
        }

        public Stream HostStream { get; }
        public bool IsOpen { get; private set; }

        public void Open() => IsOpen = true;

        public void Close() => IsOpen = false;

        public int Read(byte[] buffer, int offset, int count)
        {
            FailMaybe();
            if (!_hostToApp.Reader.TryRead(out ReadResult r))
            {
                return 0;
            }
            int n = (int)Math.Min(count, r.Buffer.Length);
            ReadOnlySequence<byte> part = r.Buffer.Slice(0, n);
            part.CopyTo(buffer.AsSpan(offset, n));
            _hostToApp.Reader.AdvanceTo(part.End);
            return n;
        }

        public void Write(byte[] buffer, int offset, int count)
        {
            FailMaybe();
            _appToHost.Writer.Write(buffer.AsSpan(offset, count));
            _appToHost.Writer.FlushAsync().AsTask().GetAwaiter().GetResult();
        }

        private void FailMaybe()
        {
            if (!IsOpen)
            {
                throw new IOException("UART closed");
            }
            if (_failEvery > 0 && ++_calls % _failEvery == 0)
            {
                throw new IOException("injected UART fault");
            }
        }
    }

    private sealed class StopwatchClock : IMonotonicClock
    {
        private readonly Stopwatch _sw = Stopwatch.StartNew();

        public long NowMs => _sw.ElapsedMilliseconds;
    }

    private sealed class NoLeds : IStatusLeds
    {
        public void Set(bool green, bool blue, bool red)
        {
        }
    }
}
