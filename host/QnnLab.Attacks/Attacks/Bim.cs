using QnnLab.Attacks.Targets;

namespace QnnLab.Attacks.Attacks;

/// <summary>
/// BIM — Kurakin, Goodfellow, Bengio, "Adversarial examples in the physical world", ICLR 2017 workshop.
/// Norm: Linf. Iterated FGSM steps of eps_step, each projected onto the eps-ball and clipped to [0, 1].
/// Defaults (ART BasicIterativeMethod): eps=0.3, eps_step=0.1, max_iter=100.
/// </summary>
public sealed class Bim : Attack
{
    public sealed class Options : AttackParameters
    {
        [Param("eps", "Linf budget (inputs in [0, 1])")]
        public double Eps { get; set; } = 0.3;

        [Param("eps_step", "step size per iteration")]
        public double EpsStep { get; set; } = 0.1;

        [Param("max_iter", "iterations")]
        public int MaxIter { get; set; } = 100;
    }

    public Options Config { get; } = new();
    public override string Name => "bim";
    public override string Norm => "Linf";
    public override TargetCapabilities Needs => TargetCapabilities.Gradients;
    public override AttackParameters Parameters => Config;

    protected override float[] Run(AttackTarget target, float[] x, int[] y, int n, int seed)
        => ProjectedGradient.Run(target, x, y, n, "inf", Config.Eps, Config.EpsStep, Config.MaxIter, 0, seed);
}
