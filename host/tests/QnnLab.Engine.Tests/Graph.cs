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

    /// <summary>Runs int8 inputs through the reference and the default (vectorised where available) path; both must agree.</summary>
    public static sbyte[] Run8(QnnModel model, sbyte[] input, int batch = 1)
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
            e.Run(input, batch, fast);
        }
        CollectionAssert.AreEqual(reference, fast, "vectorised and reference kernels disagree");
        return reference;
    }

    public static short[] Run16(QnnModel model, short[] input, int batch = 1)
    {
        IntegerModel im = IntegerModel.Compile(model);
        var reference = new short[im.OutputSize * batch];
        var fast = new short[im.OutputSize * batch];
        using (var e = new IntegerEngine(im, batch, KernelPath.Reference))
        {
            e.Run(input, batch, reference);
        }
        using (var e = new IntegerEngine(im, batch, KernelPath.Auto))
        {
            e.Run(input, batch, fast);
        }
        CollectionAssert.AreEqual(reference, fast, "vectorised and reference kernels disagree");
        return reference;
    }
}
