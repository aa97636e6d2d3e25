using System.Security.Cryptography;
using QnnLab.Data;
using QnnLab.Hil;
using QnnLab.Protocol;
using QnnLab.Results;
using QnnLab.TestSupport;

namespace QnnLab.HilTests.Tests;

/// <summary>
/// The board answers the protocol and computes what the host engine computes, bit for bit. Runs against
/// whatever QNN_HIL_BOARD names (sim, qemu, a serial port); tools/test-all runs it for sim and qemu.
/// </summary>
[TestClass]
public sealed class ConformanceTests
{
    [TestMethod]
    public async Task Handshake_AnnouncesVersion2AndUsableLimits()
    {
        await using BoardSession b = await HilBoard.OpenAsync();
        HelloInfo h = b.Connection.Hello;
        Assert.AreEqual(2, h.ProtocolVersion);
        Assert.IsGreaterThanOrEqualTo(256, h.MaxPayload);
        Assert.IsTrue(h.MaxInflight is >= 1 and <= 16, $"max_inflight {h.MaxInflight}");
        Assert.IsGreaterThanOrEqualTo(h.MaxInflight, h.CacheEntries);
        Assert.AreNotEqual(0u, h.BootId);
        // a second HELLO on a live board keeps the boot id (no reset happened)
        Assert.AreEqual(h.BootId, (await b.Connection.PingAsync()).BootId);
    }

    [TestMethod]
    public async Task Info_NamesTheBoardAndItsTimingUnit()
    {
        await using BoardSession b = await HilBoard.OpenAsync();
        BoardInfo info = await b.Connection.GetInfoAsync();
        TimingUnit expected = HilBoard.Target.Kind switch
        {
            BoardKind.Sim => TimingUnit.Nanoseconds,
            BoardKind.Qemu => TimingUnit.Instructions,
            _ => TimingUnit.Cycles,
        };
        Assert.AreEqual(expected, info.TimingUnit);
        Assert.IsFalse(string.IsNullOrWhiteSpace(info.Board));
        Assert.AreNotEqual("fake", info.Backend, "the board must run the device core, not the fake executor");
    }

    [TestMethod]
    public async Task SelectModel_WithAHashTheBoardDoesNotHold_IsRefused()
    {
        await using BoardSession b = await HilBoard.OpenAsync();
        byte[] unknown = SHA256.HashData("no such model"u8);
        ProtocolException e = await Assert.ThrowsExactlyAsync<ProtocolException>(() => b.Connection.SelectModelAsync(unknown));
        Assert.AreEqual(StatusCode.UnknownModel, e.Status);
    }

    [TestMethod]
    public async Task Resume_WithAnotherModel_IsRefused()
    {
        await using BoardSession b = await HilBoard.OpenAsync();
        ImageSet set = HilBoard.Cifar(2);
        using var store = new ResultStore(Path.Combine(TestData.TempDir(), "r.sqlite"));
        using var int8 = new EngineHilModel(HilBoard.Model("int8"));
        using var int16 = new EngineHilModel(HilBoard.Model("int16"));
        HilRunOutcome first = await HilRunner.RunAsync(b, int8, set, store, new HilRunRequest { ModelLabel = "int8", DataSpec = "d" });
        InvalidOperationException e = await Assert.ThrowsExactlyAsync<InvalidOperationException>(() =>
            HilRunner.RunAsync(b, int16, set, store, new HilRunRequest { ModelLabel = "int16", DataSpec = "d", Resume = first.RunId }));
        StringAssert.Contains(e.Message, "same model");
    }

    [TestMethod]
    [DataRow("int8")]
    [DataRow("int16")]
    public async Task Inference_EqualsTheHostEngine_OnEveryLogit(string precision)
    {
        await AssertBitExactAsync(precision, SqueezeSettings.Off);
    }

    [TestMethod]
    [DataRow("int8", "bits=5")]
    [DataRow("int8", "median=2")]
    [DataRow("int16", "bits=4")]
    [DataRow("int16", "median=3")]
    [DataRow("int8", "bits=5,median=2")]
    public async Task Squeezing_EqualsHostSqueezeThenEngine(string precision, string squeeze)
    {
        await AssertBitExactAsync(precision, SqueezeSettings.Parse(squeeze));
    }

    private static async Task AssertBitExactAsync(string precision, SqueezeSettings squeeze)
    {
        await using BoardSession b = await HilBoard.OpenAsync();
        ImageSet set = HilBoard.Cifar(HilBoard.Inputs);
        using var model = new EngineHilModel(HilBoard.Model(precision));
        using var store = new ResultStore(Path.Combine(TestData.TempDir(), "r.sqlite"));
        HilRunOutcome o = await HilRunner.RunAsync(b, model, set, store, new HilRunRequest { ModelLabel = precision, DataSpec = "test_batch", Squeeze = squeeze });
        Assert.AreEqual(set.Count, o.Summary.N);
        Assert.AreEqual(0, o.LogitMismatches, "inputs whose logits (or detector score) differ from the host engine's");
        Assert.AreEqual(1.0, o.Summary.HostAgreement);
        IReadOnlyList<InputResult> rows = store.Results(o.RunId);
        CollectionAssert.AreEqual(Enumerable.Range(0, set.Count).ToArray(), rows.Select(r => r.Index).ToArray());
        Assert.IsTrue(rows.All(r => r.Logits.Length == 10 * (precision == "int8" ? 1 : 2)), "ten logits of the model's width");
        Assert.IsTrue(rows.All(r => r.InferenceTime > 0), "every inference timed");
        if (squeeze.Enabled)
        {
            Assert.IsTrue(rows.All(r => r.SqueezeTime > 0), "every squeeze timed");
        }
        AssertStagesApart(rows, squeeze);
    }

    /// <summary>
    /// Each stage of SPEC.md's `results` apart: what ran is timed, what did not reads 0, and the stages sum to the
    /// request. The comparison is a few dozen instructions, below QEMU's 50-instruction tick on some inputs, so it
    /// is only required to show over the run.
    /// </summary>
    private static void AssertStagesApart(IReadOnlyList<InputResult> rows, SqueezeSettings squeeze)
    {
        bool bits = squeeze.Bits > 0, median = squeeze.Median > 1, detector = squeeze.Detector;
        bool[] ran = [true, bits, median, true, detector && bits, detector && median, detector];
        foreach (InputResult r in rows)
        {
            Assert.HasCount(Stages.Count, r.StageTimes, $"input {r.Index}: stages");
            Assert.AreEqual(r.TotalTime, r.StageTimes.Sum(), $"input {r.Index}: the stages sum to the request");
            Assert.AreEqual(r.InferenceTime, r.StageTimes[Stages.Inference]);
            for (int s = 0; s < Stages.Count; s++)
            {
                if (!ran[s])
                {
                    Assert.AreEqual(0, r.StageTimes[s], $"input {r.Index}: {Stages.Names[s]} did not run");
                }
                else if (s != Stages.Compare)
                {
                    Assert.IsGreaterThan(0, r.StageTimes[s], $"input {r.Index}: {Stages.Names[s]} is timed");
                }
            }
        }
        if (detector)
        {
            Assert.IsGreaterThan(0, rows.Sum(r => r.StageTimes[Stages.Compare]), "the comparison is timed");
        }
    }

    [TestMethod]
    [DataRow("int16", "bits=4")]
    [DataRow("int16", "bits=8")]
    [DataRow("int16", "median=6")]
    [DataRow("int8", "median=7")]
    [DataRow("int16", "bits=4,median=2")]
    [DataRow("int8", "bits=5,median=2,threshold=0.5")]
    public async Task SqueezingATensorOffThePixelGrid_EqualsTheHostsTensorSqueezers(string precision, string squeeze)
    {
        // Adversarial examples arrive as INPUT_TENSOR: the board squeezes the tensor's values (model-blob SPEC) as
        // TensorSqueezer / HostSqueeze.Median do, and the detector scores them the same.
        await using BoardSession b = await HilBoard.OpenAsync();
        ImageSet set = HilBoard.Cifar(Math.Min(HilBoard.Inputs, 6));
        using var model = new EngineHilModel(HilBoard.Model(precision));
        SqueezeSettings settings = SqueezeSettings.Parse(squeeze);
        await HilRunner.PrepareBoardAsync(b.Connection, model, settings, default);
        var rng = new Random(11);
        bool int8 = precision == "int8";
        var inputs = new ReadOnlyMemory<byte>[set.Count];
        var tensors = new short[set.Count][];
        for (int i = 0; i < set.Count; i++)
        {
            // the image's on-grid tensor (int8: p - 128; int16: round(p / 255 * 32767)) moved off the grid by noise
            tensors[i] = new short[set.ImageSize];
            for (int j = 0; j < set.ImageSize; j++)
            {
                int p = set.Pixels![(i * set.ImageSize) + j];
                int q = int8 ? p - 128 + rng.Next(-2, 3) : (int)Math.Round(p / 255.0 * 32767) + rng.Next(-200, 201);
                tensors[i][j] = (short)Math.Clamp(q, int8 ? -128 : -32768, int8 ? 127 : 32767);
            }
            inputs[i] = int8 ? Array.ConvertAll(tensors[i], v => (byte)(sbyte)v) : System.Runtime.InteropServices.MemoryMarshal.AsBytes(tensors[i].AsSpan()).ToArray();
        }
        int i2 = 0;
        await foreach (InferResult r in b.Connection.InferManyAsync(inputs, new InferOptions(InputTensor: true)))
        {
            HostExpectation want = model.ExpectTensor(tensors[i2], settings);
            CollectionAssert.AreEqual(want.Logits, LogitBytes.Encode(r.Logits, r.LogitBytes), $"input {i2}: logits");
            Assert.AreEqual(want.Label, r.Label, $"input {i2}: label");
            if (settings.Detector)
            {
                Assert.AreEqual(want.DetectorScore, (int)r.DetectorScore, $"input {i2}: detector score");
                Assert.AreEqual(want.Flagged, r.Adversarial, $"input {i2}: verdict");
            }
            else
            {
                Assert.IsGreaterThan(0UL, r.StageTimes[settings.Bits > 0 ? InferResult.SqueezeBitDepth : InferResult.SqueezeMedian], $"input {i2}: the squeeze is timed");
                Assert.AreEqual(0UL, r.StageTimes[InferResult.InferenceBitDepth] + r.StageTimes[InferResult.InferenceMedian] + r.StageTimes[InferResult.Compare], $"input {i2}: no detector");
            }
            i2++;
        }
        Assert.AreEqual(set.Count, i2);
    }

    [TestMethod]
    public async Task SqueezingOff_AfterOn_GivesTheUnsqueezedAnswer()
    {
        await using BoardSession b = await HilBoard.OpenAsync();
        ImageSet set = HilBoard.Cifar(1);
        using var model = new EngineHilModel(HilBoard.Model("int8"));
        await HilRunner.PrepareBoardAsync(b.Connection, model, SqueezeSettings.Parse("bits=1"), default);
        byte[] px = set.Pixels!.AsSpan(0, set.ImageSize).ToArray();
        InferResult on = await b.Connection.InferAsync(px);
        await b.Connection.SetSqueezeAsync(SqueezeConfig.Off);
        InferResult off = await b.Connection.InferAsync(px);
        CollectionAssert.AreEqual(model.Expect(px, SqueezeSettings.Parse("bits=1")).Logits, LogitBytes.Encode(on.Logits, on.LogitBytes));
        CollectionAssert.AreEqual(model.Expect(px, SqueezeSettings.Off).Logits, LogitBytes.Encode(off.Logits, off.LogitBytes));
        CollectionAssert.AreNotEqual(on.Logits, off.Logits, "1-bit squeezing of a CIFAR image must move the logits");
    }

    [TestMethod]
    public async Task TwoSqueezersWithoutTheDetector_AreNotSupported()
    {
        await using BoardSession b = await HilBoard.OpenAsync();
        ProtocolException e = await Assert.ThrowsExactlyAsync<ProtocolException>(() => b.Connection.SetSqueezeAsync(new SqueezeConfig(5, 2, false, 0)));
        Assert.AreEqual(StatusCode.NotSupported, e.Status);
    }

    [TestMethod]
    public async Task ResetMidStream_LosesNoInputAndRecordsEachOnce()
    {
        await using BoardSession b = await HilBoard.OpenAsync();
        ImageSet set = HilBoard.Cifar(HilBoard.Inputs);
        using var model = new EngineHilModel(HilBoard.Model("int8"));
        await HilRunner.PrepareBoardAsync(b.Connection, model, SqueezeSettings.Off, default);
        uint boot = b.Connection.Hello.BootId;
        var inputs = Enumerable.Range(0, set.Count).Select(i => (ReadOnlyMemory<byte>)set.Pixels.AsMemory(i * set.ImageSize, set.ImageSize)).ToArray();
        var results = new List<InferResult>();
        Task reset = Task.CompletedTask;
        await foreach (InferResult r in b.Connection.InferManyAsync(inputs))
        {
            results.Add(r);
            if (results.Count == set.Count / 2)
            {
                reset = b.Connection.ResetAsync(); // while the rest is in flight
            }
        }
        await reset;
        Assert.AreEqual(set.Count, results.Count);
        Assert.AreNotEqual(boot, b.Connection.Hello.BootId, "the board rebooted");
        for (int i = 0; i < set.Count; i++)
        {
            byte[] px = set.Pixels!.AsSpan(i * set.ImageSize, set.ImageSize).ToArray();
            CollectionAssert.AreEqual(model.Expect(px, SqueezeSettings.Off).Logits, LogitBytes.Encode(results[i].Logits, results[i].LogitBytes), $"input {i}");
        }
    }
}
