using QnnLab.Data;
using QnnLab.Model;
using QnnLab.Torch;

namespace QnnLab.Defences.Training;

/// <summary>The train-based defences by their CLI names: settings (ART defaults or a Table 15 preset) and one training run.</summary>
public static class TrainBasedDefences
{
    public static readonly string[] Names = ["pgd-at", "distillation", "ensemble-at", "sinkhorn-at"];

    /// <summary>The defence's settings: the paper's preset for the data set, or the ART defaults when none is given.</summary>
    public static TrainingParameters Options(string defence, string? preset) => defence switch
    {
        "pgd-at" => preset is null ? new PgdAdversarialTraining.Options() : PgdAdversarialTraining.Preset(preset),
        "distillation" => preset is null ? new DefensiveDistillation.Options() : DefensiveDistillation.Preset(preset),
        "ensemble-at" => preset is null ? new EnsembleAdversarialTraining.Options() : EnsembleAdversarialTraining.Preset(preset),
        "sinkhorn-at" => preset is null ? new SinkhornAdversarialTraining.Options() : SinkhornAdversarialTraining.Preset(preset),
        _ => throw new ArgumentException($"defence '{defence}': use {string.Join(", ", Names)}"),
    };

    /// <summary>Trains a copy of the float model; returns the trained float model and the log of its (last) phase.</summary>
    public static (QnnModel Model, IReadOnlyList<EpochLog> Log) Train(string defence, QnnModel model, ImageSet set, TrainingParameters p, TrainingRun run)
    {
        if (model.Precision != Precision.Float)
        {
            throw new ModelException($"{model.Name}: train-based defences retrain the float model; this one is quantized");
        }
        switch (p)
        {
            case PgdAdversarialTraining.Options o:
                {
                    using var engine = new FloatEngine(model);
                    IReadOnlyList<EpochLog> log = DefenceTrainer.Train(engine, set, o, new PgdAdversarialTraining(o), run);
                    return (engine.ExportFloatModel(), log);
                }
            case DefensiveDistillation.Options o:
                {
                    DefensiveDistillation.Result r = DefensiveDistillation.Train(model, set, o, run);
                    return (r.Student, r.StudentLog);
                }
            case EnsembleAdversarialTraining.Options o:
                {
                    using var engine = new FloatEngine(model);
                    using var objective = new EnsembleAdversarialTraining(o);
                    run.Progress?.Invoke($"{run.Name}: sources in turn: {string.Join(", ", objective.Sources.Select(s => s.Name))}");
                    IReadOnlyList<EpochLog> log = DefenceTrainer.Train(engine, set, o, objective, run);
                    return (engine.ExportFloatModel(), log);
                }
            case SinkhornAdversarialTraining.Options o:
                {
                    using var engine = new FloatEngine(model);
                    IReadOnlyList<EpochLog> log = DefenceTrainer.Train(engine, set, o, new SinkhornAdversarialTraining(o), run);
                    return (engine.ExportFloatModel(), log);
                }
            default:
                throw new ArgumentException($"defence '{defence}': no trainer for {p.GetType().Name}");
        }
    }
}
