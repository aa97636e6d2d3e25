using System.Buffers.Binary;
using QnnLab.Data;
using QnnLab.Engine;
using QnnLab.Firmware;
using QnnLab.Inference;
using QnnLab.Model;
using QnnLab.Protocol;
using QnnLab.TestSupport;

namespace QnnLab.NanoApp.Tests;

/// <summary>
/// The app's logic (FramePump, LinkSupervisor) driving the interop's real C half (qnn_nano_port.c: the pull-style
/// protocol engine with its transmit ring, the executor calls) with the real device core behind it, built for x86;
/// the host's BoardConnection on the other end of an in-memory UART. Only the nanoCLR marshalling layer
/// (QnnLab_Nano_QnnLab_Nano_QnnDevice.cpp) is left out. The model is the paper's CIFAR-10 ResNet-8, exported as a
/// blob; every logit must equal the host integer engine's (proven bit-exact with TFLite elsewhere).
/// </summary>
[TestClass]
public sealed class NativePortTests
{
    private const string CifarInt8 = "paper-models/vanilla/cifar_resnet_int8.tflite";
    private const string CifarInt16 = "paper-models/vanilla/cifar_resnet_int16.tflite";

    // QnnStatus / qnn_nano_port.h codes (InteropContractTests ties them to the C headers).
    private const int NoModel = -1, UnknownModel = -2, InputSize = -3, NotSupported = -4, BadArgument = -6, BufferTooSmall = -102;

    private sealed record Cifar(byte[] Blob, byte[][] Images, int[][] Expected, int[] Labels, int Precision);

    private static readonly Dictionary<string, Cifar> Cache = [];

    private static Cifar Load(string relative, int count)
    {
        string key = $"{relative}#{count}";
        if (Cache.TryGetValue(key, out Cifar? hit))
        {
            return hit;
        }
        QnnModel model = ModelFiles.Load(TestData.Require(relative));
        ImageSet set = DataSpec.Load("cifar10:" + TestData.Require("cifar10/cifar-10-batches-bin")).Take(count);
        using var host = new IntegerClassifier(model);
        byte[] raw = host.RawOutputs(set, 0, count);
        int width = host.Precision == Precision.Int8 ? 1 : 2;
        var expected = new int[count][];
        var labels = new int[count];
        var images = new byte[count][];
        for (int i = 0; i < count; i++)
        {
            expected[i] = new int[host.Classes];
            for (int k = 0; k < host.Classes; k++)
            {
                int at = (i * host.Classes + k) * width;
                expected[i][k] = width == 1 ? (sbyte)raw[at] : BinaryPrimitives.ReadInt16LittleEndian(raw.AsSpan(at));
            }
            labels[i] = ArgMaxLowest(expected[i]);
            images[i] = set.Pixels!.AsSpan(i * set.ImageSize, set.ImageSize).ToArray();
        }
        var c = new Cifar(BlobExporter.Export(IntegerModel.Compile(model)).Bytes, images, expected, labels, width);
        Cache[key] = c;
        return c;
    }

    // numpy's argmax: the lowest index among equal maxima (the int8 softmax saturates often).
    private static int ArgMaxLowest(int[] v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++)
        {
            if (v[i] > v[best])
            {
                best = i;
            }
        }
        return best;
    }

    private static async Task<BoardConnection> ConnectAsync(PipeUart uart) =>
        await BoardConnection.OpenAsync(uart.HostStream, new BoardConnectionOptions
        {
            // Generous: a retransmission then
            // means a lost answer, not a slow one.
            ResponseTimeout = TimeSpan.FromSeconds(5),
        });

    [TestMethod]
    [DataRow(CifarInt8, 0, false, DisplayName = "int8, clean UART")]
    [DataRow(CifarInt8, 7, true, DisplayName = "int8, UART fails every 7th call, writes cut mid-frame")]
    [DataRow(CifarInt16, 5, false, DisplayName = "int16, UART fails every 5th call")]
    [Timeout(300_000, CooperativeCancellation = true)]
    public async Task TheAppServesTheHostFromTheNativePortWithTheRealCore(string relative, int failEvery, bool cutWrites)
    {
        NanoPort.Require();
        const int Images = 24;
        Cifar m = Load(relative, Images);
        NanoPort.FlashErase();
        Assert.AreEqual(0, NanoPort.Init());
        uint boots = NanoPort.Boots();

        var uart = new PipeUart(failEvery, cutWrites);
        await using var app = new AppLoop(new NativePortEngine(), uart);
        await using BoardConnection host = await ConnectAsync(uart);

        BoardInfo info = await host.GetInfoAsync();
        Assert.AreEqual("nanoframework-host", info.Board);
        Assert.IsEmpty(info.Models, "nothing flashed, nothing uploaded yet");
        ProtocolException refused = await Assert.ThrowsExactlyAsync<ProtocolException>(() => host.InferAsync(m.Images[0]));
        Assert.AreEqual(StatusCode.NoModel, refused.Status);

        ModelDescriptor d = await host.UploadModelAsync(m.Blob);
        Assert.AreEqual((32, 32, 3, 10, m.Precision, (uint)m.Blob.Length), (d.Height, d.Width, d.Channels, d.OutputCount, (int)d.Precision, d.BlobBytes));

        DeviceStats before = await host.GetStatsAsync();
        var got = new List<InferResult>();
        // Pipelined, as hil runs stream: several requests in flight through the app's buffers and the port's ring.
        await foreach (InferResult r in host.InferManyAsync(m.Images.Select(x => (ReadOnlyMemory<byte>)x)))
        {
            got.Add(r);
        }
        DeviceStats after = await host.GetStatsAsync();

        Assert.HasCount(Images, got);
        for (int i = 0; i < Images; i++)
        {
            Assert.AreEqual(m.Labels[i], got[i].Label, $"image {i}: label");
            CollectionAssert.AreEqual(m.Expected[i], got[i].Logits, $"image {i}: every logit");
        }
        Assert.AreEqual((uint)Images, after.Inferences - before.Inferences, "each image ran exactly once on the core");
        if (failEvery > 0)
        {
            Assert.IsGreaterThan(0, app.Supervisor.TotalFailures, "the UART faults were injected");
        }
        if (cutWrites)
        {
            Assert.IsGreaterThan(0, uart.CutWrites, "writes were cut mid-frame");
        }
        // No first answer lost (the bytes on the UART say so, whatever the host's timers did). A failed write
        // may leave the host one unterminated fragment, never more: a cut write's half, or the start of a frame
        // the app was sending again when the next write failed before its first byte.
        (byte[] toHost, byte[] fromHost) = uart.Recorded();
        Wire.AssertEveryRequestAnsweredOnce(toHost, fromHost);
        Assert.IsLessThanOrEqualTo((long)uart.FailedWrites, host.Counters.MalformedFramesReceived, host.Counters.ToString());
        Assert.AreEqual(0, app.Pump.EngineFaults);
        Assert.AreEqual(0u, NanoPort.TxOverflowBytes(), "the port's transmit ring never dropped a byte");

        // RESET: the port restarts the core once the answer is out; the host sees a new boot and restores the model.
        await host.ResetAsync();
        Assert.AreEqual(boots + 1, NanoPort.Boots(), "one restart");
        InferResult again = await host.InferAsync(m.Images[3]);
        CollectionAssert.AreEqual(m.Expected[3], again.Logits, "after the reset");
    }

    [TestMethod]
    public void TheInteropCallsRunTheRealCore()
    {
        NanoPort.Require();
        Cifar m = Load(CifarInt8, 8);
        NanoPort.FlashErase();
        uint address = NanoPort.Flash(m.Blob);
        Assert.AreNotEqual(0u, address, "flashed");
        Assert.AreEqual(0, NanoPort.Init());

        var fields = new int[7];
        Assert.AreEqual(NoModel, NanoPort.ModelInfo(fields));
        Assert.AreEqual(UnknownModel, NanoPort.SelectModelAt(address, (uint)m.Blob.Length - 8), "other bytes, other hash");
        Assert.AreEqual(0, NanoPort.SelectModelAt(address, (uint)m.Blob.Length));
        Assert.AreEqual(0, NanoPort.ModelInfo(fields));
        CollectionAssert.AreEqual(new[] { 32, 32, 3, 10, 1, 1, m.Blob.Length }, fields, "height, width, channels, outputs, precision, element bytes, blob bytes");

        var logits = new int[10];
        var stages = new uint[8]; // QnnStage: the protocol's seven stages, then the total
        for (int i = 0; i < m.Images.Length; i++)
        {
            Array.Fill(logits, 99);
            Assert.AreEqual(m.Labels[i], NanoPort.Infer(m.Images[i], m.Images[i].Length, logits), $"image {i}: label");
            CollectionAssert.AreEqual(m.Expected[i], logits, $"image {i}: every logit");
            Assert.AreEqual(0, NanoPort.StageCycles(stages));
            Assert.IsGreaterThan(0u, stages[3], "inference took time");
            Assert.AreEqual(0u, stages[1] + stages[2] + stages[4] + stages[5] + stages[6], "no squeezer, no detector");
            Assert.AreEqual(stages[..7].Aggregate(0u, (a, b) => a + b), stages[7], "the total is the stages' sum");
        }
        Assert.AreEqual(InputSize, NanoPort.Infer(m.Images[0], m.Images[0].Length - 1, logits));
        Assert.AreEqual(BufferTooSmall, NanoPort.Infer(m.Images[0], m.Images[0].Length, new int[9]));

        // Feature Squeezing: one squeezer per run; the detector's score is the largest L1 distance, in output
        // steps, between the original's raw outputs and each squeezed input's (SPEC.md SET_SQUEEZE).
        Assert.AreEqual(NotSupported, NanoPort.ConfigureSqueezing(1, 2, 0f), "bit depth and median without the detector");
        Assert.AreEqual(BadArgument, NanoPort.ConfigureSqueezing(0, 0, 5f), "a detector needs a squeezer");
        const int Probe = 5;
        int[] bit = Squeezed(m.Images[Probe], 1, 0);
        int[] median = Squeezed(m.Images[Probe], 0, 2);
        CollectionAssert.AreNotEqual(m.Expected[Probe], bit, "a 1-bit squeeze changes the outputs");
        int l1Bit = m.Expected[Probe].Zip(bit, (a, b) => Math.Abs(a - b)).Sum();
        int l1Median = m.Expected[Probe].Zip(median, (a, b) => Math.Abs(a - b)).Sum();
        Assert.AreEqual(0, NanoPort.ConfigureSqueezing(1, 2, 1e9f));
        Assert.AreEqual(m.Labels[Probe], NanoPort.Infer(m.Images[Probe], m.Images[Probe].Length, logits), "the label comes from the original");
        CollectionAssert.AreEqual(m.Expected[Probe], logits, "the logits are the original's");
        Assert.AreEqual((float)Math.Max(l1Bit, l1Median), NanoPort.LastDetectorScore());
        Assert.AreEqual(0, NanoPort.StageCycles(stages));
        for (int s = 1; s <= 6; s++)
        {
            Assert.IsGreaterThan(0u, stages[s], $"stage {s}: both squeezers, their inferences and the comparison are timed apart");
        }
        Assert.AreEqual(0, NanoPort.ConfigureSqueezing(0, 0, 0f));

        // The upload path (QnnDevice.LoadModel) selects the uploaded copy.
        Assert.AreEqual(0, NanoPort.LoadModel(m.Blob));
        Assert.AreEqual(m.Labels[1], NanoPort.Infer(m.Images[1], m.Images[1].Length, logits));
        CollectionAssert.AreEqual(m.Expected[1], logits);
        Assert.AreNotEqual(0u, NanoPort.Cycles(), "the cycle counter runs");
    }

    private static int[] Squeezed(byte[] image, int bits, int median)
    {
        Assert.AreEqual(0, NanoPort.ConfigureSqueezing(bits, median, 0f));
        var logits = new int[10];
        Assert.IsGreaterThanOrEqualTo(0, NanoPort.Infer(image, image.Length, logits));
        Assert.AreEqual(0, NanoPort.ConfigureSqueezing(0, 0, 0f));
        return logits;
    }

    [TestMethod]
    public void FeedTakesOnlyWhatTheRingCanAnswerAndEveryRequestIsAnsweredOnce()
    {
        // No model needed: 300 INFO requests in one burst. The port must push back (take fewer bytes than offered)
        // rather than let answers overflow its ring, and each request must be answered exactly once, in order.
        NanoPort.Require();
        NanoPort.FlashErase();
        Assert.AreEqual(0, NanoPort.Init());
        const int Requests = 300;
        byte[] burst = [.. Enumerable.Range(1, Requests).SelectMany(seq => Frame.Request(MessageType.Info, (ushort)seq, []).ToWire())];
        var decoder = new FrameDecoder();
        var answered = new List<ushort>();
        var tx = new byte[256];
        int offset = 0, shortFeeds = 0;
        for (int round = 0; offset < burst.Length && round < 100_000; round++)
        {
            byte[] rest = burst[offset..];
            int taken = NanoPort.Feed(rest, rest.Length);
            Assert.IsGreaterThanOrEqualTo(0, taken);
            shortFeeds += taken < rest.Length ? 1 : 0;
            offset += taken;
            Drain(decoder, tx, answered);
        }
        Drain(decoder, tx, answered);
        Assert.AreEqual(burst.Length, offset, "every byte taken eventually");
        Assert.IsGreaterThan(0, shortFeeds, "the port pushed back");
        CollectionAssert.AreEqual(Enumerable.Range(1, Requests).Select(i => (ushort)i).ToList(), answered);
        Assert.AreEqual(0u, NanoPort.TxOverflowBytes());
    }

    private static void Drain(FrameDecoder decoder, byte[] tx, List<ushort> answered)
    {
        int n;
        while ((n = NanoPort.Poll(tx)) > 0)
        {
            foreach (DecodeResult r in decoder.PushAll(tx[..n]))
            {
                Assert.IsTrue(r.IsFrame, $"a bad frame from the port: {r.Error}");
                if (r.Frame!.Type == ((byte)MessageType.Info | Frame.ResponseBit))
                {
                    Assert.AreEqual(StatusCode.Ok, r.Frame.Status);
                    answered.Add(r.Frame.Seq);
                }
            }
        }
        Assert.IsGreaterThanOrEqualTo(0, n);
    }
}
