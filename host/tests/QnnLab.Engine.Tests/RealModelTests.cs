using QnnLab.Data;
using QnnLab.Model;
using QnnLab.TestSupport;
using QnnLab.Tflite;

namespace QnnLab.Engine.Tests;

/// <summary>
/// The shared real models. Accuracy bounds come from the paper / MLPerf (85-89 % on CIFAR-10); the exact
/// figures over all 10,000 images are measured in a console run, here a few hundred images keep CI fast.
/// The vectorised path must equal the reference path on every logit.
/// </summary>
[TestClass]
public sealed class RealModelTests
{
    private static ImageSet Cifar(int n) => Cifar10.ReadFolder(TestData.Require("cifar10/cifar-10-batches-bin"), n);

    private static (IntegerModel Model, InputPreprocessing Pre) Load(string relative)
    {
        QnnModel m = TfliteReader.Read(TestData.Require(relative));
        return (IntegerModel.Compile(m), m.Preprocessing);
    }

    private static float[] Pixels(ImageSet set)
    {
        var px = new float[set.Count * set.ImageSize];
        for (int i = 0; i < set.Count; i++)
        {
            set.CopyImage(i, px.AsSpan(i * set.ImageSize, set.ImageSize));
        }
        return px;
    }

    private static double Accuracy(int[] labels, int[] truth) => labels.Zip(truth).Count(t => t.First == t.Second) / (double)labels.Length;

    [TestMethod]
    [DataRow("paper-models/vanilla/cifar_resnet_int8.tflite")]
    [DataRow("mlperf-tiny/models/ic/pretrainedResnet_quant.tflite")]
    public void Int8ResNetClassifiesCifarAndBothPathsAgree(string model)
    {
        (IntegerModel im, InputPreprocessing pre) = Load(model);
        ImageSet set = Cifar(300);
        var q = new sbyte[set.Count * set.ImageSize];
        EngineIo.QuantizeInput(im, Pixels(set), pre, q);
        // Both models' inputs are pixel - 128 (scale 1/255 or 1 with zero point -128).
        for (int i = 0; i < q.Length; i++)
        {
            Assert.AreEqual(set.Pixels![i] - 128, q[i]);
        }
        var fast = new sbyte[set.Count * 10];
        using (var e = new IntegerEngine(im, 64))
        {
            e.Run(q, set.Count, fast);
        }
        double acc = Accuracy(EngineIo.Labels(fast, 10), set.Labels);
        Assert.IsTrue(acc is > 0.80 and < 0.95, $"accuracy {acc:P1} on {set.Count} images is outside 80-95 %");

        int n = 16; // the reference kernels are slow in Debug builds
        var reference = new sbyte[n * 10];
        using (var e = new IntegerEngine(im, 16, KernelPath.Reference))
        {
            e.Run(q.AsSpan(0, n * set.ImageSize), n, reference);
        }
        CollectionAssert.AreEqual(reference, fast.AsSpan(0, n * 10).ToArray(), "vectorised and reference logits differ");
        float[] p = EngineIo.Probabilities(im, fast.AsSpan(0, 10));
        Assert.AreEqual(1.0, p.Sum(), 0.05);
    }

    [TestMethod]
    public void Int16ResNetClassifiesCifar()
    {
        (IntegerModel im, InputPreprocessing pre) = Load("paper-models/vanilla/cifar_resnet_int16.tflite");
        Assert.AreEqual(ElementType.Int16, im.ActivationType);
        ImageSet set = Cifar(100);
        var q = new short[set.Count * set.ImageSize];
        EngineIo.QuantizeInput(im, Pixels(set), pre, q);
        // Input scale ~1/32767, zero point 0: q = round(p / 255 / scale), half away from zero.
        (float scale, _) = im.InputQuantization;
        for (int i = 0; i < 3072; i++)
        {
            double real = set.Pixels![i] / 255.0 / scale;
            Assert.AreEqual(Math.Round(real, MidpointRounding.AwayFromZero), q[i], 1e-9 + (Math.Abs(real - Math.Floor(real) - 0.5) < 1e-3 ? 1 : 0));
        }
        var outputs = new short[set.Count * 10];
        using (var e = new IntegerEngine(im, 50))
        {
            e.Run(q, set.Count, outputs);
        }
        double acc = Accuracy(EngineIo.Labels(outputs, 10), set.Labels);
        Assert.IsTrue(acc is > 0.75 and < 0.97, $"accuracy {acc:P1} on {set.Count} images is outside 75-97 %");
    }

    [TestMethod]
    [DataRow("paper-models/vanilla/vww_int8.tflite")]
    [DataRow("paper-models/vanilla/vww_int16.tflite")]
    public void VisualWakeWordsRunsOnMlperfSamples(string model)
    {
        (IntegerModel im, InputPreprocessing pre) = Load(model);
        string dir = TestData.Require("mlperf-tiny/samples/vww01");
        string[] lines = File.ReadAllLines(Path.Combine(dir, "y_labels.csv")).Where(l => l.Length > 0).Take(40).ToArray();
        int size = im.InputSize;
        var px = new float[lines.Length * size];
        var truth = new int[lines.Length];
        for (int i = 0; i < lines.Length; i++)
        {
            string[] f = lines[i].Split(',');
            byte[] raw = File.ReadAllBytes(Path.Combine(dir, f[0]));
            Assert.AreEqual(size, raw.Length, f[0]);
            for (int j = 0; j < size; j++)
            {
                px[(i * size) + j] = raw[j];
            }
            truth[i] = int.Parse(f[2]);
        }
        int[] labels = RunAny(im, pre, px, lines.Length, out float[] probabilities);
        double acc = Accuracy(labels, truth);
        Assert.IsTrue(acc >= 0.7, $"VWW accuracy {acc:P1} on {lines.Length} samples");
        Assert.AreEqual(1.0, probabilities.Take(im.OutputSize).Sum(), 0.05);
    }

    [TestMethod]
    [DataRow("paper-models/vanilla/coffee_cnn_int8.tflite")]
    [DataRow("paper-models/vanilla/coffee_cnn_int16.tflite")]
    public void CoffeeModelsRun(string model)
    {
        (IntegerModel im, InputPreprocessing pre) = Load(model);
        var rng = new Random(13);
        var px = new float[2 * im.InputSize];
        for (int i = 0; i < px.Length; i++)
        {
            px[i] = rng.Next(0, 256);
        }
        RunAny(im, pre, px, 2, out float[] probabilities);
        Assert.AreEqual(2 * im.OutputSize, probabilities.Length);
        Assert.AreEqual(1.0, probabilities.Take(im.OutputSize).Sum(), 0.05);
    }

    /// <summary>Real images for a model: CIFAR-10 test images, or MLPerf's VWW samples (96x96x3).</summary>
    private static float[] RealImages(IntegerModel im, int n)
    {
        if (im.InputSize == 3072)
        {
            return Pixels(Cifar(n));
        }
        string dir = TestData.Require("mlperf-tiny/samples/vww01");
        string[] files = File.ReadAllLines(Path.Combine(dir, "y_labels.csv")).Where(l => l.Length > 0).Take(n).Select(l => l.Split(',')[0]).ToArray();
        var px = new float[n * im.InputSize];
        for (int i = 0; i < n; i++)
        {
            byte[] raw = File.ReadAllBytes(Path.Combine(dir, files[i]));
            Assert.AreEqual(im.InputSize, raw.Length, files[i]);
            for (int j = 0; j < raw.Length; j++)
            {
                px[(i * im.InputSize) + j] = raw[j];
            }
        }
        return px;
    }

    /// <summary>
    /// The vectorised kernels (16x8 GEMM, int8 GEMM, depthwise, add) against the scalar reference on real models and
    /// real images: every operator's whole output for one image, and the final outputs of a small batch run in tiles.
    /// </summary>
    [TestMethod]
    [DataRow("paper-models/vanilla/cifar_resnet_int16.tflite", 5)]
    [DataRow("paper-models/vanilla/vww_int16.tflite", 3)]
    [DataRow("paper-models/vanilla/vww_int8.tflite", 3)]
    [DataRow("paper-models/vanilla/cifar_resnet_int8.tflite", 5)]
    public void EveryKernelPathEqualsTheReferenceOnEveryIntermediate(string model, int n)
    {
        (IntegerModel im, InputPreprocessing pre) = Load(model);
        float[] px = RealImages(im, n);
        using var reference = new IntegerEngine(im, n, KernelPath.Reference);
        foreach (KernelPath path in Graph.PathsToCompare())
        {
            using var fast = new IntegerEngine(im, n - 1, path); // a tile smaller than the batch
            Graph.CheckVectorised(fast);
            CompareOnRealImages(im, pre, px, n, fast, reference, KernelIsa.Name(path));
        }
    }

    private static void CompareOnRealImages(IntegerModel im, InputPreprocessing pre, float[] px, int n, IntegerEngine fast, IntegerEngine reference, string path)
    {

        byte[] firstImage;
        if (im.ActivationType == ElementType.Int16)
        {
            var q = new short[px.Length];
            EngineIo.QuantizeInput(im, px, pre, q);
            var outFast = new short[n * im.OutputSize];
            var outReference = new short[n * im.OutputSize];
            fast.Run(q, n, outFast);
            reference.Run(q, n, outReference);
            CollectionAssert.AreEqual(outReference, outFast, $"{path}: final outputs differ");
            firstImage = System.Runtime.InteropServices.MemoryMarshal.AsBytes(q.AsSpan(0, im.InputSize)).ToArray();
        }
        else
        {
            var q = new sbyte[px.Length];
            EngineIo.QuantizeInput(im, px, pre, q);
            var outFast = new sbyte[n * im.OutputSize];
            var outReference = new sbyte[n * im.OutputSize];
            fast.Run(q, n, outFast);
            reference.Run(q, n, outReference);
            CollectionAssert.AreEqual(outReference, outFast, $"{path}: final outputs differ");
            firstImage = System.Runtime.InteropServices.MemoryMarshal.AsBytes(q.AsSpan(0, im.InputSize)).ToArray();
        }

        var layersFast = fast.RunWithIntermediates(firstImage);
        var layersReference = reference.RunWithIntermediates(firstImage);
        Assert.AreEqual(layersReference.Count, layersFast.Count);
        for (int i = 0; i < layersFast.Count; i++)
        {
            CollectionAssert.AreEqual(layersReference[i].Values, layersFast[i].Values, $"{path}: operator {layersFast[i].Op.OperatorIndex} ({layersFast[i].Op.Kind}) differs");
        }
    }

    private static int[] RunAny(IntegerModel im, InputPreprocessing pre, float[] px, int n, out float[] probabilities)
    {
        using var e = new IntegerEngine(im, n);
        if (im.ActivationType == ElementType.Int8)
        {
            var q = new sbyte[px.Length];
            EngineIo.QuantizeInput(im, px, pre, q);
            var o = new sbyte[n * im.OutputSize];
            e.Run(q, n, o);
            probabilities = EngineIo.Probabilities(im, o);
            return EngineIo.Labels(o, im.OutputSize);
        }
        var q16 = new short[px.Length];
        EngineIo.QuantizeInput(im, px, pre, q16);
        var o16 = new short[n * im.OutputSize];
        e.Run(q16, n, o16);
        probabilities = EngineIo.Probabilities(im, o16);
        return EngineIo.Labels(o16, im.OutputSize);
    }
}
