using System.Buffers.Binary;

namespace QnnLab.Cli.Tests;

/// <summary>
/// Makes damaged model files from real ones. The .tflite edits navigate the flatbuffer by hand (root
/// offset, vtables) from the TFLite schema, independently of the project's reader and writer.
/// </summary>
public static class ModelBytes
{
    /// <summary>TFLite BuiltinOperator LSTM: a real operator that the project does not support.</summary>
    public const int BuiltinLstm = 16;

    public static string WriteTruncated(string source, string dir, double fraction)
    {
        byte[] bytes = File.ReadAllBytes(source);
        string path = Path.Combine(dir, "truncated" + Path.GetExtension(source));
        File.WriteAllBytes(path, bytes[..(int)(bytes.Length * fraction)]);
        return path;
    }

    /// <summary>Copies <paramref name="source"/> with the bytes [offset, offset+count) inverted.</summary>
    public static string WriteFlipped(string source, string dir, int offset, int count)
    {
        byte[] bytes = File.ReadAllBytes(source);
        for (int i = offset; i < offset + count; i++)
        {
            bytes[i] ^= 0xFF;
        }
        string path = Path.Combine(dir, "flipped" + Path.GetExtension(source));
        File.WriteAllBytes(path, bytes);
        return path;
    }

    public static int IndexOf(byte[] bytes, string ascii) => bytes.AsSpan().IndexOf(System.Text.Encoding.ASCII.GetBytes(ascii));

    /// <summary>Every operator code of the model (Model field 1) set to <paramref name="builtin"/>, in place.</summary>
    public static string WriteWithOperator(string source, string dir, int builtin)
    {
        byte[] b = File.ReadAllBytes(source);
        int model = ReadU32(b, 0);
        int codes = Field(b, model, 1) ?? throw new InvalidDataException("model has no operator_codes");
        codes += ReadU32(b, codes);
        int n = ReadU32(b, codes);
        int patched = 0;
        for (int i = 0; i < n; i++)
        {
            int slot = codes + 4 + 4 * i;
            int code = slot + ReadU32(b, slot);
            // OperatorCode: field 0 deprecated_builtin_code (int8), field 3 builtin_code (int32); readers take the larger.
            if (Field(b, code, 0) is int dep)
            {
                b[dep] = (byte)Math.Min(builtin, 127);
                patched++;
            }
            if (Field(b, code, 3) is int full)
            {
                BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(full), builtin);
                patched++;
            }
        }
        if (patched == 0)
        {
            throw new InvalidDataException($"{source}: no operator code field to patch");
        }
        string path = Path.Combine(dir, "unsupported-op.tflite");
        File.WriteAllBytes(path, b);
        return path;
    }

    /// <summary>Absolute position of a table's field, or null when the vtable leaves it out (default value).</summary>
    private static int? Field(byte[] b, int table, int index)
    {
        int vtable = table - BinaryPrimitives.ReadInt32LittleEndian(b.AsSpan(table));
        int vtableSize = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(vtable));
        int entry = 4 + 2 * index;
        if (entry + 2 > vtableSize)
        {
            return null;
        }
        int off = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(vtable + entry));
        return off == 0 ? null : table + off;
    }

    private static int ReadU32(byte[] b, int at) => checked((int)BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(at)));
}
