using QnnLab.Attacks;
using QnnLab.Attacks.Attacks;
using QnnLab.Attacks.Targets;
using QnnLab.Defences.Training;
using QnnLab.Torch;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;
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
/// The inner attack is the attack library's <see cref="Pgd"/> on a <see cref="TorchTarget"/> over the training
/// engine, so it sees the weights of this very step; the weights are frozen (requires_grad off) while it runs, which
/// only spares the weight gradients it does not need.
/// </summary>
public sealed class PgdAdversarialTraining : ITrainingObjective
{
    public sealed class Options : TrainingParameters
    {
        [Param("eps", "Linf budget of the training examples (inputs in [0, 1])")]
        public double Eps { get; set; } = 8.0 / 255;

        [Param("eps_step", "PGD step size")]
        public double EpsStep { get; set; } = 2.0 / 255;

        [Param("max_iter", "PGD iterations per batch")]
        public int MaxIter { get; set; } = 7;

        [Param("num_random_init", "random starts in the eps-ball (ART keeps the best of several; 1 is Madry's single random start)")]
        public int NumRandomInit { get; set; } = 1;

        public Options()
        {
            NbEpochs = 391;
            BatchSize = 128;
        }
    }

    public PgdAdversarialTraining(Options options)
    {
        Config = options;
        _pgd.Config.Norm = "inf";
        _pgd.Config.Eps = options.Eps;
        _pgd.Config.EpsStep = options.EpsStep;
        _pgd.Config.MaxIter = options.MaxIter;
        _pgd.Config.NumRandomInit = options.NumRandomInit;
    }

    private readonly Pgd _pgd = new();

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
    {
        Tensor adv = Attack(engine, pixels, labels, step.Seed);
        Tensor clean;
        using (no_grad())
        {
            clean = engine.Logits(pixels);
        }
        engine.Module.SetTrainable(true);
        Tensor logits = engine.Logits(adv);
        return new StepOutcome(F.cross_entropy(logits, labels), clean, logits.detach());
    }

    /// <summary>PGD examples (pixel units, detached) of the batch against the engine's current weights.</summary>
    public Tensor Attack(FloatEngine engine, Tensor pixels, Tensor labels, int seed) => Attack(_pgd, engine, pixels, labels, seed);

    /// <summary>Runs a library attack on the engine's current weights, in pixel units in and out.</summary>
    internal static Tensor Attack(QnnLab.Attacks.Attack attack, FloatEngine engine, Tensor pixels, Tensor labels, int seed)
    {
        engine.Module.SetTrainable(false);
        int n = (int)pixels.shape[0];
        float[] unit = pixels.detach().div(255f).contiguous().data<float>().ToArray();
        int[] y = labels.data<long>().ToArray().Select(v => (int)v).ToArray();
        using var target = new TorchTarget(engine, "float");
        float[] adv = attack.Generate(target, unit, y, n, seed);
        return tensor(adv, pixels.shape).mul(255f);
    }
}
