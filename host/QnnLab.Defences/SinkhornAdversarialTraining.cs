using QnnLab.Attacks;
using QnnLab.Attacks.Attacks;
using QnnLab.Defences.Training;
using QnnLab.Torch;
using F = TorchSharp.torch.nn.functional;
using Tensor = TorchSharp.torch.Tensor;

namespace QnnLab.Defences;

/// <summary>
/// Sinkhorn adversarial training (SAT) — Bouniot, Audigier, Loesch, "Optimal Transport as a Defense Against
/// Adversarial Attacks", ICPR 2020. Norm: Linf (the PGD examples). Each batch: PGD examples against the current
/// weights, then loss = CE(adversarial) + Sinkhorn divergence between the clean and the adversarial softmax outputs
/// of the batch (both sides differentiated), as the paper's defenses/adv_sat_tf2 (utils.train, losses.py) computes it.
/// Defaults (the function defaults of the paper's TF2 port, utils.train and AdversarialSinkhornDivergence): eps=8/255, eps_step=2/255, max_iter=7 with a random
/// start; sinkhorn epsilon 0.1, 50 iterations, reduction none.
/// Paper (Table 15, QNN-Defenses/adv_sat.py): PGD as PGD-AT (eps 0.008, eps_step eps/10, 10 iterations, random start),
/// Sinkhorn epsilon 1.0, 50 iterations, sum reduction, 50 epochs, batch 32, Keras SGD() — learning rate 0.001 here for
/// the reason <see cref="PgdAdversarialTraining"/> gives. The script's own PGD clips to [0, 1] only at the end; ours is
/// the attack library's (clipped every step, as ART's).
/// </summary>
public sealed class SinkhornAdversarialTraining : ITrainingObjective
{
    public sealed class Options : PgdTrainingParameters
    {
        [Param("sinkhorn_epsilon", "entropic regularisation of the Sinkhorn divergence")]
        public double SinkhornEpsilon { get; set; } = 0.1;

        [Param("sinkhorn_max_iter", "Sinkhorn iterations")]
        public int SinkhornMaxIter { get; set; } = 50;

        [Param("sinkhorn_reduction", "sum, mean or none (one batch: the same scalar)")]
        public string SinkhornReduction { get; set; } = "none";
    }

    private readonly Pgd _pgd;

    public SinkhornAdversarialTraining(Options options)
    {
        Config = options;
        _pgd = options.MakePgd();
    }

    public Options Config { get; }

    public static Options Preset(string dataset)
    {
        PgdAdversarialTraining.Options pgd = PgdAdversarialTraining.Preset(dataset);
        return new Options
        {
            Eps = pgd.Eps,
            EpsStep = pgd.EpsStep,
            MaxIter = pgd.MaxIter,
            NumRandomInit = pgd.NumRandomInit,
            SinkhornEpsilon = 1.0,
            SinkhornMaxIter = 50,
            SinkhornReduction = "sum",
            NbEpochs = 50,
            BatchSize = 32,
            Optimizer = "sgd",
            LearningRate = pgd.LearningRate,
            Momentum = 0,
        };
    }

    public StepOutcome Step(FloatEngine engine, Tensor pixels, Tensor labels, StepInfo step)
    {
        Tensor adv = AdversarialExamples.Make(_pgd, engine, pixels, labels, step.Seed);
        engine.Module.SetTrainable(true);
        Tensor advLogits = engine.Logits(adv);
        Tensor cleanLogits = engine.Logits(pixels);
        Tensor divergence = Sinkhorn.Divergence(F.softmax(cleanLogits, -1), F.softmax(advLogits, -1),
            Config.SinkhornEpsilon, Config.SinkhornMaxIter, Config.SinkhornReduction);
        Tensor loss = F.cross_entropy(advLogits, labels).add(divergence, Scalars.One);
        return new StepOutcome(loss, cleanLogits.detach(), advLogits.detach());
    }
}
