using System.Collections.Concurrent;
using TorchSharp;

namespace QnnLab.Torch;

/// <summary>
/// Scalars kept alive for the whole process, one per value. TorchSharp turns every number passed to an operator into
/// a Scalar that only the GC frees; its finalizer can run while native code still reads it (long attack runs died in
/// c10's Scalar toDouble / toFloat checks inside mul and add). Hot paths pass these instead. The values used are few:
/// constants and the quantization parameters of the loaded models.
/// </summary>
public static class Scalars
{
    private static readonly ConcurrentDictionary<double, Scalar> Cache = new();

    public static Scalar One { get; } = Of(1.0);

    public static Scalar Of(double value) => Cache.GetOrAdd(value, v => v.ToScalar());
}
