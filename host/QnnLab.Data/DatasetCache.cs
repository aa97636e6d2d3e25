using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;

namespace QnnLab.Data;

/// <summary>
/// A file the product can fetch from its official location. <see cref="RelativePath"/> is where it lives
/// in the cache and in an offline data folder (the layout of the project's shared data). At least one
/// checksum must be given; every given one is checked.
/// </summary>
public sealed record RemoteFile(string RelativePath, Uri Url, string? Sha256 = null, string? Md5 = null, long? Size = null)
{
    public string FileName => Path.GetFileName(RelativePath);
}

/// <summary>Progress of one download: bytes so far and the total when the server tells it.</summary>
public readonly record struct DownloadProgress(string File, long Bytes, long? Total);

/// <summary>The official sources of the data and models the product uses, with their checksums.</summary>
public static class KnownFiles
{
    // The commit of mlcommons/tiny that the shared data's MANIFEST names (1afd2c9820f7); SHA-256s are the
    // manifest's, also checked against that commit's blobs.
    public const string MlperfTinyCommit = "1afd2c9820f795965a6134facd0b4dfae41ef23f";

    /// <summary>
    /// The CIFAR-10 binary archive. MD5 as published on https://www.cs.toronto.edu/~kriz/cifar.html (the
    /// page gives no SHA-256); the size is the one other projects record for the same archive.
    /// </summary>
    public static readonly RemoteFile Cifar10Binary = new(
        "cifar10/cifar-10-binary.tar.gz",
        new Uri("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"),
        Md5: "c32a1d4ab5d03f1284b67883e8d87530",
        Size: 170_052_171);

    public static readonly RemoteFile MlperfIcInt8 = Mlperf("ic/pretrainedResnet_quant.tflite",
        "benchmark/training/image_classification/trained_models/pretrainedResnet_quant.tflite",
        "3c002613d1b2475eb51dd78dfb85a546c8ae658dee71cf6ade43b022fe205415", 98496);

    public static readonly RemoteFile MlperfIcFloat = Mlperf("ic/pretrainedResnet.tflite",
        "benchmark/training/image_classification/trained_models/pretrainedResnet.tflite",
        "b5c0046d6e0328b4956afd6baa29555a29b1f1c65bdd45aaed75b7cd484d9f79", 318144);

    public static readonly RemoteFile MlperfIcKeras = Mlperf("ic/pretrainedResnet.h5",
        "benchmark/training/image_classification/trained_models/pretrainedResnet.h5",
        "5f938a8eea605438cc7360aa13c987bc6d7bd0c8d931b2917361ae7ae4eeda2f", 1116712);

    public static readonly RemoteFile MlperfIcCalibration = Mlperf("ic/calibration_samples.txt",
        "benchmark/training/image_classification/calibration_samples.txt",
        "14907c095f6885389f221fa52c6dd6ab225ef0146c505835f8efe54aec22f190", 11894);

    public static readonly RemoteFile MlperfVwwInt8 = Mlperf("vww/vww_96_int8.tflite",
        "benchmark/training/visual_wake_words/trained_models/vww_96_int8.tflite",
        "597a384c8c2c8a1276f04702f25013b7838f2f814f1ca7c174d295b73e3d6b7b", 333288);

    public static readonly RemoteFile MlperfVwwFloat = Mlperf("vww/vww_96_float.tflite",
        "benchmark/training/visual_wake_words/trained_models/vww_96_float.tflite",
        "115bbc094d2119561320a21f01b6500a18bea8cc8589282ab007097bec8af38c", 866284);

    public static readonly RemoteFile MlperfVwwKeras = Mlperf("vww/vww_96.h5",
        "benchmark/training/visual_wake_words/trained_models/vww_96.h5",
        "af9111d50e6e85b2f2123345e0316ef1c384865ebf6b06340ddac7e66017450f", 3124024);

    public static IReadOnlyList<RemoteFile> All { get; } =
        [Cifar10Binary, MlperfIcInt8, MlperfIcFloat, MlperfIcKeras, MlperfIcCalibration, MlperfVwwInt8, MlperfVwwFloat, MlperfVwwKeras];

    private static RemoteFile Mlperf(string local, string repoPath, string sha256, long size)
        => new("mlperf-tiny/models/" + local, new Uri($"https://raw.githubusercontent.com/mlcommons/tiny/{MlperfTinyCommit}/{repoPath}"), Sha256: sha256, Size: size);
}

/// <summary>
/// Gets data sets and models on a user's machine: from an offline folder if one is given (option or
/// $QNN_DATA) and holds the file, else from the cache ($QNN_CACHE or ~/.cache/qnnlab), else by download.
/// Downloads go to a temporary file beside the target, are checked against every known checksum and
/// size, and only then renamed into place, so the cache never holds a partial or wrong file.
/// </summary>
public sealed class DatasetCache
{
    private readonly HttpMessageHandler? _handler;

    public DatasetCache(string? cacheDir = null, string? offlineDir = null, HttpMessageHandler? handler = null)
    {
        CacheDir = cacheDir ?? DefaultCacheDir;
        string? env = Environment.GetEnvironmentVariable("QNN_DATA");
        OfflineDir = offlineDir ?? (string.IsNullOrEmpty(env) ? null : env);
        _handler = handler;
    }

    public string CacheDir { get; }

    /// <summary>A folder laid out like the shared data (e.g. mlperf-tiny/models/ic/...), used before any download.</summary>
    public string? OfflineDir { get; }

    public static string DefaultCacheDir
    {
        get
        {
            string? env = Environment.GetEnvironmentVariable("QNN_CACHE");
            if (!string.IsNullOrEmpty(env))
            {
                return env;
            }
            string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            return Path.Combine(home, ".cache", "qnnlab");
        }
    }

    /// <summary>Local path of <paramref name="file"/>: offline copy (checked), cached copy, or a fresh verified download.</summary>
    public async Task<string> GetFileAsync(RemoteFile file, IProgress<DownloadProgress>? progress = null, CancellationToken cancel = default)
    {
        if (file.Sha256 is null && file.Md5 is null)
        {
            throw new ArgumentException($"{file.Url}: no checksum known; refusing to fetch an unverifiable file");
        }
        if (OfflineDir is not null)
        {
            string offline = Path.Combine(OfflineDir, file.RelativePath);
            if (File.Exists(offline))
            {
                await using FileStream fs = File.OpenRead(offline);
                await VerifyAsync(fs, file, offline, cancel).ConfigureAwait(false);
                return offline;
            }
        }
        string target = Path.Combine(CacheDir, file.RelativePath);
        if (File.Exists(target))
        {
            // Only verified files are ever renamed into the cache; a size check catches later damage cheaply.
            if (file.Size is null || new FileInfo(target).Length == file.Size)
            {
                return target;
            }
            File.Delete(target);
        }
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        string temp = $"{target}.{Guid.NewGuid():N}.part";
        try
        {
            await using (FileStream outStream = new(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
            {
                await using Stream source = await OpenSourceAsync(file.Url, cancel).ConfigureAwait(false);
                long? total = file.Size;
                await CopyWithProgressAsync(source, outStream, file.FileName, total, progress, cancel).ConfigureAwait(false);
            }
            await using (FileStream check = File.OpenRead(temp))
            {
                await VerifyAsync(check, file, file.Url.ToString(), cancel).ConfigureAwait(false);
            }
            File.Move(temp, target, overwrite: true);
            return target;
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    /// <summary>
    /// The folder holding CIFAR-10's binary batches (test_batch.bin, ...): an offline
    /// cifar10/cifar-10-batches-bin if present, else the official archive downloaded and extracted in the cache.
    /// </summary>
    /// <param name="archive">The archive to fetch; <see cref="KnownFiles.Cifar10Binary"/> unless a mirror is given.</param>
    public async Task<string> GetCifar10Async(IProgress<DownloadProgress>? progress = null, CancellationToken cancel = default, RemoteFile? archive = null)
    {
        if (OfflineDir is not null)
        {
            string offline = Path.Combine(OfflineDir, "cifar10", "cifar-10-batches-bin");
            if (File.Exists(Path.Combine(offline, "test_batch.bin")))
            {
                return offline;
            }
        }
        string extracted = Path.Combine(CacheDir, "cifar10", "cifar-10-batches-bin");
        if (File.Exists(Path.Combine(extracted, "test_batch.bin")))
        {
            return extracted;
        }
        string archivePath = await GetFileAsync(archive ?? KnownFiles.Cifar10Binary, progress, cancel).ConfigureAwait(false);
        ExtractTarGz(archivePath, Path.Combine(CacheDir, "cifar10"));
        if (!File.Exists(Path.Combine(extracted, "test_batch.bin")))
        {
            throw new InvalidDataException($"{archivePath}: extracted, but it holds no cifar-10-batches-bin/test_batch.bin");
        }
        return extracted;
    }

    /// <summary>
    /// Extracts a .tar.gz into <paramref name="destDir"/> (regular files and folders only), refusing entries
    /// that would land outside it. Extracts into a temporary folder first and moves each top-level entry
    /// into place, so an interrupted extraction leaves nothing half-written under its final name.
    /// </summary>
    public static void ExtractTarGz(string tarGz, string destDir)
    {
        Directory.CreateDirectory(destDir);
        string root = Path.GetFullPath(destDir);
        string staging = Path.Combine(root, $".extract-{Guid.NewGuid():N}");
        Directory.CreateDirectory(staging);
        try
        {
            using (FileStream fs = File.OpenRead(tarGz))
            using (var gz = new GZipStream(fs, CompressionMode.Decompress))
            using (var tar = new TarReader(gz))
            {
                try
                {
                    while (tar.GetNextEntry() is { } entry)
                    {
                        string path = Path.GetFullPath(Path.Combine(staging, entry.Name));
                        if (!path.StartsWith(staging + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                        {
                            throw new InvalidDataException($"{tarGz}: entry '{entry.Name}' points outside the extraction folder");
                        }
                        switch (entry.EntryType)
                        {
                            case TarEntryType.Directory:
                                Directory.CreateDirectory(path);
                                break;
                            case TarEntryType.RegularFile or TarEntryType.V7RegularFile:
                                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                                using (FileStream outFile = File.Create(path))
                                {
                                    entry.DataStream?.CopyTo(outFile);
                                }
                                break;
                            default:
                                // Links and devices have no place in a data set archive.
                                break;
                        }
                    }
                }
                catch (Exception e) when (e is FormatException or EndOfStreamException or InvalidDataException && !e.Message.StartsWith(tarGz, StringComparison.Ordinal))
                {
                    throw new InvalidDataException($"{tarGz}: not a readable .tar.gz ({e.Message})", e);
                }
            }
            foreach (string entry in Directory.EnumerateFileSystemEntries(staging))
            {
                string final = Path.Combine(root, Path.GetFileName(entry));
                if (Directory.Exists(final))
                {
                    Directory.Delete(final, recursive: true);
                }
                else if (File.Exists(final))
                {
                    File.Delete(final);
                }
                if (Directory.Exists(entry))
                {
                    Directory.Move(entry, final);
                }
                else
                {
                    File.Move(entry, final);
                }
            }
        }
        finally
        {
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }
        }
    }

    private async Task<Stream> OpenSourceAsync(Uri url, CancellationToken cancel)
    {
        // file:// sources: a local mirror of the official files (also what the tests use, having no network).
        if (url.IsFile)
        {
            if (!File.Exists(url.LocalPath))
            {
                throw new FileNotFoundException($"{url}: no such file", url.LocalPath);
            }
            return File.OpenRead(url.LocalPath);
        }
        HttpClient client = _handler is null ? new HttpClient() : new HttpClient(_handler, disposeHandler: false);
        client.Timeout = Timeout.InfiniteTimeSpan;
        HttpResponseMessage response;
        try
        {
            response = await client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancel).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            client.Dispose();
            throw new IOException($"{url}: download failed ({e.Message}); without network, put the file in an offline data folder (QNN_DATA)", e);
        }
        if (!response.IsSuccessStatusCode)
        {
            response.Dispose();
            client.Dispose();
            throw new IOException($"{url}: download failed with HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
        }
        Stream body = await response.Content.ReadAsStreamAsync(cancel).ConfigureAwait(false);
        return new OwningStream(body, response, client);
    }

    private static async Task CopyWithProgressAsync(Stream source, Stream dest, string name, long? total, IProgress<DownloadProgress>? progress, CancellationToken cancel)
    {
        var buffer = new byte[1 << 16];
        long done = 0;
        long lastReport = -1;
        int n;
        while ((n = await source.ReadAsync(buffer, cancel).ConfigureAwait(false)) > 0)
        {
            await dest.WriteAsync(buffer.AsMemory(0, n), cancel).ConfigureAwait(false);
            done += n;
            // About one report per MiB keeps progress smooth without flooding the callback.
            if (progress is not null && done - lastReport >= 1 << 20)
            {
                progress.Report(new DownloadProgress(name, done, total));
                lastReport = done;
            }
        }
        progress?.Report(new DownloadProgress(name, done, total));
    }

    /// <summary>Checks size and every given checksum; the message names the source and both values.</summary>
    public static async Task VerifyAsync(Stream data, RemoteFile file, string source, CancellationToken cancel = default)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        var buffer = new byte[1 << 16];
        long size = 0;
        int n;
        while ((n = await data.ReadAsync(buffer, cancel).ConfigureAwait(false)) > 0)
        {
            sha.AppendData(buffer, 0, n);
            md5.AppendData(buffer, 0, n);
            size += n;
        }
        if (file.Size is long expected && size != expected)
        {
            throw new InvalidDataException($"{source}: {size} bytes, expected {expected}; file rejected");
        }
        string gotSha = Convert.ToHexStringLower(sha.GetHashAndReset());
        if (file.Sha256 is not null && !gotSha.Equals(file.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidDataException($"{source}: SHA-256 {gotSha}, expected {file.Sha256}; file rejected");
        }
        string gotMd5 = Convert.ToHexStringLower(md5.GetHashAndReset());
        if (file.Md5 is not null && !gotMd5.Equals(file.Md5, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidDataException($"{source}: MD5 {gotMd5}, expected {file.Md5}; file rejected");
        }
    }

    /// <summary>A response body that disposes its response and client with it.</summary>
    private sealed class OwningStream(Stream inner, IDisposable response, IDisposable client) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
                response.Dispose();
                client.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
