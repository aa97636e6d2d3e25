using System.Net;
using System.Security.Cryptography;
using QnnLab.TestSupport;

namespace QnnLab.Data.Tests;

[TestClass]
public sealed class DatasetCacheTests
{
    /// <summary>Serves fixed bytes (or a status code) for every request and counts requests.</summary>
    private sealed class FakeServer(byte[] body, HttpStatusCode status = HttpStatusCode.OK) : HttpMessageHandler
    {
        public int Requests { get; private set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Requests++;
            return Task.FromResult(new HttpResponseMessage(status) { Content = new ByteArrayContent(body) });
        }
    }

    private static string Sha256(byte[] b) => Convert.ToHexStringLower(SHA256.HashData(b));

    private static string Md5(byte[] b) => Convert.ToHexStringLower(MD5.HashData(b));

    private static byte[] Payload(int n) => Enumerable.Range(0, n).Select(i => (byte)(i * 7)).ToArray();

    [TestMethod]
    public async Task GoodDownloadIsKeptAndServedFromCacheAfterwards()
    {
        string cache = TestData.TempDir();
        byte[] body = Payload(3 << 20);
        var server = new FakeServer(body);
        var file = new RemoteFile("models/m.tflite", new Uri("https://example.invalid/m.tflite"), Sha256: Sha256(body), Size: body.Length);
        var reports = new List<DownloadProgress>();
        var cacheObj = new DatasetCache(cache, offlineDir: Path.Combine(cache, "no-offline"), handler: server);

        string path = await cacheObj.GetFileAsync(file, new SyncProgress(reports.Add));
        Assert.AreEqual(Path.Combine(cache, "models", "m.tflite"), path);
        CollectionAssert.AreEqual(body, File.ReadAllBytes(path));
        Assert.IsNotEmpty(reports);
        Assert.AreEqual(body.Length, reports[^1].Bytes);

        string again = await cacheObj.GetFileAsync(file);
        Assert.AreEqual(path, again);
        Assert.AreEqual(1, server.Requests);
        Assert.IsEmpty(Directory.GetFiles(cache, "*.part", SearchOption.AllDirectories));
    }

    [TestMethod]
    public async Task ChecksumMismatchIsRejectedAndLeavesNoFile()
    {
        string cache = TestData.TempDir();
        byte[] body = Payload(1000);
        byte[] tampered = (byte[])body.Clone();
        tampered[500] ^= 1;
        var file = new RemoteFile("x/data.bin", new Uri("https://example.invalid/data.bin"), Sha256: Sha256(body));
        var cacheObj = new DatasetCache(cache, offlineDir: Path.Combine(cache, "none"), handler: new FakeServer(tampered));

        var e = await Assert.ThrowsExactlyAsync<InvalidDataException>(() => cacheObj.GetFileAsync(file));
        StringAssert.Contains(e.Message, "https://example.invalid/data.bin");
        StringAssert.Contains(e.Message, Sha256(tampered));
        StringAssert.Contains(e.Message, Sha256(body));
        Assert.IsEmpty(Directory.GetFiles(cache, "*", SearchOption.AllDirectories));

        var md5File = file with { Sha256 = null, Md5 = Md5(body) };
        e = await Assert.ThrowsExactlyAsync<InvalidDataException>(() => cacheObj.GetFileAsync(md5File));
        StringAssert.Contains(e.Message, "MD5");
        Assert.IsEmpty(Directory.GetFiles(cache, "*", SearchOption.AllDirectories));

        var sized = file with { Size = 999 };
        e = await Assert.ThrowsExactlyAsync<InvalidDataException>(() => cacheObj.GetFileAsync(sized));
        StringAssert.Contains(e.Message, "1000 bytes, expected 999");
    }

    [TestMethod]
    public async Task FileUrlsHttpErrorsAndMissingChecksums()
    {
        string dir = TestData.TempDir();
        byte[] body = Payload(5000);
        string src = Path.Combine(dir, "mirror", "f.bin");
        Directory.CreateDirectory(Path.GetDirectoryName(src)!);
        File.WriteAllBytes(src, body);
        var cacheObj = new DatasetCache(Path.Combine(dir, "cache"), offlineDir: Path.Combine(dir, "none"), handler: new FakeServer([], HttpStatusCode.NotFound));

        string got = await cacheObj.GetFileAsync(new RemoteFile("f.bin", new Uri(src), Md5: Md5(body)));
        CollectionAssert.AreEqual(body, File.ReadAllBytes(got));

        var http = await Assert.ThrowsExactlyAsync<IOException>(() => cacheObj.GetFileAsync(new RemoteFile("g.bin", new Uri("https://example.invalid/g.bin"), Md5: Md5(body))));
        StringAssert.Contains(http.Message, "HTTP 404");
        Assert.IsFalse(File.Exists(Path.Combine(dir, "cache", "g.bin")));

        await Assert.ThrowsExactlyAsync<ArgumentException>(() => cacheObj.GetFileAsync(new RemoteFile("h.bin", new Uri(src))));
    }

    [TestMethod]
    public async Task OfflineFolderIsUsedAndVerifiedBeforeAnyDownload()
    {
        string dir = TestData.TempDir();
        byte[] body = Payload(2000);
        string offline = Path.Combine(dir, "offline");
        Directory.CreateDirectory(Path.Combine(offline, "mlperf-tiny", "models", "ic"));
        File.WriteAllBytes(Path.Combine(offline, "mlperf-tiny", "models", "ic", "m.tflite"), body);
        var server = new FakeServer(body);
        var cacheObj = new DatasetCache(Path.Combine(dir, "cache"), offline, server);
        var file = new RemoteFile("mlperf-tiny/models/ic/m.tflite", new Uri("https://example.invalid/m"), Sha256: Sha256(body));

        Assert.AreEqual(Path.Combine(offline, "mlperf-tiny", "models", "ic", "m.tflite"), await cacheObj.GetFileAsync(file));
        Assert.AreEqual(0, server.Requests);

        var wrong = file with { Sha256 = Sha256([1, 2, 3]) };
        var e = await Assert.ThrowsExactlyAsync<InvalidDataException>(() => cacheObj.GetFileAsync(wrong));
        StringAssert.Contains(e.Message, offline);
    }

    [TestMethod]
    public async Task KnownMlperfFilesMatchTheSharedDataByChecksum()
    {
        // The offline path of each known model is the shared data's layout, so the shared folder serves
        // them with their pinned SHA-256s, and no request is made.
        string root = TestData.Require("mlperf-tiny/models");
        var server = new FakeServer([]);
        var cacheObj = new DatasetCache(TestData.TempDir(), TestData.Root, server);
        foreach (RemoteFile f in KnownFiles.All.Where(f => f.RelativePath.StartsWith("mlperf-tiny/", StringComparison.Ordinal)))
        {
            StringAssert.Contains(f.Url.ToString(), KnownFiles.MlperfTinyCommit);
            string p = await cacheObj.GetFileAsync(f);
            Assert.StartsWith(root, p);
        }
        Assert.AreEqual(0, server.Requests);
    }

    [TestMethod]
    public async Task Cifar10ArchiveIsDownloadedVerifiedAndExtracted()
    {
        string dir = TestData.TempDir();
        var records = new byte[2 * Cifar10.RecordSize];
        records[Cifar10.RecordSize] = 9;
        string tgz = Path.Combine(dir, "mirror.tar.gz");
        DataSpecTests.WriteTarGz(tgz, ("cifar-10-batches-bin/test_batch.bin", records));
        byte[] archive = File.ReadAllBytes(tgz);
        var server = new FakeServer(archive);
        var cacheObj = new DatasetCache(Path.Combine(dir, "cache"), Path.Combine(dir, "none"), server);
        var mirror = KnownFiles.Cifar10Binary with { Md5 = Md5(archive), Size = archive.Length };

        string batches = await cacheObj.GetCifar10Async(archive: mirror);
        Assert.AreEqual(Path.Combine(dir, "cache", "cifar10", "cifar-10-batches-bin"), batches);
        ImageSet set = DataSpec.Load($"cifar10:{batches}");
        CollectionAssert.AreEqual(new[] { 0, 9 }, set.Labels);

        // Extracted once: later calls need no archive at all.
        Assert.AreEqual(batches, await cacheObj.GetCifar10Async(archive: mirror with { Md5 = "00" }));
        Assert.AreEqual(1, server.Requests);

        // The official record carries the MD5 published on the CIFAR page.
        Assert.AreEqual("c32a1d4ab5d03f1284b67883e8d87530", KnownFiles.Cifar10Binary.Md5);
    }

    /// <summary>IProgress that reports synchronously (Progress&lt;T&gt; posts to the thread pool).</summary>
    private sealed class SyncProgress(Action<DownloadProgress> report) : IProgress<DownloadProgress>
    {
        public void Report(DownloadProgress value) => report(value);
    }
}
