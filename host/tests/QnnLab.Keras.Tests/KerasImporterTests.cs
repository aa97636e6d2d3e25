using System.Text.Json.Nodes;
using QnnLab.Model;
using QnnLab.TestSupport;

namespace QnnLab.Keras.Tests;

[TestClass]
public sealed class KerasImporterTests
{
    private static JsonObject ConvCfg(int filters, int k, string padding = "same", string activation = "linear", int stride = 1) => new()
    {
        ["filters"] = filters,
        ["kernel_size"] = new JsonArray { k, k },
        ["strides"] = new JsonArray { stride, stride },
        ["padding"] = padding,
        ["activation"] = activation,
        ["use_bias"] = true,
        ["dilation_rate"] = new JsonArray { 1, 1 },
        ["data_format"] = "channels_last",
    };

    private static JsonObject BnCfg() => new() { ["axis"] = new JsonArray { 3 }, ["epsilon"] = 0.001, ["center"] = true, ["scale"] = true };

    private static float[] Seq(int n, float scale, float offset) => Enumerable.Range(0, n).Select(i => MathF.Sin(i * 1.7f + offset) * scale).ToArray();

    [TestMethod]
    public void ConvBatchNormReluDense_FoldsAndTransposesAsTfliteDoes()
    {
        // conv 3x3 (2 -> 3 channels) + BN + relu, flatten, dense 4 with softmax.
        const int kh = 3, kw = 3, cin = 2, cout = 3, units = 4;
        float[] kernel = Seq(kh * kw * cin * cout, 0.5f, 0.1f); // HWIO
        float[] bias = [0.1f, -0.2f, 0.3f];
        float[] gamma = [1.5f, 0.5f, -2f], beta = [0.01f, 0.02f, -0.03f], mean = [0.2f, -0.1f, 0.4f], variance = [0.9f, 1.1f, 0.25f];
        int flat = 4 * 4 * cout;
        float[] dense = Seq(flat * units, 0.3f, 2f); // [in, out]
        float[] denseBias = [0.5f, -0.5f, 0.25f, 0f];

        string dir = TestData.TempDir();
        string path = new TinyH5()
            .Input("in", 4, 4, cin)
            .Layer("Conv2D", "conv", ConvCfg(cout, 3), ["in"], ("kernel", Reshape4(kernel, kh, kw, cin, cout)), ("bias", bias))
            .Layer("BatchNormalization", "bn", BnCfg(), ["conv"], ("gamma", gamma), ("beta", beta), ("moving_mean", mean), ("moving_variance", variance))
            .Layer("Activation", "act", new JsonObject { ["activation"] = "relu" }, ["bn"])
            .Layer("Flatten", "flat", new JsonObject(), ["act"])
            .Layer("Dropout", "drop", new JsonObject { ["rate"] = 0.5 }, ["flat"])
            .Layer("Dense", "dense", new JsonObject { ["units"] = units, ["activation"] = "softmax", ["use_bias"] = true }, ["drop"],
                ("kernel", Reshape2(dense, flat, units)), ("bias", denseBias))
            .Write(dir, "dense");

        QnnModel m = KerasImporter.Load(path);

        CollectionAssert.AreEqual(new[] { OpKind.Conv2D, OpKind.Reshape, OpKind.FullyConnected, OpKind.Softmax }, m.Operators.Select(o => o.Kind).ToArray());
        CollectionAssert.AreEqual(new[] { 1, 4, 4, cin }, m.InputTensor.Shape);
        CollectionAssert.AreEqual(new[] { 1, units }, m.OutputTensor.Shape);
        Operator conv = m.Operators[0];
        Assert.AreEqual(Activation.Relu, conv.OptionsAs<ConvOptions>().Activation);
        Tensor w = m.Tensors[conv.Inputs[1]];
        CollectionAssert.AreEqual(new[] { cout, kh, kw, cin }, w.Shape);
        ReadOnlySpan<float> wf = w.DataAs<float>();
        ReadOnlySpan<float> bf = m.Tensors[conv.Inputs[2]].DataAs<float>();
        for (int o = 0; o < cout; o++)
        {
            // Independent derivation in double: w' = w * g / sqrt(v + eps), b' = (b - mean) * g / sqrt(v + eps) + beta.
            double k = gamma[o] / Math.Sqrt(variance[o] + 0.001);
            Assert.AreEqual((bias[o] - mean[o]) * k + beta[o], bf[o], 1e-6, $"bias {o}");
            for (int y = 0; y < kh; y++)
            {
                for (int x = 0; x < kw; x++)
                {
                    for (int i = 0; i < cin; i++)
                    {
                        double expected = kernel[((y * kw + x) * cin + i) * cout + o] * k;
                        Assert.AreEqual(expected, wf[((o * kh + y) * kw + x) * cin + i], 1e-6, $"w[{o},{y},{x},{i}]");
                    }
                }
            }
        }
        Operator fc = m.Operators[2];
        Tensor dw = m.Tensors[fc.Inputs[1]];
        CollectionAssert.AreEqual(new[] { units, flat }, dw.Shape);
        ReadOnlySpan<float> df = dw.DataAs<float>();
        for (int i = 0; i < flat; i++)
        {
            for (int o = 0; o < units; o++)
            {
                Assert.AreEqual(dense[i * units + o], df[o * flat + i], $"dense[{i},{o}]");
            }
        }
        CollectionAssert.AreEqual(new[] { 1, flat }, m.Tensors[m.Operators[1].Outputs[0]].Shape);
    }

    [TestMethod]
    public void DepthwiseKernelBecomesOneHwcAndFoldsPerOutputChannel()
    {
        const int c = 2, mult = 2;
        float[] kernel = Seq(3 * 3 * c * mult, 1f, 0.3f); // [kh, kw, C, M]
        float[] bias = [0.1f, 0.2f, 0.3f, 0.4f];
        float[] gamma = [2f, 1f, 0.5f, -1f], beta = [0f, 1f, 0f, -1f], mean = [0f, 0f, 1f, 1f], variance = [1f, 4f, 0.25f, 1f];
        string dir = TestData.TempDir();
        var cfg = ConvCfg(0, 3, padding: "valid", activation: "relu6", stride: 2);
        cfg.Remove("filters");
        cfg["depth_multiplier"] = mult;
        string path = new TinyH5()
            .Input("in", 7, 7, c)
            .Layer("DepthwiseConv2D", "dw", cfg, ["in"], ("depthwise_kernel", Reshape4(kernel, 3, 3, c, mult)), ("bias", bias))
            .Layer("BatchNormalization", "bn", BnCfg(), ["dw"], ("gamma", gamma), ("beta", beta), ("moving_mean", mean), ("moving_variance", variance))
            .Write(dir, "bn");
        // relu6 in the depthwise config comes before the BN in Keras: that BN cannot be folded and must be refused.
        ModelException ex = Assert.ThrowsExactly<ModelException>(() => KerasImporter.Load(path));
        StringAssert.Contains(ex.Message, "'bn'");

        cfg["activation"] = "linear";
        path = new TinyH5()
            .Input("in", 7, 7, c)
            .Layer("DepthwiseConv2D", "dw", cfg, ["in"], ("depthwise_kernel", Reshape4(kernel, 3, 3, c, mult)), ("bias", bias))
            .Layer("BatchNormalization", "bn", BnCfg(), ["dw"], ("gamma", gamma), ("beta", beta), ("moving_mean", mean), ("moving_variance", variance))
            .Layer("ReLU", "relu", new JsonObject { ["max_value"] = 6.0, ["negative_slope"] = 0.0, ["threshold"] = 0.0 }, ["bn"])
            .Write(dir, "relu", "ok.h5");
        QnnModel m = KerasImporter.Load(path);
        Operator op = m.Operators.Single();
        DepthwiseOptions o = op.OptionsAs<DepthwiseOptions>();
        Assert.AreEqual((Padding.Valid, 2, 2, mult, Activation.Relu6), (o.Padding, o.StrideH, o.StrideW, o.DepthMultiplier, o.Activation));
        CollectionAssert.AreEqual(new[] { 1, 3, 3, c * mult }, m.OutputTensor.Shape);
        Tensor w = m.Tensors[op.Inputs[1]];
        CollectionAssert.AreEqual(new[] { 1, 3, 3, c * mult }, w.Shape);
        ReadOnlySpan<float> wf = w.DataAs<float>();
        for (int y = 0; y < 3; y++)
        {
            for (int x = 0; x < 3; x++)
            {
                for (int ch = 0; ch < c; ch++)
                {
                    for (int mm = 0; mm < mult; mm++)
                    {
                        int oc = ch * mult + mm;
                        double k = gamma[oc] / Math.Sqrt(variance[oc] + 0.001);
                        Assert.AreEqual(kernel[((y * 3 + x) * c + ch) * mult + mm] * k, wf[(y * 3 + x) * c * mult + oc], 1e-6);
                    }
                }
            }
        }
    }

    [TestMethod]
    public void BatchNormAfterAddIsRefusedNamingTheLayer()
    {
        string dir = TestData.TempDir();
        float[] k = Seq(4, 1f, 0f);
        string path = new TinyH5()
            .Input("in", 2, 2, 1)
            .Layer("Conv2D", "c1", ConvCfg(1, 1), ["in"], ("kernel", Reshape4(k[..1], 1, 1, 1, 1)), ("bias", new[] { 0f }))
            .Layer("Add", "add", new JsonObject(), ["in", "c1"])
            .Layer("BatchNormalization", "bn_after_add", BnCfg(), ["add"], ("gamma", new[] { 1f }), ("beta", new[] { 0f }), ("moving_mean", new[] { 0f }), ("moving_variance", new[] { 1f }))
            .Write(dir, "bn_after_add");
        ModelException ex = Assert.ThrowsExactly<ModelException>(() => KerasImporter.Load(path));
        StringAssert.Contains(ex.Message, "bn_after_add");
        StringAssert.Contains(ex.Message, path);
    }

    [TestMethod]
    public void UnsupportedLayerNamesFileLayerAndClass()
    {
        string dir = TestData.TempDir();
        string path = new TinyH5()
            .Input("in", 4, 4, 1)
            .Layer("UpSampling2D", "up", new JsonObject { ["size"] = new JsonArray { 2, 2 } }, ["in"])
            .Write(dir, "up");
        ModelException ex = Assert.ThrowsExactly<ModelException>(() => KerasImporter.Load(path));
        StringAssert.Contains(ex.Message, path);
        StringAssert.Contains(ex.Message, "'up'");
        StringAssert.Contains(ex.Message, "UpSampling2D");
    }

    [TestMethod]
    public void TruncatedFileGivesModelExceptionNamingTheFile()
    {
        string src = TestData.Require("paper-models/vanilla/cifar_resnet_float.h5");
        string dir = TestData.TempDir();
        string truncated = Path.Combine(dir, "truncated.h5");
        byte[] bytes = File.ReadAllBytes(src);
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 3)]);
        ModelException ex = Assert.ThrowsExactly<ModelException>(() => KerasImporter.Load(truncated));
        StringAssert.Contains(ex.Message, truncated);

        string garbage = Path.Combine(dir, "garbage.h5");
        File.WriteAllText(garbage, "this is not an HDF5 file at all");
        ex = Assert.ThrowsExactly<ModelException>(() => KerasImporter.Load(garbage));
        StringAssert.Contains(ex.Message, garbage);
    }

    public static IEnumerable<object[]> SharedModels =>
    [
        ["paper-models/vanilla/cifar_resnet_float.h5", 32, 10],
        ["paper-models/vanilla/vww_float.h5", 96, 2],
        ["paper-models/vanilla/coffee_cnn_float.h5", 224, 4],
        ["paper-models/vanilla/coffee_binary_cnn_float32.h5", 224, 0],
        ["paper-models/defense-enhanced/cifar_adv_train_float.h5", 32, 10],
        ["paper-models/defense-enhanced/cifar_distil_float.h5", 32, 10],
        ["paper-models/defense-enhanced/cifar_ens_adv_float.h5", 32, 10],
        ["paper-models/defense-enhanced/cifar_sat_float.h5", 32, 10],
        ["paper-models/defense-enhanced/vww_adv_train_float.h5", 96, 2],
        ["paper-models/defense-enhanced/vww_distil_float.h5", 96, 2],
        ["paper-models/defense-enhanced/vww_ens_adv_float.h5", 96, 2],
        ["paper-models/defense-enhanced/vww_sat_float.h5", 96, 2],
        ["paper-models/defense-enhanced/coffee_adv_train_float.h5", 224, 4],
        ["paper-models/defense-enhanced/coffee_distil_float.h5", 224, 4],
        ["paper-models/defense-enhanced/coffee_ens_adv_float.h5", 224, 4],
        ["paper-models/defense-enhanced/coffee_sat_float.h5", 224, 4],
        ["paper-models/ensemble-helpers/cifar_cnn.h5", 32, 10],
        ["paper-models/ensemble-helpers/cifar_mobilenet_v1.h5", 32, 10],
        ["paper-models/ensemble-helpers/coffee_mobilenet_v1.h5", 224, 4],
        ["paper-models/ensemble-helpers/coffee_resnet_eembc.h5", 224, 4],
        ["paper-models/ensemble-helpers/vww_resnet_eembc.h5", 96, 2],
        ["mlperf-tiny/models/ic/pretrainedResnet.h5", 32, 10],
        ["mlperf-tiny/models/vww/vww_96.h5", 96, 2],
    ];

    [TestMethod]
    [DynamicData(nameof(SharedModels))]
    public void SharedModelLoadsWithTfliteShapes(string relative, int size, int classes)
    {
        string path = TestData.Require(relative);
        QnnModel m = KerasImporter.Load(path);
        CollectionAssert.AreEqual(new[] { 1, size, size, 3 }, m.InputTensor.Shape);
        Assert.AreEqual(2, m.OutputTensor.Shape.Length);
        if (classes > 0)
        {
            Assert.AreEqual(classes, m.OutputTensor.Shape[1]);
        }
        Assert.AreEqual(OpKind.Softmax, m.Operators[^1].Kind, "classifiers end in softmax");
        // Every operator's output shape follows from its input (checked via the conv/FC weight shapes).
        foreach (Operator op in m.Operators)
        {
            Tensor input = m.Tensors[op.Inputs[0]];
            Tensor output = m.Tensors[op.Outputs[0]];
            switch (op.Kind)
            {
                case OpKind.Conv2D:
                    Assert.AreEqual(input.Shape[3], m.Tensors[op.Inputs[1]].Shape[3], $"{op} input channels");
                    Assert.AreEqual(output.Shape[3], m.Tensors[op.Inputs[1]].Shape[0], $"{op} output channels");
                    break;
                case OpKind.DepthwiseConv2D:
                    Assert.AreEqual(output.Shape[3], m.Tensors[op.Inputs[1]].Shape[3], $"{op} channels");
                    break;
                case OpKind.FullyConnected:
                    Assert.AreEqual(input.ElementCount, m.Tensors[op.Inputs[1]].Shape[1], $"{op} input size");
                    Assert.AreEqual(output.Shape[1], m.Tensors[op.Inputs[1]].Shape[0], $"{op} output size");
                    break;
                case OpKind.Add:
                    CollectionAssert.AreEqual(input.Shape, m.Tensors[op.Inputs[1]].Shape);
                    break;
            }
            Assert.IsTrue(input.ElementCount > 0, $"{op} has an empty input");
        }
    }

    [TestMethod]
    public void CifarResnetHasTheTfliteOperatorSequence()
    {
        QnnModel m = KerasImporter.Load(TestData.Require("paper-models/vanilla/cifar_resnet_float.h5"));
        var kinds = m.Operators.GroupBy(o => o.Kind).ToDictionary(g => g.Key, g => g.Count());
        Assert.AreEqual(9, kinds[OpKind.Conv2D]);
        Assert.AreEqual(3, kinds[OpKind.Add]);
        Assert.AreEqual(1, kinds[OpKind.AveragePool2D]);
        Assert.AreEqual(1, kinds[OpKind.Reshape]);
        Assert.AreEqual(1, kinds[OpKind.FullyConnected]);
        Assert.AreEqual(1, kinds[OpKind.Softmax]);
        Assert.AreEqual(16, m.Operators.Count);
        // The three residual adds carry the ReLU that follows them; shortcut 1x1 convs have none.
        Assert.IsTrue(m.Operators.Where(o => o.Kind == OpKind.Add).All(o => o.OptionsAs<AddOptions>().Activation == Activation.Relu));
        int[] stride2 = m.Operators.Where(o => o.Kind == OpKind.Conv2D && o.OptionsAs<ConvOptions>().StrideH == 2)
            .Select(o => m.Tensors[o.Outputs[0]].Shape[1]).ToArray();
        CollectionAssert.AreEquivalent(new[] { 16, 16, 8, 8 }, stride2);
    }

    private static float[,,,] Reshape4(float[] v, int a, int b, int c, int d)
    {
        var r = new float[a, b, c, d];
        Buffer.BlockCopy(v, 0, r, 0, v.Length * 4);
        return r;
    }

    private static float[,] Reshape2(float[] v, int a, int b)
    {
        var r = new float[a, b];
        Buffer.BlockCopy(v, 0, r, 0, v.Length * 4);
        return r;
    }
}
