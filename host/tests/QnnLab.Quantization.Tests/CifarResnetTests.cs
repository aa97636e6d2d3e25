using QnnLab.Data;
using QnnLab.Keras;
using QnnLab.Model;
using QnnLab.TestSupport;
using QnnLab.Tflite;

namespace QnnLab.Quantization.Tests;

/// <summary>The paper's CIFAR-10 ResNet-8: float accuracy, and quantized with our TFLite-style quantizer.</summary>
[TestClass]
public sealed class CifarResnetTests
{
    private const int TestImages = 300;
    private static QnnModel? s_float;
    private static TensorRanges? s_ranges;
    private static ImageSet? s_test;

    private static QnnModel FloatModel => s_float ??= KerasImporter.Load(TestData.Require("paper-models/vanilla/cifar_resnet_float.h5"));

    private static ImageSet Test => s_test ??= Cifar10.ReadBatch(TestData.Require("cifar10/cifar-10-batches-bin/test_batch.bin"), TestImages);

    private static TensorRanges Ranges => s_ranges ??= Calibrator.Collect(FloatModel,
        Cifar10.ReadBatch(TestData.Require("cifar10/cifar-10-batches-bin/calibration_500.bin")));

    private static readonly Lock Gate = new();
    private static double? s_floatAccuracy;

    private static double FloatAccuracy
    {
        get
        {
            lock (Gate)
            {
                var reference = new FloatReference(FloatModel);
                return s_floatAccuracy ??= Accuracy(x => reference.Run(x));
            }
        }
    }

    private static double Accuracy(Func<float[], float[]> run)
    {
        int correct = 0;
        for (int i = 0; i < Test.Count; i++)
        {
            if (FloatReference.ArgMax(run(FloatReference.Preprocess(FloatModel, Test, i))) == Test.Labels[i])
            {
                correct++;
            }
        }
        return 100.0 * correct / Test.Count;
    }

    [TestMethod]
    public void FloatModelScoresLikeThePaper()
    {
        double acc = FloatAccuracy;
        Console.WriteLine($"float accuracy on {TestImages} test images: {acc:F1} %");
        // Paper: 88.3 % on its first 1000 images; the shared test set is in another order (86.5 % on our first 1000).
        Assert.IsTrue(acc is >= 82 and <= 92, $"float accuracy {acc:F1} %");
    }

    [TestMethod]
    [DataRow(Precision.Int8)]
    [DataRow(Precision.Int16)]
    public void QuantizedModelStaysWithinOnePointOfFloat(Precision precision)
    {
        double floatAcc = FloatAccuracy, quantAcc;
        QnnModel q;
        lock (Gate)
        {
            q = PostTrainingQuantizer.Quantize(FloatModel, Ranges, precision);
            var sim = new FakeQuantSimulation(q);
            quantAcc = Accuracy(x => sim.Run(x));
        }
        Console.WriteLine($"{precision}: float {floatAcc:F1} %, fake-quantized {quantAcc:F1} % on {TestImages} images");
        Assert.IsTrue(Math.Abs(quantAcc - floatAcc) <= 1.0 + 1e-9, $"{precision} accuracy {quantAcc:F1} % vs float {floatAcc:F1} %");

        // The input quantization the paper's models use follows from calibration images spanning 0..255.
        QuantParams input = q.InputTensor.Quant!;
        if (precision == Precision.Int8)
        {
            Assert.AreEqual((1f / 255f, -128L), (input.Scale, input.ZeroPoint));
        }
        else
        {
            Assert.AreEqual((1f / 32767f, 0L), (input.Scale, input.ZeroPoint));
        }
    }

    /// <summary>
    /// Our parameters against the paper's converter-made model, operator by operator (matched by kind,
    /// shapes and weight bytes, since the converter orders the shortcut convs differently).
    /// </summary>
    [TestMethod]
    [DataRow(Precision.Int8, "paper-models/vanilla/cifar_resnet_int8.tflite")]
    [DataRow(Precision.Int16, "paper-models/vanilla/cifar_resnet_int16.tflite")]
    public void ParametersMatchThePapersTfliteModel(Precision precision, string paperFile)
    {
        QnnModel paper = TfliteReader.Read(TestData.Require(paperFile));
        QnnModel ours;
        lock (Gate)
        {
            ours = PostTrainingQuantizer.Quantize(FloatModel, Ranges, precision);
        }
        // Round trip through the TFLite writer: what we hand to TFLM is what we compare.
        string tmp = Path.Combine(TestData.TempDir(), "ours.tflite");
        TfliteWriter.Write(ours, tmp);
        ours = TfliteReader.Read(tmp, FloatModel.Preprocessing);
        Assert.AreEqual(paper.Operators.Count, ours.Operators.Count);
        AssertSameParams(paper.InputTensor.Quant!, ours.InputTensor.Quant!, 0, "input");

        var unmatched = paper.Operators.ToList();
        int weightBytes = 0, equalWeightBytes = 0;
        double worstScale = 0;
        foreach (Operator op in ours.Operators)
        {
            Operator match = unmatched
                .Where(p => p.Kind == op.Kind && paper.Tensors[p.Inputs[0]].Shape.SequenceEqual(ours.Tensors[op.Inputs[0]].Shape)
                    && paper.Tensors[p.Outputs[0]].Shape.SequenceEqual(ours.Tensors[op.Outputs[0]].Shape)
                    && (op.Inputs.Length < 2 || paper.Tensors[p.Inputs[1]].Shape.SequenceEqual(ours.Tensors[op.Inputs[1]].Shape)))
                .OrderByDescending(p => op.Inputs.Length < 2 || ours.Tensors[op.Inputs[1]].Data is null ? 0
                    : ours.Tensors[op.Inputs[1]].Data!.Zip(paper.Tensors[p.Inputs[1]].Data!).Count(b => b.First == b.Second))
                .First();
            unmatched.Remove(match);
            worstScale = Math.Max(worstScale, AssertSameParams(paper.Tensors[match.Outputs[0]].Quant!, ours.Tensors[op.Outputs[0]].Quant!, 1e-5, $"{op.Kind} output"));
            if (op.Kind is OpKind.Conv2D or OpKind.DepthwiseConv2D or OpKind.FullyConnected)
            {
                Tensor ow = ours.Tensors[op.Inputs[1]], pw = paper.Tensors[match.Inputs[1]];
                worstScale = Math.Max(worstScale, AssertSameParams(pw.Quant!, ow.Quant!, 1e-6, $"{op.Kind} weights"));
                weightBytes += ow.Data!.Length;
                equalWeightBytes += ow.Data.Zip(pw.Data!).Count(b => b.First == b.Second);
                Tensor ob = ours.Tensors[op.Inputs[2]], pb = paper.Tensors[match.Inputs[2]];
                Assert.AreEqual(pb.Type, ob.Type);
                long[] ov = ob.Type == ElementType.Int64 ? ob.DataAs<long>().ToArray() : ob.DataAs<int>().ToArray().Select(v => (long)v).ToArray();
                long[] pv = pb.Type == ElementType.Int64 ? pb.DataAs<long>().ToArray() : pb.DataAs<int>().ToArray().Select(v => (long)v).ToArray();
                for (int i = 0; i < ov.Length; i++)
                {
                    // Folded batch norms differ from TensorFlow's in the last bit, so biases may differ by a unit or so.
                    Assert.AreEqual(pv[i], ov[i], Math.Max(2, Math.Abs(pv[i]) * 1e-5), $"{op.Kind} bias {i}");
                }
            }
        }
        double equal = 100.0 * equalWeightBytes / weightBytes;
        Console.WriteLine($"{precision}: {equal:F2} % of {weightBytes} weight bytes identical to the paper's, worst relative scale difference {worstScale:E1}");
        Assert.IsTrue(equal >= 99.0, $"only {equal:F2} % of weight bytes match");
    }

    private static double AssertSameParams(QuantParams expected, QuantParams actual, double relative, string what)
    {
        Assert.AreEqual(expected.Scales.Length, actual.Scales.Length, what);
        CollectionAssert.AreEqual(expected.ZeroPoints, actual.ZeroPoints, what);
        double worst = 0;
        for (int i = 0; i < expected.Scales.Length; i++)
        {
            double diff = Math.Abs(expected.Scales[i] - actual.Scales[i]) / expected.Scales[i];
            worst = Math.Max(worst, diff);
            Assert.IsTrue(diff <= relative, $"{what} scale {i}: {actual.Scales[i]:G9} vs the paper's {expected.Scales[i]:G9}");
        }
        return worst;
    }
}
