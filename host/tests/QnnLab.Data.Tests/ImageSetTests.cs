namespace QnnLab.Data.Tests;

/// <summary>Parts of a set: the first N (Take) and a held-out tail (Skip, the VWW detector's calibration images).</summary>
[TestClass]
public sealed class ImageSetTests
{
    [TestMethod]
    public void SkipKeepsTheLaterImagesWithTheirLabelsAndRefusesToSkipEverything()
    {
        // 4 images of 1x2x1, pixel values 10i and 10i+1, label i
        var set = new ImageSet("t", 1, 2, 1, [0, 1, 2, 3], pixels: [0, 1, 10, 11, 20, 21, 30, 31]);
        ImageSet tail = set.Skip(1).Take(2);
        Assert.AreEqual(2, tail.Count);
        CollectionAssert.AreEqual(new[] { 1, 2 }, tail.Labels);
        CollectionAssert.AreEqual(new byte[] { 10, 11, 20, 21 }, tail.Pixels);
        StringAssert.Contains(tail.Source, "from image 1");
        Assert.AreSame(set, set.Skip(0));
        var e = Assert.ThrowsExactly<ArgumentException>(() => set.Skip(4));
        StringAssert.Contains(e.Message, "has 4 images");
    }
}
