using QnnLab.Model;

namespace QnnLab.Engine.Tests;

/// <summary>Builds one-operator test models and runs them on both kernel paths.</summary>
internal static class Graph
{
    public static QnnModel Single(OpKind kind, OpOptions options, Tensor input, Tensor output, params Tensor?[] constants)
    {
        var m = new QnnModel { Name = $"test-{kind}" };
        int i = m.AddTensor(input);
        var ins = new List<int> { i };
        foreach (Tensor? c in constants)
        {
            ins.Add(c is null ? -1 : m.AddTensor(c));
        }
        int o = m.AddTensor(output);
        m.Operators.Add(new Operator(kind, [.. ins], [o], options));
        m.Inputs = [i];
        m.Outputs = [o];
        return m;
    }

    public static Tensor Act8(int[] shape, float scale, int zp) => new("x", ElementType.Int8, shape, QuantParams.PerTensor(scale, zp));
    public static Tensor Act16(int[] shape, float scale) => new("x", ElementType.Int16, shape, QuantParams.PerTensor(scale, 0));

    public static Tensor Weights(int[] shape, sbyte[] values, params float[] scales)
        => Tensor.FromArray("w", ElementType.Int8, shape, values, new QuantParams(scales, new long[scales.Length], scales.Length > 1 ? 0 : 0));

    public static Tensor Bias32(int[] values) => Tensor.FromArray("b", ElementType.Int32, [values.Length], values);
    public static Tensor Bias64(long[] values) => Tensor.FromArray("b", ElementType.Int64, [values.Length], values);

    /// <summary>
    /// Runs int8 inputs through the reference and through every kernel path this CPU can run (forced one by one,
    /// plus Auto); each must agree on every element. With <paramref name="vectorised"/>, every convolution,
    /// depthwise, fully connected and add must also run on a vector kernel of the path (so the comparison is not
    /// the reference against itself).
    /// </summary>
    public static sbyte[] Run8(QnnModel model, sbyte[] input, int batch = 1, bool vectorised = false)
    {
        IntegerModel im = IntegerModel.Compile(model);
        var reference = new sbyte[im.OutputSize * batch];
        using (var e = new IntegerEngine(im, batch, KernelPath.Reference))
        {
            e.Run(input, batch, reference);
        }
        foreach (KernelPath path in PathsToCompare())
        {
            var fast = new sbyte[im.OutputSize * batch];
            // A smaller tile than the batch also exercises the engine's tiling.
            using var e = new IntegerEngine(im, Math.Max(1, batch / 2 + 1), path);
            CheckVectorised(e, vectorised);
            e.Run(input, batch, fast);
            CollectionAssert.AreEqual(reference, fast, $"{KernelIsa.Name(path)} and reference kernels disagree");
        }
        return reference;
    }

    public static short[] Run16(QnnModel model, short[] input, int batch = 1, bool vectorised = false)
    {
        IntegerModel im = IntegerModel.Compile(model);
        var reference = new short[im.OutputSize * batch];
        using (var e = new IntegerEngine(im, batch, KernelPath.Reference))
        {
            e.Run(input, batch, reference);
        }
        foreach (KernelPath path in PathsToCompare())
        {
            var fast = new short[im.OutputSize * batch];
            using var e = new IntegerEngine(im, Math.Max(1, batch / 2 + 1), path);
            CheckVectorised(e, vectorised);
            e.Run(input, batch, fast);
            CollectionAssert.AreEqual(reference, fast, $"{KernelIsa.Name(path)} and reference kernels disagree");
        }
        return reference;
    }

    /// <summary>Auto plus every forced path this CPU runs; none (inconclusive) on a CPU without SIMD.</summary>
    public static IReadOnlyList<KernelPath> PathsToCompare()
    {
        if (KernelIsa.AvailablePaths.Count == 0)
        {
            Assert.Inconclusive("this CPU has no SIMD the runtime uses: only the reference kernels can run here");
        }
        return [KernelPath.Auto, .. KernelIsa.AvailablePaths];
    }

    /// <summary>
    /// Asserts that every operator the engine's path vectorises runs on a vector kernel: convolution and fully
    /// connected on every path (int8 GEMM; 16x8 needs AVX2), depthwise and add wherever AVX2 is in the path.
    /// </summary>
    public static void CheckVectorised(IntegerEngine engine, bool required = true)
    {
        if (!required)
        {
            return;
        }
        KernelIsa isa = engine.Isa;
        foreach (CompiledOp op in engine.Model.Ops)
        {
            bool expected = op switch
            {
                ConvPlan { Is16x8: false } or FullyConnectedPlan { Is16x8: false } => isa.Portable || isa.Avx2,
                ConvPlan or FullyConnectedPlan or DepthwisePlan or AddPlan => isa.Avx2,
                _ => false,
            };
            if (expected)
            {
                Assert.AreNotEqual(KernelIsa.ReferenceName, engine.PathOf(op), $"operator {op.OperatorIndex} ({op.Kind}) does not run vectorised on {isa}");
            }
        }
    }
}
