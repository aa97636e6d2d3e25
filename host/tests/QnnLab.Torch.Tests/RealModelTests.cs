using QnnLab.Data;
using QnnLab.Keras;
using QnnLab.Model;
using QnnLab.TestSupport;
using QnnLab.Tflite;

namespace QnnLab.Torch.Tests;

/// <summary>Published models on real CIFAR-10 test images (first 500 of the shared test batch).</summary>
[TestClass]
public sealed class RealModelTests
{
    private static ImageSet Cifar(int count)
        => Cifar10.ReadFolder(TestData.Require("cifar10/cifar-10-batches-bin"), count);

    [TestMethod]
    public void MlperfFloatResNet8ScoresLikeItsPublishedAccuracy()
    {
        // MLPerf Tiny's float ResNet-8 takes raw 0..255 pixels; its reported accuracy is ~87 %.
        QnnModel model = TfliteReader.Read(TestData.Require("mlperf-tiny/models/ic/pretrainedResnet.tflite"), InputPreprocessing.Raw);
        using var engine = new FloatEngine(model);
        double accuracy = engine.Accuracy(Cifar(500));
        Console.WriteLine($"MLPerf float ResNet-8: {accuracy:P1} on 500");
        Assert.IsInRange(0.80, 0.90, accuracy);
    }

    [TestMethod]
    public void DequantizedViewOfThePaperInt8ResNet8ScoresLikeTheQnn()
    {
        // Paper Table 4: 87.5 % for the int8 ResNet-8 (first 1000 test images); inputs pixels/255.
        QnnModel model = TfliteReader.Read(TestData.Require("paper-models/vanilla/cifar_resnet_int8.tflite"), InputPreprocessing.UnitRange);
        Assert.AreEqual(Precision.Int8, model.Precision);
        using var engine = new FloatEngine(model);
        Assert.IsTrue(engine.Module.IsQuantized);
        ImageSet images = Cifar(500);
        double accuracy = engine.Accuracy(images);
        Console.WriteLine($"paper int8 ResNet-8, dequantized view: {accuracy:P1} on 500");
        Assert.IsInRange(0.80, 0.92, accuracy);

        // Fake quantization stays close: it only moves activations onto the int8 grid.
        using var fq = new FloatEngine(model, new FloatEngineOptions { FakeQuantActivations = true });
        double fqAccuracy = fq.Accuracy(images.Take(200));
        double viewAccuracy = engine.Accuracy(images.Take(200));
        Console.WriteLine($"  with fake-quantized activations: {fqAccuracy:P1} vs {viewAccuracy:P1} on 200");
        Assert.AreEqual(viewAccuracy, fqAccuracy, 0.03);
    }

    [TestMethod]
    public void DequantizedViewOfMlperfVisualWakeWordsRunsDepthwiseAndStridedSame()
    {
        // MobileNetV1 0.25 (depthwise, strided SAME convs) on MLPerf's 1,000 VWW samples; the float
        // model scores 85.3 % on them (measured with this engine, agreeing with the .h5 import).
        QnnModel model = TfliteReader.Read(TestData.Require("mlperf-tiny/models/vww/vww_96_int8.tflite"));
        ImageSet samples = MlperfSamples.ReadFolder(TestData.Require("mlperf-tiny/samples/vww01"));
        using var engine = new FloatEngine(model);
        double accuracy = engine.Accuracy(samples);
        Console.WriteLine($"MLPerf VWW int8, dequantized view: {accuracy:P1} on {samples.Count}");
        Assert.IsInRange(0.80, 0.92, accuracy);
    }

    [TestMethod]
    public void KerasAndTfliteImportsOfTheSameFloatModelAgree()
    {
        // The .h5 (batch norms folded by the importer) and the converter's .tflite are the same
        // network: the engine must give both the same probabilities.
        QnnModel fromTflite = TfliteReader.Read(TestData.Require("mlperf-tiny/models/ic/pretrainedResnet.tflite"), InputPreprocessing.Raw);
        QnnModel fromKeras = KerasImporter.Load(TestData.Require("mlperf-tiny/models/ic/pretrainedResnet.h5"), InputPreprocessing.Raw);
        using var a = new FloatEngine(fromTflite);
        using var b = new FloatEngine(fromKeras);
        ImageSet images = Cifar(32);
        float[] pixels = a.Pixels(images, 0, images.Count);
        ForwardResult ra = a.Forward(pixels, images.Count);
        ForwardResult rb = b.Forward(pixels, images.Count);
        Reference.AssertClose(ra.Probabilities, rb.Probabilities, 2e-3f, "probabilities");
        CollectionAssert.AreEqual(ra.Predictions(), rb.Predictions());
    }

    [TestMethod]
    public void ActivationRangesCoverEveryActivationTensor()
    {
        QnnModel model = TfliteReader.Read(TestData.Require("mlperf-tiny/models/ic/pretrainedResnet.tflite"), InputPreprocessing.Raw);
        using var engine = new FloatEngine(model, new FloatEngineOptions { BatchSize = 32 });
        Dictionary<int, (float Min, float Max)> ranges = engine.ActivationRanges(Cifar(64));
        int[] activations = Enumerable.Range(0, model.Tensors.Count).Where(i => !model.Tensors[i].IsConstant).ToArray();
        CollectionAssert.AreEquivalent(activations, ranges.Keys.ToArray());
        (float inMin, float inMax) = ranges[model.Inputs[0]];
        Assert.IsTrue(inMin >= 0 && inMax <= 255 && inMax > 200, $"raw pixel input range {inMin}..{inMax}");
        (float outMin, float outMax) = ranges[model.Outputs[0]];
        Assert.IsTrue(outMin >= 0 && outMax <= 1, "softmax output is a probability");
        foreach (Operator op in model.Operators.Where(o => o.Options is ConvOptions { Activation: Activation.Relu }))
        {
            Assert.IsGreaterThanOrEqualTo(0f, ranges[op.Outputs[0]].Min, "fused ReLU output");
        }
    }
}
