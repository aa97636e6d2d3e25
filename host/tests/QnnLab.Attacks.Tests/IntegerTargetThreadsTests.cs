using QnnLab.Attacks.Targets;
using QnnLab.Data;

namespace QnnLab.Attacks.Tests;

/// <summary>Integer targets with several engine threads: every answer and every attack result is a single thread's.</summary>
[TestClass]
public sealed class IntegerTargetThreadsTests
{
    [TestMethod]
    [DataRow("int8", 3)]
    [DataRow("int16", 2)]
    public void QueryBatchesSplitAcrossThreadsAnswerEveryLogitAsOneThread(string precision, int threads)
    {
        Model.QnnModel model = precision == "int8" ? TestModels.CifarInt8() : TestModels.CifarInt16();
        ImageSet set = Cifar10.ReadBatch(Path.Combine(TestSupport.TestData.Require("cifar10/cifar-10-batches-bin"), "test_batch.bin"), 61);
        float[] x = set.UnitImages();
        using var one = new IntegerTarget(model);
        using var many = new IntegerTarget(model, threads: threads);
        Assert.AreEqual(threads, many.Threads);
        // 61 images: parts of 21/21/19 (or 31/30); 5 images: one part (fewer than 8 per thread)
        foreach (int n in new[] { 61, 5 })
        {
            CollectionAssert.AreEqual(one.RawOutputs(x.AsSpan(0, n * one.ImageSize), n), many.RawOutputs(x.AsSpan(0, n * one.ImageSize), n), $"{n} images");
        }
        CollectionAssert.AreEqual(one.Scores(x, 61), many.Scores(x, 61));
        Assert.AreEqual(one.Queries, many.Queries, "each image counted once");
    }

    [TestMethod]
    public void ASeededSquareAttackOnATwoThreadTargetEqualsTheOneThreadRun()
    {
        Model.QnnModel model = TestModels.CifarInt8();
        ImageSet set = Cifar10.ReadBatch(Path.Combine(TestSupport.TestData.Require("cifar10/cifar-10-batches-bin"), "test_batch.bin"), 16);
        float[] x = set.UnitImages();
        float[] Run(int threads, out long[] queries)
        {
            using var target = new IntegerTarget(model, threads: threads);
            Attack a = AttackCatalog.Create("square-linf");
            a.ApplyPreset("cifar10");
            a.Parameters.Set("max_iter", "30");
            float[] adv = a.Generate(target, x, set.Labels, set.Count, 5);
            queries = a.QueriesPerImage!;
            return adv;
        }
        float[] single = Run(1, out long[] q1), split = Run(2, out long[] q2);
        CollectionAssert.AreEqual(single, split, "the same adversarial examples");
        CollectionAssert.AreEqual(q1, q2, "the same queries per image");
    }
}
