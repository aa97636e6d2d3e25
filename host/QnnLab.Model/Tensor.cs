using System.Runtime.InteropServices;

namespace QnnLab.Model;

/// <summary>Element type of a tensor, as in the TFLite schema (only the ones we support).</summary>
public enum ElementType
{
    Float32,
    Int8,
    Int16,
    Int32,
    Int64,
    UInt8,
}

/// <summary>
/// Affine quantization: real = scale * (q - zeroPoint). Per tensor when <see cref="Scales"/> has one
/// entry, else per channel along <see cref="QuantizedDimension"/>.
/// </summary>
public sealed record QuantParams(float[] Scales, long[] ZeroPoints, int QuantizedDimension = 0)
{
    public bool PerChannel => Scales.Length > 1;
    public float Scale => Scales[0];
    public long ZeroPoint => ZeroPoints[0];

    public static QuantParams PerTensor(float scale, long zeroPoint) => new([scale], [zeroPoint]);
}

/// <summary>
/// One tensor of a model. Shapes are NHWC for activations; constant weights use TFLite's layouts
/// (conv OHWI, depthwise 1HWC, fully connected [out, in]). <see cref="Data"/> holds the raw
/// little-endian bytes of a constant tensor, or null for activations.
/// </summary>
public sealed class Tensor
{
    public Tensor(string name, ElementType type, int[] shape, QuantParams? quant = null, byte[]? data = null)
    {
        Name = name;
        Type = type;
        Shape = shape;
        Quant = quant;
        Data = data;
    }

    public string Name { get; set; }
    public ElementType Type { get; set; }
    public int[] Shape { get; set; }
    public QuantParams? Quant { get; set; }
    public byte[]? Data { get; set; }

    public bool IsConstant => Data is not null;

    /// <summary>Number of elements (a dynamic batch dimension of -1 counts as 1).</summary>
    public int ElementCount
    {
        get
        {
            int n = 1;
            foreach (int d in Shape)
            {
                n *= Math.Max(d, 1);
            }
            return n;
        }
    }

    public static int SizeOf(ElementType t) => t switch
    {
        ElementType.Float32 => 4,
        ElementType.Int8 => 1,
        ElementType.UInt8 => 1,
        ElementType.Int16 => 2,
        ElementType.Int32 => 4,
        ElementType.Int64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };

    public ReadOnlySpan<T> DataAs<T>() where T : unmanaged
    {
        if (Data is null)
        {
            throw new InvalidOperationException($"tensor '{Name}' has no constant data");
        }
        return MemoryMarshal.Cast<byte, T>(Data);
    }

    public static Tensor FromArray<T>(string name, ElementType type, int[] shape, T[] values, QuantParams? quant = null)
        where T : unmanaged
        => new(name, type, shape, quant, MemoryMarshal.AsBytes(values.AsSpan()).ToArray());

    public override string ToString() => $"{Name} {Type}[{string.Join(",", Shape)}]";
}
