namespace QnnLab.Protocol;

/// <summary>
/// Consistent Overhead Byte Stuffing: removes every 0x00 so it can delimit frames. Minimal form: a
/// trailing full 254-byte run gets no extra 0x01 block (same bytes as the C encoder and the vectors).
/// </summary>
public static class Cobs
{
    public static int MaxEncodedLength(int length) => length + (length + 253) / 254 + 1;

    /// <summary>Encodes data into output (at least <see cref="MaxEncodedLength"/> bytes); returns the size.</summary>
    public static int Encode(ReadOnlySpan<byte> data, Span<byte> output)
    {
        int o = 0;
        int start = 0;
        bool lastFull = false;
        while (true)
        {
            int run = 0;
            while (start + run < data.Length && data[start + run] != 0 && run < 254)
            {
                run++;
            }
            bool atEnd = start + run == data.Length;
            if (atEnd && run == 0 && lastFull)
            {
                return o;
            }
            output[o++] = (byte)(run + 1);
            data.Slice(start, run).CopyTo(output[o..]);
            o += run;
            if (atEnd)
            {
                return o;
            }
            if (run == 254)
            {
                start += run;
                lastFull = true;
            }
            else
            {
                start += run + 1;
                lastFull = false;
                if (start == data.Length)
                {
                    output[o++] = 1; // the data ended with a zero
                    return o;
                }
            }
        }
    }

    public static byte[] Encode(ReadOnlySpan<byte> data)
    {
        var buf = new byte[MaxEncodedLength(data.Length)];
        return buf.AsSpan(0, Encode(data, buf)).ToArray();
    }

    /// <summary>Decodes in place-safe fashion (output may alias input); returns the size, or -1 when malformed.</summary>
    public static int Decode(ReadOnlySpan<byte> encoded, Span<byte> output)
    {
        int i = 0;
        int o = 0;
        while (i < encoded.Length)
        {
            int code = encoded[i];
            if (code == 0 || i + code > encoded.Length)
            {
                return -1;
            }
            encoded.Slice(i + 1, code - 1).CopyTo(output[o..]);
            o += code - 1;
            i += code;
            if (code < 255 && i < encoded.Length)
            {
                output[o++] = 0;
            }
        }
        return o;
    }
}
