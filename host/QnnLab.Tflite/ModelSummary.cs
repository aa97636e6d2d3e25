using System.Globalization;
using System.Text;
using QnnLab.Model;

namespace QnnLab.Tflite;

/// <summary>One operator's line in a <see cref="ModelSummary"/>.</summary>
/// <param name="Macs">
/// Multiply-accumulates: conv = output elements x kernel H x W x input channels, depthwise = output
/// elements x kernel H x W, fully connected = output elements x input features. Pools and add count
/// their accumulations/comparisons (output elements x window, or output elements); the rest count 0.
/// </param>
/// <param name="Params">Elements of the operator's constant inputs (weights, bias, shapes).</param>
public sealed record OperatorSummary(int Index, OpKind Kind, int[] InputShape, int[] OutputShape, ElementType InputType, long Macs, long Params);

/// <summary>
/// What a model costs: operator counts, MACs per operator, parameters, and an estimate of the
/// activation arena TFLite Micro would need. Printable with <see cref="ToText"/>.
/// </summary>
public sealed class ModelSummary
{
    /// <summary>Arena offsets are aligned like TFLM's planner (16 bytes).</summary>
    public const int ArenaAlignment = 16;

    private ModelSummary(QnnModel model, List<OperatorSummary> ops, long paramElements, long paramBytes, long arenaBytes, long peakLiveBytes)
    {
        Model = model;
        Operators = ops;
        ParamElements = paramElements;
        ParamBytes = paramBytes;
        ArenaBytes = arenaBytes;
        PeakLiveBytes = peakLiveBytes;
    }

    public QnnModel Model { get; }
    public IReadOnlyList<OperatorSummary> Operators { get; }
    public long TotalMacs => Operators.Sum(o => o.Macs);
    public long ParamElements { get; }
    public long ParamBytes { get; }

    /// <summary>
    /// Activation arena from a greedy first-fit plan (largest tensors first, each placed at the
    /// lowest aligned offset free during its lifetime), as TFLM's greedy planner does. It excludes
    /// TFLM's per-operator scratch and bookkeeping, so the real arena is somewhat larger.
    /// </summary>
    public long ArenaBytes { get; }

    /// <summary>The largest sum of activation bytes alive at one operator: a lower bound for any plan.</summary>
    public long PeakLiveBytes { get; }

    public IReadOnlyDictionary<OpKind, int> OperatorCounts
        => Operators.GroupBy(o => o.Kind).ToDictionary(g => g.Key, g => g.Count());

    public static ModelSummary Of(QnnModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var ops = new List<OperatorSummary>();
        for (int i = 0; i < model.Operators.Count; i++)
        {
            Operator op = model.Operators[i];
            Tensor input = model.Tensors[op.Inputs[0]];
            Tensor output = model.Tensors[op.Outputs[0]];
            long parms = op.Inputs.Where(t => t >= 0 && model.Tensors[t].IsConstant).Sum(t => (long)model.Tensors[t].ElementCount);
            ops.Add(new OperatorSummary(i, op.Kind, input.Shape, output.Shape, input.Type, Macs(model, op), parms));
        }

        long paramElements = 0, paramBytes = 0;
        foreach (Tensor t in model.Tensors.Where(t => t.IsConstant))
        {
            paramElements += t.ElementCount;
            paramBytes += t.Data!.Length;
        }
        (long arena, long peak) = PlanArena(model);
        return new ModelSummary(model, ops, paramElements, paramBytes, arena, peak);
    }

    private static long Macs(QnnModel model, Operator op)
    {
        long outElems = model.Tensors[op.Outputs[0]].ElementCount;
        int[] w = op.Inputs.Length > 1 && op.Inputs[1] >= 0 ? model.Tensors[op.Inputs[1]].Shape : [];
        return op.Kind switch
        {
            // OHWI weights.
            OpKind.Conv2D when w.Length == 4 => outElems * w[1] * w[2] * w[3],
            // 1HWC weights: one kernel window per output element.
            OpKind.DepthwiseConv2D when w.Length == 4 => outElems * w[1] * w[2],
            // [out, in] weights.
            OpKind.FullyConnected when w.Length == 2 => outElems * w[1],
            OpKind.AveragePool2D or OpKind.MaxPool2D when op.Options is PoolOptions p => outElems * p.FilterH * p.FilterW,
            OpKind.Add => outElems,
            _ => 0,
        };
    }

    private static long AlignUp(long x) => (x + ArenaAlignment - 1) / ArenaAlignment * ArenaAlignment;

    private static (long Arena, long Peak) PlanArena(QnnModel model)
    {
        int n = model.Tensors.Count;
        int last = model.Operators.Count; // "after the last operator": model outputs live to the end
        var first = Enumerable.Repeat(int.MaxValue, n).ToArray();
        var lastUse = Enumerable.Repeat(-1, n).ToArray();
        foreach (int t in model.Inputs)
        {
            first[t] = -1;
        }
        for (int i = 0; i < model.Operators.Count; i++)
        {
            Operator op = model.Operators[i];
            foreach (int t in op.Outputs)
            {
                first[t] = Math.Min(first[t], i);
                lastUse[t] = Math.Max(lastUse[t], i);
            }
            foreach (int t in op.Inputs.Where(t => t >= 0))
            {
                first[t] = Math.Min(first[t], i);
                lastUse[t] = Math.Max(lastUse[t], i);
            }
        }
        foreach (int t in model.Outputs)
        {
            lastUse[t] = last;
        }

        var live = Enumerable.Range(0, n)
            .Where(t => !model.Tensors[t].IsConstant && first[t] != int.MaxValue)
            .Select(t => (Tensor: t, Size: AlignUp((long)model.Tensors[t].ElementCount * Tensor.SizeOf(model.Tensors[t].Type)), First: first[t], Last: lastUse[t]))
            .ToList();

        var placed = new List<(long Offset, long Size, int First, int Last)>();
        long arena = 0;
        foreach (var t in live.OrderByDescending(t => t.Size).ThenBy(t => t.First))
        {
            var overlapping = placed.Where(p => p.First <= t.Last && t.First <= p.Last).OrderBy(p => p.Offset).ToList();
            long offset = 0;
            foreach (var p in overlapping)
            {
                if (offset + t.Size <= p.Offset)
                {
                    break;
                }
                offset = Math.Max(offset, p.Offset + p.Size);
            }
            placed.Add((offset, t.Size, t.First, t.Last));
            arena = Math.Max(arena, offset + t.Size);
        }

        long peak = 0;
        for (int step = -1; step <= last; step++)
        {
            peak = Math.Max(peak, live.Where(t => t.First <= step && step <= t.Last).Sum(t => t.Size));
        }
        return (arena, peak);
    }

    public string ToText()
    {
        CultureInfo inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        QnnModel m = Model;
        string Shape(int[] s) => "[" + string.Join("x", s) + "]";
        string QuantText(Tensor t) => t.Quant is null ? "" : string.Create(inv, $" scale {t.Quant.Scale:G6} zero point {t.Quant.ZeroPoint}");
        sb.AppendLine(inv, $"model {m.Name}: {m.Precision}, {Operators.Count} operators");
        sb.AppendLine(inv, $"  input  {m.InputTensor.Type}{Shape(m.InputTensor.Shape)}{QuantText(m.InputTensor)} ({m.Preprocessing.Description})");
        sb.AppendLine(inv, $"  output {m.OutputTensor.Type}{Shape(m.OutputTensor.Shape)}{QuantText(m.OutputTensor)}");
        sb.AppendLine(inv, $"  operators: {string.Join(", ", OperatorCounts.OrderBy(k => k.Key).Select(k => $"{k.Key} x{k.Value}"))}");
        sb.AppendLine(inv, $"  {"#",3}  {"op",-16} {"input",-16} {"output",-16} {"MACs",12} {"params",9}");
        foreach (OperatorSummary o in Operators)
        {
            sb.AppendLine(inv, $"  {o.Index,3}  {o.Kind,-16} {Shape(o.InputShape),-16} {Shape(o.OutputShape),-16} {o.Macs,12:N0} {o.Params,9:N0}");
        }
        sb.AppendLine(inv, $"  total MACs {TotalMacs:N0}; parameters {ParamElements:N0} ({ParamBytes:N0} bytes)");
        sb.AppendLine(inv, $"  activation arena ~{ArenaBytes:N0} bytes (greedy plan; peak live {PeakLiveBytes:N0}; excludes TFLM scratch/overhead)");
        return sb.ToString();
    }

    public override string ToString() => ToText();
}
