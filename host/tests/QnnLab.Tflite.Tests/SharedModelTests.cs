using QnnLab.Model;
using QnnLab.TestSupport;

namespace QnnLab.Tflite.Tests;

[TestClass]
public sealed class SharedModelTests
{
    [TestMethod]
    public void EveryShared_tflite_IsCoveredByTheseTests()
    {
        foreach (string dir in new[] { "mlperf-tiny/models", "paper-models" })
        {
            string root = TestData.Require(dir);
            foreach (string f in Directory.GetFiles(root, "*.tflite", SearchOption.AllDirectories))
            {
                string rel = Path.GetRelativePath(TestData.Root, f).Replace('\\', '/');
                CollectionAssert.Contains(SharedModels.All, rel, $"{rel} is not in SharedModels.All");
            }
        }
    }

    [TestMethod]
    [DynamicData(nameof(SharedModels.Rows), typeof(SharedModels))]
    public void Loads_WithExpectedShapesAndOperators(string relative)
    {
        QnnModel m = SharedModels.Load(relative);
        (int[] input, int[] output) = SharedModels.FamilyOf(relative) switch
        {
            SharedModels.Family.Cifar => (new[] { 1, 32, 32, 3 }, new[] { 1, 10 }),
            SharedModels.Family.Vww => ([1, 96, 96, 3], [1, 2]),
            SharedModels.Family.Coffee => ([1, 224, 224, 3], [1, 4]),
            _ => ([1, 224, 224, 3], [1, 2]),
        };
        CollectionAssert.AreEqual(input, m.InputTensor.Shape, "input shape");
        CollectionAssert.AreEqual(output, m.OutputTensor.Shape, "output shape");
        Assert.HasCount(1, m.Inputs);
        Assert.HasCount(1, m.Outputs);
        Assert.AreEqual(SharedModels.PrecisionOf(relative), m.Precision);
        Assert.AreEqual(OpKind.Softmax, m.Operators[^1].Kind, "classifiers end in softmax");
        Assert.AreEqual(m.Outputs[0], m.Operators[^1].Outputs[0]);

        Dictionary<OpKind, int> counts = m.Operators.GroupBy(o => o.Kind).ToDictionary(g => g.Key, g => g.Count());
        switch (SharedModels.FamilyOf(relative))
        {
            case SharedModels.Family.Cifar:
                // ResNet-8: stem conv + 3 stacks of 2 convs + 2 projection shortcuts = 9 convs, 3 residual adds.
                AssertCounts(counts, (OpKind.Conv2D, 9), (OpKind.Add, 3), (OpKind.AveragePool2D, 1), (OpKind.Reshape, 1), (OpKind.FullyConnected, 1), (OpKind.Softmax, 1));
                break;
            case SharedModels.Family.Vww:
                // MobileNetV1: stem conv + 13 depthwise-separable blocks (depthwise + pointwise).
                AssertCounts(counts, (OpKind.Conv2D, 14), (OpKind.DepthwiseConv2D, 13), (OpKind.AveragePool2D, 1), (OpKind.Reshape, 1), (OpKind.FullyConnected, 1), (OpKind.Softmax, 1));
                break;
            default:
                CollectionAssert.AreEquivalent(
                    new[] { OpKind.Conv2D, OpKind.MaxPool2D, OpKind.Reshape, OpKind.FullyConnected, OpKind.Softmax },
                    counts.Keys.ToArray());
                break;
        }

        // Operators are in execution order: every input is a model input, a constant or an earlier output.
        var available = new HashSet<int>(m.Inputs);
        foreach (Operator op in m.Operators)
        {
            foreach (int t in op.Inputs.Where(t => t >= 0))
            {
                Assert.IsTrue(available.Contains(t) || m.Tensors[t].IsConstant, $"{op} reads tensor {t} before it is produced");
            }
            available.UnionWith(op.Outputs);
        }
    }

    private static void AssertCounts(Dictionary<OpKind, int> counts, params (OpKind Kind, int Count)[] expected)
    {
        Assert.HasCount(expected.Length, counts, string.Join(", ", counts));
        foreach ((OpKind kind, int count) in expected)
        {
            Assert.AreEqual(count, counts.GetValueOrDefault(kind), $"{kind} count");
        }
    }

    [TestMethod]
    [DynamicData(nameof(SharedModels.Rows), typeof(SharedModels))]
    public void InputQuantization_GivesTheDocumentedPreprocessing(string relative)
    {
        QnnModel m = SharedModels.Load(relative);
        Tensor input = m.InputTensor;
        switch (SharedModels.PrecisionOf(relative))
        {
            case Precision.Float:
                Assert.AreEqual(ElementType.Float32, input.Type);
                Assert.IsNull(input.Quant);
                Assert.AreEqual(InputPreprocessing.UnitRange, m.Preprocessing, "float models default to [0,1]");
                break;
            case Precision.Int8 when SharedModels.TakesRawPixels(relative):
                Assert.AreEqual(ElementType.Int8, input.Type);
                Assert.AreEqual(1f, input.Quant!.Scale);
                Assert.AreEqual(-128L, input.Quant.ZeroPoint);
                Assert.AreEqual(InputPreprocessing.Raw, m.Preprocessing);
                break;
            case Precision.Int8:
                Assert.AreEqual(ElementType.Int8, input.Type);
                Assert.AreEqual(1.0 / 255, input.Quant!.Scale, 1e-7);
                Assert.AreEqual(-128L, input.Quant.ZeroPoint);
                Assert.AreEqual(InputPreprocessing.UnitRange, m.Preprocessing);
                break;
            case Precision.Int16:
                Assert.AreEqual(ElementType.Int16, input.Type);
                Assert.AreEqual(1.0 / 32767, input.Quant!.Scale, 1e-10);
                Assert.AreEqual(0L, input.Quant.ZeroPoint);
                Assert.AreEqual(InputPreprocessing.UnitRange, m.Preprocessing);
                break;
        }
    }

    [TestMethod]
    [DynamicData(nameof(SharedModels.Rows), typeof(SharedModels))]
    public void TensorTypes_FollowTheQuantizationScheme(string relative)
    {
        QnnModel m = SharedModels.Load(relative);
        Precision p = SharedModels.PrecisionOf(relative);
        ElementType activation = p switch { Precision.Int8 => ElementType.Int8, Precision.Int16 => ElementType.Int16, _ => ElementType.Float32 };
        ElementType weight = p == Precision.Float ? ElementType.Float32 : ElementType.Int8;
        ElementType bias = p switch { Precision.Int8 => ElementType.Int32, Precision.Int16 => ElementType.Int64, _ => ElementType.Float32 };

        foreach (Operator op in m.Operators)
        {
            foreach (int t in op.Inputs.Concat(op.Outputs).Where(t => t >= 0 && !m.Tensors[t].IsConstant))
            {
                Tensor a = m.Tensors[t];
                Assert.AreEqual(activation, a.Type, $"activation {a}");
                if (p == Precision.Int16)
                {
                    Assert.IsTrue(a.Quant!.ZeroPoints.All(z => z == 0), $"int16 activation {a} is symmetric");
                }
            }
            if (op.Kind is not (OpKind.Conv2D or OpKind.DepthwiseConv2D or OpKind.FullyConnected))
            {
                continue;
            }
            Tensor w = m.Tensors[op.Inputs[1]];
            Tensor b = m.Tensors[op.Inputs[2]];
            Assert.IsTrue(w.IsConstant && b.IsConstant, $"{op}: constant weights and bias");
            Assert.AreEqual(weight, w.Type, $"{op} weights");
            Assert.AreEqual(bias, b.Type, $"{op} bias");
            Assert.AreEqual(w.Shape[op.Kind == OpKind.DepthwiseConv2D ? 3 : 0], b.ElementCount, $"{op}: one bias per output channel");
            if (p == Precision.Float)
            {
                continue;
            }
            Assert.IsTrue(w.Quant!.ZeroPoints.All(z => z == 0), $"{op}: weights are symmetric");
            if (op.Kind is OpKind.Conv2D or OpKind.DepthwiseConv2D)
            {
                // Per output channel: conv OHWI along 0, depthwise 1HWC along 3.
                int dim = op.Kind == OpKind.Conv2D ? 0 : 3;
                Assert.AreEqual(dim, w.Quant.QuantizedDimension, $"{op} weights quantized dimension");
                Assert.HasCount(w.Shape[dim], w.Quant.Scales, $"{op}: one weight scale per output channel");
                Assert.HasCount(w.Shape[dim], b.Quant!.Scales, $"{op}: one bias scale per output channel");
            }
        }
    }
}
