using QnnLab.Model;

namespace QnnLab.Keras;

internal enum NodeKind
{
    Input,
    Conv,
    Depthwise,
    Dense,
    BatchNorm,
    /// <summary>A standalone activation (relu, relu6, linear) waiting to be fused into its producer.</summary>
    Act,
    Softmax,
    Add,
    AvgPool,
    MaxPool,
    Reshape,
    Pad,
    Identity,
}

/// <summary>
/// A node of the intermediate float graph built from Keras layers, before batch-norm folding and
/// activation fusion turn it into TFLite-shaped operators.
/// </summary>
internal sealed class GraphNode
{
    public GraphNode(string name, NodeKind kind, string kerasClass)
    {
        Name = name;
        Kind = kind;
        KerasClass = kerasClass;
    }

    public string Name { get; }
    public NodeKind Kind { get; set; }
    public string KerasClass { get; }
    public List<GraphNode> Inputs { get; } = [];
    /// <summary>Output shape, NHWC with batch 1 (or [1, n] after flatten/dense).</summary>
    public int[] Shape { get; set; } = [];

    /// <summary>Weights in TFLite layout (OHWI, 1HWC or [out, in]) with their shape.</summary>
    public float[]? Weights { get; set; }
    public int[]? WeightShape { get; set; }
    public float[]? Bias { get; set; }
    public OpOptions? Options { get; set; }
    public Activation FusedActivation { get; set; } = Activation.None;

    /// <summary>For <see cref="NodeKind.Act"/>: the activation it applies.</summary>
    public Activation ActivationToFuse { get; set; }

    /// <summary>For <see cref="NodeKind.BatchNorm"/>: per-channel gamma, beta, mean, variance and epsilon.</summary>
    public float[]? Gamma { get; set; }
    public float[]? Beta { get; set; }
    public float[]? Mean { get; set; }
    public float[]? Variance { get; set; }
    public float Epsilon { get; set; }

    /// <summary>For <see cref="NodeKind.Pad"/>: [top, bottom, left, right].</summary>
    public int[]? Padding { get; set; }

    public string Describe => $"layer '{Name}' ({KerasClass})";
    public int Channels => Shape[^1];
}
