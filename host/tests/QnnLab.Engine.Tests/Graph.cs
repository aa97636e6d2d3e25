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
    /// Runs int8 inputs through the reference and the default (vectorised where available) path; both must agree.
    /// With <paramref name="vectorised"/>, every convolution, depthwise, fully connected and add must also run on a
    /// vector kernel (so the comparison is not the reference against itself); without AVX2 the test is inconclusive.
    /// </summary>
    public static sbyte[] Run8(QnnModel model, sbyte[] input, int batch = 1, bool vectorised = false)
    {
        IntegerModel im = IntegerModel.Compile(model);
        var reference = new sbyte[im.OutputSize * batch];
        var fast = new sbyte[im.OutputSize * batch];
        using (var e = new IntegerEngine(im, batch, KernelPath.Reference))
        {
            e.Run(input, batch, reference);
        }
        using (var e = new IntegerEngine(im, Math.Max(1, batch / 2 + 1), KernelPath.Auto))
        {
            CheckVectorised(e, vectorised);
            e.Run(input, batch, fast);
        }
        CollectionAssert.AreEqual(reference, fast, "vectorised and reference kernels disagree");
        return reference;
    }

    public static short[] Run16(QnnModel model, short[] input, int batch = 1, bool vectorised = false)
    {
        IntegerModel im = IntegerModel.Compile(model);
        var reference = new short[im.OutputSize * batch];
        var fast = new short[im.OutputSize * batch];
        using (var e = new IntegerEngine(im, batch, KernelPath.Reference))
        {
            e.Run(input, batch, reference);
        }
        // A smaller tile than the batch also exercises the engine's tiling.
        using (var e = new IntegerEngine(im, Math.Max(1, batch / 2 + 1), KernelPath.Auto))
        {
            CheckVectorised(e, vectorised);
            e.Run(input, batch, fast);
        }
        CollectionAssert.AreEqual(reference, fast, "vectorised and reference kernels disagree");
        return reference;
    }

    /// <summary>Asserts that every convolution, depthwise, fully connected and add of the engine's model runs vectorised.</summary>
    public static void CheckVectorised(IntegerEngine engine, bool required = true)
    {
        if (!required)
        {
            return;
        }
        if (!System.Runtime.Intrinsics.X86.Avx2.IsSupported)
        {
            Assert.Inconclusive("this CPU has no AVX2: the vectorised kernels cannot run here");
        }
        foreach (CompiledOp op in engine.Model.Ops)
        {
            bool gemm8 = op is ConvPlan { Is16x8: false } or FullyConnectedPlan { Is16x8: false };
            if (gemm8 && !System.Runtime.Intrinsics.X86.AvxVnni.IsSupported)
            {
                continue; // the int8 GEMM needs AVX-VNNI; this CPU runs it on the reference kernels
            }
            if (op is ConvPlan or DepthwisePlan or FullyConnectedPlan or AddPlan)
            {
                Assert.IsTrue(engine.RunsVectorised(op), $"operator {op.OperatorIndex} ({op.Kind}) does not run vectorised");
            }
        }
    }
}
