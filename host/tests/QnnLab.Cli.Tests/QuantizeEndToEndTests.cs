using System.Diagnostics;
using System.Text.Json;
using QnnLab.Data;
using QnnLab.Inference;
using QnnLab.Model;
using QnnLab.TestSupport;

namespace QnnLab.Cli.Tests;

/// <summary>
/// Issue 2: `qnnlab quantize` on the paper's float ResNet-8 with MLPerf's 500 calibration images reproduces
/// the paper's own int8 and int16 .tflite files' predictions, and keeps the float model's accuracy.
/// </summary>
[TestClass]
public sealed class QuantizeEndToEndTests
{
    private const int TestImages = 500;
    private static ImageSet? _test;
    private static int[]? _floatLabels;

    public TestContext TestContext { get; set; } = null!;

    private static int[] Classify(IClassifier clf, ImageSet set)
    {
        var labels = new int[set.Count];
        clf.Classify(set, 0, set.Count, labels, new float[set.Count * clf.Classes]);
        return labels;
    }

    private static double Accuracy(int[] labels, ImageSet set) => (double)labels.Zip(set.Labels).Count(p => p.First == p.Second) / set.Count;

    [TestMethod]
    [DataRow("int8", Paths.CifarInt8)]
    [DataRow("int16", Paths.CifarInt16)]
    public async Task Quantize_AgreesWithPaperModel_AndKeepsFloatAccuracy(string precision, string paperModel)
    {
        string floatH5 = Paths.Require(Paths.CifarFloatH5);
        string cifarDir = Paths.Require(Paths.CifarDir);
        string paper = Paths.Require(paperModel);
        string outDir = TestData.TempDir();
        string outPath = Path.Combine(outDir, $"cifar_resnet_{precision}.tflite");
        var clock = Stopwatch.StartNew();
        try
        {
            CliRun r = await CliHarness.RunAsync("quantize", "-m", floatH5, "-p", precision,
                "--calibration", $"cifar10:{cifarDir}#calibration_500.bin", "--out", outPath, "--json");
            JsonElement j = EvalTests.LastLineJson(r);
            Assert.AreEqual(500, j.GetProperty("calibration_images").GetInt32(), "all of calibration_500.bin");
            Assert.AreEqual(precision, j.GetProperty("precision").GetString());
            Assert.AreEqual(outPath, j.GetProperty("out").GetString());
            TestContext.WriteLine($"quantize {precision}: {clock.Elapsed.TotalSeconds:F1} s");

            // Read back what was written, and run it next to the paper's file on the same test images.
            QnnModel ours = ModelFiles.Load(outPath);
            Assert.AreEqual(precision == "int8" ? Precision.Int8 : Precision.Int16, ours.Precision);
            ImageSet test = _test ??= Cifar10.ReadBatch(Path.Combine(cifarDir, "test_batch.bin"), TestImages);
            int[] oursLabels, paperLabels;
            using (var clf = new IntegerClassifier(ours))
            {
                oursLabels = Classify(clf, test);
            }
            using (var clf = new IntegerClassifier(ModelFiles.Load(paper)))
            {
                paperLabels = Classify(clf, test);
            }
            if (_floatLabels is null)
            {
                using var clf = new FloatClassifier(ModelFiles.Load(floatH5));
                _floatLabels = Classify(clf, test);
            }
            int agree = oursLabels.Zip(paperLabels).Count(p => p.First == p.Second);
            double oursAcc = Accuracy(oursLabels, test), floatAcc = Accuracy(_floatLabels, test), paperAcc = Accuracy(paperLabels, test);
            TestContext.WriteLine($"{precision}: agree with paper {agree}/{TestImages}; accuracy ours {oursAcc:P2}, paper {paperAcc:P2}, float {floatAcc:P2}; {clock.Elapsed.TotalSeconds:F1} s in all");
            Assert.IsGreaterThanOrEqualTo(0.95 * TestImages, agree, $"predictions agree with {Path.GetFileName(paper)} on {agree}/{TestImages}");
            Assert.AreEqual(floatAcc, oursAcc, 0.01, $"{precision} accuracy {oursAcc:P2} vs float {floatAcc:P2}");
        }
        finally
        {
            Directory.Delete(outDir, recursive: true);
        }
    }
}
