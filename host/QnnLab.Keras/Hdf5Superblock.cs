using System.Buffers.Binary;
using QnnLab.Model;

namespace QnnLab.Keras;

/// <summary>
/// Checks an HDF5 file's length against the end-of-file address its superblock records. A truncated Keras
/// .h5 can otherwise load "fine": Keras writes the optimizer state after the model weights, so a file cut
/// in its second half still holds every weight the model needs and silently passes for a whole one.
/// </summary>
internal static class Hdf5Superblock
{
    private static readonly byte[] Signature = [0x89, (byte)'H', (byte)'D', (byte)'F', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Throws a <see cref="ModelException"/> when the file is shorter than its superblock says.</summary>
    public static void CheckNotTruncated(string path)
    {
        using FileStream fs = File.OpenRead(path);
        long length = fs.Length;
        var head = new byte[96];
        // The superblock sits at 0, 512, 1024, 2048, ... (after an optional user block).
        for (long at = 0; at + head.Length <= length; at = at == 0 ? 512 : at * 2)
        {
            fs.Position = at;
            fs.ReadExactly(head);
            if (!head.AsSpan(0, 8).SequenceEqual(Signature))
            {
                continue;
            }
            if (DeclaredEnd(head) is ulong end && (ulong)length < end)
            {
                throw new ModelException($"{path}: truncated: the HDF5 superblock says the file is {end} bytes, but it has {length}");
            }
            return;
        }
        // No signature: PureHDF reports the file as unreadable.
    }

    /// <summary>Base address + end-of-file address, or null for a superblock layout this does not know.</summary>
    private static ulong? DeclaredEnd(ReadOnlySpan<byte> sb)
    {
        int version = sb[8];
        int sizeOfOffsets;
        int baseAt;
        switch (version)
        {
            case 0 or 1:
                sizeOfOffsets = sb[13];
                baseAt = version == 0 ? 24 : 28;
                break;
            case 2 or 3:
                sizeOfOffsets = sb[9];
                baseAt = 12;
                break;
            default:
                return null;
        }
        if (sizeOfOffsets is not (4 or 8))
        {
            return null;
        }
        // v0/v1: base, free-space info, EOF, driver info; v2/v3: base, superblock extension, EOF, root group.
        ulong baseAddress = ReadOffset(sb[baseAt..], sizeOfOffsets);
        ulong eof = ReadOffset(sb[(baseAt + (2 * sizeOfOffsets))..], sizeOfOffsets);
        return baseAddress + eof;
    }

    private static ulong ReadOffset(ReadOnlySpan<byte> b, int size) =>
        size == 8 ? BinaryPrimitives.ReadUInt64LittleEndian(b) : BinaryPrimitives.ReadUInt32LittleEndian(b);
}
