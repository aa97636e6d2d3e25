namespace QnnLab.Model;

/// <summary>Numeric flavour of a whole model.</summary>
public enum Precision
{
    /// <summary>float32 activations and weights.</summary>
    Float,
    /// <summary>int8 activations, int8 weights, int32 bias.</summary>
    Int8,
    /// <summary>int16 activations (symmetric), int8 weights, int64 bias ("16x8").</summary>
    Int16,
}

/// <summary>
/// A model in our intermediate representation: a topologically ordered list of operators over
/// tensors, as in a TFLite subgraph. Importers (TFLite, Keras) produce it; engines, the quantizer,
/// the TFLite writer and the device blob exporter consume it.
/// </summary>
public sealed class QnnModel
{
    public string Name { get; set; } = "model";
    public List<Tensor> Tensors { get; } = [];
    public List<Operator> Operators { get; } = [];
    public int[] Inputs { get; set; } = [];
    public int[] Outputs { get; set; } = [];

    /// <summary>How raw 8-bit pixels become the model's (real-valued) input.</summary>
    public InputPreprocessing Preprocessing { get; set; } = InputPreprocessing.UnitRange;

    public Tensor InputTensor => Tensors[Inputs[0]];
    public Tensor OutputTensor => Tensors[Outputs[0]];

    /// <summary>Precision of the model's compute: taken from the first conv/fc-like operator's input.</summary>
    public Precision Precision
    {
        get
        {
            foreach (Operator op in Operators)
            {
                if (op.Kind is OpKind.Quantize or OpKind.Dequantize)
                {
                    continue;
                }
                return Tensors[op.Inputs[0]].Type switch
                {
                    ElementType.Int8 => Precision.Int8,
                    ElementType.Int16 => Precision.Int16,
                    _ => Precision.Float,
                };
            }
            return Precision.Float;
        }
    }

    public int AddTensor(Tensor t)
    {
        Tensors.Add(t);
        return Tensors.Count - 1;
    }
}

/// <summary>
/// The real-valued input the model expects from 8-bit RGB pixels p: x = p * <see cref="Scale"/> + <see cref="Offset"/>,
/// after an optional resize to the model's input size.
/// </summary>
public sealed record InputPreprocessing(float Scale, float Offset, string Description)
{
    /// <summary>Pixels divided by 255 (the paper's models).</summary>
    public static readonly InputPreprocessing UnitRange = new(1f / 255f, 0f, "pixels/255 in [0,1]");

    /// <summary>Raw 0..255 pixels (MLPerf Tiny's ResNet-8).</summary>
    public static readonly InputPreprocessing Raw = new(1f, 0f, "raw pixels 0..255");
}
