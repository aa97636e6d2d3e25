using System.Text.RegularExpressions;
using QnnLab.Model;

namespace QnnLab.Tflite.Tests;

[TestClass]
public sealed class ModelSummaryTests
{
    /// <summary>ResNet-8 (MLPerf Tiny IC) layer by layer: (output H*W, output C, kernel K, input C).</summary>
    private static readonly (int Hw, int Out, int K, int In)[] ResNet8Convs =
    [
        (32 * 32, 16, 3, 3),                                          // stem
        (32 * 32, 16, 3, 16), (32 * 32, 16, 3, 16),                   // stack 1
        (16 * 16, 32, 3, 16), (16 * 16, 32, 3, 32), (16 * 16, 32, 1, 16), // stack 2 + 1x1 shortcut
        (8 * 8, 64, 3, 32), (8 * 8, 64, 3, 64), (8 * 8, 64, 1, 32),    // stack 3 + 1x1 shortcut
    ];

    [TestMethod]
    public void ResNet8_MacsAndParameters_MatchTheArchitecture()
    {
        QnnModel m = SharedModels.Load("mlperf-tiny/models/ic/pretrainedResnet_quant.tflite");
        ModelSummary s = ModelSummary.Of(m);

        long convMacs = ResNet8Convs.Sum(c => (long)c.Hw * c.Out * c.K * c.K * c.In);
        long fcMacs = 64 * 10;
        long convParams = ResNet8Convs.Sum(c => (long)c.Out * c.K * c.K * c.In + c.Out);
        long fcParams = 64 * 10 + 10;

        long macs = s.Operators.Where(o => o.Kind is OpKind.Conv2D or OpKind.FullyConnected).Sum(o => o.Macs);
        Assert.AreEqual(convMacs + fcMacs, macs);
        Assert.AreEqual(12_501_632L, convMacs + fcMacs, "the ~12.5 M MACs quoted for ResNet-8");
        long weights = s.Operators.Where(o => o.Kind is OpKind.Conv2D or OpKind.FullyConnected).Sum(o => o.Params);
        Assert.AreEqual(convParams + fcParams, weights);
        Assert.AreEqual(9, s.OperatorCounts[OpKind.Conv2D]);
    }

    [TestMethod]
    public void Vww_Macs_MatchMobileNetV1()
    {
        QnnModel m = SharedModels.Load("mlperf-tiny/models/vww/vww_96_int8.tflite");
        ModelSummary s = ModelSummary.Of(m);
        // MobileNetV1 0.25 at 96x96: stem 3x3/2 to 8 channels, then 13 blocks of depthwise 3x3 + pointwise.
        (int Hw, int In, int Out)[] blocks =
        [
            (48, 8, 16), (24, 16, 32), (24, 32, 32), (12, 32, 64), (12, 64, 64), (6, 64, 128),
            (6, 128, 128), (6, 128, 128), (6, 128, 128), (6, 128, 128), (6, 128, 128), (3, 128, 256), (3, 256, 256),
        ];
        long expected = 48L * 48 * 8 * 3 * 3 * 3;
        foreach ((int hw, int cin, int cout) in blocks)
        {
            expected += (long)hw * hw * cin * 9 + (long)hw * hw * cin * cout;
        }
        expected += 256 * 2;
        long macs = s.Operators.Where(o => o.Kind is OpKind.Conv2D or OpKind.DepthwiseConv2D or OpKind.FullyConnected).Sum(o => o.Macs);
        Assert.AreEqual(expected, macs);
    }

    private static QnnModel Chain(params int[] sizes)
    {
        var m = new QnnModel { Name = "chain" };
        for (int i = 0; i < sizes.Length; i++)
        {
            m.AddTensor(new Tensor($"t{i}", ElementType.Int8, [sizes[i]], QuantParams.PerTensor(1, 0)));
        }
        for (int i = 0; i + 1 < sizes.Length; i++)
        {
            m.Operators.Add(new Operator(OpKind.Quantize, [i], [i + 1], NoOptions.Instance));
        }
        m.Inputs = [0];
        m.Outputs = [sizes.Length - 1];
        return m;
    }

    [TestMethod]
    public void Arena_PlacesTensorsWhoseLifetimesOverlapSideBySide()
    {
        // t0 (1000 -> 1008 aligned) and t1 (2000) are live together at op 0; t1 and t2 (500 -> 512) at op 1.
        // Greedy, largest first: t1 at 0, t0 at 2000, t2 at 2000 (t0 is dead by then) => 3008.
        ModelSummary s = ModelSummary.Of(Chain(1000, 2000, 500));
        Assert.AreEqual(3008L, s.ArenaBytes);
        Assert.AreEqual(3008L, s.PeakLiveBytes);
    }

    [TestMethod]
    public void Arena_ReusesMemoryOfDeadTensors()
    {
        // Four equal tensors in a chain: only two are ever live, so two slots of 1008 bytes suffice.
        ModelSummary s = ModelSummary.Of(Chain(1000, 1000, 1000, 1000));
        Assert.AreEqual(2016L, s.ArenaBytes);
        Assert.AreEqual(2016L, s.PeakLiveBytes);
    }

    [TestMethod]
    public void Arena_KeepsResidualInputsAliveUntilTheAdd()
    {
        // x -> a -> b; add(x, b): x stays live through op 2, so three 1008-byte tensors are live at op 1.
        var m = new QnnModel { Name = "residual" };
        for (int i = 0; i < 4; i++)
        {
            m.AddTensor(new Tensor($"t{i}", ElementType.Int8, [1000], QuantParams.PerTensor(1, 0)));
        }
        m.Operators.Add(new Operator(OpKind.Quantize, [0], [1], NoOptions.Instance));
        m.Operators.Add(new Operator(OpKind.Quantize, [1], [2], NoOptions.Instance));
        m.Operators.Add(new Operator(OpKind.Add, [0, 2], [3], new AddOptions(Activation.None)));
        m.Inputs = [0];
        m.Outputs = [3];
        ModelSummary s = ModelSummary.Of(m);
        Assert.AreEqual(3024L, s.PeakLiveBytes);
        Assert.AreEqual(3024L, s.ArenaBytes);
    }

    [TestMethod]
    public void Text_ListsEveryOperatorAndTheTotals()
    {
        QnnModel m = SharedModels.Load("paper-models/vanilla/cifar_resnet_int16.tflite");
        ModelSummary s = ModelSummary.Of(m);
        string text = s.ToText();
        // One row per operator: index, kind, shapes, MACs, params.
        MatchCollection rows = Regex.Matches(text, @"^\s+(\d+)\s+(\w+)\s+\[", RegexOptions.Multiline);
        CollectionAssert.AreEqual(Enumerable.Range(0, m.Operators.Count).ToArray(), rows.Select(r => int.Parse(r.Groups[1].Value)).ToArray());
        CollectionAssert.AreEqual(m.Operators.Select(o => o.Kind.ToString()).ToArray(), rows.Select(r => r.Groups[2].Value).ToArray());
        StringAssert.Contains(text, "Int16");
        StringAssert.Contains(text, $"total MACs {s.TotalMacs:N0}");
        StringAssert.Contains(text, "pixels/255");
    }
}
