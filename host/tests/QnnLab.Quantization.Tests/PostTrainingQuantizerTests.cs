using QnnLab.Data;
using QnnLab.Keras;
using QnnLab.Model;
using QnnLab.TestSupport;

namespace QnnLab.Quantization.Tests;

[TestClass]
public sealed class PostTrainingQuantizerTests
{
    /// <summary>conv 1x1 (2->2, relu) -> avg pool 2x2 -> reshape [1,2] -> fc 2->3 -> softmax.</summary>
    private static QnnModel SmallModel()
    {
        var m = new QnnModel { Name = "small" };
        int x = m.AddTensor(new Tensor("x", ElementType.Float32, [1, 2, 2, 2]));
        int cw = m.AddTensor(Tensor.FromArray("cw", ElementType.Float32, [2, 1, 1, 2], new[] { 1f, -0.5f, 0.25f, 2f }));
        int cb = m.AddTensor(Tensor.FromArray("cb", ElementType.Float32, [2], new[] { 0.1f, -0.2f }));
        int c = m.AddTensor(new Tensor("c", ElementType.Float32, [1, 2, 2, 2]));
        int p = m.AddTensor(new Tensor("p", ElementType.Float32, [1, 1, 1, 2]));
        int shape = m.AddTensor(Tensor.FromArray("shape", ElementType.Int32, [2], new[] { 1, 2 }));
        int r = m.AddTensor(new Tensor("r", ElementType.Float32, [1, 2]));
        int fw = m.AddTensor(Tensor.FromArray("fw", ElementType.Float32, [3, 2], new[] { 1f, 0f, 0f, 1f, -1f, -1f }));
        int fb = m.AddTensor(Tensor.FromArray("fb", ElementType.Float32, [3], new[] { 0f, 0f, 0.5f }));
        int logits = m.AddTensor(new Tensor("logits", ElementType.Float32, [1, 3]));
        int prob = m.AddTensor(new Tensor("prob", ElementType.Float32, [1, 3]));
        m.Operators.Add(new Operator(OpKind.Conv2D, [x, cw, cb], [c], new ConvOptions(Padding.Valid, 1, 1, 1, 1, Activation.Relu)));
        m.Operators.Add(new Operator(OpKind.AveragePool2D, [c], [p], new PoolOptions(Padding.Valid, 2, 2, 2, 2, Activation.None)));
        m.Operators.Add(new Operator(OpKind.Reshape, [p, shape], [r], new ReshapeOptions([1, 2])));
        m.Operators.Add(new Operator(OpKind.FullyConnected, [r, fw, fb], [logits], new FullyConnectedOptions(Activation.None)));
        m.Operators.Add(new Operator(OpKind.Softmax, [logits], [prob], new SoftmaxOptions(1f)));
        m.Inputs = [x];
        m.Outputs = [prob];
        return m;
    }

    [TestMethod]
    [DataRow(Precision.Int8)]
    [DataRow(Precision.Int16)]
    public void ParametersFlowAsTfliteRequires(Precision precision)
    {
        QnnModel f = SmallModel();
        var ranges = new TensorRanges();
        ranges.Set(0, 0f, 1f);
        ranges.Set(3, 0f, 2.55f);
        ranges.Set(4, 0f, 1.5f); // pool output: ignored, it must share the conv output's parameters
        ranges.Set(6, 0f, 1.5f);
        ranges.Set(9, -2f, 3f);
        ranges.Set(10, 0f, 1f);
        QnnModel q = PostTrainingQuantizer.Quantize(f, ranges, precision);
        bool int16 = precision == Precision.Int16;
        ElementType act = int16 ? ElementType.Int16 : ElementType.Int8;

        Assert.AreEqual(precision, q.Precision);
        foreach (int t in new[] { 0, 3, 4, 6, 9, 10 })
        {
            Assert.AreEqual(act, q.Tensors[t].Type, q.Tensors[t].Name);
        }
        QuantParams input = q.Tensors[0].Quant!;
        Assert.AreEqual(int16 ? 1f / 32767f : 1f / 255f, input.Scale);
        Assert.AreEqual(int16 ? 0L : -128L, input.ZeroPoint);
        QuantParams conv = q.Tensors[3].Quant!;
        Assert.AreEqual(int16 ? 2.55f / 32767f : 2.55f / 255f, conv.Scale);
        Assert.AreSame(conv, q.Tensors[4].Quant, "average pool keeps its input's parameters");
        Assert.AreSame(conv, q.Tensors[6].Quant, "reshape keeps its input's parameters");
        Assert.AreEqual(int16 ? 1f / 32768f : 1f / 256f, q.Tensors[10].Quant!.Scale);
        Assert.AreEqual(int16 ? 0L : -128L, q.Tensors[10].Quant!.ZeroPoint);

        // Conv weights per output channel (max |w| = 1 and 2), fc weights per tensor (max 1).
        Tensor cw = q.Tensors[1];
        Assert.AreEqual(ElementType.Int8, cw.Type);
        CollectionAssert.AreEqual(new[] { 1f / 127f, 2f / 127f }, cw.Quant!.Scales);
        CollectionAssert.AreEqual(new sbyte[] { 127, -64, 16, 127 }, cw.DataAs<sbyte>().ToArray());
        Tensor fw = q.Tensors[7];
        Assert.IsFalse(fw.Quant!.PerChannel);
        Assert.AreEqual(1f / 127f, fw.Quant.Scale);

        // Biases: scale = input scale * weight scale, int32 for int8 and int64 for 16x8.
        Tensor cb = q.Tensors[2];
        Assert.AreEqual(int16 ? ElementType.Int64 : ElementType.Int32, cb.Type);
        CollectionAssert.AreEqual(new[] { input.Scale * (1f / 127f), input.Scale * (2f / 127f) }, cb.Quant!.Scales);
        long b0 = int16 ? cb.DataAs<long>()[0] : cb.DataAs<int>()[0];
        Assert.AreEqual(Math.Round(0.1 / cb.Quant.Scales[0]), b0, 1.0);
        Assert.AreEqual(ElementType.Int32, q.Tensors[5].Type, "the reshape's shape tensor stays int32");
        Assert.IsTrue(f.Tensors[1].Type == ElementType.Float32, "the float model is not modified");
    }

    [TestMethod]
    public void RefusesAModelThatIsAlreadyQuantized()
    {
        QnnModel f = SmallModel();
        var ranges = new TensorRanges();
        foreach (int t in new[] { 0, 3, 4, 6, 9, 10 })
        {
            ranges.Set(t, 0f, 1f);
        }
        QnnModel q = PostTrainingQuantizer.Quantize(f, ranges, Precision.Int8);
        Assert.ThrowsExactly<ModelException>(() => PostTrainingQuantizer.Quantize(q, ranges, Precision.Int8));
    }

    [TestMethod]
    public void CalibrationTakesRunningMinAndMaxOverAllSamples()
    {
        QnnModel f = SmallModel();
        TensorRanges r = Calibrator.Collect(f, [new float[8], Enumerable.Repeat(1f, 8).ToArray()]);
        Assert.AreEqual(2, r.SampleCount);
        Assert.AreEqual((0f, 1f), r[0]);
        // Conv channel 0 = x0 - 0.5 x1 + 0.1, channel 1 = 0.25 x0 + 2 x1 - 0.2, ReLU: zeros give (0.1, 0), ones give (0.6, 2.05).
        Assert.AreEqual(0f, r[3].Min);
        Assert.AreEqual(2.05f, r[3].Max, 1e-6f);
        Assert.IsFalse(r.Ranges.ContainsKey(1), "constants are not calibrated");
    }
}
