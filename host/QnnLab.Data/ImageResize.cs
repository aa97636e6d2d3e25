namespace QnnLab.Data;

/// <summary>Resizes 8-bit HWC images (see <see cref="ResizeMode"/> for what each mode reproduces).</summary>
public static class ImageResize
{
    public static byte[] Resize(ReadOnlySpan<byte> src, int srcH, int srcW, int channels, int dstH, int dstW, ResizeMode mode)
    {
        if (srcH <= 0 || srcW <= 0 || dstH <= 0 || dstW <= 0 || channels <= 0)
        {
            throw new ArgumentException($"cannot resize {srcH}x{srcW}x{channels} to {dstH}x{dstW}");
        }
        if (src.Length != srcH * srcW * channels)
        {
            throw new ArgumentException($"{src.Length} bytes is not a {srcH}x{srcW}x{channels} image");
        }
        var dst = new byte[dstH * dstW * channels];
        if (srcH == dstH && srcW == dstW)
        {
            src.CopyTo(dst);
            return dst;
        }
        if (mode == ResizeMode.Nearest)
        {
            int[] xs = PillowNearestIndex(srcW, dstW);
            int[] ys = PillowNearestIndex(srcH, dstH);
            for (int y = 0; y < dstH; y++)
            {
                ReadOnlySpan<byte> row = src.Slice(ys[y] * srcW * channels, srcW * channels);
                Span<byte> outRow = dst.AsSpan(y * dstW * channels, dstW * channels);
                for (int x = 0; x < dstW; x++)
                {
                    row.Slice(xs[x] * channels, channels).CopyTo(outRow.Slice(x * channels, channels));
                }
            }
            return dst;
        }
        BilinearHalfPixel(src, srcH, srcW, channels, dst, dstH, dstW);
        return dst;
    }

    /// <summary>
    /// Pillow's ImagingScaleAffine: the source coordinate starts at scale/2 and grows by scale per output
    /// pixel, in double, then is truncated. Accumulating (rather than computing (x+0.5)*scale) matters at
    /// exact integer boundaries, e.g. 512 to 224 where (2x+1)*8/7 is whole for x = 3, 10, ...
    /// </summary>
    public static int[] PillowNearestIndex(int srcSize, int dstSize)
    {
        double scale = (double)srcSize / dstSize;
        var index = new int[dstSize];
        double pos = scale * 0.5;
        for (int x = 0; x < dstSize; x++)
        {
            int i = (int)pos;
            index[x] = Math.Clamp(i, 0, srcSize - 1);
            pos += scale;
        }
        return index;
    }

    private static void BilinearHalfPixel(ReadOnlySpan<byte> src, int srcH, int srcW, int channels, Span<byte> dst, int dstH, int dstW)
    {
        float scaleY = (float)srcH / dstH;
        float scaleX = (float)srcW / dstW;
        var x0 = new int[dstW];
        var x1 = new int[dstW];
        var fx = new float[dstW];
        for (int x = 0; x < dstW; x++)
        {
            (x0[x], x1[x], fx[x]) = Taps(x, scaleX, srcW);
        }
        for (int y = 0; y < dstH; y++)
        {
            (int y0, int y1, float fy) = Taps(y, scaleY, srcH);
            for (int x = 0; x < dstW; x++)
            {
                for (int c = 0; c < channels; c++)
                {
                    float top = src[(y0 * srcW + x0[x]) * channels + c] * (1 - fx[x]) + src[(y0 * srcW + x1[x]) * channels + c] * fx[x];
                    float bottom = src[(y1 * srcW + x0[x]) * channels + c] * (1 - fx[x]) + src[(y1 * srcW + x1[x]) * channels + c] * fx[x];
                    float v = top * (1 - fy) + bottom * fy;
                    dst[(y * dstW + x) * channels + c] = (byte)Math.Clamp((int)MathF.Floor(v + 0.5f), 0, 255);
                }
            }
        }
    }

    // Half-pixel centres: source coordinate (x + 0.5) * scale - 0.5, clamped at the low edge like TF.
    private static (int Lo, int Hi, float Frac) Taps(int x, float scale, int size)
    {
        float s = Math.Max((x + 0.5f) * scale - 0.5f, 0f);
        int lo = Math.Min((int)s, size - 1);
        int hi = Math.Min(lo + 1, size - 1);
        return (lo, hi, s - lo);
    }

    /// <summary>Resizes every image of a pixel set (value sets are refused: resizing adversarial values would change the attack).</summary>
    public static ImageSet Resize(ImageSet set, int dstH, int dstW, ResizeMode mode)
    {
        if (set.Height == dstH && set.Width == dstW)
        {
            return set;
        }
        if (set.Pixels is null)
        {
            throw new ArgumentException($"{set.Source}: only 8-bit pixel sets can be resized (this one holds real values)");
        }
        int n = set.ImageSize;
        int m = dstH * dstW * set.Channels;
        var pixels = new byte[set.Count * m];
        for (int i = 0; i < set.Count; i++)
        {
            Resize(set.Pixels.AsSpan(i * n, n), set.Height, set.Width, set.Channels, dstH, dstW, mode).CopyTo(pixels.AsSpan(i * m, m));
        }
        return new ImageSet(set.Source, dstH, dstW, set.Channels, set.Labels, pixels, classNames: set.ClassNames);
    }
}
