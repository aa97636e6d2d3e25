using QnnLab.Model;
using IrTensor = QnnLab.Model.Tensor;

namespace QnnLab.Torch.Tests;

/// <summary>The dequantized view of an int8 graph: weights scale*(q-zp) per channel, float activations.</summary>
[TestClass]
public sealed class QuantizedViewTests
{
    private const int H = 4, W = 5, C = 2, O = 3;
    private const float OutScale = 0.02f;
    private const long OutZeroPoint = 3;

    private static (QnnModel Model, sbyte[] Wq, float[] WScales, int[] Bq) Int8Conv()
    {
        var rng = new Random(21);
        var wq = new sbyte[O * 3 * 3 * C];
        for (int i = 0; i < wq.Length; i++)
        {
            wq[i] = (sbyte)rng.Next(-127, 128);
        }
        float[] wScales = [0.004f, 0.011f, 0.0075f];
        int[] bq = [1200, -800, 50];
        const float inScale = 1f / 255f;
        var m = new QnnModel { Name = "int8conv", Preprocessing = InputPreprocessing.UnitRange };
        int input = m.AddTensor(new IrTensor("x", ElementType.Int8, [1, H, W, C], QuantParams.PerTensor(inScale, -128)));
        int weights = m.AddTensor(IrTensor.FromArray("w", ElementType.Int8, [O, 3, 3, C], wq, new QuantParams(wScales, [0, 0, 0], 0)));
        int bias = m.AddTensor(IrTensor.FromArray("b", ElementType.Int32, [O], bq,
            new QuantParams(wScales.Select(s => s * inScale).ToArray(), [0, 0, 0], 0)));
        int output = m.AddTensor(new IrTensor("y", ElementType.Int8, [1, H, W, O], QuantParams.PerTensor(OutScale, OutZeroPoint)));
        m.Operators.Add(new Operator(OpKind.Conv2D, [input, weights, bias], [output], new ConvOptions(Padding.Same, 1, 1, 1, 1, Activation.Relu)));
        m.Inputs = [input];
        m.Outputs = [output];
        return (m, wq, wScales, bq);
    }

    private static float[] Expected(float[] pixels, int n)
    {
        var (_, wq, wScales, bq) = Int8Conv();
        var w = new float[wq.Length];
        for (int i = 0; i < w.Length; i++)
        {
            w[i] = wScales[i / (9 * C)] * wq[i];
        }
        float[] bias = bq.Select((q, c) => q * wScales[c] / 255f).ToArray();
        float[] x = pixels.Select(p => p / 255f).ToArray();
        return Reference.Conv(x, n, H, W, C, w, O, 3, 3, bias, 1, 1, 1, 1, Padding.Same, Activation.Relu, out _, out _);
    }

    private static float[] WholePixels(int n) => Enumerable.Range(0, n * H * W * C).Select(i => (float)(i * 37 % 256)).ToArray();

    [TestMethod]
    public void WeightsAndBiasAreDequantizedPerChannel()
    {
        var (model, _, _, _) = Int8Conv();
        Assert.AreEqual(Precision.Int8, model.Precision);
        using var engine = new FloatEngine(model);
        Assert.IsTrue(engine.Module.IsQuantized);
        float[] pixels = WholePixels(2);
        TensorValue y = engine.Intermediates(pixels, 2, [model.Outputs[0]])[model.Outputs[0]];
        float[] expected = Expected(pixels, 2);
        Reference.AssertClose(expected, y.Data, 1e-4f, "dequantized conv");
        // Float activations: the output is not on the int8 grid.
        Assert.IsTrue(y.Data.Any(v => Math.Abs(v / OutScale - Math.Round(v / OutScale)) > 0.01), "activations stay in float");
    }

    [TestMethod]
    public void FakeQuantizationPutsActivationsOnTheGridWithStraightThroughGradient()
    {
        var (model, _, _, _) = Int8Conv();
        using var fq = new FloatEngine(model, new FloatEngineOptions { FakeQuantActivations = true });
        using var plain = new FloatEngine(model);
        float[] pixels = WholePixels(2);
        float[] expected = Expected(pixels, 2).Select(v =>
        {
            double q = Math.Clamp(Math.Round(v / OutScale, MidpointRounding.AwayFromZero) + OutZeroPoint, -128, 127);
            return (float)((q - OutZeroPoint) * OutScale);
        }).ToArray();
        float[] actual = fq.Intermediates(pixels, 2, [model.Outputs[0]])[model.Outputs[0]].Data;
        Reference.AssertClose(expected, actual, 1e-5f, "fake-quantized conv");
        Assert.IsTrue(expected.Any(v => v >= (127 - OutZeroPoint) * OutScale - 1e-6), "some outputs saturate at q=127");

        // Straight-through: fake quantization changes values, not the gradient of a linear read-out.
        GradientResult gq = fq.InputGradient(pixels, 2, logits => logits.sum());
        GradientResult gp = plain.InputGradient(pixels, 2, logits => logits.sum());
        Reference.AssertClose(gp.Gradient, gq.Gradient, 1e-5f, "STE gradient");
        Assert.IsTrue(gp.Gradient.Any(v => v != 0));
    }

    [TestMethod]
    public void FloatWriteBackRefusesQuantizedModels()
    {
        var (model, _, _, _) = Int8Conv();
        using var engine = new FloatEngine(model);
        Assert.ThrowsExactly<ModelException>(() => engine.ExportFloatModel());
    }
}
