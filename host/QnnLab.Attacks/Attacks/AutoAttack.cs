using QnnLab.Attacks.Targets;

namespace QnnLab.Attacks.Attacks;

/// <summary>
/// AutoAttack — Croce, Hein, "Reliable evaluation of adversarial robustness with an ensemble of diverse parameter-free
/// attacks", ICML 2020; version "standard". Norm: Linf. Runs its components in the official order, each on the images
/// still robust (correctly classified, not yet broken), and keeps for every image the first adversarial example within
/// eps: APGD-CE (100 iterations), APGD-T (9 target classes), FAB-T (9 target classes, 100 iterations), Square (5,000
/// queries, p_init 0.8). <see cref="RobustAfter"/> holds the robust count after each component (AutoAttack's report).
/// Defaults (official): eps=8/255, attacks_to_run all four, n_queries=5000 for Square. Paper presets (run scripts):
/// cifar10 eps 0.004; vww eps 0.004 with apgd-ce, fab-t, square (two classes: no APGD-T, whose loss needs four);
/// coffee eps 0.009.
/// </summary>
public sealed class AutoAttack : Attack
{
    public sealed class Options : AttackParameters
    {
        [Param("norm", "Linf (the only norm implemented)")]
        public string Norm { get; set; } = "Linf";

        [Param("eps", "Linf budget (inputs in [0, 1])")]
        public double Eps { get; set; } = 8.0 / 255;

        [Param("attacks_to_run", "components in order, comma-separated: apgd-ce, apgd-t, fab-t, square")]
        public string AttacksToRun { get; set; } = "apgd-ce,apgd-t,fab-t,square";

        [Param("n_queries", "Square's query budget per image")]
        public int NQueries { get; set; } = 5000;
    }

    public Options Config { get; } = new();
    public override string Name => "autoattack";
    public override string Norm => "Linf";
    public override TargetCapabilities Needs => TargetCapabilities.Gradients | TargetCapabilities.Scores;
    public override AttackParameters Parameters => Config;

    public override IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> Presets { get; } =
        new Dictionary<string, IReadOnlyDictionary<string, string>>
        {
            ["cifar10"] = new Dictionary<string, string> { ["eps"] = "0.004" },
            ["vww"] = new Dictionary<string, string> { ["eps"] = "0.004", ["attacks_to_run"] = "apgd-ce,fab-t,square" },
            ["coffee"] = new Dictionary<string, string> { ["eps"] = "0.009" },
        };

    /// <summary>After the clean check and then after each component of the last run: how many images were still robust.</summary>
    public IReadOnlyList<(string Component, int Robust)> RobustAfter { get; private set; } = [];

    /// <summary><see cref="RobustAfter"/> summed over every run of this instance (a run's batches), and the images in them.</summary>
    public IReadOnlyList<(string Component, long Robust)> RobustTotal => _total;

    public long ImagesAttacked { get; private set; }

    private readonly List<(string Component, long Robust)> _total = [];

    protected override float[] Run(AttackTarget target, float[] x, int[] y, int n, int seed)
    {
        AutoAttackShared.RequireLinf(Name, Config.Norm);
        string[] components = Config.AttacksToRun.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Attack[] attacks = [.. components.Select(Component)];
        int size = target.ImageSize, classes = target.Classes;
        float[] result = (float[])x.Clone();
        float[] clean = target.Scores(x, n);
        bool[] robust = [.. Enumerable.Range(0, n).Select(i => AutoAttackShared.ArgMax(clean, i, classes) == y[i])];
        var report = new List<(string, int)> { ("clean", robust.Count(r => r)) };
        for (int c = 0; c < attacks.Length; c++)
        {
            int[] idx = [.. Enumerable.Range(0, n).Where(i => robust[i])];
            if (idx.Length > 0)
            {
                float[] sub = AutoAttackShared.Gather(x, idx, size);
                float[] adv = attacks[c].Generate(target, sub, [.. idx.Select(i => y[i])], idx.Length, unchecked(seed + (c * 7919)));
                int[] labels = target.Labels(adv, idx.Length);
                for (int k = 0; k < idx.Length; k++)
                {
                    // AutoAttack counts an example only inside the eps ball (each component projects; checked anyway)
                    if (labels[k] != y[idx[k]] && AutoAttackShared.LinfDistance(adv, sub, k, size) <= Config.Eps + 1e-6)
                    {
                        AutoAttackShared.CopyImage(adv, k, result, idx[k], size);
                        robust[idx[k]] = false;
                    }
                }
            }
            report.Add((components[c], robust.Count(r => r)));
        }
        RobustAfter = report;
        for (int k = 0; k < report.Count; k++)
        {
            if (_total.Count <= k)
            {
                _total.Add((report[k].Item1, 0));
            }
            _total[k] = (_total[k].Component, _total[k].Robust + report[k].Item2);
        }
        ImagesAttacked += n;
        return result;
    }

    private Attack Component(string name)
    {
        string eps = Config.Eps.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        Attack a = name switch
        {
            "apgd-ce" or "apgd-t" or "fab-t" => AttackCatalog.Create(name),
            "square" => AttackCatalog.Create("square-linf"),
            _ => throw new ArgumentException($"autoattack: unknown component '{name}' (apgd-ce, apgd-t, fab-t, square)"),
        };
        a.Parameters.Set("eps", eps);
        if (name == "square")
        {
            a.Parameters.Set("max_iter", Config.NQueries.ToString(System.Globalization.CultureInfo.InvariantCulture));
            a.Parameters.Set("p_init", "0.8");
        }
        return a;
    }
}
