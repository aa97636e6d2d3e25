using System.Text.Json.Nodes;
using PureHDF;

namespace QnnLab.Keras.Tests;

/// <summary>Writes small hand-built Keras 2 style .h5 files (model_config + model_weights) for tests.</summary>
internal sealed class TinyH5
{
    private readonly JsonArray _layers = [];
    private readonly H5Group _weights = new();
    private readonly List<string> _names = [];

    public TinyH5 Input(string name, params int[] shape)
    {
        var bis = new JsonArray { null };
        foreach (int d in shape)
        {
            bis.Add(d);
        }
        return Layer("InputLayer", name, new JsonObject { ["batch_input_shape"] = bis }, []);
    }

    public TinyH5 Layer(string cls, string name, JsonObject config, string[] inbound, params (string Key, Array Value)[] weights)
    {
        config = (JsonObject)config.DeepClone();
        config["name"] = name;
        var node = new JsonArray();
        foreach (string i in inbound)
        {
            node.Add(new JsonArray { i, 0, 0, new JsonObject() });
        }
        _layers.Add(new JsonObject
        {
            ["class_name"] = cls,
            ["name"] = name,
            ["config"] = config,
            ["inbound_nodes"] = inbound.Length == 0 ? new JsonArray() : new JsonArray { node },
        });
        var group = new H5Group();
        var inner = new H5Group();
        foreach ((string key, Array value) in weights)
        {
            inner[key + ":0"] = new H5Dataset(value);
        }
        group.Attributes["weight_names"] = weights.Select(w => $"{name}/{w.Key}:0").ToArray();
        if (weights.Length > 0)
        {
            group[name] = inner;
        }
        _weights[name] = group;
        _names.Add(name);
        return this;
    }

    public string Write(string dir, string output, string fileName = "tiny.h5")
    {
        var config = new JsonObject
        {
            ["class_name"] = "Functional",
            ["config"] = new JsonObject
            {
                ["name"] = "tiny",
                ["layers"] = _layers,
                ["input_layers"] = new JsonArray { new JsonArray { _names[0], 0, 0 } },
                ["output_layers"] = new JsonArray { new JsonArray { output, 0, 0 } },
            },
            ["keras_version"] = "2.7.0",
        };
        _weights.Attributes["layer_names"] = _names.ToArray();
        var file = new H5File { ["model_weights"] = _weights };
        file.Attributes["model_config"] = config.ToJsonString();
        file.Attributes["keras_version"] = "2.7.0";
        string path = Path.Combine(dir, fileName);
        file.Write(path);
        return path;
    }
}
