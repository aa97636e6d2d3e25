using QnnLab.Model;

namespace QnnLab.Torch;

/// <summary>Deep copy of a model, so trained weights can be written without touching the original.</summary>
public static class ModelCopy
{
    public static QnnModel Clone(QnnModel m)
    {
        var copy = new QnnModel
        {
            Name = m.Name,
            Inputs = (int[])m.Inputs.Clone(),
            Outputs = (int[])m.Outputs.Clone(),
            Preprocessing = m.Preprocessing,
        };
        foreach (Tensor t in m.Tensors)
        {
            QuantParams? q = t.Quant is null ? null : t.Quant with { Scales = (float[])t.Quant.Scales.Clone(), ZeroPoints = (long[])t.Quant.ZeroPoints.Clone() };
            copy.Tensors.Add(new Tensor(t.Name, t.Type, (int[])t.Shape.Clone(), q, (byte[]?)t.Data?.Clone()));
        }
        foreach (Operator op in m.Operators)
        {
            // Option records are immutable apart from ReshapeOptions' array, which nobody mutates.
            copy.Operators.Add(new Operator(op.Kind, (int[])op.Inputs.Clone(), (int[])op.Outputs.Clone(), op.Options));
        }
        return copy;
    }
}
