using System.Text;
using QnnLab.Model;
using QnnLab.TestSupport;

namespace QnnLab.Tflite.Tests;

/// <summary>Every bad file is a one-line <see cref="ModelException"/> naming the file, never another exception.</summary>
[TestClass]
public sealed class CorruptionTests
{
    private static ModelException AssertRejected(byte[] bytes, string name)
    {
        ModelException ex = Assert.ThrowsExactly<ModelException>(() => TfliteReader.Read(bytes, name));
        StringAssert.StartsWith(ex.Message, name + ": ");
        Assert.DoesNotContain("\n", ex.Message, "one line");
        return ex;
    }

    /// <summary>Loads or is rejected with a ModelException naming the file; anything else fails the test.</summary>
    private static bool LoadsOrIsRejected(byte[] bytes, string name)
    {
        try
        {
            TfliteReader.Read(bytes, name);
            return true;
        }
        catch (ModelException ex)
        {
            StringAssert.StartsWith(ex.Message, name + ": ");
            Assert.DoesNotContain("\n", ex.Message, "one line");
            return false;
        }
    }

    [TestMethod]
    [DataRow("paper-models/vanilla/cifar_resnet_int8.tflite")]
    [DataRow("paper-models/vanilla/vww_int16.tflite")]
    [DataRow("mlperf-tiny/models/ic/pretrainedResnet_quant.tflite")]
    public void TruncatedFile_IsRejected(string relative)
    {
        byte[] bytes = File.ReadAllBytes(TestData.Require(relative));
        int n = bytes.Length;
        foreach (int cut in new[] { 0, 3, 7, 8, 16, 64, 1000, n / 4, n / 2, 3 * n / 4, n - 1000, n - 16, n - 1 })
        {
            ModelException ex = AssertRejected(bytes[..cut], "cut.tflite");
            if (cut >= 8)
            {
                StringAssert.Contains(ex.Message, "(truncated or corrupted)", $"cut at {cut}");
            }
        }
    }

    [TestMethod]
    public void WrongFileIdentifier_IsRejected()
    {
        byte[] bytes = TfliteWriter.ToBytes(SyntheticModel.Build());
        Encoding.ASCII.GetBytes("TFL2").CopyTo(bytes, 4);
        ModelException ex = AssertRejected(bytes, "old.tflite");
        Assert.AreEqual("old.tflite: not a TFLite model: file identifier is 'TFL2', expected 'TFL3'", ex.Message);
    }

    [TestMethod]
    public void RandomBytes_AreRejected()
    {
        var rng = new Random(1234);
        for (int i = 0; i < 50; i++)
        {
            byte[] bytes = new byte[rng.Next(0, 4000)];
            rng.NextBytes(bytes);
            AssertRejected(bytes, "noise.tflite");
            if (bytes.Length >= 8)
            {
                // Even with the right identifier, garbage offsets must be caught.
                Encoding.ASCII.GetBytes("TFL3").CopyTo(bytes, 4);
                AssertRejected(bytes, "noise.tflite");
            }
        }
    }

    [TestMethod]
    public void TextFile_IsRejectedAsNotATfliteModel()
    {
        ModelException ex = AssertRejected(Encoding.UTF8.GetBytes("this is not a model at all\n"), "notes.txt");
        StringAssert.Contains(ex.Message, "not a TFLite model");
    }

    [TestMethod]
    public void FlippedBytes_InASmallModel_LoadOrAreRejectedCleanly()
    {
        // The synthetic model is mostly structure, so random flips hit offsets, vtables and indices.
        byte[] clean = TfliteWriter.ToBytes(SyntheticModel.Build());
        int rejected = 0;
        const int Trials = 2000;
        for (int seed = 0; seed < Trials; seed++)
        {
            var rng = new Random(seed);
            byte[] bytes = (byte[])clean.Clone();
            int flips = 1 + seed % 4;
            for (int k = 0; k < flips; k++)
            {
                bytes[rng.Next(bytes.Length)] ^= (byte)(1 << rng.Next(8));
            }
            if (!LoadsOrIsRejected(bytes, "flipped.tflite"))
            {
                rejected++;
            }
        }
        Assert.IsGreaterThan(Trials / 10, rejected, $"only {rejected} of {Trials} corruptions were detected");
    }

    [TestMethod]
    public void FlippedBytes_InARealModel_LoadOrAreRejectedCleanly()
    {
        byte[] clean = File.ReadAllBytes(TestData.Require("paper-models/vanilla/cifar_resnet_int16.tflite"));
        for (int seed = 0; seed < 200; seed++)
        {
            var rng = new Random(seed);
            byte[] bytes = (byte[])clean.Clone();
            // Flip bytes in the first 4 KiB and the last 8 KiB, where the converter puts tables, not weights.
            for (int k = 0; k < 3; k++)
            {
                int at = rng.Next(2) == 0 ? rng.Next(4096) : bytes.Length - 1 - rng.Next(8192);
                bytes[at] = (byte)rng.Next(256);
            }
            LoadsOrIsRejected(bytes, "cifar.tflite");
        }
    }

    [TestMethod]
    public void TensorIndexOutOfRange_IsRejected()
    {
        QnnModel m = SyntheticModel.Build();
        byte[] bytes = TfliteWriter.ToBytes(m);
        // The dequantize operator's inputs vector [probs] is unique: length 1, then the tensor index.
        int probs = m.Operators[^1].Inputs[0];
        byte[] pattern = [1, 0, 0, 0, (byte)probs, 0, 0, 0];
        int at = bytes.AsSpan().IndexOf(pattern);
        Assert.IsGreaterThanOrEqualTo(0, at);
        bytes[at + 4] = 99;
        ModelException ex = AssertRejected(bytes, "bad-index.tflite");
        StringAssert.Contains(ex.Message, "refers to tensor 99");
    }

    [TestMethod]
    public void UnsupportedOperator_IsNamedWithItsIndex()
    {
        QnnModel m = SyntheticModel.Build();
        int softmax = m.Operators.FindIndex(o => o.Kind == OpKind.Softmax);
        // LSTM is builtin code 16.
        byte[] bytes = TfliteWriter.ToBytes(m, new TfliteWriter.WriterHooks(BuiltinCode: k => k == OpKind.Softmax ? 16 : TfliteWriter.BuiltinCode(k)));
        ModelException ex = AssertRejected(bytes, "model.tflite");
        Assert.AreEqual($"model.tflite: operator {softmax} is LSTM, which is not supported", ex.Message);
    }

    [TestMethod]
    public void UnsupportedOperator_WithAnExtendedCode_IsNamed()
    {
        // Codes above 127 live only in builtin_code; GELU is 150.
        QnnModel m = SyntheticModel.Build();
        int add = m.Operators.FindIndex(o => o.Kind == OpKind.Add);
        byte[] bytes = TfliteWriter.ToBytes(m, new TfliteWriter.WriterHooks(BuiltinCode: k => k == OpKind.Add ? 150 : TfliteWriter.BuiltinCode(k)));
        Assert.AreEqual($"gelu.tflite: operator {add} is GELU, which is not supported", AssertRejected(bytes, "gelu.tflite").Message);
    }

    [TestMethod]
    public void UnsupportedTensorType_IsNamed()
    {
        QnnModel m = SyntheticModel.Build();
        int output = m.Outputs[0];
        // FLOAT16 is TensorType 1.
        byte[] bytes = TfliteWriter.ToBytes(m, new TfliteWriter.WriterHooks(TypeCode: t => t == ElementType.Float32 ? (sbyte)1 : null));
        Assert.AreEqual($"half.tflite: tensor {output} 'output' has type FLOAT16, which is not supported", AssertRejected(bytes, "half.tflite").Message);
    }

    [TestMethod]
    public void EmptyFile_AndMissingFile_AreNamed()
    {
        string dir = TestData.TempDir();
        string empty = Path.Combine(dir, "empty.tflite");
        File.WriteAllBytes(empty, []);
        ModelException ex = Assert.ThrowsExactly<ModelException>(() => TfliteReader.Read(empty));
        Assert.AreEqual($"{empty}: file is too short (0 bytes) to be a TFLite model", ex.Message);

        string missing = Path.Combine(dir, "missing.tflite");
        ex = Assert.ThrowsExactly<ModelException>(() => TfliteReader.Read(missing));
        StringAssert.StartsWith(ex.Message, missing + ": cannot read the file");
    }

    [TestMethod]
    public void WriterRefusesAnInconsistentModel()
    {
        QnnModel m = SyntheticModel.Build();
        m.Operators[0].Inputs = [0, 1000];
        ModelException ex = Assert.ThrowsExactly<ModelException>(() => TfliteWriter.ToBytes(m));
        StringAssert.StartsWith(ex.Message, "synthetic: cannot write TFLite: operator 0 (Pad) input refers to tensor 1000");
    }
}
