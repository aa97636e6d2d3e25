namespace QnnLab.Nano;

/// <summary>
/// Indexes of the per-stage cycle counts that <see cref="QnnDevice.ReadStageCycles"/> fills, in the
/// serial protocol's stage order (shared/protocol/SPEC.md, "results"), plus the whole request. Unit:
/// DWT cycles at the core clock (110 MHz on the NUCLEO-L552ZE-Q). Mirrors qnn_nano_port.h.
/// </summary>
public static class QnnStage
{
    /// <summary>Quantizing the pixels into the model's input tensor.</summary>
    public const int Preprocess = 0;

    /// <summary>Feature Squeezing of the input (bit depth or median), 0 when off.</summary>
    public const int Squeeze = 1;

    /// <summary>The model on the (possibly squeezed) input.</summary>
    public const int Inference = 2;

    /// <summary>The detector's extra runs on squeezed inputs and its L1 distances, 0 when off.</summary>
    public const int Detector = 3;

    /// <summary>The whole request.</summary>
    public const int Total = 4;

    /// <summary>Number of entries; the length a buffer for <see cref="QnnDevice.ReadStageCycles"/> needs.</summary>
    public const int Count = 5;
}
