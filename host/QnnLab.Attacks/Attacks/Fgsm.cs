using QnnLab.Attacks.Targets;

namespace QnnLab.Attacks.Attacks;

/// <summary>
/// FGSM — Goodfellow, Shlens, Szegedy, "Explaining and Harnessing Adversarial Examples", ICLR 2015.
/// Norm: Linf (also 2 and 1 as in ART). One step x + eps * sign(grad of the cross-entropy).
/// Defaults (ART FastGradientMethod): norm=inf, eps=0.3, num_random_init=0.
/// </summary>
public sealed class Fgsm : Attack
{
    public sealed class Options : AttackParameters
    {
        [Param("norm", "inf, 2 or 1")]
        public string Norm { get; set; } = "inf";

        [Param("eps", "perturbation budget in the chosen norm (inputs in [0, 1])")]
        public double Eps { get; set; } = 0.3;

        [Param("num_random_init", "random starts inside the eps-ball (0: start at x)")]
        public int NumRandomInit { get; set; }
    }

    public Options Config { get; } = new();
    public override string Name => "fgsm";
    public override string Norm => Config.Norm;
    public override TargetCapabilities Needs => TargetCapabilities.Gradients;
    public override AttackParameters Parameters => Config;

    protected override float[] Run(AttackTarget target, float[] x, int[] y, int n, int seed)
        => ProjectedGradient.Run(target, x, y, n, Config.Norm, Config.Eps, Config.Eps, 1, Config.NumRandomInit, seed);
}
