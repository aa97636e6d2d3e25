using StbImageSharp;

namespace QnnLab.Data;

/// <summary>
/// The image-folder layout Keras' flow_from_directory reads: DIR/&lt;class&gt;/*.png|jpg|jpeg|bmp, classes
/// numbered in ordinal order of their folder names and files in ordinal order within a class (Python's
/// sorted()). Images are decoded to RGB with StbImageSharp.
/// </summary>
public static class ImageFolder
{
    private static readonly string[] Extensions = [".png", ".jpg", ".jpeg", ".bmp"];

    public static bool IsImageFile(string path) => Extensions.Contains(Path.GetExtension(path).ToLowerInvariant());

    public static ImageSet Read(string dir, DataOptions? options = null)
    {
        options ??= DataOptions.Default;
        if (!Directory.Exists(dir))
        {
            throw new DirectoryNotFoundException($"{dir}: no such image folder");
        }
        string[] classDirs = Directory.GetDirectories(dir).OrderBy(Path.GetFileName, StringComparer.Ordinal).ToArray();
        if (classDirs.Length == 0)
        {
            throw new InvalidDataException($"{dir}: no class folders (expected DIR/<class>/*.png|jpg|bmp)");
        }
        var files = new List<(string File, int Label)>();
        for (int c = 0; c < classDirs.Length; c++)
        {
            foreach (string f in Directory.GetFiles(classDirs[c]).Where(IsImageFile).OrderBy(Path.GetFileName, StringComparer.Ordinal))
            {
                files.Add((f, c));
            }
        }
        if (files.Count == 0)
        {
            throw new InvalidDataException($"{dir}: the class folders hold no .png, .jpg or .bmp images");
        }
        if (options.Limit is int limit && limit < files.Count)
        {
            files = files.Take(Math.Max(limit, 0)).ToList();
        }
        string[] names = classDirs.Select(d => Path.GetFileName(d)!).ToArray();
        return DecodeAll(dir, files, names, options);
    }

    /// <summary>Decodes one image file to 8-bit RGB HWC.</summary>
    public static (byte[] Pixels, int Height, int Width) DecodeRgb(string file)
    {
        try
        {
            using FileStream fs = File.OpenRead(file);
            ImageResult img = ImageResult.FromStream(fs, ColorComponents.RedGreenBlue);
            return (img.Data, img.Height, img.Width);
        }
        catch (Exception e) when (e is not IOException and not UnauthorizedAccessException)
        {
            throw new InvalidDataException($"{file}: cannot decode image ({e.Message})", e);
        }
    }

    /// <summary>Decodes files into one set: resized to the target size if given, else all must share one size.</summary>
    internal static ImageSet DecodeAll(string source, IReadOnlyList<(string File, int Label)> files, string[]? classNames, DataOptions options)
    {
        int h = 0, w = 0;
        if (options.TargetSize is (int th, int tw))
        {
            (h, w) = (th, tw);
        }
        byte[]? pixels = null;
        var labels = new int[files.Count];
        string? firstFile = null;
        // Decoding JPEGs dominates; images are independent, so decode in parallel.
        var decoded = new (byte[] Pixels, int H, int W)[files.Count];
        try
        {
            Parallel.For(0, files.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Environment.ProcessorCount) }, i =>
            {
                (byte[] p, int ih, int iw) = DecodeRgb(files[i].File);
                if (options.TargetSize is (int rh, int rw))
                {
                    p = ImageResize.Resize(p, ih, iw, 3, rh, rw, options.Resize);
                    (ih, iw) = (rh, rw);
                }
                decoded[i] = (p, ih, iw);
            });
        }
        catch (AggregateException e)
        {
            // Report the first failing file's own one-line error, not the aggregate's.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
        }
        for (int i = 0; i < files.Count; i++)
        {
            (byte[] p, int ih, int iw) = decoded[i];
            if (firstFile is null)
            {
                (h, w, firstFile) = (ih, iw, files[i].File);
                pixels = new byte[(long)files.Count * h * w * 3];
            }
            else if (ih != h || iw != w)
            {
                throw new InvalidDataException($"{files[i].File}: {ih}x{iw}, but {firstFile} is {h}x{w}; give a target size to resize them");
            }
            p.CopyTo(pixels!, (long)i * h * w * 3);
            labels[i] = files[i].Label;
            decoded[i] = default;
        }
        return new ImageSet(source, h, w, 3, labels, pixels ?? [], classNames: classNames);
    }
}
