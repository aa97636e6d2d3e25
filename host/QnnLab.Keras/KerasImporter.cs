using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using PureHDF;
using QnnLab.Model;

namespace QnnLab.Keras;

/// <summary>
/// Imports a Keras .h5 model (whole-model save: <c>model_config</c> attribute plus <c>model_weights</c>)
/// as a float <see cref="QnnModel"/> shaped as TFLite's converter would shape it: TFLite weight layouts,
/// batch norms folded into the preceding conv/depthwise/dense, ReLU/ReLU6 fused into conv/depthwise/
/// dense/add, dropout removed, flatten as reshape.
/// </summary>
public static class KerasImporter
{
    /// <summary>Loads <paramref name="path"/>; <paramref name="preprocessing"/> says how pixels become the model's input (default pixels/255).</summary>
    public static QnnModel Load(string path, InputPreprocessing? preprocessing = null)
    {
        if (!File.Exists(path))
        {
            throw new ModelException($"{path}: file not found");
        }
        string json;
        List<KerasLayer> layers;
        List<string> outputs;
        string modelName;
        var nodes = new Dictionary<string, GraphNode>();
        try
        {
            Hdf5Superblock.CheckNotTruncated(path);
            using var file = H5File.OpenRead(path);
            if (!file.AttributeExists("model_config"))
            {
                throw new ModelException($"{path}: no 'model_config' attribute (a weights-only file? save the whole model with model.save)");
            }
            json = file.Attribute("model_config").Read<string>();
            (layers, outputs, modelName) = KerasConfig.Parse(json, path);
            if (!file.LinkExists("model_weights"))
            {
                throw new ModelException($"{path}: no 'model_weights' group (Keras 3 .keras/.h5 weight layouts are not supported)");
            }
            IH5Group weights = file.Group("model_weights");
            foreach (KerasLayer layer in layers)
            {
                var builder = new LayerBuilder(path, layer, nodes, weights);
                builder.Build();
            }
        }
        catch (ModelException)
        {
            throw;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw new ModelException($"{path}: not a readable Keras HDF5 model ({ex.GetType().Name}: {ex.Message})", ex);
        }

        List<GraphNode> outputNodes = outputs.Select(o => nodes.TryGetValue(o, out GraphNode? n) ? n
            : throw new ModelException($"{path}: output layer '{o}' not found")).ToList();
        var graph = new GraphRewriter(path, outputNodes);
        graph.Run();
        QnnModel model = graph.Emit(modelName);
        model.Preprocessing = preprocessing ?? InputPreprocessing.UnitRange;
        return model;
    }

    /// <summary>Turns one Keras layer into graph nodes (registering its output under the layer's name).</summary>
    private sealed class LayerBuilder(string file, KerasLayer layer, Dictionary<string, GraphNode> nodes, IH5Group weights)
    {
        private JsonObject Cfg => layer.Config;

        public void Build()
        {
            List<GraphNode> inputs = layer.Inbound.Select(i => nodes[i]).ToList();
            GraphNode result = layer.ClassName switch
            {
                "InputLayer" => Input(),
                "Conv2D" => Conv(Single(inputs), depthwise: false),
                "DepthwiseConv2D" => Conv(Single(inputs), depthwise: true),
                "Dense" => Dense(Single(inputs)),
                "BatchNormalization" => BatchNorm(Single(inputs)),
                "Activation" => ActivationLayer(Single(inputs), Str("activation")),
                "ReLU" => Relu(Single(inputs)),
                "Softmax" => SoftmaxLayer(Single(inputs)),
                "Add" => AddLayer(inputs),
                "AveragePooling2D" => Pool(Single(inputs), NodeKind.AvgPool),
                "MaxPooling2D" => Pool(Single(inputs), NodeKind.MaxPool),
                "GlobalAveragePooling2D" => GlobalAvgPool(Single(inputs)),
                "Flatten" => Reshape(Single(inputs), [1, Single(inputs).Shape.Skip(1).Aggregate(1, (a, b) => a * b)]),
                "Reshape" => Reshape(Single(inputs), [1, .. Cfg["target_shape"]!.AsArray().Select(x => x!.GetValue<int>())]),
                "ZeroPadding2D" => ZeroPad(Single(inputs)),
                "Dropout" or "SpatialDropout2D" or "GaussianNoise" or "GaussianDropout" or "ActivityRegularization"
                    => Identity(Single(inputs)),
                _ => throw Unsupported($"layer class '{layer.ClassName}' is not supported"),
            };
            nodes[layer.Name] = result;
        }

        private ModelException Unsupported(string why) => new($"{file}: layer '{layer.Name}' ({layer.ClassName}): {why}");

        private GraphNode Single(List<GraphNode> inputs)
            => inputs.Count == 1 ? inputs[0] : throw Unsupported($"expected one input, got {inputs.Count}");

        private string Str(string key) => Cfg[key]?.GetValue<string>() ?? throw Unsupported($"config has no '{key}'");

        private int[] Pair(string key, int[]? fallback = null)
        {
            JsonNode? n = Cfg[key];
            if (n is null)
            {
                return fallback ?? throw Unsupported($"config has no '{key}'");
            }
            if (n is JsonArray a)
            {
                return a.Select(x => x!.GetValue<int>()).ToArray();
            }
            int v = n.GetValue<int>();
            return [v, v];
        }

        private void RequireChannelsLast()
        {
            string? df = Cfg["data_format"]?.GetValue<string>();
            if (df is not null && df != "channels_last")
            {
                throw Unsupported($"data_format '{df}' is not supported (only channels_last)");
            }
        }

        private GraphNode New(NodeKind kind, params GraphNode[] inputs)
        {
            var n = new GraphNode(layer.Name, kind, layer.ClassName);
            n.Inputs.AddRange(inputs);
            return n;
        }

        private Dictionary<string, (float[] Data, int[] Shape)> ReadWeights()
        {
            var result = new Dictionary<string, (float[], int[])>();
            if (!weights.LinkExists(layer.Name))
            {
                throw Unsupported("no weights group in model_weights");
            }
            IH5Group g = weights.Group(layer.Name);
            string[] names = g.AttributeExists("weight_names") ? g.Attribute("weight_names").Read<string[]>() : [];
            foreach (string wn in names)
            {
                IH5Dataset ds = g.Dataset(wn);
                int[] shape = ds.Space.Dimensions.Select(d => checked((int)d)).ToArray();
                float[] data = ds.Read<float[]>();
                // "conv2d/kernel:0" -> "kernel"
                string key = wn[(wn.LastIndexOf('/') + 1)..];
                int colon = key.IndexOf(':');
                result[colon >= 0 ? key[..colon] : key] = (data, shape);
            }
            return result;
        }

        private static (float[], int[]) Need(Dictionary<string, (float[], int[])> w, string key, KerasLayer l, string f)
            => w.TryGetValue(key, out (float[], int[]) v) ? v
                : throw new ModelException($"{f}: layer '{l.Name}' ({l.ClassName}): weight '{key}' missing (has {string.Join(", ", w.Keys)})");

        private GraphNode Input()
        {
            JsonNode shapeNode = Cfg["batch_input_shape"] ?? Cfg["batch_shape"] ?? throw Unsupported("no batch_input_shape");
            int[] dims = shapeNode.AsArray().Skip(1).Select(x => x?.GetValue<int>() ?? throw Unsupported("input has an unknown (None) spatial dimension")).ToArray();
            return new GraphNode(layer.Name, NodeKind.Input, layer.ClassName) { Shape = [1, .. dims] };
        }

        private GraphNode Conv(GraphNode input, bool depthwise)
        {
            RequireChannelsLast();
            if (input.Shape.Length != 4)
            {
                throw Unsupported($"input shape [{string.Join(",", input.Shape)}] is not NHWC");
            }
            if (Cfg["groups"] is JsonNode gr && gr.GetValue<int>() != 1)
            {
                throw Unsupported("grouped convolution is not supported");
            }
            int[] k = Pair("kernel_size");
            int[] s = Pair("strides", [1, 1]);
            int[] d = Pair("dilation_rate", [1, 1]);
            Padding pad = ParsePadding(Str("padding"));
            if ((s[0] > 1 || s[1] > 1) && (d[0] > 1 || d[1] > 1))
            {
                throw Unsupported("strides > 1 together with dilation > 1");
            }
            bool useBias = Cfg["use_bias"]?.GetValue<bool>() ?? true;
            Dictionary<string, (float[] Data, int[] Shape)> w = ReadWeights();
            int cin = input.Channels;
            GraphNode n = New(depthwise ? NodeKind.Depthwise : NodeKind.Conv, input);
            int cout;
            if (depthwise)
            {
                int mult = Cfg["depth_multiplier"]?.GetValue<int>() ?? 1;
                (float[] kernel, int[] ks) = Need(w, "depthwise_kernel", layer, file);
                ExpectShape(ks, [k[0], k[1], cin, mult], "depthwise_kernel");
                cout = cin * mult;
                // Keras [kh, kw, C, M] and TFLite [1, kh, kw, C*M] are the same bytes: output channel c*M+m.
                n.Weights = kernel;
                n.WeightShape = [1, k[0], k[1], cout];
                n.Options = new DepthwiseOptions(pad, s[0], s[1], d[0], d[1], mult, Activation.None);
            }
            else
            {
                (float[] kernel, int[] ks) = Need(w, "kernel", layer, file);
                cout = Cfg["filters"]!.GetValue<int>();
                ExpectShape(ks, [k[0], k[1], cin, cout], "kernel");
                n.Weights = HwioToOhwi(kernel, k[0], k[1], cin, cout);
                n.WeightShape = [cout, k[0], k[1], cin];
                n.Options = new ConvOptions(pad, s[0], s[1], d[0], d[1], Activation.None);
            }
            n.Bias = useBias ? BiasOf(w, cout) : new float[cout];
            n.Shape = [1, OutSize(input.Shape[1], k[0], s[0], d[0], pad), OutSize(input.Shape[2], k[1], s[1], d[1], pad), cout];
            return WithActivation(n);
        }

        private GraphNode Dense(GraphNode input)
        {
            if (input.Shape.Length != 2)
            {
                throw Unsupported($"Dense on a rank-{input.Shape.Length} input [{string.Join(",", input.Shape)}] is not supported (flatten first)");
            }
            int units = Cfg["units"]!.GetValue<int>();
            int cin = input.Shape[1];
            Dictionary<string, (float[] Data, int[] Shape)> w = ReadWeights();
            (float[] kernel, int[] ks) = Need(w, "kernel", layer, file);
            ExpectShape(ks, [cin, units], "kernel");
            GraphNode n = New(NodeKind.Dense, input);
            // Keras [in, out] -> TFLite [out, in].
            var t = new float[kernel.Length];
            for (int i = 0; i < cin; i++)
            {
                for (int o = 0; o < units; o++)
                {
                    t[o * cin + i] = kernel[i * units + o];
                }
            }
            n.Weights = t;
            n.WeightShape = [units, cin];
            n.Bias = (Cfg["use_bias"]?.GetValue<bool>() ?? true) ? BiasOf(w, units) : new float[units];
            n.Options = new FullyConnectedOptions(Activation.None);
            n.Shape = [1, units];
            return WithActivation(n);
        }

        private float[] BiasOf(Dictionary<string, (float[] Data, int[] Shape)> w, int n)
        {
            (float[] bias, int[] bs) = Need(w, "bias", layer, file);
            ExpectShape(bs, [n], "bias");
            return bias;
        }

        private void ExpectShape(int[] actual, int[] expected, string what)
        {
            if (!actual.SequenceEqual(expected))
            {
                throw Unsupported($"{what} has shape [{string.Join(",", actual)}], expected [{string.Join(",", expected)}]");
            }
        }

        /// <summary>The activation in a Conv/Dense config becomes a separate node that the rewriter fuses back.</summary>
        private GraphNode WithActivation(GraphNode n)
        {
            string act = Cfg["activation"]?.GetValue<string>() ?? "linear";
            if (act == "linear")
            {
                return n;
            }
            GraphNode a = ActivationNode(n, act);
            return a;
        }

        private GraphNode ActivationNode(GraphNode input, string act)
        {
            GraphNode n = New(act == "softmax" ? NodeKind.Softmax : NodeKind.Act, input);
            n.Shape = input.Shape;
            switch (act)
            {
                case "relu":
                    n.ActivationToFuse = Activation.Relu;
                    break;
                case "relu6":
                    n.ActivationToFuse = Activation.Relu6;
                    break;
                case "softmax":
                    n.Options = new SoftmaxOptions(1f);
                    break;
                case "linear":
                    n.Kind = NodeKind.Identity;
                    break;
                default:
                    throw Unsupported($"activation '{act}' is not supported (relu, relu6, softmax, linear)");
            }
            return n;
        }

        private GraphNode ActivationLayer(GraphNode input, string act) => ActivationNode(input, act);

        private GraphNode Relu(GraphNode input)
        {
            double? max = Cfg["max_value"]?.GetValue<double>();
            double slope = Cfg["negative_slope"]?.GetValue<double>() ?? 0;
            double threshold = Cfg["threshold"]?.GetValue<double>() ?? 0;
            if (slope != 0 || threshold != 0 || (max is not null && max != 6.0))
            {
                throw Unsupported($"ReLU with max_value={max}, negative_slope={slope}, threshold={threshold} is not supported (only plain ReLU and ReLU6)");
            }
            return ActivationNode(input, max is null ? "relu" : "relu6");
        }

        private GraphNode SoftmaxLayer(GraphNode input)
        {
            JsonNode? axis = Cfg["axis"];
            int ax = axis is JsonArray a ? a[0]!.GetValue<int>() : axis?.GetValue<int>() ?? -1;
            if (ax != -1 && ax != input.Shape.Length - 1)
            {
                throw Unsupported($"softmax over axis {ax} is not supported (only the last axis)");
            }
            return ActivationNode(input, "softmax");
        }

        private GraphNode BatchNorm(GraphNode input)
        {
            JsonNode? axisNode = Cfg["axis"];
            int axis = axisNode is JsonArray arr ? (arr.Count == 1 ? arr[0]!.GetValue<int>() : int.MinValue) : axisNode?.GetValue<int>() ?? -1;
            if (axis != -1 && axis != input.Shape.Length - 1)
            {
                throw Unsupported($"batch normalisation over axis {axisNode?.ToJsonString()} is not supported (only the channel/last axis)");
            }
            int c = input.Channels;
            Dictionary<string, (float[] Data, int[] Shape)> w = ReadWeights();
            bool scale = Cfg["scale"]?.GetValue<bool>() ?? true;
            bool center = Cfg["center"]?.GetValue<bool>() ?? true;
            GraphNode n = New(NodeKind.BatchNorm, input);
            n.Shape = input.Shape;
            n.Gamma = scale ? Need(w, "gamma", layer, file).Item1 : Enumerable.Repeat(1f, c).ToArray();
            n.Beta = center ? Need(w, "beta", layer, file).Item1 : new float[c];
            n.Mean = Need(w, "moving_mean", layer, file).Item1;
            n.Variance = Need(w, "moving_variance", layer, file).Item1;
            n.Epsilon = (float)(Cfg["epsilon"]?.GetValue<double>() ?? 1e-3);
            if (n.Gamma.Length != c || n.Beta.Length != c || n.Mean.Length != c || n.Variance.Length != c)
            {
                throw Unsupported($"parameters do not have {c} channels");
            }
            return n;
        }

        private GraphNode AddLayer(List<GraphNode> inputs)
        {
            if (inputs.Count < 2)
            {
                throw Unsupported("Add needs at least two inputs");
            }
            foreach (GraphNode i in inputs)
            {
                if (!i.Shape.SequenceEqual(inputs[0].Shape))
                {
                    throw Unsupported($"inputs have different shapes [{string.Join(",", inputs[0].Shape)}] and [{string.Join(",", i.Shape)}] (broadcasting is not supported)");
                }
            }
            // TFLite ADD is binary: chain extra inputs.
            GraphNode acc = New(NodeKind.Add, inputs[0], inputs[1]);
            acc.Shape = inputs[0].Shape;
            acc.Options = new AddOptions(Activation.None);
            for (int i = 2; i < inputs.Count; i++)
            {
                GraphNode next = New(NodeKind.Add, acc, inputs[i]);
                next.Shape = acc.Shape;
                next.Options = new AddOptions(Activation.None);
                acc = next;
            }
            return acc;
        }

        private GraphNode Pool(GraphNode input, NodeKind kind)
        {
            RequireChannelsLast();
            int[] p = Pair("pool_size", [2, 2]);
            int[] s = Cfg["strides"] is null ? p : Pair("strides");
            Padding pad = ParsePadding(Str("padding"));
            GraphNode n = New(kind, input);
            n.Options = new PoolOptions(pad, s[0], s[1], p[0], p[1], Activation.None);
            n.Shape = [1, OutSize(input.Shape[1], p[0], s[0], 1, pad), OutSize(input.Shape[2], p[1], s[1], 1, pad), input.Channels];
            return n;
        }

        private GraphNode GlobalAvgPool(GraphNode input)
        {
            RequireChannelsLast();
            int h = input.Shape[1], w = input.Shape[2];
            GraphNode pool = New(NodeKind.AvgPool, input);
            pool.Options = new PoolOptions(Padding.Valid, h, w, h, w, Activation.None);
            pool.Shape = [1, 1, 1, input.Channels];
            if (Cfg["keepdims"]?.GetValue<bool>() == true)
            {
                return pool;
            }
            return Reshape(pool, [1, input.Channels]);
        }

        private GraphNode Reshape(GraphNode input, int[] shape)
        {
            int n = input.Shape.Aggregate(1, (a, b) => a * b);
            int known = shape.Where(d => d != -1).Aggregate(1, (a, b) => a * b);
            int[] resolved = shape.Select(d => d == -1 ? n / known : d).ToArray();
            if (resolved.Aggregate(1, (a, b) => a * b) != n)
            {
                throw Unsupported($"cannot reshape [{string.Join(",", input.Shape)}] to [{string.Join(",", shape)}]");
            }
            GraphNode r = New(NodeKind.Reshape, input);
            r.Shape = resolved;
            r.Options = new ReshapeOptions(resolved);
            return r;
        }

        private GraphNode ZeroPad(GraphNode input)
        {
            JsonNode p = Cfg["padding"]!;
            int top, bottom, left, right;
            if (p is JsonArray a && a[0] is JsonArray)
            {
                (top, bottom) = (a[0]![0]!.GetValue<int>(), a[0]![1]!.GetValue<int>());
                (left, right) = (a[1]![0]!.GetValue<int>(), a[1]![1]!.GetValue<int>());
            }
            else
            {
                int[] hw = Pair("padding");
                (top, bottom, left, right) = (hw[0], hw[0], hw[1], hw[1]);
            }
            GraphNode n = New(NodeKind.Pad, input);
            n.Padding = [top, bottom, left, right];
            n.Shape = [1, input.Shape[1] + top + bottom, input.Shape[2] + left + right, input.Channels];
            return n;
        }

        private GraphNode Identity(GraphNode input)
        {
            GraphNode n = New(NodeKind.Identity, input);
            n.Shape = input.Shape;
            return n;
        }

        private Padding ParsePadding(string p) => p switch
        {
            "same" => Padding.Same,
            "valid" => Padding.Valid,
            _ => throw Unsupported($"padding '{p}' is not supported"),
        };

        private static int OutSize(int input, int kernel, int stride, int dilation, Padding pad)
        {
            int effective = (kernel - 1) * dilation + 1;
            return pad == Padding.Same ? (input + stride - 1) / stride : (input - effective + stride) / stride;
        }

        private static float[] HwioToOhwi(float[] k, int kh, int kw, int cin, int cout)
        {
            var r = new float[k.Length];
            for (int y = 0; y < kh; y++)
            {
                for (int x = 0; x < kw; x++)
                {
                    for (int i = 0; i < cin; i++)
                    {
                        for (int o = 0; o < cout; o++)
                        {
                            r[((o * kh + y) * kw + x) * cin + i] = k[((y * kw + x) * cin + i) * cout + o];
                        }
                    }
                }
            }
            return r;
        }
    }

    internal static byte[] Bytes(float[] v) => MemoryMarshal.AsBytes(v.AsSpan()).ToArray();
}
