using System.Globalization;

namespace QnnLab.Hil;

/// <summary>
/// Feature Squeezing on the host, exactly as the device core does it (firmware/core/src/squeeze.c,
/// shared/model-blob/SPEC.md): bit-depth reduction to level indices in integers, and the k x k median
/// with scipy.ndimage's 'reflect' borders and default origin.
/// </summary>
public static class HostSqueeze
{
    /// <summary>rint(p (2^b - 1) / 255) computed as the core does: (2 p L + 255) / 510.</summary>
    public static int BitDepthLevel(byte p, int bits)
    {
        int levels = (1 << bits) - 1;
        return ((2 * p * levels) + 255) / 510;
    }

    /// <summary>
    /// The bit-depth squeezed image in pixel units: level k of L becomes 255 k / L (a real value; the
    /// device quantizes it through the blob's squeeze table, the host engine through its input quantizer).
    /// </summary>
    public static float[] BitDepth(ReadOnlySpan<byte> pixels, int bits)
    {
        if (bits is < 1 or > 8)
        {
            throw new ArgumentOutOfRangeException(nameof(bits), bits, "bit depth is 1..8");
        }
        int levels = (1 << bits) - 1;
        var result = new float[pixels.Length];
        for (int i = 0; i < pixels.Length; i++)
        {
            result[i] = (float)(255.0 * BitDepthLevel(pixels[i], bits) / levels);
        }
        return result;
    }

    /// <summary>scipy 'reflect' (half-sample symmetric): d c b a | a b c d | d c b a.</summary>
    public static int Reflect(int i, int n)
    {
        int period = 2 * n;
        i %= period;
        if (i < 0)
        {
            i += period;
        }
        return i < n ? i : period - 1 - i;
    }

    /// <summary>Largest median window the device core takes.</summary>
    public const int MaxMedian = 7;

    /// <summary>k x k median per channel of an HWC image (k = 2..7), the element of rank k*k/2.</summary>
    public static byte[] Median(ReadOnlySpan<byte> pixels, int height, int width, int channels, int k) =>
        Median<byte>(pixels, height, width, channels, k);

    /// <summary>
    /// The same median on any ordered values, e.g. a quantized input tensor's: the median of quantized values is the
    /// quantized median, since quantization is monotone (SPEC "Squeezing a quantized input tensor").
    /// </summary>
    public static T[] Median<T>(ReadOnlySpan<T> values, int height, int width, int channels, int k)
        where T : unmanaged, IComparable<T>
    {
        if (k is < 2 or > MaxMedian)
        {
            throw new ArgumentOutOfRangeException(nameof(k), k, $"median window is 2..{MaxMedian}");
        }
        if (values.Length != height * width * channels)
        {
            throw new ArgumentException($"{values.Length} values is not {height}x{width}x{channels}");
        }
        int lo = -(k / 2);
        int rank = k * k / 2;
        var result = new T[values.Length];
        Span<T> window = stackalloc T[k * k];
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                for (int c = 0; c < channels; c++)
                {
                    int n = 0;
                    for (int dy = 0; dy < k; dy++)
                    {
                        int yy = Reflect(y + lo + dy, height);
                        for (int dx = 0; dx < k; dx++)
                        {
                            int xx = Reflect(x + lo + dx, width);
                            window[n++] = values[(((yy * width) + xx) * channels) + c];
                        }
                    }
                    window.Sort();
                    result[(((y * width) + x) * channels) + c] = window[rank];
                }
            }
        }
        return result;
    }
}

/// <summary>
/// Bit-depth squeezing of a model's quantized input tensor (int8 or int16 values), as the device core does it from
/// the blob's tables (SPEC "Squeezing a quantized input tensor"): the level of q counts the b-bit boundaries it
/// reaches, the result is that level's quantized input. The tables are the exporter's own, so host and board agree.
/// </summary>
public sealed class TensorSqueezer
{
    private readonly short[] _inputTable;
    private readonly short[] _levels;
    private readonly int[] _bounds;

    public TensorSqueezer(QnnLab.Engine.IntegerModel model)
    {
        _inputTable = QnnLab.Firmware.BlobExporter.InputTable(model);
        _levels = QnnLab.Firmware.BlobExporter.SqueezeTable(model);
        _bounds = QnnLab.Firmware.BlobExporter.SqueezeBoundaries(model);
    }

    /// <summary>Level 0..2^b - 1 of quantized value q.</summary>
    public int Level(int q, int bits)
    {
        CheckBits(bits);
        int first = (1 << bits) - 2, lo = 0, hi = (1 << bits) - 1;
        while (lo < hi)
        {
            int mid = (lo + hi) / 2;
            if (q >= _bounds[first + mid])
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }
        return lo;
    }

    /// <summary>The quantized input of level k of b bits (b = 8: pixel k through the input table).</summary>
    public short LevelValue(int k, int bits) => bits == 8 ? _inputTable[k] : _levels[(1 << bits) - 2 + k];

    public short[] BitDepth(ReadOnlySpan<short> q, int bits)
    {
        var r = new short[q.Length];
        for (int i = 0; i < q.Length; i++)
        {
            r[i] = LevelValue(Level(q[i], bits), bits);
        }
        return r;
    }

    private static void CheckBits(int bits)
    {
        if (bits is < 1 or > 8)
        {
            throw new ArgumentOutOfRangeException(nameof(bits), bits, "bit depth is 1..8");
        }
    }
}

/// <summary>
/// Feature Squeezing settings of a run (`bits=5,median=2[,threshold=T]`). One squeezer: the board labels the
/// squeezed input. Two squeezers (or a threshold): EvadeML's joint detector — the label comes from the
/// original input and the board scores max L1 between the outputs of the original and each squeezed input.
/// </summary>
public sealed record SqueezeSettings(int Bits = 0, int Median = 0, double? Threshold = null)
{
    public static readonly SqueezeSettings Off = new();

    public bool Enabled => Bits > 0 || Median > 1;
    public bool Detector => Enabled && (Threshold is not null || (Bits > 0 && Median > 1));

    /// <summary>EvadeML-Zoo's joint-detector threshold for CIFAR-10 (5-bit, 2x2 median, ...): L1 of probabilities.</summary>
    public const double DefaultThreshold = 1.1606;

    public static SqueezeSettings Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text) || text.Trim() is "off" or "none")
        {
            return Off;
        }
        var s = Off;
        foreach (string part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string[] kv = part.Split('=', 2, StringSplitOptions.TrimEntries);
            if (kv.Length != 2)
            {
                throw new ArgumentException($"--squeeze: '{part}' is not name=value");
            }
            s = kv[0].ToLowerInvariant() switch
            {
                "bits" => s with { Bits = ParseInt(kv, 1, 8) },
                "median" => s with { Median = ParseInt(kv, 2, HostSqueeze.MaxMedian) },
                "threshold" => s with { Threshold = double.TryParse(kv[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double t) && t >= 0 ? t : throw new ArgumentException($"--squeeze: threshold '{kv[1]}' is not a non-negative number") },
                _ => throw new ArgumentException($"--squeeze: unknown setting '{kv[0]}' (bits, median, threshold)"),
            };
        }
        if (!s.Enabled)
        {
            throw new ArgumentException($"--squeeze: give bits=1..8 and/or median=2..{HostSqueeze.MaxMedian}");
        }
        return s;
    }

    private static int ParseInt(string[] kv, int min, int max) =>
        int.TryParse(kv[1], NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v >= min && v <= max
            ? v
            : throw new ArgumentException($"--squeeze: {kv[0]}={kv[1]} must be {min}..{max}");

    public override string ToString()
    {
        if (!Enabled)
        {
            return "";
        }
        var parts = new List<string>();
        if (Bits > 0)
        {
            parts.Add($"bits={Bits}");
        }
        if (Median > 1)
        {
            parts.Add($"median={Median}");
        }
        if (Detector)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"threshold={Threshold ?? DefaultThreshold}"));
        }
        return string.Join(',', parts);
    }
}
