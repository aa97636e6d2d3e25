using QnnLab.Attacks.Targets;

namespace QnnLab.Attacks.Attacks;

/// <summary>
/// APGD-T — Croce, Hein, "Reliable evaluation of adversarial robustness with an ensemble of diverse parameter-free
/// attacks", ICML 2020 (Auto-PGD on the targeted Difference of Logits Ratio loss). Norm: Linf. The second component of
/// AutoAttack's "standard" version: one run of n_iter iterations per target class, the classes of the 2nd .. 10th
/// highest clean logit, each on the images still robust. Defaults (official, version standard): eps=8/255, n_iter=100,
/// n_restarts=1 per target class, n_target_classes=9 (capped at classes - 1), rho=0.75. Needs at least 4 classes (the
/// DLR's denominator uses the 3rd and 4th largest logits). Paper presets (QNN-Attacks run scripts' AutoAttack eps):
/// cifar10 and vww 0.004, coffee 0.009. Success is any misclassification, not only the target class (as AutoAttack).
/// </summary>
public sealed class ApgdT : Attack
{
    public sealed class Options : AttackParameters
    {
        [Param("norm", "Linf (the only norm implemented)")]
        public string Norm { get; set; } = "Linf";

        [Param("eps", "Linf budget (inputs in [0, 1])")]
        public double Eps { get; set; } = 8.0 / 255;

        [Param("n_iter", "iterations per target class and restart")]
        public int NIter { get; set; } = 100;

        [Param("n_restarts", "random restarts per target class")]
        public int NRestarts { get; set; } = 1;

        [Param("n_target_classes", "target classes: the 2nd .. (n+1)-th highest clean logit")]
        public int NTargetClasses { get; set; } = 9;

        [Param("rho", "step-size checkpoint condition: halve when fewer than rho of the steps since the last checkpoint raised the loss")]
        public double Rho { get; set; } = 0.75;
    }

    public Options Config { get; } = new();
    public override string Name => "apgd-t";
    public override string Norm => "Linf";
    public override TargetCapabilities Needs => TargetCapabilities.Gradients;
    public override AttackParameters Parameters => Config;
    public override IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> Presets => AutoAttackShared.EpsPresets;

    protected override float[] Run(AttackTarget target, float[] x, int[] y, int n, int seed)
    {
        AutoAttackShared.RequireLinf(Name, Config.Norm);
        return Apgd.Run(target, x, y, n, Config.Eps, Config.NIter, Config.NRestarts, Config.Rho, Math.Max(1, Config.NTargetClasses), seed);
    }
}
