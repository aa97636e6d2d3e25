using QnnLab.Attacks;
using QnnLab.Attacks.Attacks;
using QnnLab.Attacks.Targets;
using QnnLab.Torch;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;
using Tensor = TorchSharp.torch.Tensor;

namespace QnnLab.Defences.Training;

/// <summary>The inner PGD of the adversarial trainers, by ART's names (PGD-AT and Sinkhorn AT share it).</summary>
public class PgdTrainingParameters : TrainingParameters
{
    [Param("eps", "Linf budget of the training examples (inputs in [0, 1])")]
    public double Eps { get; set; } = 8.0 / 255;

    [Param("eps_step", "PGD step size")]
    public double EpsStep { get; set; } = 2.0 / 255;

    [Param("max_iter", "PGD iterations per batch")]
    public int MaxIter { get; set; } = 7;

    [Param("num_random_init", "random starts in the eps-ball (ART keeps the best of several; 1 is Madry's single random start)")]
    public int NumRandomInit { get; set; } = 1;

    /// <summary>The attack library's Linf PGD with these settings.</summary>
    public Pgd MakePgd()
    {
        var pgd = new Pgd();
        pgd.Config.Norm = "inf";
        pgd.Config.Eps = Eps;
        pgd.Config.EpsStep = EpsStep;
        pgd.Config.MaxIter = MaxIter;
        pgd.Config.NumRandomInit = NumRandomInit;
        return pgd;
    }
}

/// <summary>
/// Training examples from the attack library: the attacks run on a <see cref="TorchTarget"/> over a training (or
/// helper) engine, so they see the weights of this very step. The weights are frozen (requires_grad off) while an
/// attack runs, which only spares the weight gradients it does not need; the training loop turns them back on.
/// </summary>
public static class AdversarialExamples
{
    /// <summary>Runs a library attack on the engine's current weights, pixel units (0..255) in and out, detached.</summary>
    public static Tensor Make(Attack attack, FloatEngine engine, Tensor pixels, Tensor labels, int seed)
    {
        engine.Module.SetTrainable(false);
        int n = (int)pixels.shape[0];
        float[] unit = pixels.detach().div(Scalars.Of(255)).contiguous().data<float>().ToArray();
        int[] y = [.. labels.data<long>().ToArray().Select(v => (int)v)];
        using var target = new TorchTarget(engine, "float");
        float[] adv = attack.Generate(target, unit, y, n, seed);
        return tensor(adv, pixels.shape).mul(Scalars.Of(255));
    }

    /// <summary>
    /// The step of training on adversarial examples alone (ART's ratio=1.0): cross-entropy of the adversarial logits,
    /// with the clean logits (no gradient) for the clean training accuracy.
    /// </summary>
    public static StepOutcome TrainOn(FloatEngine engine, Tensor pixels, Tensor adversarial, Tensor labels)
    {
        Tensor clean;
        using (no_grad())
        {
            clean = engine.Logits(pixels);
        }
        engine.Module.SetTrainable(true);
        Tensor logits = engine.Logits(adversarial);
        return new StepOutcome(F.cross_entropy(logits, labels), clean, logits.detach());
    }
}
