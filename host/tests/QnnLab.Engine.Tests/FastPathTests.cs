using QnnLab.Model;
using static QnnLab.Engine.Tests.Graph;

namespace QnnLab.Engine.Tests;

/// <summary>The vectorised int8 kernels against the scalar reference on random shapes (Graph.Run8 compares every element).</summary>
[TestClass]
public sealed class FastPathTests
{
    [TestMethod]
    public void RandomConvolutionsAgreeWithTheReference()
    {
        var rng = new Random(14);
        for (int trial = 0; trial < 60; trial++)
        {
            int h = rng.Next(1, 9), w = rng.Next(1, 9), ic = rng.Next(1, 20), oc = rng.Next(1, 40);
            int kh = rng.Next(1, 4), kw = rng.Next(1, 4), s = rng.Next(1, 3), d = rng.Next(1, 3);
            Padding pad = rng.Next(2) == 0 ? Padding.Same : Padding.Valid;
            int oh = IntegerModel.ComputeOutSize(pad, h, kh, s, d), ow = IntegerModel.ComputeOutSize(pad, w, kw, s, d);
            if (oh < 1 || ow < 1)
            {
                continue;
            }
            var weights = new sbyte[oc * kh * kw * ic];
            rng.NextBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(weights.AsSpan()));
            float[] scales = Enumerable.Range(0, oc).Select(_ => (float)(rng.NextDouble() * 0.02 + 0.001)).ToArray();
            int[] bias = Enumerable.Range(0, oc).Select(_ => rng.Next(-5000, 5000)).ToArray();
            var act = (Activation)rng.Next(0, 4);
            QnnModel m = Single(OpKind.Conv2D, new ConvOptions(pad, s, s, d, d, act),
                Act8([1, h, w, ic], (float)(rng.NextDouble() * 0.05 + 0.005), rng.Next(-128, 128)),
                Act8([1, oh, ow, oc], (float)(rng.NextDouble() * 0.1 + 0.01), rng.Next(-128, 128)),
                Weights([oc, kh, kw, ic], weights, scales), Bias32(bias));
            int batch = rng.Next(1, 6);
            var input = new sbyte[batch * h * w * ic];
            rng.NextBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(input.AsSpan()));
            Run8(m, input, batch);
        }
    }

    [TestMethod]
    public void RandomFullyConnectedAgreeWithTheReference()
    {
        var rng = new Random(15);
        for (int trial = 0; trial < 40; trial++)
        {
            int k = rng.Next(1, 70), n = rng.Next(1, 40);
            var weights = new sbyte[n * k];
            rng.NextBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(weights.AsSpan()));
            QnnModel m = Single(OpKind.FullyConnected, new FullyConnectedOptions((Activation)rng.Next(0, 4)),
                Act8([1, k], (float)(rng.NextDouble() * 0.05 + 0.005), rng.Next(-128, 128)),
                Act8([1, n], (float)(rng.NextDouble() * 0.5 + 0.01), rng.Next(-128, 128)),
                Weights([n, k], weights, (float)(rng.NextDouble() * 0.02 + 0.001)), Bias32(Enumerable.Range(0, n).Select(_ => rng.Next(-3000, 3000)).ToArray()));
            int batch = rng.Next(1, 9);
            var input = new sbyte[batch * k];
            rng.NextBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(input.AsSpan()));
            Run8(m, input, batch);
        }
    }
}
