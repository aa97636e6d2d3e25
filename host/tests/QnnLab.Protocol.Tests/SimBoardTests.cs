using QnnLab.Protocol;

namespace QnnLab.Protocol.Tests;

/// <summary>BoardConnection against the real C protocol engine (the sim board over stdin/stdout or a pty).</summary>
[TestClass]
public sealed class SimBoardTests
{
    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task HandshakeReportsTheBoardsLimitsAndModels()
    {
        (SimBoard board, BoardConnection c) = await SimBoardFixture.StartStdioAsync();
        await using (board)
        await using (c)
        {
            Assert.AreEqual(4096, c.Hello.MaxPayload);
            Assert.AreEqual(4, c.Hello.MaxInflight);
            Assert.AreEqual(4, c.Window);
            Assert.AreNotEqual(0u, c.Hello.BootId);
            Assert.IsTrue(c.Hello.Capabilities.HasFlag(Capabilities.Upload | Capabilities.Squeeze | Capabilities.InputTensor | Capabilities.Reset));
            BoardInfo info = await c.GetInfoAsync();
            Assert.AreEqual("sim", info.Board);
            Assert.AreEqual(TimingUnit.Nanoseconds, info.TimingUnit);
            Assert.IsNull(info.SelectedModel);
            Assert.HasCount(2, info.Models);
            CollectionAssert.AreEqual(FakeModel.CifarHash, info.Models[0].Hash);
            Assert.AreEqual(3072, info.Models[0].PixelBytes);
            Assert.AreEqual("fake-vww-int16", info.Models[1].Name);
            Assert.AreEqual(96 * 96 * 3 * 2, info.Models[1].TensorBytes);
        }
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task PipelinedInferencesReturnEachInputsLogitsOnce()
    {
        (SimBoard board, BoardConnection c) = await SimBoardFixture.StartStdioAsync();
        await using (board)
        await using (c)
        {
            await Assert.ThrowsExactlyAsync<ProtocolException>(() => c.InferAsync(FakeModel.Input(3072, 0)));
            ModelDescriptor m = await c.SelectModelAsync(FakeModel.CifarHash);
            Assert.AreEqual(10, m.OutputCount);
            List<byte[]> inputs = Enumerable.Range(1, 60).Select(i => FakeModel.Input(3072, i)).ToList();
            int k = 0;
            await foreach (InferResult r in c.InferManyAsync(inputs.Select(x => (ReadOnlyMemory<byte>)x)))
            {
                FakeModel.AssertMatches(r, inputs[k], 10, 1);
                Assert.IsGreaterThan(0UL, r.StageTimes[InferResult.Inference]);
                k++;
            }
            Assert.AreEqual(60, k);
            DeviceStats s = await c.GetStatsAsync();
            Assert.AreEqual(60u, s.Inferences);
            Assert.AreEqual(0u, s.FramesDropped);
            Assert.AreEqual(0L, c.Counters.Retransmissions);
        }
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task LargeInt16TensorInputIsStagedAcrossFrames()
    {
        (SimBoard board, BoardConnection c) = await SimBoardFixture.StartStdioAsync();
        await using (board)
        await using (c)
        {
            await c.SelectModelAsync(FakeModel.VwwHash);
            for (int seed = 0; seed < 3; seed++)
            {
                byte[] x = FakeModel.Input(96 * 96 * 3 * 2, 100 + seed);
                InferResult r = await c.InferAsync(x, new InferOptions(InputTensor: true));
                FakeModel.AssertMatches(r, x, 2, 2);
            }
            Assert.AreEqual(3u, (await c.GetStatsAsync()).Inferences);
        }
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task BatchAndBenchmark()
    {
        (SimBoard board, BoardConnection c) = await SimBoardFixture.StartStdioAsync();
        await using (board)
        await using (c)
        {
            byte[] blob = FakeModel.Blob(8, 8, 3, 10, "tiny", 0);
            await c.UploadModelAsync(blob);
            List<byte[]> inputs = Enumerable.Range(0, 5).Select(i => FakeModel.Input(192, 200 + i)).ToList();
            InferResult[] rs = await c.InferBatchAsync(inputs.Select(x => (ReadOnlyMemory<byte>)x).ToList());
            Assert.HasCount(5, rs);
            for (int i = 0; i < 5; i++)
            {
                FakeModel.AssertMatches(rs[i], inputs[i], 10, 1);
            }
            BenchmarkResult b = await c.BenchmarkAsync(inputs[0], 7);
            Assert.AreEqual(7, b.Repetitions);
            Assert.AreEqual(FakeModel.Label(FakeModel.Logits(inputs[0], 10, 1)), b.Label);
            Assert.IsLessThanOrEqualTo(b.Median, b.Min);
            Assert.IsLessThanOrEqualTo(b.Max, b.Median);
            Assert.IsGreaterThanOrEqualTo(192UL, b.Min); // preprocess stage alone is the input size
        }
    }

    [TestMethod]
    [Timeout(120_000, CooperativeCancellation = true)]
    public async Task UploadResumesAfterAnInterruptedTransfer()
    {
        (SimBoard board, BoardConnection c) = await SimBoardFixture.StartStdioAsync(new SimBoardOptions { Baud = 200_000 });
        await using (board)
        await using (c)
        {
            byte[] blob = FakeModel.Blob(4, 4, 3, 10, "resumed", 14_000);
            using (var cts = new CancellationTokenSource())
            {
                var seen = new SyncProgress(n =>
                {
                    if (n >= 4000)
                    {
                        cts.Cancel();
                    }
                });
                await Assert.ThrowsAsync<OperationCanceledException>(() => c.UploadModelAsync(blob, seen, cts.Token));
            }
            long first = -1;
            var progress = new SyncProgress(n =>
            {
                if (first < 0)
                {
                    first = n;
                }
            });
            ModelDescriptor m = await c.UploadModelAsync(blob, progress);
            Assert.IsGreaterThanOrEqualTo(4000L, first, "the second upload resumed where the board was");
            Assert.AreEqual((uint)blob.Length, m.BlobBytes);
            Assert.StartsWith("resumed", m.Name); // the fake takes the rest of the blob (up to 31 bytes) as the name
            byte[] x = FakeModel.Input(48, 5);
            FakeModel.AssertMatches(await c.InferAsync(x), x, 10, 1);
        }
    }

    [TestMethod]
    [Timeout(120_000, CooperativeCancellation = true)]
    public async Task FaultyLinkStillYieldsEveryResultExactlyOnce()
    {
        var faults = new SimBoardOptions { DropRate = 2e-5, CorruptRate = 2e-5, DuplicateRate = 2e-5, Seed = 7 };
        (SimBoard board, BoardConnection c) = await SimBoardFixture.StartStdioAsync(faults);
        await using (board)
        await using (c)
        {
            await c.SelectModelAsync(FakeModel.CifarHash);
            List<byte[]> inputs = Enumerable.Range(0, 300).Select(i => FakeModel.Input(3072, 1000 + i)).ToList();
            int k = 0;
            await foreach (InferResult r in c.InferManyAsync(inputs.Select(x => (ReadOnlyMemory<byte>)x)))
            {
                FakeModel.AssertMatches(r, inputs[k], 10, 1);
                k++;
            }
            Assert.AreEqual(300, k);
            Assert.IsGreaterThan(0L, c.Counters.Retransmissions, c.Counters.ToString());
            DeviceStats s = await c.GetStatsAsync();
            Assert.IsGreaterThan(0u, s.FramesDropped);
            // retransmissions were answered from the board's cache: no input ran twice, except where the host gave
            // up on a whole-input frame the link kept damaging (its answer may have been what was lost)
            uint once = 300u + (uint)c.Counters.NotCachedReissues;
            Assert.IsTrue(s.Inferences >= once && s.Inferences <= once + (uint)c.Counters.InputFramesAbandoned, $"{s.Inferences} inferences; {c.Counters}");
        }
    }

    [TestMethod]
    [Timeout(300_000, CooperativeCancellation = true)]
    public async Task OnePercentByteFaults_InputsGoInSmallStagedFramesAndEachArrivesOnce()
    {
        // 2 % of bytes damaged each way: a whole 3 KiB frame survives with probability 0.98^3100 ~ 1e-27
        var faults = new SimBoardOptions { DropRate = 0.01, CorruptRate = 0.01, DuplicateRate = 0.001, Seed = 3 };
        (SimBoard board, BoardConnection c) = await SimBoardFixture.StartStdioAsync(faults);
        await using (board)
        await using (c)
        {
            await c.SelectModelAsync(FakeModel.CifarHash);
            Assert.AreEqual(c.Hello.MaxPayload - 8, c.InputFrameLimit, "a whole input per frame until the link proves otherwise");
            List<byte[]> inputs = Enumerable.Range(0, 12).Select(i => FakeModel.Input(3072, 5000 + i)).ToList();
            int k = 0;
            await foreach (InferResult r in c.InferManyAsync(inputs.Select(x => (ReadOnlyMemory<byte>)x)))
            {
                FakeModel.AssertMatches(r, inputs[k], 10, 1);
                k++;
            }
            Assert.AreEqual(12, k);
            Assert.IsGreaterThan(0L, c.Counters.InputFramesAbandoned, c.Counters.ToString());
            Assert.IsLessThanOrEqualTo(64, c.InputFrameLimit, "settled on small frames");
        }
    }

    [TestMethod]
    [Timeout(120_000, CooperativeCancellation = true)]
    public async Task ResetsAreDetectedAndRecoveredWithModelAndSqueezeReapplied()
    {
        (SimBoard board, BoardConnection c) = await SimBoardFixture.StartStdioAsync(new SimBoardOptions { ResetEvery = 7 },
            new BoardConnectionOptions { ResponseTimeout = TimeSpan.FromMilliseconds(300), Log = m => Console.WriteLine(m) });
        await using (board)
        await using (c)
        {
            await c.SelectModelAsync(FakeModel.CifarHash);
            await c.SetSqueezeAsync(new SqueezeConfig(4, 0, false, 0f));
            List<byte[]> inputs = Enumerable.Range(0, 40).Select(i => FakeModel.Input(3072, 2000 + i)).ToList();
            int k = 0;
            await foreach (InferResult r in c.InferManyAsync(inputs.Select(x => (ReadOnlyMemory<byte>)x)))
            {
                FakeModel.AssertMatches(r, inputs[k], 10, 1, bits: 4); // squeezed: the setting survived the resets
                k++;
            }
            Assert.AreEqual(40, k);
            Assert.IsGreaterThanOrEqualTo(5L, c.Counters.ResetsDetected, c.Counters.ToString());
            // staged inputs survive resets too
            await c.SelectModelAsync(FakeModel.VwwHash);
            for (int i = 0; i < 8; i++)
            {
                byte[] x = FakeModel.Input(96 * 96 * 3 * 2, 3000 + i);
                FakeModel.AssertMatches(await c.InferAsync(x, new InferOptions(InputTensor: true)), x, 2, 2);
            }
        }
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task ResetCommandRebootsAndTheConnectionCarriesOn()
    {
        (SimBoard board, BoardConnection c) = await SimBoardFixture.StartStdioAsync();
        await using (board)
        await using (c)
        {
            await c.SelectModelAsync(FakeModel.CifarHash);
            uint boot = c.Hello.BootId;
            await c.ResetAsync();
            Assert.AreNotEqual(boot, c.Hello.BootId);
            Assert.AreEqual(1, c.ResetEpoch);
            BoardInfo info = await c.GetInfoAsync();
            CollectionAssert.AreEqual(FakeModel.CifarHash, info.SelectedModel, "the model was selected again");
            byte[] x = FakeModel.Input(3072, 9);
            FakeModel.AssertMatches(await c.InferAsync(x), x, 10, 1);
        }
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task CancellationAbandonsARequestAndTheLinkStaysUsable()
    {
        (SimBoard board, BoardConnection c) = await SimBoardFixture.StartStdioAsync(new SimBoardOptions { Baud = 9600 },
            new BoardConnectionOptions { ResponseTimeout = TimeSpan.FromSeconds(10) });
        await using (board)
        await using (c)
        {
            await c.SelectModelAsync(FakeModel.CifarHash);
            using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
            await Assert.ThrowsAsync<OperationCanceledException>(() => c.InferAsync(FakeModel.Input(3072, 1), null, cts.Token));
            HelloInfo h = await c.PingAsync(); // queued behind the abandoned input: its late answer is ignored
            Assert.AreEqual(c.Hello.BootId, h.BootId);
        }
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task BaudRateSwitchIsAnsweredAtTheOldRateThenUsed()
    {
        uint switchedTo = 0;
        (SimBoard board, BoardConnection c) = await SimBoardFixture.StartStdioAsync(new SimBoardOptions { Baud = 115200 },
            new BoardConnectionOptions
            {
                ResponseTimeout = TimeSpan.FromSeconds(2),
                SwitchHostBaud = b =>
                {
                    switchedTo = b; // stdio has no rate of its own; a SerialPort would change BaudRate here
                    return Task.CompletedTask;
                },
            });
        await using (board)
        await using (c)
        {
            Assert.IsTrue(c.Hello.Capabilities.HasFlag(Capabilities.SetBaud));
            CollectionAssert.Contains(c.Hello.SupportedBauds, 921600u);
            await c.SetBaudAsync(921600);
            Assert.AreEqual(921600u, switchedTo);
            Assert.AreEqual(921600u, (await c.PingAsync()).CurrentBaud);
            ProtocolException e = await Assert.ThrowsExactlyAsync<ProtocolException>(() => c.SetBaudAsync(12345));
            Assert.AreEqual(StatusCode.NotSupported, e.Status);
        }
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public async Task PseudoTerminalOpenedAsASerialPort()
    {
        await using SimBoard board = await SimBoard.StartAsync(SimBoardFixture.Executable, new SimBoardOptions { SelectFirstModel = true });
        Assert.IsNotNull(board.PtyPath);
        await using BoardConnection c = await SerialLink.ConnectAsync(board.PtyPath, 115200);
        Assert.AreEqual("sim", (await c.GetInfoAsync()).Board);
        List<byte[]> inputs = Enumerable.Range(0, 20).Select(i => FakeModel.Input(3072, 50 + i)).ToList();
        int k = 0;
        await foreach (InferResult r in c.InferManyAsync(inputs.Select(x => (ReadOnlyMemory<byte>)x)))
        {
            FakeModel.AssertMatches(r, inputs[k++], 10, 1);
        }
        Assert.AreEqual(20, k);
    }

    [TestMethod]
    [Timeout(120_000, CooperativeCancellation = true)]
    public async Task LinkBenchmarkRunsBothProtocols()
    {
        LinkBenchmarkResult r = await LinkBenchmark.RunAsync(SimBoardFixture.Executable, baud: 2_000_000, inputs: 3);
        Assert.AreEqual(3, r.Inputs);
        Assert.IsGreaterThan(0.0, r.ProtocolSeconds);
        // 3 x (db load + 100 db commands + infer); hex doubles the bytes
        Assert.AreEqual(3L * (1 + 100 + 1), r.EembcRoundTrips);
        Assert.IsGreaterThan(3L * 3072 * 2, r.EembcBytesSent);
    }

    /// <summary>Progress that reports synchronously (Progress&lt;T&gt; posts to the thread pool).</summary>
    private sealed class SyncProgress(Action<long> report) : IProgress<long>
    {
        public void Report(long value) => report(value);
    }
}
