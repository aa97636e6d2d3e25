using System.Text;
using Google.FlatBuffers;
using QnnLab.Model;

namespace QnnLab.Tflite;

/// <summary>
/// The bytes of one flatbuffer plus the name used in error messages. FlatBuffers' own accessors
/// trust every offset they read, so everything that dereferences an offset goes through here and
/// is checked against the buffer length first.
/// </summary>
internal sealed class FlatContext
{
    public FlatContext(byte[] bytes, string file)
    {
        Bytes = bytes;
        Bb = new ByteBuffer(bytes);
        File = file;
    }

    public byte[] Bytes { get; }
    public ByteBuffer Bb { get; }
    public string File { get; }
    public int Length => Bytes.Length;

    public ModelException Error(string problem) => new($"{File}: {problem}");

    /// <summary>Follows the unsigned offset stored at <paramref name="at"/>; the target must leave room for <paramref name="need"/> bytes.</summary>
    public int FollowOffset(int at, int need, string what)
    {
        CheckRange(at, 4, what);
        long target = at + (long)Bb.GetUint(at);
        if (target + need > Length)
        {
            throw Error($"{what} points to offset {target}, past the end of the {Length}-byte file (truncated or corrupted)");
        }
        return (int)target;
    }

    public void CheckRange(long position, long size, string what)
    {
        if (position < 0 || size < 0 || position + size > Length)
        {
            throw Error($"{what} lies at {position}..{position + size}, outside the {Length}-byte file (truncated or corrupted)");
        }
    }

    public FlatTable Root()
    {
        int pos = FollowOffset(0, 4, "the root table offset");
        return FlatTable.At(this, pos, "the model table");
    }
}

/// <summary>A view of a flatbuffer vector whose extent has been checked.</summary>
internal readonly record struct FlatVector(int Start, int Count);

/// <summary>
/// A flatbuffer table whose vtable and object extent were validated on creation; every field read
/// checks the field lies inside the object, and every offset it follows is checked again.
/// Built on <see cref="Table"/> (__offset, __indirect, __vector, __vector_len).
/// </summary>
internal readonly struct FlatTable
{
    private readonly Table _t;
    private readonly FlatContext _c;
    private readonly int _objectSize;
    private readonly string _what;

    private FlatTable(FlatContext c, int pos, int objectSize, string what)
    {
        _c = c;
        _t = new Table(pos, c.Bb);
        _objectSize = objectSize;
        _what = what;
    }

    public string What => _what;

    public static FlatTable At(FlatContext c, int pos, string what)
    {
        c.CheckRange(pos, 4, what);
        long vtable = pos - (long)c.Bb.GetInt(pos);
        c.CheckRange(vtable, 4, $"the vtable of {what}");
        int vtableSize = c.Bb.GetUshort((int)vtable);
        int objectSize = c.Bb.GetUshort((int)vtable + 2);
        if (vtableSize < 4 || (vtableSize & 1) != 0 || objectSize < 4)
        {
            throw c.Error($"{what} has a malformed vtable (size {vtableSize}, object size {objectSize})");
        }
        c.CheckRange(vtable, vtableSize, $"the vtable of {what}");
        c.CheckRange(pos, objectSize, what);
        return new FlatTable(c, pos, objectSize, what);
    }

    /// <summary>Offset of a field inside the object, or 0 if absent; checks it has <paramref name="size"/> bytes inside the object.</summary>
    private int Field(int slot, int size)
    {
        // Table.__offset reads a signed short; a vtable entry above 32767 comes back negative.
        int o = _t.__offset(4 + 2 * slot);
        if (o == 0)
        {
            return 0;
        }
        if (o < 4 || o + size > _objectSize)
        {
            throw _c.Error($"{_what}: field {slot} lies outside its table (corrupted)");
        }
        return o;
    }

    public bool Has(int slot) => _t.__offset(4 + 2 * slot) != 0;

    public sbyte SByte(int slot, sbyte dflt = 0)
    {
        int o = Field(slot, 1);
        return o == 0 ? dflt : _c.Bb.GetSbyte(_t.bb_pos + o);
    }

    public byte Byte(int slot, byte dflt = 0)
    {
        int o = Field(slot, 1);
        return o == 0 ? dflt : _c.Bb.Get(_t.bb_pos + o);
    }

    public bool Bool(int slot, bool dflt = false)
    {
        int o = Field(slot, 1);
        return o == 0 ? dflt : _c.Bb.Get(_t.bb_pos + o) != 0;
    }

    public int Int(int slot, int dflt = 0)
    {
        int o = Field(slot, 4);
        return o == 0 ? dflt : _c.Bb.GetInt(_t.bb_pos + o);
    }

    public uint UInt(int slot, uint dflt = 0)
    {
        int o = Field(slot, 4);
        return o == 0 ? dflt : _c.Bb.GetUint(_t.bb_pos + o);
    }

    public ulong ULong(int slot, ulong dflt = 0)
    {
        int o = Field(slot, 8);
        return o == 0 ? dflt : _c.Bb.GetUlong(_t.bb_pos + o);
    }

    public float Float(int slot, float dflt = 0)
    {
        int o = Field(slot, 4);
        return o == 0 ? dflt : _c.Bb.GetFloat(_t.bb_pos + o);
    }

    /// <summary>A sub-table, or null when the field is absent.</summary>
    public FlatTable? Table(int slot, string what)
    {
        int o = Field(slot, 4);
        if (o == 0)
        {
            return null;
        }
        _c.FollowOffset(_t.bb_pos + o, 4, what);
        return At(_c, _t.__indirect(_t.bb_pos + o), what);
    }

    /// <summary>A vector of <paramref name="elementSize"/>-byte elements; empty when absent.</summary>
    public FlatVector Vector(int slot, int elementSize, string what)
    {
        int o = Field(slot, 4);
        if (o == 0)
        {
            return new FlatVector(0, 0);
        }
        int lengthAt = _c.FollowOffset(_t.bb_pos + o, 4, what);
        int count = _t.__vector_len(o);
        if (count < 0)
        {
            throw _c.Error($"{what} has a negative length (corrupted)");
        }
        int start = _t.__vector(o);
        _c.CheckRange(start, (long)count * elementSize, what);
        System.Diagnostics.Debug.Assert(start == lengthAt + 4);
        return new FlatVector(start, count);
    }

    public int[] IntVector(int slot, string what)
    {
        FlatVector v = Vector(slot, 4, what);
        var r = new int[v.Count];
        for (int i = 0; i < r.Length; i++)
        {
            r[i] = _c.Bb.GetInt(v.Start + 4 * i);
        }
        return r;
    }

    public float[] FloatVector(int slot, string what)
    {
        FlatVector v = Vector(slot, 4, what);
        var r = new float[v.Count];
        for (int i = 0; i < r.Length; i++)
        {
            r[i] = _c.Bb.GetFloat(v.Start + 4 * i);
        }
        return r;
    }

    public long[] LongVector(int slot, string what)
    {
        FlatVector v = Vector(slot, 8, what);
        var r = new long[v.Count];
        for (int i = 0; i < r.Length; i++)
        {
            r[i] = _c.Bb.GetLong(v.Start + 8 * i);
        }
        return r;
    }

    public byte[] ByteVector(int slot, string what)
    {
        FlatVector v = Vector(slot, 1, what);
        return _c.Bytes.AsSpan(v.Start, v.Count).ToArray();
    }

    public string? String(int slot, string what)
    {
        if (!Has(slot))
        {
            return null;
        }
        FlatVector v = Vector(slot, 1, what);
        return Encoding.UTF8.GetString(_c.Bytes, v.Start, v.Count);
    }

    /// <summary>The tables of a vector of tables (each one validated).</summary>
    public FlatTable[] TableVector(int slot, string what)
    {
        FlatVector v = Vector(slot, 4, what);
        var r = new FlatTable[v.Count];
        for (int i = 0; i < r.Length; i++)
        {
            int at = v.Start + 4 * i;
            string itemWhat = $"{what}[{i}]";
            int pos = _c.FollowOffset(at, 4, itemWhat);
            r[i] = At(_c, pos, itemWhat);
        }
        return r;
    }
}
