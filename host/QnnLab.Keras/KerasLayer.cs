using System.Text.Json.Nodes;
using QnnLab.Model;

namespace QnnLab.Keras;

/// <summary>One layer of a Keras model config: its class, its config object and the layers it reads.</summary>
internal sealed record KerasLayer(string Name, string ClassName, JsonObject Config, IReadOnlyList<string> Inbound);

/// <summary>
/// Parses the <c>model_config</c> JSON of a Keras .h5 file (Functional/Model/Sequential, Keras 2 and
/// Keras 3 inbound-node formats) into layers in a topological order.
/// </summary>
internal static class KerasConfig
{
    public static (List<KerasLayer> Layers, List<string> Outputs, string ModelName) Parse(string json, string file)
    {
        JsonNode root = JsonNode.Parse(json) ?? throw new ModelException($"{file}: empty model_config");
        string cls = root["class_name"]?.GetValue<string>() ?? throw new ModelException($"{file}: model_config has no class_name");
        JsonNode? config = root["config"];
        string modelName = config?["name"]?.GetValue<string>() ?? Path.GetFileNameWithoutExtension(file);
        return cls switch
        {
            "Functional" or "Model" => ParseFunctional(config!, file, modelName),
            "Sequential" => ParseSequential(config!, file, modelName),
            _ => throw new ModelException($"{file}: model class '{cls}' is not supported (expected Functional, Model or Sequential)"),
        };
    }

    private static (List<KerasLayer>, List<string>, string) ParseFunctional(JsonNode config, string file, string modelName)
    {
        var layers = new List<KerasLayer>();
        foreach (JsonNode? l in config["layers"]?.AsArray() ?? throw new ModelException($"{file}: model_config has no layers"))
        {
            string name = l!["name"]?.GetValue<string>() ?? l["config"]!["name"]!.GetValue<string>();
            string cls = l["class_name"]!.GetValue<string>();
            JsonArray nodes = l["inbound_nodes"]?.AsArray() ?? [];
            if (nodes.Count > 1)
            {
                throw new ModelException($"{file}: layer '{name}' ({cls}) is shared ({nodes.Count} call sites); shared layers are not supported");
            }
            var inbound = new List<string>();
            if (nodes.Count == 1)
            {
                CollectInbound(nodes[0]!, inbound);
            }
            layers.Add(new KerasLayer(name, cls, l["config"]!.AsObject(), inbound));
        }
        var outputs = new List<string>();
        CollectInbound(config["output_layers"] ?? throw new ModelException($"{file}: model_config has no output_layers"), outputs);
        return (TopologicalOrder(layers, file), outputs, modelName);
    }

    private static (List<KerasLayer>, List<string>, string) ParseSequential(JsonNode config, string file, string modelName)
    {
        // Old Keras wrote the layer list directly as "config".
        JsonArray list = config is JsonArray a ? a : config["layers"]!.AsArray();
        var layers = new List<KerasLayer>();
        string? previous = null;
        foreach (JsonNode? l in list)
        {
            string cls = l!["class_name"]!.GetValue<string>();
            JsonObject cfg = l["config"]!.AsObject();
            string name = cfg["name"]!.GetValue<string>();
            if (previous is null && cls != "InputLayer")
            {
                // The first layer carries the input shape; give it an explicit InputLayer.
                JsonNode shape = cfg["batch_input_shape"] ?? cfg["batch_shape"]
                    ?? throw new ModelException($"{file}: Sequential model's first layer '{name}' has no batch_input_shape");
                var inputCfg = new JsonObject { ["batch_input_shape"] = shape.DeepClone(), ["name"] = name + "_input" };
                layers.Add(new KerasLayer(name + "_input", "InputLayer", inputCfg, []));
                previous = name + "_input";
            }
            layers.Add(new KerasLayer(name, cls, cfg, previous is null ? [] : [previous]));
            previous = name;
        }
        return (layers, previous is null ? [] : [previous], modelName);
    }

    /// <summary>
    /// Collects the source layer names from an inbound node: Keras 2 writes
    /// <c>[["name", node, tensor, {}], ...]</c>, Keras 3 writes <c>{"args": [{"config": {"keras_history": ["name", node, tensor]}}]}</c>.
    /// </summary>
    private static void CollectInbound(JsonNode node, List<string> into)
    {
        switch (node)
        {
            case JsonArray arr when arr.Count >= 3 && arr[0] is JsonValue v && v.TryGetValue(out string? name) && arr[1] is JsonValue:
                into.Add(name!);
                break;
            case JsonArray arr:
                foreach (JsonNode? c in arr)
                {
                    if (c is not null)
                    {
                        CollectInbound(c, into);
                    }
                }
                break;
            case JsonObject obj:
                if (obj["keras_history"] is JsonArray hist)
                {
                    into.Add(hist[0]!.GetValue<string>());
                    break;
                }
                foreach (KeyValuePair<string, JsonNode?> kv in obj)
                {
                    if (kv.Value is not null && kv.Key != "kwargs")
                    {
                        CollectInbound(kv.Value, into);
                    }
                }
                break;
        }
    }

    private static List<KerasLayer> TopologicalOrder(List<KerasLayer> layers, string file)
    {
        var byName = layers.ToDictionary(l => l.Name);
        var done = new HashSet<string>();
        var order = new List<KerasLayer>();
        var visiting = new HashSet<string>();
        void Visit(KerasLayer l)
        {
            if (done.Contains(l.Name))
            {
                return;
            }
            if (!visiting.Add(l.Name))
            {
                throw new ModelException($"{file}: layer graph has a cycle through '{l.Name}'");
            }
            foreach (string i in l.Inbound)
            {
                Visit(byName.TryGetValue(i, out KerasLayer? src) ? src
                    : throw new ModelException($"{file}: layer '{l.Name}' reads unknown layer '{i}'"));
            }
            done.Add(l.Name);
            order.Add(l);
        }
        foreach (KerasLayer l in layers)
        {
            Visit(l);
        }
        return order;
    }
}
