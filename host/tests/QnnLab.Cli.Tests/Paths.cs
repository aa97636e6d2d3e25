using QnnLab.TestSupport;

namespace QnnLab.Cli.Tests;

/// <summary>The shared models and data the CLI tests read (relative to the data root).</summary>
public static class Paths
{
    public const string CifarInt8 = "paper-models/vanilla/cifar_resnet_int8.tflite";
    public const string CifarInt16 = "paper-models/vanilla/cifar_resnet_int16.tflite";
    public const string CifarFloatH5 = "paper-models/vanilla/cifar_resnet_float.h5";
    public const string VwwInt8 = "paper-models/vanilla/vww_int8.tflite";
    public const string CifarDir = "cifar10/cifar-10-batches-bin";
    public const string VwwSamples = "mlperf-tiny/samples/vww01";

    public static string Require(string relative) => TestData.Require(relative);
}
