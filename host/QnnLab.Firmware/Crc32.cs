namespace QnnLab.Firmware;

/// <summary>CRC-32 (IEEE 802.3 / zlib: reflected polynomial 0xEDB88320, init and final xor 0xFFFFFFFF).</summary>
public static class Crc32
{
    private static readonly uint[] Table = BuildTable();

    private static uint[] BuildTable()
    {
        var t = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            uint c = i;
            for (int k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }
            t[i] = c;
        }
        return t;
    }

    /// <summary>CRC of <paramref name="data"/>, reading the 4 bytes at <paramref name="skipOffset"/> as zero (the blob's own CRC field).</summary>
    public static uint Compute(ReadOnlySpan<byte> data, int skipOffset = -1)
    {
        uint c = 0xFFFFFFFFu;
        for (int i = 0; i < data.Length; i++)
        {
            byte b = skipOffset >= 0 && i >= skipOffset && i < skipOffset + 4 ? (byte)0 : data[i];
            c = Table[(c ^ b) & 0xFF] ^ (c >> 8);
        }
        return c ^ 0xFFFFFFFFu;
    }
}
