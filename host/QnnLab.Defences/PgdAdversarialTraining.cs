using QnnLab.Attacks.Attacks;
using QnnLab.Defences.Training;
using QnnLab.Torch;
using Tensor = TorchSharp.torch.Tensor;

namespace QnnLab.Defences;

/// <summary>
/// PGD adversarial training — Madry, Makelov, Schmidt, Tsipras, Vladu, "Towards Deep Learning Models Resistant to
/// Adversarial Attacks", ICLR 2018. Norm: Linf. Every batch is replaced by PGD examples made against the model's
/// current weights (ART's AdversarialTrainer with ratio=1.0, as the paper's adversarial_train.py runs it), then one
/// optimizer step on their cross-entropy.
/// Defaults (ART AdversarialTrainerMadryPGD): eps=8, eps_step=2, max_iter=7, num_random_init=1, nb_epochs=391,
/// batch_size=128 (ART's values are in pixel units; ours are in [0, 1] like the attack library's).
/// Paper (Table 15 and QNN-Defenses/adversarial_train.py): eps 0.008, eps_step eps/10 = 0.0008, max_iter 10,
/// num_random_init 1, 50 epochs, batch 32, Keras SGD() (learning rate 0.01, no momentum) — the presets below, except
/// the learning rate: 0.001. The script trains the Keras graph with batch normalisation in training mode; ours has it
/// folded into the convolutions (the deployed graph), whose weights SGD at 0.01 throws off at once (ResNet-8, 128
/// CIFAR-10 images: loss 81 after one epoch, then infinite), while 0.001 keeps 94-96 % clean training accuracy.
/// The inner attack is the attack library's <see cref="Pgd"/> on the training engine (<see cref="AdversarialExamples"/>),
/// so it sees the weights of this very step.
/// </summary>
public sealed class PgdAdversarialTraining : ITrainingObjective
{
    public sealed class Options : PgdTrainingParameters
    {
        public Options()
        {
            NbEpochs = 391;
            BatchSize = 128;
        }
    }

    public PgdAdversarialTraining(Options options)
    {
        Config = options;
        _pgd = options.MakePgd();
    }

    private readonly Pgd _pgd;

    public Options Config { get; }

    /// <summary>The paper's Table 15 configuration (the same for the three data sets).</summary>
    public static Options Preset(string dataset)
    {
        if (dataset is not ("cifar10" or "vww" or "coffee"))
        {
            throw new ArgumentException($"preset '{dataset}': use cifar10, vww or coffee");
        }
        return new Options { Eps = 0.008, EpsStep = 0.0008, MaxIter = 10, NumRandomInit = 1, NbEpochs = 50, BatchSize = 32, Optimizer = "sgd", LearningRate = 0.001, Momentum = 0 };
    }

    public StepOutcome Step(FloatEngine engine, Tensor pixels, Tensor labels, StepInfo step)
        => AdversarialExamples.TrainOn(engine, pixels, Attack(engine, pixels, labels, step.Seed), labels);

    /// <summary>PGD examples (pixel units, detached) of the batch against the engine's current weights.</summary>
    public Tensor Attack(FloatEngine engine, Tensor pixels, Tensor labels, int seed) => AdversarialExamples.Make(_pgd, engine, pixels, labels, seed);
}
