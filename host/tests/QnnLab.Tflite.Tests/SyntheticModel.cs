using QnnLab.Model;

namespace QnnLab.Tflite.Tests;

/// <summary>Small hand-built int8 models that exercise every operator kind the writer supports.</summary>
internal static class SyntheticModel
{
    /// <summary>
    /// input [1,8,8,3] int8 -> PAD -> CONV 3x3 (4 ch, per-channel) -> DEPTHWISE 3x3 -> ADD(conv, dw) ->
    /// MAX_POOL 2x2 -> AVERAGE_POOL 2x2 -> RESHAPE [1,16] -> FC 5 -> SOFTMAX -> DEQUANTIZE (float output).
    /// Tensor 0 is the input; constants have distinctive byte patterns.
    /// </summary>
    public static QnnModel Build(ElementType activation = ElementType.Int8)
    {
        bool int16 = activation == ElementType.Int16;
        ElementType biasType = int16 ? ElementType.Int64 : ElementType.Int32;
        long zp = int16 ? 0 : -3;
        QuantParams Act(float s) => QuantParams.PerTensor(s, zp);
        var m = new QnnModel { Name = "synthetic" };
        int input = m.AddTensor(new Tensor("input", activation, [1, 8, 8, 3], Act(1f / 255)));
        int padding = m.AddTensor(Tensor.FromArray("paddings", ElementType.Int32, [4, 2], new[] { 0, 0, 1, 1, 1, 1, 0, 0 }));
        int padded = m.AddTensor(new Tensor("padded", activation, [1, 10, 10, 3], Act(1f / 255)));
        m.Operators.Add(new Operator(OpKind.Pad, [input, padding], [padded], NoOptions.Instance));

        int convW = m.AddTensor(Tensor.FromArray("conv/w", ElementType.Int8, [4, 3, 3, 3],
            Enumerable.Range(0, 108).Select(i => (sbyte)(i * 7 - 50)).ToArray(),
            new QuantParams([0.01f, 0.02f, 0.03f, 0.04f], [0, 0, 0, 0], 0)));
        int convB = m.AddTensor(Bias("conv/b", biasType, 4, 11, new QuantParams([1e-4f, 2e-4f, 3e-4f, 4e-4f], [0, 0, 0, 0], 0)));
        int conv = m.AddTensor(new Tensor("conv", activation, [1, 8, 8, 4], Act(0.05f)));
        m.Operators.Add(new Operator(OpKind.Conv2D, [padded, convW, convB], [conv], new ConvOptions(Padding.Valid, 1, 1, 1, 1, Activation.Relu)));

        int dwW = m.AddTensor(Tensor.FromArray("dw/w", ElementType.Int8, [1, 3, 3, 4],
            Enumerable.Range(0, 36).Select(i => (sbyte)(100 - i * 5)).ToArray(),
            new QuantParams([0.5f, 0.25f, 0.125f, 0.0625f], [0, 0, 0, 0], 3)));
        int dwB = m.AddTensor(Bias("dw/b", biasType, 4, 22, new QuantParams([1e-3f, 2e-3f, 3e-3f, 4e-3f], [0, 0, 0, 0], 0)));
        int dw = m.AddTensor(new Tensor("dw", activation, [1, 8, 8, 4], Act(0.06f)));
        m.Operators.Add(new Operator(OpKind.DepthwiseConv2D, [conv, dwW, dwB], [dw], new DepthwiseOptions(Padding.Same, 1, 1, 1, 1, 1, Activation.Relu6)));

        int sum = m.AddTensor(new Tensor("sum", activation, [1, 8, 8, 4], Act(0.1f)));
        m.Operators.Add(new Operator(OpKind.Add, [conv, dw], [sum], new AddOptions(Activation.None)));
        int maxp = m.AddTensor(new Tensor("maxpool", activation, [1, 4, 4, 4], Act(0.1f)));
        m.Operators.Add(new Operator(OpKind.MaxPool2D, [sum], [maxp], new PoolOptions(Padding.Valid, 2, 2, 2, 2, Activation.None)));
        int avgp = m.AddTensor(new Tensor("avgpool", activation, [1, 2, 2, 4], Act(0.1f)));
        m.Operators.Add(new Operator(OpKind.AveragePool2D, [maxp], [avgp], new PoolOptions(Padding.Same, 2, 2, 2, 2, Activation.None)));
        int shape = m.AddTensor(Tensor.FromArray("shape", ElementType.Int32, [2], new[] { -1, 16 }));
        int flat = m.AddTensor(new Tensor("flat", activation, [1, 16], Act(0.1f)));
        m.Operators.Add(new Operator(OpKind.Reshape, [avgp, shape], [flat], new ReshapeOptions([-1, 16])));

        int fcW = m.AddTensor(Tensor.FromArray("fc/w", ElementType.Int8, [5, 16],
            Enumerable.Range(0, 80).Select(i => (sbyte)(i - 40)).ToArray(), QuantParams.PerTensor(0.02f, 0)));
        int fcB = m.AddTensor(Bias("fc/b", biasType, 5, 33, QuantParams.PerTensor(0.002f, 0)));
        int logits = m.AddTensor(new Tensor("logits", activation, [1, 5], Act(0.2f)));
        m.Operators.Add(new Operator(OpKind.FullyConnected, [flat, fcW, fcB], [logits], new FullyConnectedOptions(Activation.None)));
        int probs = m.AddTensor(new Tensor("probs", activation, [1, 5], int16 ? QuantParams.PerTensor(1f / 32768, 0) : QuantParams.PerTensor(1f / 256, -128)));
        m.Operators.Add(new Operator(OpKind.Softmax, [logits], [probs], new SoftmaxOptions(1f)));
        int output = m.AddTensor(new Tensor("output", ElementType.Float32, [1, 5]));
        m.Operators.Add(new Operator(OpKind.Dequantize, [probs], [output], NoOptions.Instance));
        m.Inputs = [input];
        m.Outputs = [output];
        return m;
    }

    private static Tensor Bias(string name, ElementType type, int n, int seed, QuantParams q) => type == ElementType.Int64
        ? Tensor.FromArray(name, type, [n], Enumerable.Range(0, n).Select(i => (long)i * 1_000_000_007 - seed).ToArray(), q)
        : Tensor.FromArray(name, type, [n], Enumerable.Range(0, n).Select(i => i * 100_003 - seed).ToArray(), q);
}
