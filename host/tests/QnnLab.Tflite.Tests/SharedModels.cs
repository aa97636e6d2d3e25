using QnnLab.Model;
using QnnLab.TestSupport;
using QnnLab.Tflite;

namespace QnnLab.Tflite.Tests;

/// <summary>The shared .tflite models and what each must look like (from the data README and the models' architectures).</summary>
internal static class SharedModels
{
    public static readonly string[] All =
    [
        "mlperf-tiny/models/ic/pretrainedResnet.tflite",
        "mlperf-tiny/models/ic/pretrainedResnet_quant.tflite",
        "mlperf-tiny/models/ic/pretrainedResnet_large_float.tflite",
        "mlperf-tiny/models/ic/pretrainedResnet_large_int8.tflite",
        "mlperf-tiny/models/vww/vww_96_float.tflite",
        "mlperf-tiny/models/vww/vww_96_int8.tflite",
        "paper-models/vanilla/cifar_resnet_int8.tflite",
        "paper-models/vanilla/cifar_resnet_int16.tflite",
        "paper-models/vanilla/vww_int8.tflite",
        "paper-models/vanilla/vww_int16.tflite",
        "paper-models/vanilla/coffee_cnn_int8.tflite",
        "paper-models/vanilla/coffee_cnn_int16.tflite",
        "paper-models/vanilla/coffee_binary_cnn_int8.tflite",
        "paper-models/vanilla/coffee_binary_cnn_int16.tflite",
        "paper-models/defense-enhanced/cifar_distil_int8.tflite",
        "paper-models/defense-enhanced/cifar_distil_int16.tflite",
        "paper-models/defense-enhanced/cifar_adv_train_int8.tflite",
        "paper-models/defense-enhanced/cifar_adv_train_int16.tflite",
        "paper-models/defense-enhanced/cifar_ens_adv_int8.tflite",
        "paper-models/defense-enhanced/cifar_ens_adv_int16.tflite",
        "paper-models/defense-enhanced/cifar_sat_int8.tflite",
        "paper-models/defense-enhanced/cifar_sat_int16.tflite",
        "paper-models/defense-enhanced/vww_distil_int8.tflite",
        "paper-models/defense-enhanced/vww_distil_int16.tflite",
        "paper-models/defense-enhanced/vww_adv_train_int8.tflite",
        "paper-models/defense-enhanced/vww_adv_train_int16.tflite",
        "paper-models/defense-enhanced/vww_ens_adv_int8.tflite",
        "paper-models/defense-enhanced/vww_ens_adv_int16.tflite",
        "paper-models/defense-enhanced/vww_sat_int8.tflite",
        "paper-models/defense-enhanced/vww_sat_int16.tflite",
        "paper-models/defense-enhanced/coffee_distil_int8.tflite",
        "paper-models/defense-enhanced/coffee_distil_int16.tflite",
        "paper-models/defense-enhanced/coffee_adv_train_int8.tflite",
        "paper-models/defense-enhanced/coffee_adv_train_int16.tflite",
        "paper-models/defense-enhanced/coffee_ens_adv_int8.tflite",
        "paper-models/defense-enhanced/coffee_ens_adv_int16.tflite",
        "paper-models/defense-enhanced/coffee_sat_int8.tflite",
        "paper-models/defense-enhanced/coffee_sat_int16.tflite",
    ];

    public static IEnumerable<object[]> Rows => All.Select(p => new object[] { p });

    public enum Family
    {
        Cifar,
        Vww,
        Coffee,
        CoffeeBinary,
    }

    public static Family FamilyOf(string path)
    {
        string f = Path.GetFileName(path);
        return f.Contains("coffee_binary") ? Family.CoffeeBinary
            : f.Contains("coffee") ? Family.Coffee
            : f.Contains("vww") ? Family.Vww
            : Family.Cifar;
    }

    public static Precision PrecisionOf(string path)
    {
        string f = Path.GetFileNameWithoutExtension(path);
        return f.EndsWith("int16") ? Precision.Int16
            : f.EndsWith("int8") || f.EndsWith("_quant") ? Precision.Int8
            : Precision.Float;
    }

    /// <summary>MLPerf's int8 ResNet-8 models take raw pixels (scale 1.0, zero point -128).</summary>
    public static bool TakesRawPixels(string path) => path.Contains("pretrainedResnet") && PrecisionOf(path) == Precision.Int8;

    public static QnnModel Load(string relative) => TfliteReader.Read(TestData.Require(relative));
}
