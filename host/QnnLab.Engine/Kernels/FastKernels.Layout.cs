using System.Runtime.InteropServices;

namespace QnnLab.Engine.Kernels;

/// <summary>
/// The int8 GEMMs' implicit im2col. A convolution's input image is copied once into a padded buffer (borders
/// hold the value that stands for the zero point, channels padded to whole 4-byte groups), and every GEMM row
/// (output pixel) and k group (4 bytes: 4 int8 channels or 2 int16 ones of one tap) reads its 4 bytes at
/// <c>image[RowBase[row] + GroupOffset[group]]</c> (in ints). The im2col matrix, 9x the input for a 3x3
/// kernel, is never written; the weights are packed in the same k order (tap-major, padded channels zero).
/// A fully connected layer is the same with one tap: rows are its input rows, groups follow each other.
/// </summary>
internal sealed unsafe partial class FastKernels
{
    private sealed class GemmLayout : IDisposable
    {
        /// <summary>Ints per padded pixel: channels / (values per int), rounded up.</summary>
        public int PixelInts;
        public int PaddedH, PaddedW;
        public int Rows;
        public int Groups;
        public int* RowBase;
        public int* GroupOffset;

        /// <summary>Ints of one padded image.</summary>
        public long ImageInts => (long)PaddedH * PaddedW * PixelInts;

        /// <summary>
        /// The layout of <paramref name="p"/>'s input for values of <paramref name="valuesPerInt"/> per int
        /// (4: uint8 for VPDPBUSD, 2: int16 for VPMADDWD).
        /// </summary>
        public static GemmLayout ForConv(ConvPlan p, int valuesPerInt)
        {
            int pixelInts = (p.Input.Channels + valuesPerInt - 1) / valuesPerInt;
            int outH = p.Output.Height, outW = p.Output.Width;
            // Far enough for the last output's last tap, and at least the image (TFLite's SAME may pad one side only).
            int paddedH = Math.Max(p.PadTop + p.Input.Height, ((outH - 1) * p.StrideH) + ((p.KernelH - 1) * p.DilationH) + 1);
            int paddedW = Math.Max(p.PadLeft + p.Input.Width, ((outW - 1) * p.StrideW) + ((p.KernelW - 1) * p.DilationW) + 1);
            var l = new GemmLayout
            {
                PixelInts = pixelInts,
                PaddedH = paddedH,
                PaddedW = paddedW,
                Rows = outH * outW,
                Groups = p.KernelH * p.KernelW * pixelInts,
            };
            l.RowBase = Requant8.AllocInts(l.Rows);
            l.GroupOffset = Requant8.AllocInts(l.Groups);
            for (int oy = 0; oy < outH; oy++)
            {
                for (int ox = 0; ox < outW; ox++)
                {
                    l.RowBase[(oy * outW) + ox] = ((oy * p.StrideH * paddedW) + (ox * p.StrideW)) * pixelInts;
                }
            }
            int g = 0;
            for (int fy = 0; fy < p.KernelH; fy++)
            {
                for (int fx = 0; fx < p.KernelW; fx++)
                {
                    for (int j = 0; j < pixelInts; j++)
                    {
                        l.GroupOffset[g++] = ((fy * p.DilationH * paddedW) + (fx * p.DilationW)) * pixelInts + j;
                    }
                }
            }
            return l;
        }

        /// <summary>Rows of <paramref name="groups"/> ints each, one after another (a fully connected chunk).</summary>
        public static GemmLayout ForRows(int rows, int groups)
        {
            var l = new GemmLayout { PixelInts = groups, PaddedH = rows, PaddedW = 1, Rows = rows, Groups = groups };
            l.RowBase = Requant8.AllocInts(rows);
            l.GroupOffset = Requant8.AllocInts(groups);
            for (int r = 0; r < rows; r++)
            {
                l.RowBase[r] = r * groups;
            }
            for (int i = 0; i < groups; i++)
            {
                l.GroupOffset[i] = i;
            }
            return l;
        }

        public void Dispose()
        {
            NativeMemory.AlignedFree(RowBase);
            NativeMemory.AlignedFree(GroupOffset);
            RowBase = GroupOffset = null;
        }
    }

    /// <summary>
    /// Copies image <paramref name="b"/> of <paramref name="p"/>'s input as uint8 x + 128 into the padded layout;
    /// borders get zero point + 128 (cancelled by the folded bias, as the reference skips those taps); padded
    /// channels get 0 (their weights are 0).
    /// </summary>
    private static void PadFlipImage(ConvPlan p, GemmLayout l, sbyte* input, int b, byte* dst)
    {
        int inH = p.Input.Height, inW = p.Input.Width, c = p.Input.Channels;
        int pixelBytes = l.PixelInts * 4;
        byte padByte = (byte)((sbyte)(-p.InputOffset) ^ unchecked((sbyte)0x80));
        sbyte* image = input + ((long)b * inH * inW * c);
        long rowBytes = (long)l.PaddedW * pixelBytes;
        for (int y = 0; y < l.PaddedH; y++)
        {
            byte* row = dst + (y * rowBytes);
            int iy = y - p.PadTop;
            if (iy < 0 || iy >= inH)
            {
                new Span<byte>(row, (int)rowBytes).Fill(padByte);
                continue;
            }
            new Span<byte>(row, p.PadLeft * pixelBytes).Fill(padByte);
            byte* inside = row + (p.PadLeft * pixelBytes);
            sbyte* src = image + ((long)iy * inW * c);
            if (pixelBytes == c)
            {
                CopyFlipSign(src, inside, inW * c);
            }
            else if (c == 3)
            {
                // RGB input layers: one 4-byte store per pixel (the fourth byte 0).
                uint* px = (uint*)inside;
                for (int x = 0; x < inW; x++)
                {
                    byte* v = (byte*)src + (x * 3);
                    px[x] = (uint)(v[0] | (v[1] << 8) | (v[2] << 16)) ^ 0x0080_8080u;
                }
            }
            else
            {
                for (int x = 0; x < inW; x++)
                {
                    CopyFlipSign(src + (x * c), inside + (x * pixelBytes), c);
                    new Span<byte>(inside + (x * pixelBytes) + c, pixelBytes - c).Clear();
                }
            }
            int right = l.PaddedW - p.PadLeft - inW;
            new Span<byte>(inside + (inW * pixelBytes), right * pixelBytes).Fill(padByte);
        }
    }

    /// <summary>
    /// Copies image <paramref name="b"/> as int16 x + inputOffset (x - zero point) into the padded layout; borders
    /// and padded channels get 0, as the reference skips those taps.
    /// </summary>
    private static void PadWidenImage(ConvPlan p, GemmLayout l, sbyte* input, int b, short* dst)
    {
        int inH = p.Input.Height, inW = p.Input.Width, c = p.Input.Channels;
        int pixelShorts = l.PixelInts * 2;
        short offset = (short)p.InputOffset;
        sbyte* image = input + ((long)b * inH * inW * c);
        long rowShorts = (long)l.PaddedW * pixelShorts;
        for (int y = 0; y < l.PaddedH; y++)
        {
            short* row = dst + (y * rowShorts);
            int iy = y - p.PadTop;
            if (iy < 0 || iy >= inH)
            {
                new Span<short>(row, (int)rowShorts).Clear();
                continue;
            }
            new Span<short>(row, p.PadLeft * pixelShorts).Clear();
            short* inside = row + (p.PadLeft * pixelShorts);
            sbyte* src = image + ((long)iy * inW * c);
            if (pixelShorts == c)
            {
                CopyWiden(src, inside, inW * c, offset);
            }
            else if (c == 3)
            {
                // RGB input layers: 4 int16 per pixel (the fourth 0) in one 8-byte store.
                ulong* px = (ulong*)inside;
                for (int x = 0; x < inW; x++)
                {
                    sbyte* v = src + (x * 3);
                    px[x] = (ushort)(v[0] + offset) | ((ulong)(ushort)(v[1] + offset) << 16) | ((ulong)(ushort)(v[2] + offset) << 32);
                }
            }
            else
            {
                for (int x = 0; x < inW; x++)
                {
                    CopyWiden(src + (x * c), inside + (x * pixelShorts), c, offset);
                    new Span<short>(inside + (x * pixelShorts) + c, pixelShorts - c).Clear();
                }
            }
            int right = l.PaddedW - p.PadLeft - inW;
            new Span<short>(inside + (inW * pixelShorts), right * pixelShorts).Clear();
        }
    }
}
