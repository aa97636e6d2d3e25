using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace QnnLab.Data;

/// <summary>Element types of .npy arrays that we read and write (little-endian, as numpy writes on x86/ARM).</summary>
public enum NpyType
{
    UInt8,
    Int32,
    Int64,
    Float32,
    Float64,
}

/// <summary>A C-order array read from a .npy file: its type, shape and raw little-endian bytes.</summary>
public sealed class NpyArray
{
    public NpyArray(NpyType type, int[] shape, byte[] data)
    {
        Type = type;
        Shape = shape;
        Data = data;
    }

    public NpyType Type { get; }
    public int[] Shape { get; }
    public byte[] Data { get; }

    public long Count => Shape.Aggregate(1L, (a, d) => a * d);

    public static string Descr(NpyType t) => t switch
    {
        NpyType.UInt8 => "|u1",
        NpyType.Int32 => "<i4",
        NpyType.Int64 => "<i8",
        NpyType.Float32 => "<f4",
        NpyType.Float64 => "<f8",
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };

    public static int SizeOf(NpyType t) => t switch
    {
        NpyType.UInt8 => 1,
        NpyType.Int32 or NpyType.Float32 => 4,
        _ => 8,
    };

    public bool IsFloat => Type is NpyType.Float32 or NpyType.Float64;

    /// <summary>Element <paramref name="i"/> as a double (exact for every supported type but large int64).</summary>
    public double Get(long i)
    {
        ReadOnlySpan<byte> d = Data;
        return Type switch
        {
            NpyType.UInt8 => d[(int)i],
            NpyType.Int32 => BinaryPrimitives.ReadInt32LittleEndian(d[(int)(i * 4)..]),
            NpyType.Int64 => BinaryPrimitives.ReadInt64LittleEndian(d[(int)(i * 8)..]),
            NpyType.Float32 => BinaryPrimitives.ReadSingleLittleEndian(d[(int)(i * 4)..]),
            NpyType.Float64 => BinaryPrimitives.ReadDoubleLittleEndian(d[(int)(i * 8)..]),
            _ => throw new InvalidOperationException(),
        };
    }
}

/// <summary>
/// Reads NumPy .npy files (format versions 1, 2 and 3; dtypes |u1, &lt;i4, &lt;i8, &lt;f4, &lt;f8;
/// C order only). Every problem is reported as one line naming the file.
/// </summary>
public static class NpyReader
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    public static NpyArray Read(string file)
    {
        if (!File.Exists(file))
        {
            throw new FileNotFoundException($"{file}: no such .npy file", file);
        }
        using FileStream fs = File.OpenRead(file);
        return Read(fs, file);
    }

    public static NpyArray Read(Stream stream, string source)
    {
        Span<byte> pre = stackalloc byte[10];
        if (stream.ReadAtLeast(pre, 10, throwOnEndOfStream: false) < 10 || !pre[..6].SequenceEqual(Magic))
        {
            throw new InvalidDataException($"{source}: bad npy header (no \\x93NUMPY magic)");
        }
        int major = pre[6];
        int headerLen;
        if (major == 1)
        {
            headerLen = BinaryPrimitives.ReadUInt16LittleEndian(pre[8..]);
        }
        else if (major is 2 or 3)
        {
            Span<byte> rest = stackalloc byte[2];
            stream.ReadExactly(rest);
            headerLen = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian([pre[8], pre[9], rest[0], rest[1]]), int.MaxValue);
        }
        else
        {
            throw new InvalidDataException($"{source}: bad npy header (format version {major}.{pre[7]} is not 1, 2 or 3)");
        }
        if (headerLen > 1 << 20)
        {
            throw new InvalidDataException($"{source}: bad npy header (header length {headerLen})");
        }
        var headerBytes = new byte[headerLen];
        if (stream.ReadAtLeast(headerBytes, headerLen, throwOnEndOfStream: false) < headerLen)
        {
            throw new InvalidDataException($"{source}: bad npy header (file ends inside the header)");
        }
        string header = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(headerBytes);
        (string descr, bool fortran, int[] shape) = ParseHeader(header, source);
        if (fortran)
        {
            throw new InvalidDataException($"{source}: Fortran-order arrays are not supported (save with np.ascontiguousarray)");
        }
        NpyType type = descr switch
        {
            "|u1" or "<u1" or "u1" => NpyType.UInt8,
            "<i4" => NpyType.Int32,
            "<i8" => NpyType.Int64,
            "<f4" => NpyType.Float32,
            "<f8" => NpyType.Float64,
            _ => throw new InvalidDataException($"{source}: dtype '{descr}' is not supported (|u1, <i4, <i8, <f4, <f8)"),
        };
        long count = shape.Aggregate(1L, (a, d) => a * d);
        long bytes = count * NpyArray.SizeOf(type);
        if (bytes > Array.MaxLength)
        {
            throw new InvalidDataException($"{source}: array of {bytes} bytes is too large");
        }
        var data = new byte[bytes];
        int got = stream.ReadAtLeast(data, data.Length, throwOnEndOfStream: false);
        if (got < data.Length)
        {
            throw new InvalidDataException($"{source}: truncated: shape ({string.Join(", ", shape)}) of {descr} needs {bytes} data bytes, the file has {got}");
        }
        return new NpyArray(type, shape, data);
    }

    /// <summary>Parses the header dict, e.g. {'descr': '&lt;f4', 'fortran_order': False, 'shape': (10, 32, 32, 3), }.</summary>
    internal static (string Descr, bool Fortran, int[] Shape) ParseHeader(string header, string source)
    {
        string h = header.Trim();
        if (!h.StartsWith('{') || !h.EndsWith('}'))
        {
            throw new InvalidDataException($"{source}: bad npy header (not a dict: '{Shorten(h)}')");
        }
        string? descr = null;
        bool? fortran = null;
        int[]? shape = null;
        int pos = 1;
        while (true)
        {
            SkipSpace(h, ref pos, source);
            if (h[pos] == '}')
            {
                break;
            }
            string key = ReadQuoted(h, ref pos, source);
            SkipSpace(h, ref pos, source);
            Expect(h, ref pos, ':', source);
            SkipSpace(h, ref pos, source);
            switch (key)
            {
                case "descr":
                    descr = ReadQuoted(h, ref pos, source);
                    break;
                case "fortran_order":
                    fortran = ReadBool(h, ref pos, source);
                    break;
                case "shape":
                    shape = ReadTuple(h, ref pos, source);
                    break;
                default:
                    throw new InvalidDataException($"{source}: bad npy header (unexpected key '{key}')");
            }
            SkipSpace(h, ref pos, source);
            if (h[pos] == ',')
            {
                pos++;
            }
            else if (h[pos] != '}')
            {
                throw new InvalidDataException($"{source}: bad npy header (expected ',' or '}}' at {pos} in '{Shorten(h)}')");
            }
        }
        if (descr is null || fortran is null || shape is null)
        {
            throw new InvalidDataException($"{source}: bad npy header (needs descr, fortran_order and shape: '{Shorten(h)}')");
        }
        return (descr, fortran.Value, shape);
    }

    private static void SkipSpace(string h, ref int pos, string source)
    {
        while (pos < h.Length && char.IsWhiteSpace(h[pos]))
        {
            pos++;
        }
        if (pos >= h.Length)
        {
            throw new InvalidDataException($"{source}: bad npy header (ends early)");
        }
    }

    private static void Expect(string h, ref int pos, char c, string source)
    {
        if (h[pos] != c)
        {
            throw new InvalidDataException($"{source}: bad npy header (expected '{c}' at {pos} in '{Shorten(h)}')");
        }
        pos++;
    }

    private static string ReadQuoted(string h, ref int pos, string source)
    {
        char q = h[pos];
        if (q is not ('\'' or '"'))
        {
            throw new InvalidDataException($"{source}: bad npy header (expected a quoted string at {pos} in '{Shorten(h)}')");
        }
        int end = h.IndexOf(q, pos + 1);
        if (end < 0)
        {
            throw new InvalidDataException($"{source}: bad npy header (unterminated string)");
        }
        string s = h[(pos + 1)..end];
        pos = end + 1;
        return s;
    }

    private static bool ReadBool(string h, ref int pos, string source)
    {
        if (string.CompareOrdinal(h, pos, "True", 0, 4) == 0)
        {
            pos += 4;
            return true;
        }
        if (string.CompareOrdinal(h, pos, "False", 0, 5) == 0)
        {
            pos += 5;
            return false;
        }
        throw new InvalidDataException($"{source}: bad npy header (fortran_order is not True/False)");
    }

    private static int[] ReadTuple(string h, ref int pos, string source)
    {
        Expect(h, ref pos, '(', source);
        int end = h.IndexOf(')', pos);
        if (end < 0)
        {
            throw new InvalidDataException($"{source}: bad npy header (unterminated shape tuple)");
        }
        string inner = h[pos..end];
        pos = end + 1;
        var dims = new List<int>();
        foreach (string part in inner.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            // numpy may write 10L on Python 2.
            string p = part.TrimEnd('L');
            if (!int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out int d))
            {
                throw new InvalidDataException($"{source}: bad npy header (shape entry '{part}' is not a non-negative integer)");
            }
            dims.Add(d);
        }
        return [.. dims];
    }

    private static string Shorten(string s) => s.Length <= 120 ? s : s[..120] + "...";
}

/// <summary>
/// Writes NumPy .npy files (format 1.0, C order, header padded to 64 bytes as numpy does), so that
/// adversarial examples and labels can be loaded with <c>np.load</c> by Python tools such as ART.
/// </summary>
public static class NpyWriter
{
    public static void Write(string file, ReadOnlySpan<byte> values, params int[] shape) => WriteRaw(file, NpyType.UInt8, values, shape);

    public static void Write(string file, ReadOnlySpan<float> values, params int[] shape) => WriteRaw(file, NpyType.Float32, MemoryMarshal.AsBytes(values), shape);

    public static void Write(string file, ReadOnlySpan<double> values, params int[] shape) => WriteRaw(file, NpyType.Float64, MemoryMarshal.AsBytes(values), shape);

    public static void Write(string file, ReadOnlySpan<int> values, params int[] shape) => WriteRaw(file, NpyType.Int32, MemoryMarshal.AsBytes(values), shape);

    public static void Write(string file, ReadOnlySpan<long> values, params int[] shape) => WriteRaw(file, NpyType.Int64, MemoryMarshal.AsBytes(values), shape);

    /// <summary>The header numpy's format 1.0 writer produces for this type and shape (magic included).</summary>
    public static byte[] Header(NpyType type, int[] shape)
    {
        string dims = shape.Length == 1 ? $"({shape[0]},)" : "(" + string.Join(", ", shape) + ")";
        string dict = $"{{'descr': '{NpyArray.Descr(type)}', 'fortran_order': False, 'shape': {dims}, }}";
        // Magic (6) + version (2) + length (2) + dict + spaces + '\n', to a multiple of 64.
        int total = 10 + dict.Length + 1;
        int padded = (total + 63) / 64 * 64;
        string text = dict + new string(' ', padded - total) + "\n";
        var header = new byte[padded];
        header[0] = 0x93;
        Encoding.ASCII.GetBytes("NUMPY").CopyTo(header, 1);
        header[6] = 1;
        header[7] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(8), checked((ushort)text.Length));
        Encoding.ASCII.GetBytes(text).CopyTo(header, 10);
        return header;
    }

    public static void WriteRaw(string file, NpyType type, ReadOnlySpan<byte> littleEndianData, int[] shape)
    {
        long count = shape.Aggregate(1L, (a, d) => a * d);
        if (count * NpyArray.SizeOf(type) != littleEndianData.Length)
        {
            throw new ArgumentException($"{file}: {littleEndianData.Length} bytes do not hold shape ({string.Join(", ", shape)}) of {NpyArray.Descr(type)}");
        }
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("the .npy writer assumes a little-endian machine");
        }
        string? dir = Path.GetDirectoryName(Path.GetFullPath(file));
        if (dir is not null)
        {
            Directory.CreateDirectory(dir);
        }
        using FileStream fs = File.Create(file);
        fs.Write(Header(type, shape));
        fs.Write(littleEndianData);
    }

    /// <summary>
    /// Exports a set as X (N,H,W,C) and Y (N,) int64 labels. Float X (the default) is in [0,1] (pixel/255),
    /// ART's convention; <paramref name="asUInt8"/> writes 8-bit pixels instead (only for pixel sets).
    /// </summary>
    public static void WriteImageSet(ImageSet set, string xFile, string yFile, bool asUInt8 = false)
    {
        int[] shape = [set.Count, set.Height, set.Width, set.Channels];
        if (asUInt8)
        {
            if (set.Pixels is null)
            {
                throw new ArgumentException($"{set.Source}: holds real values, which uint8 cannot represent; write float32");
            }
            Write(xFile, set.Pixels, shape);
        }
        else
        {
            var x = new float[(long)set.Count * set.ImageSize];
            var img = new float[set.ImageSize];
            for (int i = 0; i < set.Count; i++)
            {
                set.CopyUnitImage(i, img);
                img.CopyTo(x.AsSpan(i * img.Length, img.Length));
            }
            Write(xFile, x, shape);
        }
        Write(yFile, set.Labels.Select(l => (long)l).ToArray(), set.Count);
    }
}

/// <summary>Builds an <see cref="ImageSet"/> from an image array and a label array read from .npy files.</summary>
public static class NpyImages
{
    public static ImageSet Load(string xFile, string yFile, DataOptions? options = null)
    {
        options ??= DataOptions.Default;
        NpyArray x = NpyReader.Read(xFile);
        NpyArray y = NpyReader.Read(yFile);
        int[] labels = Labels(y, yFile);

        int n, h, w, c;
        switch (x.Shape.Length)
        {
            case 4 when options.ChannelsFirst:
                (n, c, h, w) = (x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]);
                break;
            case 4:
                (n, h, w, c) = (x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]);
                break;
            case 3:
                (n, h, w, c) = (x.Shape[0], x.Shape[1], x.Shape[2], 1);
                break;
            default:
                throw new InvalidDataException($"{xFile}: shape ({string.Join(", ", x.Shape)}) is not (N,H,W,C), (N,C,H,W) or (N,H,W)");
        }
        if (labels.Length != n)
        {
            throw new InvalidDataException($"{yFile}: {labels.Length} labels for {n} images in {xFile}");
        }
        if (options.ChannelsFirst is false && x.Shape.Length == 4 && c > 4 && x.Shape[1] <= 4)
        {
            throw new InvalidDataException($"{xFile}: shape ({string.Join(", ", x.Shape)}) looks channels-first (N,C,H,W); set the channels-first option");
        }
        int count = options.Limit is int l && l < n ? Math.Max(l, 0) : n;
        int size = h * w * c;
        string source = $"npy:{xFile},{yFile}";

        ImageSet set;
        if (x.Type == NpyType.UInt8)
        {
            var pixels = new byte[(long)count * size];
            for (int i = 0; i < count; i++)
            {
                CopyHwc(x, i, h, w, c, options.ChannelsFirst, (dst, src) => pixels[dst] = x.Data[src]);
            }
            set = new ImageSet(source, h, w, c, labels[..count], pixels);
        }
        else if (x.IsFloat)
        {
            float scale = options.FloatRange == NpyFloatRange.UnitRange ? 255f : 1f;
            var values = new float[(long)count * size];
            double min = double.MaxValue, max = double.MinValue;
            for (int i = 0; i < count; i++)
            {
                CopyHwc(x, i, h, w, c, options.ChannelsFirst, (dst, src) =>
                {
                    double v = x.Get(src);
                    min = Math.Min(min, v);
                    max = Math.Max(max, v);
                    values[dst] = (float)(v * scale);
                });
            }
            // A small tolerance: float32 round trips of pixel/255 can land just outside [0,1].
            if (options.FloatRange == NpyFloatRange.UnitRange && count > 0 && (min < -1e-3 || max > 1 + 1e-3))
            {
                throw new InvalidDataException($"{xFile}: float values span [{min:G4}, {max:G4}], outside [0,1]; if they are already pixel units 0..255, choose the pixel-units float range");
            }
            set = new ImageSet(source, h, w, c, labels[..count], values: values);
        }
        else
        {
            throw new InvalidDataException($"{xFile}: image dtype {NpyArray.Descr(x.Type)} is not supported (|u1, <f4 or <f8)");
        }
        return options.TargetSize is (int th, int tw) ? ImageResize.Resize(set, th, tw, options.Resize) : set;
    }

    private static void CopyHwc(NpyArray x, int i, int h, int w, int c, bool channelsFirst, Action<long, long> copy)
    {
        long size = (long)h * w * c;
        long baseIdx = i * size;
        if (!channelsFirst)
        {
            for (long j = 0; j < size; j++)
            {
                copy(baseIdx + j, baseIdx + j);
            }
            return;
        }
        for (int ch = 0; ch < c; ch++)
        {
            for (int p = 0; p < h * w; p++)
            {
                copy(baseIdx + (long)p * c + ch, baseIdx + (long)ch * h * w + p);
            }
        }
    }

    /// <summary>Integer labels (N,) or one-hot / score rows (N,K), whose argmax (lowest index on ties) is the label.</summary>
    public static int[] Labels(NpyArray y, string yFile)
    {
        if (y.Shape.Length == 1)
        {
            var labels = new int[y.Shape[0]];
            for (int i = 0; i < labels.Length; i++)
            {
                double v = y.Get(i);
                if (v < 0 || v != Math.Floor(v) || v > int.MaxValue)
                {
                    throw new InvalidDataException($"{yFile}: label {i} is {v}, not a class number");
                }
                labels[i] = (int)v;
            }
            return labels;
        }
        if (y.Shape.Length == 2)
        {
            int n = y.Shape[0], k = y.Shape[1];
            var labels = new int[n];
            for (int i = 0; i < n; i++)
            {
                int best = 0;
                for (int j = 1; j < k; j++)
                {
                    if (y.Get((long)i * k + j) > y.Get((long)i * k + best))
                    {
                        best = j;
                    }
                }
                labels[i] = best;
            }
            return labels;
        }
        throw new InvalidDataException($"{yFile}: label shape ({string.Join(", ", y.Shape)}) is neither (N,) nor one-hot (N,K)");
    }
}
