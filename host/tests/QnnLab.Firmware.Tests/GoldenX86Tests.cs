using QnnLab.Data;
using QnnLab.Engine;
using QnnLab.Inference;
using QnnLab.Model;
using QnnLab.TestSupport;

namespace QnnLab.Firmware.Tests;

/// <summary>
/// The core claim on x86: for the paper's four models the device core (portable kernels, built with gcc)
/// reproduces the host integer engine's raw outputs on every element of 200 inputs, from the same raw pixels
/// (the blob's input table on the device, EngineIo.Quantize on the host).
/// </summary>
[TestClass]
public sealed class GoldenX86Tests
{
    public const int Images = 200;

    [TestMethod]
    [DataRow(GoldenModels.CifarInt8)]
    [DataRow(GoldenModels.CifarInt16)]
    [DataRow(GoldenModels.VwwInt8)]
    [DataRow(GoldenModels.VwwInt16)]
    public void DeviceCoreMatchesTheHostEngineOnEveryLogit(string relative)
    {
        Golden g = Golden.Prepare(relative, Images);
        ToolResult r = Tool.Run(CoreTools.GoldenRunner, [g.Blob, g.Inputs, g.Expected, "portable"]);
        Assert.AreEqual(0, r.ExitCode, r.Output + r.Error);
        StringAssert.Contains(r.Output, $"{Images} records, {Images * g.Outputs} elements, 0 mismatches");
    }

    [TestMethod]
    [DataRow(GoldenModels.CifarInt8)]
    [DataRow(GoldenModels.CifarInt16)]
    public void QuantizedTensorInputsGiveTheHostEngineOutputs(string relative)
    {
        // qnn_run_tensor: the host quantizes (EngineIo.QuantizeInput) and sends the tensor; the device only infers.
        Golden g = Golden.Prepare(relative, 50);
        QnnModel model = GoldenModels.Load(relative);
        IntegerModel compiled = IntegerModel.Compile(model);
        ImageSet set = GoldenModels.Inputs(relative, 50);
        var px = new float[50 * set.ImageSize];
        for (int i = 0; i < 50; i++)
        {
            set.CopyImage(i, px.AsSpan(i * set.ImageSize, set.ImageSize));
        }
        byte[] tensors;
        if (compiled.ActivationType == ElementType.Int8)
        {
            var q = new sbyte[px.Length];
            EngineIo.QuantizeInput(compiled, px, model.Preprocessing, q);
            tensors = System.Runtime.InteropServices.MemoryMarshal.AsBytes(q.AsSpan()).ToArray();
        }
        else
        {
            var q = new short[px.Length];
            EngineIo.QuantizeInput(compiled, px, model.Preprocessing, q);
            tensors = System.Runtime.InteropServices.MemoryMarshal.AsBytes(q.AsSpan()).ToArray();
        }
        string file = Path.Combine(TestData.TempDir(), "tensors.bin");
        File.WriteAllBytes(file, tensors);
        ToolResult r = Tool.Run(CoreTools.GoldenRunner, [g.Blob, file, g.Expected, "portable", "tensor"]);
        Assert.AreEqual(0, r.ExitCode, r.Output + r.Error);
        StringAssert.Contains(r.Output, $"50 records, {50 * g.Outputs} elements, 0 mismatches");
    }

    [TestMethod]
    [Timeout(900_000, CooperativeCancellation = true)]
    public void EveryQuantizedModelInTheDataIsBitExactOnX86()
    {
        // Beyond the four models above: every int8/16x8 .tflite of the shared data (the paper's defence-enhanced and
        // coffee-leaf models, MLPerf's) on 10 inputs of its data set. Float models are named in the list and left out.
        const int n = 10;
        string[] models = File.ReadAllLines(Path.Combine(TestData.Root, "MANIFEST.tsv")).Skip(1).Select(l => l.Split('\t')[0])
            .Where(p => p.EndsWith(".tflite", StringComparison.Ordinal) && !p.Contains("float", StringComparison.Ordinal)
                && (p.StartsWith("paper-models/", StringComparison.Ordinal) || p.Contains("int8", StringComparison.Ordinal) || p.Contains("quant", StringComparison.Ordinal)))
            .ToArray();
        Assert.IsGreaterThanOrEqualTo(30, models.Length, string.Join(", ", models));
        var failures = new List<string>();
        var sets = new Dictionary<string, ImageSet>();
        ImageSet Inputs(string spec) => sets.TryGetValue(spec, out ImageSet? s) ? s : sets[spec] = DataSpec.Load(spec).Take(n);
        foreach (string rel in models)
        {
            QnnModel model = GoldenModels.Load(rel);
            ImageSet set = Inputs(rel.Contains("vww", StringComparison.Ordinal) ? "mlperf:" + TestData.Require("mlperf-tiny/samples/vww01")
                : rel.Contains("coffee", StringComparison.Ordinal) ? "coffee:" + TestData.Require("coffee-leaf")
                : "cifar10:" + TestData.Require("cifar10/cifar-10-batches-bin"));
            using var host = new IntegerClassifier(model);
            string dir = TestData.TempDir();
            string blob = Path.Combine(dir, "model.qnnb"), exp = Path.Combine(dir, "expected.bin");
            File.WriteAllBytes(blob, BlobExporter.Export(IntegerModel.Compile(model)).Bytes);
            File.WriteAllBytes(exp, host.RawOutputs(set, 0, n));
            ToolResult r = Tool.Run(CoreTools.GoldenRunner, [blob, GoldenModels.WritePixels(set, n, dir), exp, "portable"]);
            if (r.ExitCode != 0 || !r.Output.Contains($"{n} records, {n * host.Classes} elements, 0 mismatches", StringComparison.Ordinal))
            {
                failures.Add($"{rel}: {r.Output.Trim()} {r.Error.Trim()}");
            }
        }
        Assert.IsEmpty(failures, string.Join("\n", failures));
    }

    [TestMethod]
    public void TheGoldenRunnerNoticesOneChangedLogit()
    {
        // Guards the check itself: one expected value off by one must fail the run.
        Golden g = Golden.Prepare(GoldenModels.CifarInt8, 20);
        byte[] expected = File.ReadAllBytes(g.Expected);
        expected[^3] = unchecked((byte)(expected[^3] + 1));
        File.WriteAllBytes(g.Expected, expected);
        ToolResult r = Tool.Run(CoreTools.GoldenRunner, [g.Blob, g.Inputs, g.Expected, "portable"]);
        Assert.AreEqual(1, r.ExitCode, r.Output + r.Error);
        StringAssert.Contains(r.Output, "1 mismatches");
    }
}

/// <summary>Blob, raw pixel inputs and the host engine's expected outputs of one model, written to a temp folder.</summary>
internal sealed record Golden(string Blob, string Inputs, string Expected, int Outputs)
{
    public static Golden Prepare(string relative, int count)
    {
        QnnModel model = GoldenModels.Load(relative);
        ImageSet set = GoldenModels.Inputs(relative, count);
        Assert.AreEqual(count, set.Count, "enough inputs");
        using var host = new IntegerClassifier(model);
        byte[] expected = host.RawOutputs(set, 0, count);
        // A fixed folder under build/ so the same files can be rerun by hand (CMSIS-NN, squeezers; firmware/README.md).
        string dir = Path.Combine(TestData.RepoRoot, "build", "tests", "golden", $"{Path.GetFileNameWithoutExtension(relative)}-{count}");
        Directory.CreateDirectory(dir);
        string blob = Path.Combine(dir, "model.qnnb");
        File.WriteAllBytes(blob, BlobExporter.Export(IntegerModel.Compile(model)).Bytes);
        string exp = Path.Combine(dir, "expected.bin");
        File.WriteAllBytes(exp, expected);
        return new Golden(blob, GoldenModels.WritePixels(set, count, dir), exp, host.Classes);
    }
}
