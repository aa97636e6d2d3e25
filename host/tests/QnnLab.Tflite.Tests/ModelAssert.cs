using QnnLab.Model;

namespace QnnLab.Tflite.Tests;

/// <summary>Element-by-element comparison of two models' graphs, constants and quantization.</summary>
internal static class ModelAssert
{
    public static void Same(QnnModel expected, QnnModel actual)
    {
        CollectionAssert.AreEqual(expected.Inputs, actual.Inputs, "model inputs");
        CollectionAssert.AreEqual(expected.Outputs, actual.Outputs, "model outputs");
        Assert.AreEqual(expected.Preprocessing, actual.Preprocessing, "preprocessing");
        Assert.HasCount(expected.Tensors.Count, actual.Tensors, "tensor count");
        for (int i = 0; i < expected.Tensors.Count; i++)
        {
            Tensor e = expected.Tensors[i], a = actual.Tensors[i];
            string what = $"tensor {i} '{e.Name}'";
            Assert.AreEqual(e.Name, a.Name, what);
            Assert.AreEqual(e.Type, a.Type, what);
            CollectionAssert.AreEqual(e.Shape, a.Shape, $"{what} shape");
            Assert.AreEqual(e.IsConstant, a.IsConstant, $"{what} constness");
            if (e.Data is not null)
            {
                Assert.IsTrue(e.Data.AsSpan().SequenceEqual(a.Data), $"{what} constant bytes differ");
            }
            Assert.AreEqual(e.Quant is null, a.Quant is null, $"{what} quantization presence");
            if (e.Quant is not null)
            {
                // Bitwise: a scale that changed in its last bit would change multipliers.
                CollectionAssert.AreEqual(
                    e.Quant.Scales.Select(BitConverter.SingleToInt32Bits).ToArray(),
                    a.Quant!.Scales.Select(BitConverter.SingleToInt32Bits).ToArray(), $"{what} scales");
                CollectionAssert.AreEqual(e.Quant.ZeroPoints, a.Quant.ZeroPoints, $"{what} zero points");
                Assert.AreEqual(e.Quant.QuantizedDimension, a.Quant.QuantizedDimension, $"{what} quantized dimension");
            }
        }
        Assert.HasCount(expected.Operators.Count, actual.Operators, "operator count");
        for (int i = 0; i < expected.Operators.Count; i++)
        {
            Operator e = expected.Operators[i], a = actual.Operators[i];
            string what = $"operator {i} {e.Kind}";
            Assert.AreEqual(e.Kind, a.Kind, what);
            CollectionAssert.AreEqual(e.Inputs, a.Inputs, $"{what} inputs");
            CollectionAssert.AreEqual(e.Outputs, a.Outputs, $"{what} outputs");
            if (e.Options is ReshapeOptions re)
            {
                CollectionAssert.AreEqual(re.NewShape, a.OptionsAs<ReshapeOptions>().NewShape, $"{what} new shape");
            }
            else
            {
                Assert.AreEqual(e.Options, a.Options, $"{what} options");
            }
        }
    }
}
