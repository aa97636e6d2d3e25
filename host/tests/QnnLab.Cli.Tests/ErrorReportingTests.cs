using QnnLab.TestSupport;

namespace QnnLab.Cli.Tests;

/// <summary>
/// Issue 2: every bad model, bad data folder or model/data mismatch is ONE line on stderr,
/// "qnnlab: error: FILE: problem", nothing on stdout, and a non-zero exit code (no stack trace).
/// </summary>
[TestClass]
public sealed class ErrorReportingTests
{
    private static string _tmp = "";

    [ClassInitialize]
    public static void MakeTemp(TestContext _) => _tmp = TestData.TempDir();

    [ClassCleanup]
    public static void RemoveTemp() => TestData.RemoveTempDir(_tmp);

    private static string FreshDir() => Directory.CreateDirectory(Path.Combine(_tmp, Guid.NewGuid().ToString("N")[..8])).FullName;

    private static void AssertOneLineError(CliRun r, string file, params string[] problem)
    {
        Assert.AreNotEqual(0, r.ExitCode, r.ToString());
        Assert.AreEqual("", r.Stdout, "nothing on stdout\n" + r);
        Assert.HasCount(1, r.StderrLines, "exactly one line on stderr\n" + r);
        string line = r.StderrLines[0];
        StringAssert.StartsWith(line, "qnnlab: error: ", r.ToString());
        StringAssert.Contains(line, file, "names the file");
        foreach (string p in problem)
        {
            Assert.IsTrue(line.Contains(p, StringComparison.OrdinalIgnoreCase), $"'{line}' should say '{p}'");
        }
    }

    private static Task<CliRun> EvalCifar(string model) =>
        CliHarness.RunAsync("eval", "-m", model, "--data", "cifar10:" + Paths.Require(Paths.CifarDir), "--limit", "20");

    [TestMethod]
    [DataRow(0.5)]
    [DataRow(0.01)]
    public async Task TruncatedTflite_IsOneLineError(double fraction)
    {
        string bad = ModelBytes.WriteTruncated(Paths.Require(Paths.CifarInt8), FreshDir(), fraction);
        AssertOneLineError(await EvalCifar(bad), bad, "truncated");
        AssertOneLineError(await CliHarness.RunAsync("info", "-m", bad), bad, "truncated");
    }

    [TestMethod]
    [DataRow(0.5)]
    [DataRow(0.01)]
    public async Task TruncatedH5_IsOneLineError(double fraction)
    {
        string bad = ModelBytes.WriteTruncated(Paths.Require(Paths.CifarFloatH5), FreshDir(), fraction);
        AssertOneLineError(await EvalCifar(bad), bad, "truncated");
        AssertOneLineError(await CliHarness.RunAsync("info", "-m", bad), bad, "truncated");
    }

    [TestMethod]
    public async Task TfliteWithFlippedRootOffset_IsOneLineError()
    {
        // The first 4 bytes are the root table's offset: inverted, it points far outside the file.
        string bad = ModelBytes.WriteFlipped(Paths.Require(Paths.CifarInt8), FreshDir(), 0, 4);
        AssertOneLineError(await EvalCifar(bad), bad, "corrupted");
    }

    [TestMethod]
    public async Task TfliteWithFlippedIdentifier_IsOneLineError()
    {
        string bad = ModelBytes.WriteFlipped(Paths.Require(Paths.CifarInt8), FreshDir(), 4, 4);
        AssertOneLineError(await EvalCifar(bad), bad, "not a TFLite model");
    }

    [TestMethod]
    public async Task H5WithFlippedSignature_IsOneLineError()
    {
        // Bytes 0..7 are the HDF5 superblock signature.
        string bad = ModelBytes.WriteFlipped(Paths.Require(Paths.CifarFloatH5), FreshDir(), 0, 8);
        AssertOneLineError(await EvalCifar(bad), bad, "not a readable Keras HDF5 model");
    }

    [TestMethod]
    public async Task H5WithCorruptedModelConfig_IsOneLineError()
    {
        // The model_config attribute is JSON stored as plain text: break its first brace.
        string source = Paths.Require(Paths.CifarFloatH5);
        int at = ModelBytes.IndexOf(File.ReadAllBytes(source), "{\"class_name\"");
        Assert.IsGreaterThanOrEqualTo(0, at, "the .h5 holds its model_config as text");
        string bad = ModelBytes.WriteFlipped(source, FreshDir(), at, 1);
        AssertOneLineError(await EvalCifar(bad), bad, "not a readable Keras HDF5 model");
    }

    [TestMethod]
    public async Task TfliteWithUnsupportedOperator_IsOneLineError()
    {
        string bad = ModelBytes.WriteWithOperator(Paths.Require(Paths.CifarInt8), FreshDir(), ModelBytes.BuiltinLstm);
        AssertOneLineError(await EvalCifar(bad), bad, "LSTM", "not supported");
    }

    [TestMethod]
    public async Task MissingModel_IsOneLineError()
    {
        string missing = Path.Combine(FreshDir(), "nope.tflite");
        AssertOneLineError(await EvalCifar(missing), missing, "not found");
    }

    [TestMethod]
    public async Task MlperfFolderWithOddSizedImage_IsOneLineError()
    {
        string dir = FreshDir();
        File.WriteAllBytes(Path.Combine(dir, "a.bin"), new byte[3000]);
        File.WriteAllText(Path.Combine(dir, "y_labels.csv"), "a.bin,10,3\n");
        string bin = Path.Combine(dir, "a.bin");
        AssertOneLineError(await CliHarness.RunAsync("eval", "-m", Paths.Require(Paths.CifarInt8), "--data", "mlperf:" + dir), bin, "3000 bytes");
    }

    [TestMethod]
    public async Task MlperfFolderWithOneImageOfAnotherSize_IsOneLineError()
    {
        string dir = FreshDir();
        File.WriteAllBytes(Path.Combine(dir, "a.bin"), new byte[3072]);
        File.WriteAllBytes(Path.Combine(dir, "b.bin"), new byte[3000]);
        File.WriteAllText(Path.Combine(dir, "y_labels.csv"), "a.bin,10,3\nb.bin,10,4\n");
        string bin = Path.Combine(dir, "b.bin");
        AssertOneLineError(await CliHarness.RunAsync("eval", "-m", Paths.Require(Paths.CifarInt8), "--data", "mlperf:" + dir), bin, "3000 bytes", "32x32x3");
    }

    [TestMethod]
    public async Task CifarFileOfWrongLength_IsOneLineError()
    {
        string file = Path.Combine(FreshDir(), "short_batch.bin");
        // Two whole records and part of a third: a truncated batch.
        File.WriteAllBytes(file, new byte[(2 * 3073) + 1000]);
        AssertOneLineError(await CliHarness.RunAsync("eval", "-m", Paths.Require(Paths.CifarInt8), "--data", "cifar10:" + file), file, "7146 bytes", "not a whole number");
    }

    [TestMethod]
    public async Task MissingDataFolder_IsOneLineError()
    {
        string dir = Path.Combine(FreshDir(), "no-such-folder");
        AssertOneLineError(await CliHarness.RunAsync("eval", "-m", Paths.Require(Paths.CifarInt8), "--data", "mlperf:" + dir), dir, "no such");
    }

    [TestMethod]
    [DataRow("--batches", "abc", DisplayName = "bench --batches abc")]
    [DataRow("--batches", "0", DisplayName = "bench --batches 0")]
    [DataRow("--seconds", "0", DisplayName = "bench --seconds 0")]
    public async Task BenchBadOption_IsOneLineErrorBeforeAnyOutput(string option, string value)
    {
        string model = Paths.Require(Paths.CifarInt8);
        string[] args = ["bench", "engine", "-m", model, "--no-torch", option, value];
        CliRun r = await CliHarness.RunAsync(option == "--seconds" ? args : [.. args, "--seconds", "0.1"]);
        AssertOneLineError(r, option, value);
    }

    [TestMethod]
    [DataRow("0")]
    [DataRow("-5")]
    public async Task EvalNonPositiveLimit_IsOneLineError(string limit)
    {
        // Evaluating nothing would print 0 % with exit code 0.
        CliRun r = await CliHarness.RunAsync("eval", "-m", Paths.Require(Paths.CifarInt8), "--data", "cifar10:" + Paths.Require(Paths.CifarDir), "--limit", limit);
        AssertOneLineError(r, "--limit " + limit, "1 or more");
    }

    [TestMethod]
    public async Task FloatModelAsInt8WithoutCalibration_NamesTheModel()
    {
        CliRun r = await CliHarness.RunAsync("eval", "-m", Paths.Require(Paths.CifarFloatH5), "--data", "cifar10:" + Paths.Require(Paths.CifarDir), "-p", "int8", "-n", "5");
        AssertOneLineError(r, "cifar_resnet_float", "needs a calibration set");
    }

    [TestMethod]
    public async Task QuantizeToUnwritablePath_IsOneLineError()
    {
        string dir = FreshDir();
        string blocker = Path.Combine(dir, "a-file");
        File.WriteAllText(blocker, "");
        // The output's folder is a file, so it cannot be created.
        string outPath = Path.Combine(blocker, "q.tflite");
        CliRun r = await CliHarness.RunAsync("quantize", "-m", Paths.Require(Paths.CifarFloatH5), "-p", "int8",
            "--calibration", "cifar10:" + Paths.Require(Paths.CifarDir), "-n", "2", "--out", outPath);
        Assert.AreNotEqual(0, r.ExitCode, r.ToString());
        Assert.AreEqual("", r.Stdout, r.ToString());
        string last = r.StderrLines[^1];
        StringAssert.StartsWith(last, "qnnlab: error: " + outPath + ": cannot write the model", r.ToString());
        Assert.AreEqual(1, r.StderrLines.Count(l => l.StartsWith("qnnlab: error:", StringComparison.Ordinal)), r.ToString());
    }

    [TestMethod]
    [DataRow(Paths.CifarInt8, Paths.VwwSamples, "96x96x3", "32x32x3", DisplayName = "CIFAR int8 on VWW samples")]
    [DataRow(Paths.CifarFloatH5, Paths.VwwSamples, "96x96x3", "32x32x3", DisplayName = "CIFAR float .h5 on VWW samples")]
    [DataRow(Paths.VwwInt8, Paths.CifarDir, "32x32x3", "96x96x3", DisplayName = "VWW int8 on CIFAR")]
    public async Task ModelDataMismatch_IsOneLineError(string model, string data, string dataShape, string modelShape)
    {
        string scheme = data == Paths.CifarDir ? "cifar10:" : "mlperf:";
        string dataPath = Paths.Require(data);
        CliRun r = await CliHarness.RunAsync("eval", "-m", Paths.Require(model), "--data", scheme + dataPath, "--limit", "5");
        AssertOneLineError(r, dataPath, $"images are {dataShape}", $"takes {modelShape}");
    }
}
