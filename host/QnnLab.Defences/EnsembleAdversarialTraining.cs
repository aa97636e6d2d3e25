using QnnLab.Attacks;
using QnnLab.Attacks.Attacks;
using QnnLab.Defences.Training;
using QnnLab.Inference;
using QnnLab.Model;
using QnnLab.Torch;
using Tensor = TorchSharp.torch.Tensor;

namespace QnnLab.Defences;

/// <summary>
/// Ensemble adversarial training — Tramèr, Kurakin, Papernot, Goodfellow, Boneh, McDaniel, "Ensemble Adversarial
/// Training: Attacks and Defenses", ICLR 2018. Norm: Linf. Training batches are replaced by adversarial examples
/// transferred from static pre-trained helper models, the source rotating batch by batch (ART's AdversarialTrainer
/// with several attacks and ratio=1.0: attack k of the list on batch k mod the list's length).
/// Defaults (Tramèr et al.; ART has no ensemble trainer of its own): FGSM eps=8/255 from each helper, alternating
/// with FGSM on the model itself (include_self=true).
/// Paper (Table 15, QNN-Defenses/ensemble_adversarial_training.py): sources FGSM(helper 1), FGSM(helper 2),
/// PGD(helper 1), PGD(helper 2), eps 0.008 for both, PGD eps_step eps/max_iter = 0.0008, max_iter 10, one random
/// start; no examples from the model itself; 50 epochs, batch 32, Keras SGD() (learning rate 0.001 here, see
/// <see cref="PgdAdversarialTraining"/>). The helpers are a list of model files (--set helpers=a.h5,b.tflite): the
/// paper's are not shipped. ART precomputes the transferred examples once; the helpers are static, so making them
/// per batch (seeded by the step) gives the same examples without holding the whole set in memory.
/// </summary>
public sealed class EnsembleAdversarialTraining : ITrainingObjective, IDisposable
{
    public sealed class Options : TrainingParameters
    {
        [Param("helpers", "comma-separated static helper models (.h5 / .tflite) the examples transfer from")]
        public string Helpers { get; set; } = "";

        [Param("eps", "Linf budget of the FGSM examples (inputs in [0, 1])")]
        public double Eps { get; set; } = 8.0 / 255;

        [Param("pgd_eps", "Linf budget of the PGD examples (0: no PGD sources)")]
        public double PgdEps { get; set; }

        [Param("max_iter", "PGD iterations (eps_step = pgd_eps / max_iter)")]
        public int MaxIter { get; set; } = 10;

        [Param("num_random_init", "PGD random starts")]
        public int NumRandomInit { get; set; } = 1;

        [Param("include_self", "also rotate in FGSM on the model being trained (Tramèr's alternation)")]
        public bool IncludeSelf { get; set; } = true;
    }

    /// <summary>One source of training examples: an attack on a helper (or on the model itself when Helper is null).</summary>
    public sealed record Source(string Name, Attack Attack, FloatEngine? Helper);

    private readonly List<FloatEngine> _helpers = [];
    private readonly long[] _draws;

    /// <summary>Helpers as loaded models (tests) or from <see cref="Options.Helpers"/>' files.</summary>
    public EnsembleAdversarialTraining(Options options, IReadOnlyList<QnnModel>? helpers = null)
    {
        Config = options;
        IReadOnlyList<QnnModel> models = helpers ?? [.. options.Helpers.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(p => ModelFiles.Load(p))];
        if (models.Count == 0 && !options.IncludeSelf)
        {
            throw new ArgumentException("ensemble adversarial training needs helper models (--set helpers=a.h5,b.tflite) or include_self=true");
        }
        var sources = new List<Source>();
        foreach (QnnModel m in models)
        {
            _helpers.Add(new FloatEngine(m));
        }
        for (int i = 0; i < _helpers.Count; i++)
        {
            sources.Add(new Source($"fgsm@{_helpers[i].Model.Name}#{i + 1}", Fgsm(options.Eps), _helpers[i]));
        }
        if (options.PgdEps > 0)
        {
            for (int i = 0; i < _helpers.Count; i++)
            {
                var pgd = new Pgd();
                pgd.Config.Eps = options.PgdEps;
                pgd.Config.EpsStep = options.PgdEps / options.MaxIter;
                pgd.Config.MaxIter = options.MaxIter;
                pgd.Config.NumRandomInit = options.NumRandomInit;
                sources.Add(new Source($"pgd@{_helpers[i].Model.Name}#{i + 1}", pgd, _helpers[i]));
            }
        }
        if (options.IncludeSelf)
        {
            sources.Add(new Source("fgsm@self", Fgsm(options.Eps), null));
        }
        Sources = sources;
        _draws = new long[sources.Count];
    }

    private static Fgsm Fgsm(double eps)
    {
        var f = new Fgsm();
        f.Config.Eps = eps;
        return f;
    }

    public Options Config { get; }
    public IReadOnlyList<Source> Sources { get; }

    /// <summary>Images drawn from each source so far (this process), in <see cref="Sources"/>' order.</summary>
    public IReadOnlyList<long> Draws => _draws;

    public static Options Preset(string dataset)
    {
        PgdAdversarialTraining.Options pgd = PgdAdversarialTraining.Preset(dataset);
        return new Options
        {
            Eps = 0.008,
            PgdEps = 0.008,
            MaxIter = 10,
            NumRandomInit = 1,
            IncludeSelf = false,
            NbEpochs = 50,
            BatchSize = 32,
            Optimizer = "sgd",
            LearningRate = pgd.LearningRate,
            Momentum = 0,
        };
    }

    /// <summary>The source of a step: the list in turn, batch by batch, over the whole run.</summary>
    public int SourceOf(StepInfo step) => (int)(step.GlobalStep % Sources.Count);

    /// <summary>The step's training examples (pixel units) from its source.</summary>
    public Tensor Examples(FloatEngine engine, Tensor pixels, Tensor labels, StepInfo step)
    {
        int k = SourceOf(step);
        Source s = Sources[k];
        _draws[k] += pixels.shape[0];
        return AdversarialExamples.Make(s.Attack, s.Helper ?? engine, pixels, labels, step.Seed);
    }

    public StepOutcome Step(FloatEngine engine, Tensor pixels, Tensor labels, StepInfo step)
        => AdversarialExamples.TrainOn(engine, pixels, Examples(engine, pixels, labels, step), labels);

    public void Dispose()
    {
        foreach (FloatEngine h in _helpers)
        {
            h.Dispose();
        }
    }
}
