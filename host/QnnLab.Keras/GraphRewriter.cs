using System.Runtime.InteropServices;
using QnnLab.Model;

namespace QnnLab.Keras;

/// <summary>
/// Rewrites the Keras-level graph the way TFLite's converter does (drop identities, fold batch norms
/// into the preceding conv/depthwise/dense, fuse ReLU/ReLU6 into conv/depthwise/dense/add) and emits a
/// <see cref="QnnModel"/>.
/// </summary>
internal sealed class GraphRewriter(string file, List<GraphNode> outputs)
{
    private List<GraphNode> _order = [];

    public void Run()
    {
        _order = TopologicalOrder();
        RemoveIdentities();
        FoldBatchNorms();
        FuseActivations();
    }

    private List<GraphNode> TopologicalOrder()
    {
        var seen = new HashSet<GraphNode>();
        var order = new List<GraphNode>();
        void Visit(GraphNode n)
        {
            if (!seen.Add(n))
            {
                return;
            }
            foreach (GraphNode i in n.Inputs)
            {
                Visit(i);
            }
            order.Add(n);
        }
        foreach (GraphNode o in outputs)
        {
            Visit(o);
        }
        return order;
    }

    private void Replace(GraphNode old, GraphNode replacement)
    {
        foreach (GraphNode n in _order)
        {
            for (int i = 0; i < n.Inputs.Count; i++)
            {
                if (n.Inputs[i] == old)
                {
                    n.Inputs[i] = replacement;
                }
            }
        }
        for (int i = 0; i < outputs.Count; i++)
        {
            if (outputs[i] == old)
            {
                outputs[i] = replacement;
            }
        }
        _order.Remove(old);
    }

    private int Uses(GraphNode n) => _order.Sum(m => m.Inputs.Count(i => i == n)) + outputs.Count(o => o == n);

    private void RemoveIdentities()
    {
        foreach (GraphNode n in _order.Where(n => n.Kind == NodeKind.Identity).ToList())
        {
            Replace(n, n.Inputs[0]);
        }
    }

    private void FoldBatchNorms()
    {
        foreach (GraphNode bn in _order.Where(n => n.Kind == NodeKind.BatchNorm).ToList())
        {
            GraphNode p = bn.Inputs[0];
            bool foldable = p.Kind is NodeKind.Conv or NodeKind.Depthwise or NodeKind.Dense
                && p.FusedActivation == Activation.None && Uses(p) == 1;
            if (!foldable)
            {
                throw new ModelException($"{file}: {bn.Describe} follows {p.Describe}; only a batch norm directly after a conv, depthwise conv or dense layer (and its only reader) can be folded, and a standalone batch norm is not supported");
            }
            (float[] mult, float[] offset) = BatchNormFolding.Coefficients(bn.Gamma, bn.Beta, bn.Mean, bn.Variance, bn.Epsilon);
            int channels = p.WeightShape![p.Kind == NodeKind.Depthwise ? 3 : 0];
            int inner = p.Kind == NodeKind.Depthwise ? 1 : p.Weights!.Length / channels;
            BatchNormFolding.Apply(p.Weights, p.Bias, channels, inner, mult, offset);
            Replace(bn, p);
        }
    }

    private void FuseActivations()
    {
        foreach (GraphNode act in _order.Where(n => n.Kind == NodeKind.Act).ToList())
        {
            GraphNode p = act.Inputs[0];
            bool fusable = p.Kind is NodeKind.Conv or NodeKind.Depthwise or NodeKind.Dense or NodeKind.Add
                && p.FusedActivation == Activation.None && Uses(p) == 1;
            if (!fusable)
            {
                throw new ModelException($"{file}: {act.Describe} ({act.ActivationToFuse}) follows {p.Describe}; a standalone activation is not supported, only one fused into a conv, depthwise conv, dense or add that nothing else reads");
            }
            p.FusedActivation = act.ActivationToFuse;
            p.Options = p.Options switch
            {
                ConvOptions c => c with { Activation = act.ActivationToFuse },
                DepthwiseOptions d => d with { Activation = act.ActivationToFuse },
                FullyConnectedOptions f => f with { Activation = act.ActivationToFuse },
                AddOptions a => a with { Activation = act.ActivationToFuse },
                _ => p.Options,
            };
            Replace(act, p);
        }
    }

    public QnnModel Emit(string name)
    {
        var model = new QnnModel { Name = name };
        var tensorOf = new Dictionary<GraphNode, int>();
        int Activation(GraphNode n) => tensorOf[n] = model.AddTensor(new Tensor(n.Name, ElementType.Float32, n.Shape));
        int Const(string tname, float[] data, int[] shape) => model.AddTensor(new Tensor(tname, ElementType.Float32, shape, null, MemoryMarshal.AsBytes(data.AsSpan()).ToArray()));
        int ConstInt(string tname, int[] data, int[] shape) => model.AddTensor(Tensor.FromArray(tname, ElementType.Int32, shape, data));

        var inputs = new List<int>();
        foreach (GraphNode n in _order)
        {
            if (n.Kind == NodeKind.Input)
            {
                inputs.Add(Activation(n));
                continue;
            }
            int[] ins = n.Inputs.Select(i => tensorOf[i]).ToArray();
            switch (n.Kind)
            {
                case NodeKind.Conv:
                case NodeKind.Depthwise:
                case NodeKind.Dense:
                    {
                        int w = Const(n.Name + "/kernel", n.Weights!, n.WeightShape!);
                        int b = Const(n.Name + "/bias", n.Bias!, [n.Bias!.Length]);
                        OpKind kind = n.Kind switch
                        {
                            NodeKind.Conv => OpKind.Conv2D,
                            NodeKind.Depthwise => OpKind.DepthwiseConv2D,
                            _ => OpKind.FullyConnected,
                        };
                        model.Operators.Add(new Operator(kind, [ins[0], w, b], [Activation(n)], n.Options!));
                        break;
                    }
                case NodeKind.Add:
                    model.Operators.Add(new Operator(OpKind.Add, ins, [Activation(n)], n.Options!));
                    break;
                case NodeKind.AvgPool:
                case NodeKind.MaxPool:
                    model.Operators.Add(new Operator(n.Kind == NodeKind.AvgPool ? OpKind.AveragePool2D : OpKind.MaxPool2D, ins, [Activation(n)], n.Options!));
                    break;
                case NodeKind.Softmax:
                    model.Operators.Add(new Operator(OpKind.Softmax, ins, [Activation(n)], n.Options!));
                    break;
                case NodeKind.Reshape:
                    {
                        int shape = ConstInt(n.Name + "/shape", n.Shape, [n.Shape.Length]);
                        model.Operators.Add(new Operator(OpKind.Reshape, [ins[0], shape], [Activation(n)], n.Options!));
                        break;
                    }
                case NodeKind.Pad:
                    {
                        int[] p = n.Padding!;
                        int pads = ConstInt(n.Name + "/paddings", [0, 0, p[0], p[1], p[2], p[3], 0, 0], [4, 2]);
                        model.Operators.Add(new Operator(OpKind.Pad, [ins[0], pads], [Activation(n)], NoOptions.Instance));
                        break;
                    }
                default:
                    throw new ModelException($"{file}: {n.Describe}: internal error, node kind {n.Kind} left after rewriting");
            }
        }
        if (inputs.Count != 1)
        {
            throw new ModelException($"{file}: the model has {inputs.Count} inputs; exactly one is supported");
        }
        model.Inputs = [.. inputs];
        model.Outputs = outputs.Select(o => tensorOf.TryGetValue(o, out int t) ? t
            : throw new ModelException($"{file}: output {o.Describe} is the input itself")).ToArray();
        return model;
    }
}
