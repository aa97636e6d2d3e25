using QnnLab.Model;

namespace QnnLab.Quantization.Tests;

[TestClass]
public sealed class FloatReferenceTests
{
    internal static QnnModel Single(OpKind kind, int[] inShape, int[] outShape, OpOptions options, params (float[] Data, int[] Shape)[] constants)
    {
        var m = new QnnModel { Name = "t" };
        int input = m.AddTensor(new Tensor("in", ElementType.Float32, inShape));
        var inputs = new List<int> { input };
        foreach ((float[] data, int[] shape) in constants)
        {
            inputs.Add(m.AddTensor(Tensor.FromArray("c", ElementType.Float32, shape, data)));
        }
        int output = m.AddTensor(new Tensor("out", ElementType.Float32, outShape));
        m.Operators.Add(new Operator(kind, [.. inputs], [output], options));
        m.Inputs = [input];
        m.Outputs = [output];
        return m;
    }

    private static float[] Iota(int n) => Enumerable.Range(0, n).Select(i => (float)i).ToArray();

    [TestMethod]
    public void ConvSamePaddingPutsTheExtraRowAndColumnAfter()
    {
        // 4x4 input x[r,c] = 4r + c, 3x3 all-ones kernel, stride 2, SAME: 2x2 output, padding 0 before and 1 after.
        QnnModel m = Single(OpKind.Conv2D, [1, 4, 4, 1], [1, 2, 2, 1], new ConvOptions(Padding.Same, 2, 2, 1, 1, Activation.None),
            (Enumerable.Repeat(1f, 9).ToArray(), [1, 3, 3, 1]), ([1f], [1]));
        float[] y = new FloatReference(m).Run(Iota(16));
        // Rows 0-2 x cols 0-2: 45; rows 0-2 x cols 2-3: 39; rows 2-3 x cols 0-2: 66; rows 2-3 x cols 2-3: 50; plus bias 1.
        CollectionAssert.AreEqual(new[] { 46f, 40f, 67f, 51f }, y);
    }

    [TestMethod]
    public void ConvAppliesOhwiWeightsPerOutputChannelAndFusedRelu()
    {
        // 1x1 conv, 2 input channels -> 2 output channels: o0 = x0 - x1, o1 = 2 x1 - 3 (bias), then ReLU.
        QnnModel m = Single(OpKind.Conv2D, [1, 1, 2, 2], [1, 1, 2, 2], new ConvOptions(Padding.Valid, 1, 1, 1, 1, Activation.Relu),
            ([1f, -1f, 0f, 2f], [2, 1, 1, 2]), ([0f, -3f], [2]));
        float[] y = new FloatReference(m).Run([5f, 1f, 1f, 4f]);
        CollectionAssert.AreEqual(new[] { 4f, 0f, 0f, 5f }, y);
    }

    [TestMethod]
    public void DepthwiseWithMultiplierMapsOutputChannelToInputChannelOverMultiplier()
    {
        // 1x1 depthwise, 2 input channels, multiplier 2: outputs x0*1, x0*2, x1*3, x1*4 (+ bias 0.5 each), ReLU6 clamps.
        QnnModel m = Single(OpKind.DepthwiseConv2D, [1, 1, 1, 2], [1, 1, 1, 4], new DepthwiseOptions(Padding.Valid, 1, 1, 1, 1, 2, Activation.Relu6),
            ([1f, 2f, 3f, 4f], [1, 1, 1, 4]), ([0.5f, 0.5f, 0.5f, 0.5f], [4]));
        float[] y = new FloatReference(m).Run([1f, 2f]);
        CollectionAssert.AreEqual(new[] { 1.5f, 2.5f, 6f, 6f }, y);
    }

    [TestMethod]
    public void AveragePoolCountsOnlyTapsInsideTheImage()
    {
        // 3x3 input, 2x2 pool, stride 2, SAME: padding only after, so the last row/column windows are partial.
        QnnModel m = Single(OpKind.AveragePool2D, [1, 3, 3, 1], [1, 2, 2, 1], new PoolOptions(Padding.Same, 2, 2, 2, 2, Activation.None));
        float[] y = new FloatReference(m).Run(Iota(9));
        // (0+1+3+4)/4, (2+5)/2, (6+7)/2, 8/1
        CollectionAssert.AreEqual(new[] { 2f, 3.5f, 6.5f, 8f }, y);
    }

    [TestMethod]
    public void MaxPoolTakesTheLargestTap()
    {
        QnnModel m = Single(OpKind.MaxPool2D, [1, 2, 4, 1], [1, 1, 2, 1], new PoolOptions(Padding.Valid, 2, 2, 2, 2, Activation.None));
        float[] y = new FloatReference(m).Run([1f, -5f, 0f, -1f, 3f, 2f, -2f, -3f]);
        CollectionAssert.AreEqual(new[] { 3f, 0f }, y);
    }

    [TestMethod]
    public void FullyConnectedUsesOutInLayout()
    {
        // W = [[1, 2, 3], [-1, 0, 1]], b = [0.5, 0]
        QnnModel m = Single(OpKind.FullyConnected, [1, 3], [1, 2], new FullyConnectedOptions(Activation.None),
            ([1f, 2f, 3f, -1f, 0f, 1f], [2, 3]), ([0.5f, 0f], [2]));
        float[] y = new FloatReference(m).Run([1f, 1f, 2f]);
        CollectionAssert.AreEqual(new[] { 9.5f, 1f }, y);
    }

    [TestMethod]
    public void SoftmaxMatchesClosedForm()
    {
        QnnModel m = Single(OpKind.Softmax, [1, 3], [1, 3], new SoftmaxOptions(1f));
        float[] y = new FloatReference(m).Run([0f, MathF.Log(3f), 0f]);
        Assert.AreEqual(0.2f, y[0], 1e-6f);
        Assert.AreEqual(0.6f, y[1], 1e-6f);
        Assert.AreEqual(0.2f, y[2], 1e-6f);
    }

    [TestMethod]
    public void PadAddsZerosWhereThePaddingsSay()
    {
        var m = new QnnModel { Name = "pad" };
        int input = m.AddTensor(new Tensor("in", ElementType.Float32, [1, 1, 2, 1]));
        int pads = m.AddTensor(Tensor.FromArray("p", ElementType.Int32, [4, 2], new[] { 0, 0, 1, 0, 0, 1, 0, 0 }));
        int output = m.AddTensor(new Tensor("out", ElementType.Float32, [1, 2, 3, 1]));
        m.Operators.Add(new Operator(OpKind.Pad, [input, pads], [output], NoOptions.Instance));
        m.Inputs = [input];
        m.Outputs = [output];
        CollectionAssert.AreEqual(new[] { 0f, 0f, 0f, 7f, 8f, 0f }, new FloatReference(m).Run([7f, 8f]));
    }

    [TestMethod]
    public void ArgMaxBreaksTiesToTheLowestIndex()
    {
        Assert.AreEqual(1, FloatReference.ArgMax([0f, 2f, 2f, 1f]));
    }
}
