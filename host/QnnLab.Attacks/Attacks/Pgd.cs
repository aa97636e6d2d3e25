using QnnLab.Attacks.Targets;

namespace QnnLab.Attacks.Attacks;

/// <summary>
/// PGD — Madry, Makelov, Schmidt, Tsipras, Vladu, "Towards Deep Learning Models Resistant to Adversarial Attacks",
/// ICLR 2018. Norm: Linf (also 2 and 1 as in ART). BIM from a random start in the eps-ball, repeated for
/// num_random_init restarts; per image the first restart that fools the target is kept, else the one with the highest
/// loss (ART keeps the restart with the best success rate over the whole batch; per image is never worse).
/// Defaults (ART ProjectedGradientDescent): norm=inf, eps=0.3, eps_step=0.1, max_iter=100, num_random_init=0.
/// Paper (Table 14, run_cifar_attacks.sh): 20 restarts, max_iter 20 (Table 14 says 10), eps 0.0002 .. 0.008 with
/// eps_step = eps / 10.
/// </summary>
public sealed class Pgd : Attack
{
    public sealed class Options : AttackParameters
    {
        [Param("norm", "inf, 2 or 1")]
        public string Norm { get; set; } = "inf";

        [Param("eps", "perturbation budget in the chosen norm (inputs in [0, 1])")]
        public double Eps { get; set; } = 0.3;

        [Param("eps_step", "step size per iteration")]
        public double EpsStep { get; set; } = 0.1;

        [Param("max_iter", "iterations per restart")]
        public int MaxIter { get; set; } = 100;

        [Param("num_random_init", "random restarts (0: one run from x itself)")]
        public int NumRandomInit { get; set; }
    }

    public Options Config { get; } = new();
    public override string Name => "pgd";
    public override string Norm => Config.Norm;
    public override TargetCapabilities Needs => TargetCapabilities.Gradients;
    public override AttackParameters Parameters => Config;

    protected override float[] Run(AttackTarget target, float[] x, int[] y, int n, int seed)
        => ProjectedGradient.Run(target, x, y, n, Config.Norm, Config.Eps, Config.EpsStep, Config.MaxIter, Config.NumRandomInit, seed);
}
