using System.Buffers.Binary;
using System.Text;

namespace QnnLab.Torch;

/// <summary>One symbol-version requirement of an ELF file (a Vernaux entry under a Verneed entry).</summary>
public sealed record ElfVersionNeed(string File, string Version, ushort Flags, ushort Index, long FlagsOffset)
{
    public const ushort WeakFlag = 0x2; // VER_FLG_WEAK

    public bool IsWeak => (Flags & WeakFlag) != 0;
}

/// <summary>
/// Minimal ELF64 little-endian reader for the GNU symbol-versioning sections: which versions a
/// library needs (SHT_GNU_verneed), which it defines (SHT_GNU_verdef), and which dynamic symbols
/// use a given version (SHT_GNU_versym + SHT_DYNSYM). Enough to find and weaken a version
/// requirement the system cannot satisfy, nothing more.
/// </summary>
public sealed class ElfVersionInfo
{
    private const uint ShtDynsym = 11;
    private const uint ShtGnuVerdef = 0x6ffffffd;
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const uint ShtGnuVersym = 0x6fffffff;

    private readonly byte[] _image;
    private readonly string _path;
    private readonly List<Section> _sections = [];

    private readonly record struct Section(uint Type, long Offset, long Size, uint Link, uint Info, long EntrySize);

    public ElfVersionInfo(byte[] image, string path)
    {
        _image = image;
        _path = path;
        if (image.Length < 64 || image[0] != 0x7f || image[1] != (byte)'E' || image[2] != (byte)'L' || image[3] != (byte)'F')
        {
            throw new InvalidDataException($"{path}: not an ELF file");
        }
        if (image[4] != 2 || image[5] != 1)
        {
            throw new InvalidDataException($"{path}: only 64-bit little-endian ELF is supported (class {image[4]}, data {image[5]})");
        }
        long shoff = (long)U64(0x28);
        int shentsize = U16(0x3A);
        int shnum = U16(0x3C);
        if (shoff <= 0 || shnum == 0 || shentsize < 64 || shoff + (long)shnum * shentsize > image.Length)
        {
            throw new InvalidDataException($"{path}: no usable section header table");
        }
        for (int i = 0; i < shnum; i++)
        {
            long h = shoff + (long)i * shentsize;
            var s = new Section(U32(h + 4), (long)U64(h + 0x18), (long)U64(h + 0x20), U32(h + 0x28), U32(h + 0x2C), (long)U64(h + 0x38));
            if (s.Type != 8 /* SHT_NOBITS */ && (s.Offset < 0 || s.Offset + s.Size > image.Length))
            {
                throw new InvalidDataException($"{path}: section {i} lies outside the file");
            }
            _sections.Add(s);
        }
        Needs = ReadNeeds();
        Definitions = ReadDefinitions();
    }

    public static ElfVersionInfo Load(string path) => new(File.ReadAllBytes(path), path);

    /// <summary>The file's bytes (patches made through <see cref="Weaken"/> land here).</summary>
    public byte[] Image => _image;

    public IReadOnlyList<ElfVersionNeed> Needs { get; }

    /// <summary>Version names the file defines (e.g. GLIBCXX_3.4.30 for libstdc++).</summary>
    public IReadOnlySet<string> Definitions { get; }

    /// <summary>Marks a needed version weak, so the dynamic loader accepts its absence.</summary>
    public void Weaken(ElfVersionNeed need)
    {
        ushort flags = (ushort)(U16(need.FlagsOffset) | ElfVersionNeed.WeakFlag);
        BinaryPrimitives.WriteUInt16LittleEndian(_image.AsSpan((int)need.FlagsOffset, 2), flags);
    }

    /// <summary>Names of the dynamic symbols bound to version index <paramref name="index"/>.</summary>
    public IReadOnlyList<string> SymbolsUsingVersion(ushort index)
    {
        var result = new List<string>();
        Section? versym = Find(ShtGnuVersym);
        Section? dynsym = Find(ShtDynsym);
        if (versym is not Section vs || dynsym is not Section ds)
        {
            return result;
        }
        Section strtab = _sections[(int)ds.Link];
        long count = Math.Min(vs.Size / 2, ds.Size / 24);
        for (long i = 0; i < count; i++)
        {
            if ((U16(vs.Offset + i * 2) & 0x7fff) == index)
            {
                result.Add(ReadString(strtab, U32(ds.Offset + i * 24)));
            }
        }
        return result;
    }

    private List<ElfVersionNeed> ReadNeeds()
    {
        var needs = new List<ElfVersionNeed>();
        if (Find(ShtGnuVerneed) is not Section vn)
        {
            return needs;
        }
        Section strtab = _sections[(int)vn.Link];
        long entry = vn.Offset;
        for (uint n = 0; n < vn.Info && entry < vn.Offset + vn.Size; n++)
        {
            int cnt = U16(entry + 2);
            string file = ReadString(strtab, U32(entry + 4));
            long aux = entry + U32(entry + 8);
            for (int a = 0; a < cnt; a++)
            {
                CheckRange(aux, 16);
                needs.Add(new ElfVersionNeed(file, ReadString(strtab, U32(aux + 8)), U16(aux + 4), U16(aux + 6), aux + 4));
                uint nextAux = U32(aux + 12);
                if (nextAux == 0)
                {
                    break;
                }
                aux += nextAux;
            }
            uint next = U32(entry + 12);
            if (next == 0)
            {
                break;
            }
            entry += next;
        }
        return needs;
    }

    private HashSet<string> ReadDefinitions()
    {
        var defs = new HashSet<string>(StringComparer.Ordinal);
        if (Find(ShtGnuVerdef) is not Section vd)
        {
            return defs;
        }
        Section strtab = _sections[(int)vd.Link];
        long entry = vd.Offset;
        for (uint n = 0; n < vd.Info && entry < vd.Offset + vd.Size; n++)
        {
            int cnt = U16(entry + 6);
            long aux = entry + U32(entry + 12);
            for (int a = 0; a < cnt; a++)
            {
                CheckRange(aux, 8);
                defs.Add(ReadString(strtab, U32(aux)));
                uint nextAux = U32(aux + 4);
                if (nextAux == 0)
                {
                    break;
                }
                aux += nextAux;
            }
            uint next = U32(entry + 16);
            if (next == 0)
            {
                break;
            }
            entry += next;
        }
        return defs;
    }

    private Section? Find(uint type)
    {
        foreach (Section s in _sections)
        {
            if (s.Type == type)
            {
                return s;
            }
        }
        return null;
    }

    private string ReadString(Section strtab, uint offset)
    {
        long start = strtab.Offset + offset;
        if (offset >= strtab.Size)
        {
            throw new InvalidDataException($"{_path}: string offset {offset} outside its string table");
        }
        int end = Array.IndexOf(_image, (byte)0, (int)start, (int)(strtab.Offset + strtab.Size - start));
        if (end < 0)
        {
            throw new InvalidDataException($"{_path}: unterminated string at {start}");
        }
        return Encoding.ASCII.GetString(_image, (int)start, end - (int)start);
    }

    private void CheckRange(long offset, int length)
    {
        if (offset < 0 || offset + length > _image.Length)
        {
            throw new InvalidDataException($"{_path}: version entry at {offset} lies outside the file");
        }
    }

    private ushort U16(long o)
    {
        CheckRange(o, 2);
        return BinaryPrimitives.ReadUInt16LittleEndian(_image.AsSpan((int)o, 2));
    }

    private uint U32(long o)
    {
        CheckRange(o, 4);
        return BinaryPrimitives.ReadUInt32LittleEndian(_image.AsSpan((int)o, 4));
    }

    private ulong U64(long o)
    {
        CheckRange(o, 8);
        return BinaryPrimitives.ReadUInt64LittleEndian(_image.AsSpan((int)o, 8));
    }
}
