using QnnLab.Model;

namespace QnnLab.Model.Tests;

[TestClass]
public sealed class TensorTests
{
    [TestMethod]
    public void FromArrayRoundTripsValuesAndCountsElements()
    {
        Tensor t = Tensor.FromArray("w", ElementType.Int16, [2, 3], new short[] { -32768, -1, 0, 1, 2, 32767 });
        Assert.AreEqual(6, t.ElementCount);
        Assert.AreEqual(12, t.Data!.Length);
        CollectionAssert.AreEqual(new short[] { -32768, -1, 0, 1, 2, 32767 }, t.DataAs<short>().ToArray());
    }

    [TestMethod]
    public void DynamicBatchCountsAsOne()
    {
        var t = new Tensor("x", ElementType.Int8, [-1, 4, 4, 3]);
        Assert.AreEqual(48, t.ElementCount);
        Assert.IsFalse(t.IsConstant);
        Assert.ThrowsExactly<InvalidOperationException>(() => t.DataAs<sbyte>().ToArray());
    }
}
