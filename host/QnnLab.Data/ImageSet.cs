namespace QnnLab.Data;

/// <summary>
/// A labelled set of images in HWC layout, held either as 8-bit pixels (data sets) or as real
/// values in pixel units 0..255 (adversarial examples, which need not be whole numbers).
/// </summary>
public sealed class ImageSet
{
    public ImageSet(string source, int height, int width, int channels, int[] labels, byte[]? pixels = null, float[]? values = null, string[]? classNames = null)
    {
        if ((pixels is null) == (values is null))
        {
            throw new ArgumentException("an image set holds either pixels or values");
        }
        long expected = (long)labels.Length * height * width * channels;
        long actual = pixels?.LongLength ?? values!.LongLength;
        if (actual != expected)
        {
            throw new InvalidDataException($"{source}: {actual} values for {labels.Length} images of {height}x{width}x{channels}");
        }
        Source = source;
        Height = height;
        Width = width;
        Channels = channels;
        Labels = labels;
        Pixels = pixels;
        Values = values;
        ClassNames = classNames;
    }

    /// <summary>Where the set came from (the data spec or file), for messages and reports.</summary>
    public string Source { get; }
    public int Height { get; }
    public int Width { get; }
    public int Channels { get; }
    public int[] Labels { get; }
    public byte[]? Pixels { get; }
    public float[]? Values { get; }
    public string[]? ClassNames { get; }

    public int Count => Labels.Length;
    public int ImageSize => Height * Width * Channels;

    /// <summary>Writes image <paramref name="index"/> in the attack domain (pixels / 255, in [0, 1]) into <paramref name="dest"/>.</summary>
    public void CopyUnitImage(int index, Span<float> dest)
    {
        CopyImage(index, dest);
        for (int i = 0; i < ImageSize; i++)
        {
            dest[i] /= 255f;
        }
    }

    /// <summary>The first <paramref name="count"/> images (all when null) in the attack domain, back to back.</summary>
    public float[] UnitImages(int? count = null)
    {
        int n = Math.Min(count ?? Count, Count);
        var x = new float[n * ImageSize];
        for (int i = 0; i < n; i++)
        {
            CopyUnitImage(i, x.AsSpan(i * ImageSize, ImageSize));
        }
        return x;
    }

    /// <summary>Writes image <paramref name="index"/> in pixel units (0..255) into <paramref name="dest"/>.</summary>
    public void CopyImage(int index, Span<float> dest)
    {
        int n = ImageSize;
        if (Pixels is not null)
        {
            ReadOnlySpan<byte> src = Pixels.AsSpan(index * n, n);
            for (int i = 0; i < n; i++)
            {
                dest[i] = src[i];
            }
        }
        else
        {
            Values.AsSpan(index * n, n).CopyTo(dest);
        }
    }

    /// <summary>The images from <paramref name="first"/> on as a new set (a held-out part of a set with no training split).</summary>
    public ImageSet Skip(int first)
    {
        if (first <= 0)
        {
            return this;
        }
        if (first >= Count)
        {
            throw new ArgumentException($"{Source}: has {Count} images, none from image {first} on");
        }
        int n = ImageSize;
        return new ImageSet($"{Source} (from image {first})", Height, Width, Channels, Labels[first..],
            Pixels?[(first * n)..], Values?[(first * n)..], ClassNames);
    }

    /// <summary>The first <paramref name="count"/> images as a new set (no copy of labels beyond them).</summary>
    public ImageSet Take(int count)
    {
        if (count >= Count)
        {
            return this;
        }
        int n = ImageSize;
        return new ImageSet(Source, Height, Width, Channels, Labels[..count],
            Pixels?[..(count * n)], Values?[..(count * n)], ClassNames);
    }
}
