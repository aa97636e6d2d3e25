using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using QnnLab.Cli;
using QnnLab.TestSupport;

namespace QnnLab.Firmware.Tests;

/// <summary>`qnnlab export` and `qnnlab firmware build` through the real command tree, as a user runs them.</summary>
[TestClass]
public sealed class CliCommandTests
{
    /// <summary>One in-process run with stdout/stderr captured (the assembly runs one test at a time).</summary>
    private static async Task<(int Rc, string Out, string Err)> Qnnlab(params string[] args)
    {
        TextWriter oldOut = Console.Out, oldErr = Console.Error;
        var stdout = new StringWriter(new StringBuilder()) { NewLine = "\n" };
        var stderr = new StringWriter(new StringBuilder()) { NewLine = "\n" };
        try
        {
            Console.SetOut(stdout);
            Console.SetError(stderr);
            int rc = await CliRunner.RunAsync(QnnLabApp.BuildRoot(), args);
            return (rc, stdout.ToString(), stderr.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
        }
    }

    private static JsonElement LastJson(string output) =>
        JsonDocument.Parse(output.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1]).RootElement;

    private static void OneErrorLine(string err, string contains)
    {
        string[] lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.HasCount(1, lines, err);
        StringAssert.StartsWith(lines[0], "qnnlab: error: ");
        StringAssert.Contains(lines[0], contains);
    }

    [TestMethod]
    public async Task ExportWritesTheBlobItsJsonDescribes()
    {
        string model = TestData.Require(GoldenModels.CifarInt8);
        string outPath = Path.Combine(TestData.TempDir(), "sub", "resnet8.qnnb");
        (int rc, string output, string err) = await Qnnlab("export", "--model", model, "--out", outPath, "--json");
        Assert.AreEqual(0, rc, err);
        byte[] blob = File.ReadAllBytes(outPath);
        JsonElement j = LastJson(output);
        Assert.AreEqual(blob.Length, j.GetProperty("bytes").GetInt32());
        Assert.AreEqual("int8", j.GetProperty("precision").GetString());
        Assert.AreEqual(10, j.GetProperty("outputs").GetInt32());
        Assert.AreEqual(32 * 32 * 3, j.GetProperty("input_bytes").GetInt32());
        Assert.AreEqual(BinaryPrimitives.ReadUInt32LittleEndian(blob.AsSpan(BlobFormat.OffArenaSize)), j.GetProperty("arena_bytes").GetUInt32());
        // The header's CRC (what the JSON reports) over the blob with the CRC field read as zero.
        uint crc = Crc32.Compute(blob, BlobFormat.OffCrc);
        Assert.AreEqual(crc.ToString("x8", System.Globalization.CultureInfo.InvariantCulture), j.GetProperty("crc32").GetString());
        Assert.AreEqual(crc, BinaryPrimitives.ReadUInt32LittleEndian(blob.AsSpan(BlobFormat.OffCrc)));
        // SPEC: model_hash = first 16 bytes of the source file's SHA-256.
        byte[] sha = SHA256.HashData(File.ReadAllBytes(model));
        Assert.AreEqual(Convert.ToHexStringLower(sha), j.GetProperty("model_sha256").GetString());
        CollectionAssert.AreEqual(sha[..16], blob[16..32]);
        Assert.AreEqual(0, CoreTools.Check(blob).Status, "the C validator accepts the file");
        Assert.IsFalse(File.Exists(outPath + ".tmp"), "no temporary file left behind");
    }

    [TestMethod]
    public async Task ExportRefusesAFloatModelInOneLine()
    {
        string outPath = Path.Combine(TestData.TempDir(), "f.qnnb");
        (int rc, _, string err) = await Qnnlab("export", "--model", TestData.Require("mlperf-tiny/models/vww/vww_96_float.tflite"), "--out", outPath);
        Assert.AreEqual(CliRunner.ExitError, rc);
        OneErrorLine(err, "is a float model; quantize it first");
        Assert.IsFalse(File.Exists(outPath));
    }

    [TestMethod]
    [Timeout(600_000, CooperativeCancellation = true)]
    public async Task FirmwareBuildForTheSimPrintsImageSizeAndRunLineAsJson()
    {
        string blob = Path.Combine(TestData.TempDir(), "m.qnnb");
        Assert.AreEqual(0, (await Qnnlab("export", "--model", TestData.Require(GoldenModels.CifarInt16), "--out", blob)).Rc);
        string dir = Path.Combine(TestData.RepoRoot, "build", "tests", "fw-sim-image");
        (int rc, string output, string err) = await Qnnlab("firmware", "build", "--board", "sim", "--model", blob, "--build-dir", dir, "--json");
        if (rc != 0 && err.Contains("cannot run", StringComparison.Ordinal))
        {
            Assert.Inconclusive(err);
        }
        Assert.AreEqual(0, rc, err);
        JsonElement j = LastJson(output);
        string image = j.GetProperty("image").GetString()!;
        Assert.AreEqual(new FileInfo(image).Length, j.GetProperty("flash_bytes").GetInt64());
        Assert.AreEqual(0, j.GetProperty("ram_bytes").GetInt64());
        Assert.AreEqual("portable", j.GetProperty("backend").GetString());
        Assert.AreEqual($"{image} --core --model {blob}", j.GetProperty("run").GetString());
        StringAssert.Contains(output, $"image {image}\n");
    }

    [TestMethod]
    [DataRow("sim", "tflm", null, "unknown backend 'tflm'")]
    [DataRow("nucleo-l552ze-q", "cmsis-nn", null, "--backend cmsis-nn needs --cmsis-nn-dir DIR")]
    [DataRow("nucleo-l552ze-q", "cmsis-nn", "/nonexistent", "--cmsis-nn-dir /nonexistent is not a CMSIS-NN checkout")]
    [DataRow("esp32", "portable", null, "unknown board 'esp32'")]
    public async Task FirmwareBuildRefusesBadArgumentsInOneLineBeforeBuilding(string board, string backend, string? cmsisDir, string message)
    {
        string dir = Path.Combine(TestData.TempDir(), "b");
        string[] args = ["firmware", "build", "--board", board, "--backend", backend, "--build-dir", dir];
        (int rc, _, string err) = await Qnnlab(cmsisDir is null ? args : [.. args, "--cmsis-nn-dir", cmsisDir]);
        Assert.AreEqual(CliRunner.ExitError, rc);
        OneErrorLine(err, message);
        Assert.IsFalse(Directory.Exists(dir), "nothing configured");
    }
}
