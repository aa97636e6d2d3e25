namespace QnnLab.Model;

/// <summary>The operators our engines support: the union of the paper's and MLPerf Tiny's models.</summary>
public enum OpKind
{
    Conv2D,
    DepthwiseConv2D,
    FullyConnected,
    AveragePool2D,
    MaxPool2D,
    Add,
    Reshape,
    Pad,
    Softmax,
    Quantize,
    Dequantize,
}

/// <summary>Fused activation, as TFLite's ActivationFunctionType.</summary>
public enum Activation
{
    None,
    Relu,
    ReluN1To1,
    Relu6,
}

public enum Padding
{
    Same,
    Valid,
}

/// <summary>Operator options; one record type per operator family.</summary>
public abstract record OpOptions;

public sealed record ConvOptions(Padding Padding, int StrideH, int StrideW, int DilationH, int DilationW, Activation Activation) : OpOptions;

public sealed record DepthwiseOptions(Padding Padding, int StrideH, int StrideW, int DilationH, int DilationW, int DepthMultiplier, Activation Activation) : OpOptions;

public sealed record PoolOptions(Padding Padding, int StrideH, int StrideW, int FilterH, int FilterW, Activation Activation) : OpOptions;

public sealed record FullyConnectedOptions(Activation Activation, bool KeepNumDims = false) : OpOptions;

public sealed record AddOptions(Activation Activation) : OpOptions;

public sealed record SoftmaxOptions(float Beta) : OpOptions;

public sealed record ReshapeOptions(int[] NewShape) : OpOptions;

/// <summary>No options (pad, quantize, dequantize: everything is in the tensors).</summary>
public sealed record NoOptions : OpOptions
{
    public static readonly NoOptions Instance = new();
}

/// <summary>
/// One node of the graph. Inputs/outputs index <see cref="QnnModel.Tensors"/>; -1 marks an
/// omitted optional input (e.g. no bias).
/// </summary>
public sealed class Operator
{
    public Operator(OpKind kind, int[] inputs, int[] outputs, OpOptions options)
    {
        Kind = kind;
        Inputs = inputs;
        Outputs = outputs;
        Options = options;
    }

    public OpKind Kind { get; }
    public int[] Inputs { get; set; }
    public int[] Outputs { get; set; }
    public OpOptions Options { get; set; }

    public T OptionsAs<T>() where T : OpOptions
        => Options as T ?? throw new InvalidOperationException($"{Kind} has options {Options.GetType().Name}, expected {typeof(T).Name}");

    public override string ToString() => $"{Kind}({string.Join(",", Inputs)})->({string.Join(",", Outputs)})";
}
