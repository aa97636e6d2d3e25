using System.Collections.Concurrent;
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
    [DataRow(0, false, DisplayName = "clean UART")]
    [DataRow(7, false, DisplayName = "UART fails every 7th call")]
    [DataRow(7, true, DisplayName = "UART fails every 7th call, writes cut mid-frame")]
    [Timeout(120_000, CooperativeCancellation = true)]
    public async Task AnswersThroughTheAppEqualTheBoardsDirectAnswers(int failEvery, bool cutWrites)
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
        var uart = new PipeUart(failEvery, cutWrites);
        await using var app = new AppLoop(engine, uart);
        await using BoardConnection host = await BoardConnection.OpenAsync(uart.HostStream, new BoardConnectionOptions
        {
            // Generous: a retransmission then
            // means a lost answer, not a slow one.
            ResponseTimeout = TimeSpan.FromSeconds(3),
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
            Assert.IsGreaterThan(0, app.Supervisor.TotalFailures, "the UART faults were injected");
            Assert.IsGreaterThan(1, app.Supervisor.Opens, "the app reopened its UART after each failure");
        }
        if (cutWrites)
        {
            Assert.IsGreaterThan(0, uart.CutWrites, "writes were cut mid-frame");
        }
        Assert.AreEqual(0, app.Pump.EngineFaults);
        // The host's protocol would paper over a lost answer by retransmitting: the app must not need that.
        // Every first answer arrives whole; only a failed write may leave the host's parser one bad frame (a cut
        // write's half, or a frame start the app had to send again).
        (byte[] toHost, byte[] fromHost) = uart.Recorded();
        Wire.AssertEveryRequestAnsweredOnce(toHost, fromHost);
        Assert.IsLessThanOrEqualTo((long)uart.FailedWrites, host.Counters.MalformedFramesReceived, host.Counters.ToString());
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
}
