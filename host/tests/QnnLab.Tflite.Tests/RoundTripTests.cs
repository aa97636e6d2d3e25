using QnnLab.Model;
using QnnLab.TestSupport;

namespace QnnLab.Tflite.Tests;

[TestClass]
public sealed class RoundTripTests
{
    [TestMethod]
    [DynamicData(nameof(SharedModels.Rows), typeof(SharedModels))]
    public void SharedModel_WriteThenRead_GivesTheSameModel(string relative)
    {
        string path = TestData.Require(relative);
        QnnModel original = TfliteReader.Read(path);
        byte[] written = TfliteWriter.ToBytes(original);
        QnnModel back = TfliteReader.Read(written, Path.GetFileName(path));
        ModelAssert.Same(original, back);

        // Writing is deterministic and a fixed point after one round.
        CollectionAssert.AreEqual(written, TfliteWriter.ToBytes(back));
    }

    [TestMethod]
    [DynamicData(nameof(SharedModels.Rows), typeof(SharedModels))]
    public void SharedModel_Written_HasTheConvertersOperatorVersions(string relative)
    {
        string path = TestData.Require(relative);
        byte[] originalBytes = File.ReadAllBytes(path);
        byte[] written = TfliteWriter.ToBytes(TfliteReader.Read(originalBytes, relative));
        CollectionAssert.AreEqual(
            TfliteReader.OperatorCodesPerOperator(originalBytes, relative),
            TfliteReader.OperatorCodesPerOperator(written, "written"));
    }

    [TestMethod]
    [DataRow(ElementType.Int8)]
    [DataRow(ElementType.Int16)]
    public void SyntheticModel_WithEveryOperatorKind_RoundTrips(ElementType activation)
    {
        QnnModel m = SyntheticModel.Build(activation);
        m.Preprocessing = TfliteReader.InferPreprocessing(m.InputTensor);
        QnnModel back = TfliteReader.Read(TfliteWriter.ToBytes(m), "synthetic.tflite");
        Assert.AreEqual("synthetic", back.Name);
        ModelAssert.Same(m, back);
        CollectionAssert.AreEquivalent(Enum.GetValues<OpKind>().Where(k => k != OpKind.Quantize).ToArray(),
            back.Operators.Select(o => o.Kind).Distinct().ToArray(), "the synthetic model covers every kind but quantize");
    }

    [TestMethod]
    public void Reshape_WithoutAShapeInput_OrWithADifferentOne_KeepsItsNewShape()
    {
        foreach (bool withShapeInput in new[] { false, true })
        {
            var m = new QnnModel { Name = "reshape" };
            int x = m.AddTensor(new Tensor("x", ElementType.Int8, [1, 2, 2, 3], QuantParams.PerTensor(0.5f, 1)));
            int y = m.AddTensor(new Tensor("y", ElementType.Int8, [1, 12], QuantParams.PerTensor(0.5f, 1)));
            int[] inputs = [x];
            if (withShapeInput)
            {
                // A shape input that differs from the options (e.g. [1, -1]): both must survive.
                inputs = [x, m.AddTensor(Tensor.FromArray("shape", ElementType.Int32, [2], new[] { 1, -1 }))];
            }
            m.Operators.Add(new Operator(OpKind.Reshape, inputs, [y], new ReshapeOptions([1, 12])));
            m.Inputs = [x];
            m.Outputs = [y];
            m.Preprocessing = TfliteReader.InferPreprocessing(m.InputTensor);
            ModelAssert.Same(m, TfliteReader.Read(TfliteWriter.ToBytes(m), "reshape.tflite"));
        }
    }

    [TestMethod]
    public void QuantizeOperator_RoundTrips()
    {
        var m = new QnnModel { Name = "q" };
        int x = m.AddTensor(new Tensor("x", ElementType.Float32, [1, 4]));
        int y = m.AddTensor(new Tensor("y", ElementType.Int8, [1, 4], QuantParams.PerTensor(0.5f, 3)));
        m.Operators.Add(new Operator(OpKind.Quantize, [x], [y], NoOptions.Instance));
        m.Inputs = [x];
        m.Outputs = [y];
        ModelAssert.Same(m, TfliteReader.Read(TfliteWriter.ToBytes(m), "q.tflite"));
    }

    [TestMethod]
    public void Written_File_HasTheTfliteHeaderAndAlignedConstants()
    {
        QnnModel m = SyntheticModel.Build();
        byte[] bytes = TfliteWriter.ToBytes(m);
        Assert.AreEqual("TFL3", System.Text.Encoding.ASCII.GetString(bytes, 4, 4));
        // Each constant's bytes must start on a 16-byte boundary of the file (schema force_align: 16).
        // Only constants whose bytes occur once are located unambiguously (a shape also appears in the reshape options).
        int checkedCount = 0;
        foreach (Tensor t in m.Tensors.Where(t => t.IsConstant))
        {
            int at = bytes.AsSpan().IndexOf(t.Data);
            Assert.IsGreaterThanOrEqualTo(0, at, $"{t.Name} data not found");
            if (bytes.AsSpan(at + 1).IndexOf(t.Data) >= 0)
            {
                continue;
            }
            Assert.AreEqual(0, at % 16, $"{t.Name} data at {at}");
            checkedCount++;
        }
        Assert.IsGreaterThanOrEqualTo(6, checkedCount, "all weights and biases checked");
    }

    [TestMethod]
    public void BuffersStoredPastTheFlatbuffer_AreRead()
    {
        // Models over 2 GB keep constants after the flatbuffer (Buffer.offset/size); the writer's test hook makes a small one.
        QnnModel m = SyntheticModel.Build();
        byte[] inline = TfliteWriter.ToBytes(m);
        byte[] external = TfliteWriter.ToBytes(m, new TfliteWriter.WriterHooks(ExternalBuffers: true));
        Assert.AreNotEqual(inline.Length, external.Length);
        ModelAssert.Same(TfliteReader.Read(inline, "inline.tflite"), TfliteReader.Read(external, "external.tflite"));

        // Cut into the external data: the buffer now points past the end.
        var ex = Assert.ThrowsExactly<ModelException>(() => TfliteReader.Read(external[..^8], "cut.tflite"));
        StringAssert.StartsWith(ex.Message, "cut.tflite: ");
    }

    [TestMethod]
    public void WriteToPath_ThenRead_NamesTheModelAfterTheFile()
    {
        string path = Path.Combine(TestData.TempDir(), "tiny_net.tflite");
        QnnModel m = SyntheticModel.Build();
        m.Preprocessing = TfliteReader.InferPreprocessing(m.InputTensor);
        TfliteWriter.Write(m, path);
        QnnModel back = TfliteReader.Read(path);
        Assert.AreEqual("tiny_net", back.Name);
        ModelAssert.Same(m, back);
    }
}

