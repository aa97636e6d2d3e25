namespace QnnLab.Data.Tests;

[TestClass]
public sealed class ImageResizeTests
{
    [TestMethod]
    public void NearestPicksPillowSourcePixels()
    {
        // Pillow NEAREST samples the source at floor((x + 0.5) * in / out).
        CollectionAssert.AreEqual(new[] { 1, 3 }, ImageResize.PillowNearestIndex(4, 2));
        CollectionAssert.AreEqual(new[] { 0, 2 }, ImageResize.PillowNearestIndex(3, 2));
        CollectionAssert.AreEqual(new[] { 0, 0, 1, 1 }, ImageResize.PillowNearestIndex(2, 4));
        CollectionAssert.AreEqual(new[] { 0, 1, 1 }, ImageResize.PillowNearestIndex(2, 3));
        // Away from exact integer boundaries the accumulated position equals the closed form.
        int[] idx = ImageResize.PillowNearestIndex(512, 224);
        for (int x = 0; x < 224; x++)
        {
            if ((2 * x + 1) % 7 != 0)
            {
                Assert.AreEqual((int)Math.Floor((x + 0.5) * 512 / 224), idx[x], $"x = {x}");
            }
        }
        // The last pixel samples floor(223.5 * 512 / 224) = floor(510.86).
        Assert.AreEqual(510, idx[223]);

        byte[] img = [10, 11, 20, 21, 30, 31, 40, 41]; // 1x4, 2 channels
        CollectionAssert.AreEqual(new byte[] { 20, 21, 40, 41 }, ImageResize.Resize(img, 1, 4, 2, 1, 2, ResizeMode.Nearest));
    }

    [TestMethod]
    public void BilinearUsesHalfPixelCentres()
    {
        // tf.image.resize (half_pixel_centers): 2 -> 4 samples the source at -0.25, 0.25, 0.75, 1.25,
        // clamped at the edges: [0, 100] becomes [0, 25, 75, 100].
        CollectionAssert.AreEqual(new byte[] { 0, 25, 75, 100 }, ImageResize.Resize([0, 100], 1, 2, 1, 1, 4, ResizeMode.Bilinear));
        // 4 -> 2 samples at 0.5 and 2.5: the means of the pairs (rounded half up).
        CollectionAssert.AreEqual(new byte[] { 5, 26 }, ImageResize.Resize([0, 10, 21, 30], 1, 4, 1, 1, 2, ResizeMode.Bilinear));
        // 2x2 -> 1x1 samples the centre: mean of all four.
        CollectionAssert.AreEqual(new byte[] { 100 }, ImageResize.Resize([0, 100, 100, 200], 2, 2, 1, 1, 1, ResizeMode.Bilinear));
    }

    [TestMethod]
    public void ValueSetsAreNotResized()
    {
        var set = new ImageSet("t", 2, 2, 1, [0], values: new float[4]);
        var e = Assert.ThrowsExactly<ArgumentException>(() => ImageResize.Resize(set, 4, 4, ResizeMode.Nearest));
        StringAssert.Contains(e.Message, "real values");
    }
}
