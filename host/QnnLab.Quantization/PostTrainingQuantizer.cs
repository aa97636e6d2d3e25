using System.Runtime.InteropServices;
using QnnLab.Model;

namespace QnnLab.Quantization;

/// <summary>
/// Full-integer post-training quantization of a float model, as TFLite's converter does it with a
/// representative data set and <c>inference_input_type</c>/<c>inference_output_type</c> set to the
/// integer type: the same operator graph, every activation int8 (asymmetric) or int16 (symmetric),
/// conv/depthwise weights int8 per output channel, fully connected weights int8 per tensor, biases
/// int32 (int8) or int64 (16x8); reshape, pooling and pad keep their input's parameters; softmax
/// outputs have fixed parameters.
/// </summary>
public static class PostTrainingQuantizer
{
    public static QnnModel Quantize(QnnModel floatModel, TensorRanges ranges, Precision precision)
    {
        if (precision == Precision.Float)
        {
            throw new ArgumentException("quantize to Int8 or Int16");
        }
        if (floatModel.Precision != Precision.Float)
        {
            throw new ModelException($"{floatModel.Name}: already quantized ({floatModel.Precision})");
        }
        bool int16 = precision == Precision.Int16;
        ElementType actType = int16 ? ElementType.Int16 : ElementType.Int8;
        var q = new QnnModel
        {
            Name = floatModel.Name + (int16 ? "_int16" : "_int8"),
            Inputs = floatModel.Inputs,
            Outputs = floatModel.Outputs,
            Preprocessing = floatModel.Preprocessing,
        };
        // Start from copies; constants are replaced per operator below, activations get parameters in graph order.
        foreach (Tensor t in floatModel.Tensors)
        {
            q.Tensors.Add(new Tensor(t.Name, t.Type, t.Shape, t.Quant, t.Data));
        }
        var assigned = new HashSet<int>();
        void SetActivation(int index, QuantParams p)
        {
            Tensor t = q.Tensors[index];
            t.Type = actType;
            t.Quant = p;
            assigned.Add(index);
        }
        QuantParams FromRange(int index)
        {
            (float min, float max) = ranges[index];
            return int16 ? QuantizationMath.Int16Activation(min, max) : QuantizationMath.Int8Activation(min, max);
        }

        foreach (int input in floatModel.Inputs)
        {
            SetActivation(input, FromRange(input));
        }
        foreach (Operator op in floatModel.Operators)
        {
            foreach (int i in op.Inputs)
            {
                if (i >= 0 && !floatModel.Tensors[i].IsConstant && !assigned.Contains(i))
                {
                    throw new ModelException($"{floatModel.Name}: {op} reads tensor {i} before it is produced");
                }
            }
            int output = op.Outputs[0];
            QuantParams inParams = q.Tensors[op.Inputs[0]].Quant!;
            switch (op.Kind)
            {
                case OpKind.Conv2D:
                case OpKind.DepthwiseConv2D:
                case OpKind.FullyConnected:
                    QuantizeWeightsAndBias(floatModel, q, op, inParams, precision);
                    SetActivation(output, FromRange(output));
                    break;
                case OpKind.Add:
                    SetActivation(output, FromRange(output));
                    break;
                case OpKind.AveragePool2D:
                case OpKind.MaxPool2D:
                case OpKind.Reshape:
                case OpKind.Pad:
                    // TFLite requires the same scale and zero point on both sides of these.
                    SetActivation(output, inParams);
                    break;
                case OpKind.Softmax:
                    SetActivation(output, int16 ? QuantParams.PerTensor(1f / 32768f, 0) : QuantParams.PerTensor(1f / 256f, -128));
                    break;
                default:
                    throw new ModelException($"{floatModel.Name}: cannot quantize {op.Kind}");
            }
            q.Operators.Add(new Operator(op.Kind, op.Inputs, op.Outputs, op.Options));
        }
        return q;
    }

    private static void QuantizeWeightsAndBias(QnnModel f, QnnModel q, Operator op, QuantParams inParams, Precision precision)
    {
        Tensor w = f.Tensors[op.Inputs[1]];
        if (w.Type != ElementType.Float32 || !w.IsConstant)
        {
            throw new ModelException($"{f.Name}: {op} weights {w} are not constant float32");
        }
        (QuantParams wp, sbyte[] wq) = op.Kind switch
        {
            OpKind.Conv2D => QuantizationMath.PerChannelWeights(w.DataAs<float>(), w.Shape, 0, precision),
            OpKind.DepthwiseConv2D => QuantizationMath.PerChannelWeights(w.DataAs<float>(), w.Shape, 3, precision),
            _ => QuantizationMath.PerTensorWeights(w.DataAs<float>(), precision),
        };
        q.Tensors[op.Inputs[1]] = new Tensor(w.Name, ElementType.Int8, w.Shape, wp, MemoryMarshal.AsBytes(wq.AsSpan()).ToArray());

        if (op.Inputs.Length > 2 && op.Inputs[2] >= 0)
        {
            Tensor b = f.Tensors[op.Inputs[2]];
            bool int64 = precision == Precision.Int16;
            (QuantParams bp, long[] bq) = QuantizationMath.Bias(b.DataAs<float>(), inParams.Scale, wp.Scales, int64);
            q.Tensors[op.Inputs[2]] = int64
                ? Tensor.FromArray(b.Name, ElementType.Int64, b.Shape, bq, bp)
                : Tensor.FromArray(b.Name, ElementType.Int32, b.Shape, bq.Select(v => (int)v).ToArray(), bp);
        }
    }
}
