using Microsoft.VisualStudio.TestTools.UnitTesting;
using QnnLab.Protocol;
using QnnLab.Results;

namespace QnnLab.Hil.Tests;

/// <summary>The store's stage indices mirror the protocol's (HilRunner copies the board's array as it is).</summary>
[TestClass]
public sealed class StageIndexTests
{
    [TestMethod]
    public void StoreStagesAreTheProtocolStages()
    {
        Assert.AreEqual(InferResult.StageCount, Stages.Names.Length);
        Assert.AreEqual(Stages.Count, Stages.Labels.Length);
        int[] protocol = [InferResult.Quantize, InferResult.SqueezeBitDepth, InferResult.SqueezeMedian, InferResult.Inference,
            InferResult.InferenceBitDepth, InferResult.InferenceMedian, InferResult.Compare];
        int[] store = [Stages.Quantize, Stages.SqueezeBitDepth, Stages.SqueezeMedian, Stages.Inference,
            Stages.InferenceBitDepth, Stages.InferenceMedian, Stages.Compare];
        CollectionAssert.AreEqual(protocol, store);
        CollectionAssert.AreEqual(Enumerable.Range(0, Stages.Count).ToArray(), store, "the stages are 0..Count-1 in order");
    }
}
