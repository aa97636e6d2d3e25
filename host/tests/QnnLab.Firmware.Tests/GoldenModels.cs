using QnnLab.Data;
using QnnLab.Inference;
using QnnLab.Model;
using QnnLab.TestSupport;

namespace QnnLab.Firmware.Tests;

/// <summary>The paper's models and inputs the golden checks use, read from the shared data.</summary>
internal static class GoldenModels
{
    public const string CifarInt8 = "paper-models/vanilla/cifar_resnet_int8.tflite";
    public const string CifarInt16 = "paper-models/vanilla/cifar_resnet_int16.tflite";
    public const string VwwInt8 = "paper-models/vanilla/vww_int8.tflite";
    public const string VwwInt16 = "paper-models/vanilla/vww_int16.tflite";
    public const string MlperfResnetInt8 = "mlperf-tiny/models/ic/pretrainedResnet_quant.tflite";
    public const string MlperfVwwInt8 = "mlperf-tiny/models/vww/vww_96_int8.tflite";

    public static QnnModel Load(string relative) => ModelFiles.Load(TestData.Require(relative));

    /// <summary>CIFAR-10 test images for the CIFAR models, MLPerf Tiny's VWW samples for the VWW ones.</summary>
    public static ImageSet Inputs(string relative, int count)
    {
        ImageSet set = relative.Contains("vww", StringComparison.Ordinal)
            ? DataSpec.Load("mlperf:" + TestData.Require("mlperf-tiny/samples/vww01"))
            : DataSpec.Load("cifar10:" + TestData.Require("cifar10/cifar-10-batches-bin"));
        return set.Take(count);
    }

    /// <summary>The first <paramref name="count"/> images as one file of raw HWC pixel records (the golden runner's input).</summary>
    public static string WritePixels(ImageSet set, int count, string dir)
    {
        string path = Path.Combine(dir, "inputs.bin");
        File.WriteAllBytes(path, set.Pixels!.AsSpan(0, count * set.ImageSize).ToArray());
        return path;
    }
}
