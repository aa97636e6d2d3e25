namespace QnnLab.Nano;

/// <summary>
/// Indexes of the per-stage cycle counts that <see cref="QnnDevice.ReadStageCycles"/> fills, in the
/// serial protocol's stage order (shared/protocol/SPEC.md, "results"), plus the whole request. Unit:
/// DWT cycles at the core clock (110 MHz on the NUCLEO-L552ZE-Q). Mirrors qnn_device_api.h. The stages do
/// not overlap; one that did not run is 0.
/// </summary>
public static class QnnStage
{
    /// <summary>Quantizing inputs into the model's input tensor (with the detector: the original and each squeezed copy).</summary>
    public const int Quantize = 0;

    /// <summary>The bit-depth squeezer, 0 when off.</summary>
    public const int SqueezeBitDepth = 1;

    /// <summary>The median squeezer, 0 when off.</summary>
    public const int SqueezeMedian = 2;

    /// <summary>The model on the input the label comes from (the original with the detector, else the possibly squeezed input).</summary>
    public const int Inference = 3;

    /// <summary>Detector: the model on the bit-depth-squeezed input, 0 otherwise.</summary>
    public const int InferenceBitDepth = 4;

    /// <summary>Detector: the model on the median-squeezed input, 0 otherwise.</summary>
    public const int InferenceMedian = 5;

    /// <summary>Detector: the L1 distances and the threshold decision, 0 otherwise.</summary>
    public const int Compare = 6;

    /// <summary>The whole request.</summary>
    public const int Total = 7;

    /// <summary>Number of entries; the length a buffer for <see cref="QnnDevice.ReadStageCycles"/> needs.</summary>
    public const int Count = 8;
}
