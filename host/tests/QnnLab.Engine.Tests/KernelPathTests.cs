using QnnLab.Model;
using static QnnLab.Engine.Tests.Graph;

namespace QnnLab.Engine.Tests;

/// <summary>
/// The kernel paths one by one (issue 14): the extremes of the widened int8 GEMM's exactness argument on every
/// path, the dispatch and its names, and a forced path this CPU lacks refused by name.
/// </summary>
[TestClass]
public sealed class KernelPathTests
{
    /// <summary>
    /// |x - zero point| = 255 and w = -128 on every tap: the largest products (32,640) the widened GEMM's int16
    /// argument allows, long enough (K = 3*3*61 = 549, odd) that the int32 sums pass 2^24, with both edge zero
    /// points and odd channel counts, and saturating requantization at both ends.
    /// </summary>
    [TestMethod]
    [DataRow(-128, (sbyte)127, (sbyte)-128)]
    [DataRow(127, (sbyte)-128, (sbyte)-128)]
    [DataRow(127, (sbyte)-128, (sbyte)127)]
    [DataRow(-128, (sbyte)127, (sbyte)127)]
    public void ExtremeOperandsAgreeWithTheReferenceOnEveryPath(int zeroPoint, sbyte x, sbyte w)
    {
        const int H = 5, W = 5, IC = 61, OC = 37;
        var weights = Enumerable.Repeat(w, OC * 3 * 3 * IC).ToArray();
        weights[7] = 0; // one channel a little off the extreme, so not every output is the same number
        float[] scales = Enumerable.Range(0, OC).Select(i => 0.0005f * (i + 1)).ToArray();
        QnnModel m = Single(OpKind.Conv2D, new ConvOptions(Padding.Same, 1, 1, 1, 1, Activation.None),
            Act8([1, H, W, IC], 0.02f, zeroPoint), Act8([1, H, W, OC], 0.05f, -3),
            Weights([OC, 3, 3, IC], weights, scales), Bias32(Enumerable.Range(0, OC).Select(i => (i - 18) * 1000).ToArray()));
        var input = Enumerable.Repeat(x, 3 * H * W * IC).ToArray();
        sbyte[] reference = Run8(m, input, batch: 3, vectorised: true);
        Assert.IsTrue(reference.Any(v => v is -128 or 127), "the case reaches the output clamp");

        QnnModel fc = Single(OpKind.FullyConnected, new FullyConnectedOptions(Activation.None),
            Act8([1, 1023], 0.02f, zeroPoint), Act8([1, OC], 0.5f, 5),
            Weights([OC, 1023], Enumerable.Repeat(w, OC * 1023).ToArray(), 0.001f), Bias32(new int[OC]));
        Run8(fc, Enumerable.Repeat(x, 2 * 1023).ToArray(), batch: 2, vectorised: true);
    }

    [TestMethod]
    public void EachForcedPathNamesTheKernelsItRuns()
    {
        QnnModel m = Single(OpKind.Conv2D, new ConvOptions(Padding.Valid, 1, 1, 1, 1, Activation.None),
            Act8([1, 4, 4, 8], 0.02f, 0), Act8([1, 2, 2, 16], 0.05f, 0),
            Weights([16, 3, 3, 8], new sbyte[16 * 9 * 8], 0.01f), Bias32(new int[16]));
        IntegerModel im = IntegerModel.Compile(m);
        using (var reference = new IntegerEngine(im, 1, KernelPath.Reference))
        {
            Assert.AreEqual("reference", reference.OperatorPaths()["Conv2D"]);
        }
        var expected = new Dictionary<KernelPath, string>
        {
            [KernelPath.Portable] = "portable",
            [KernelPath.Avx2] = "avx2",
            [KernelPath.Avx512] = "avx512bw",
            [KernelPath.AvxVnni] = "avx-vnni",
        };
        foreach (KernelPath path in PathsToCompare().Where(p => p != KernelPath.Auto))
        {
            using var e = new IntegerEngine(im, 1, path);
            Assert.AreEqual(expected[path], e.OperatorPaths()["Conv2D"], path.ToString());
            Assert.AreEqual(path, KernelIsa.Parse(KernelIsa.Name(path)));
        }
    }

    [TestMethod]
    public void AutoTakesTheBestPathThisCpuHas()
    {
        QnnModel m = Single(OpKind.FullyConnected, new FullyConnectedOptions(Activation.None),
            Act8([1, 20], 0.02f, 3), Act8([1, 10], 0.5f, 0), Weights([10, 20], new sbyte[200], 0.001f), Bias32(new int[10]));
        using var e = new IntegerEngine(IntegerModel.Compile(m), 1);
        KernelIsa cpu = KernelIsa.Cpu;
        string best = cpu.AvxVnni ? "avx-vnni" : cpu.Avx512 ? "avx512bw" : cpu.Avx2 ? "avx2" : cpu.Portable ? "portable" : "reference";
        Assert.AreEqual(best, e.OperatorPaths()["FullyConnected"]);
    }

    [TestMethod]
    public void AnUnknownPathNameIsRefusedWithTheChoices()
    {
        var ex = Assert.ThrowsExactly<ArgumentException>(() => KernelIsa.Parse("sse9"));
        StringAssert.Contains(ex.Message, "avx512bw");
    }
}
