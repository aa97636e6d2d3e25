using System.Globalization;
using System.Reflection;
using QnnLab.Attacks.Targets;

namespace QnnLab.Attacks;

/// <summary>
/// One attack (untargeted). Subclasses live one per file, opening with the attack's paper, norm and defaults, and keep
/// ART's parameter names and meaning (the paper used ART 1.10). <see cref="Generate"/> checks the target's
/// capabilities, never modifies its input, and clips the result to [0, 1].
/// </summary>
public abstract class Attack
{
    /// <summary>The CLI name: fgsm, bim, pgd, deepfool, jsma, cw-l2, cw-linf, ead, autoattack.</summary>
    public abstract string Name { get; }

    /// <summary>The norm it bounds or minimises: L0, L1, L2 or Linf.</summary>
    public abstract string Norm { get; }

    /// <summary>What the crafting target must answer.</summary>
    public abstract TargetCapabilities Needs { get; }

    /// <summary>Parameters under ART's names (settable by name: <see cref="AttackParameters.Set"/>).</summary>
    public abstract AttackParameters Parameters { get; }

    /// <summary>
    /// The paper's configuration (Table 14, and its public run scripts where the table is ambiguous) per data set:
    /// cifar10, vww, coffee. Each entry is ART parameter name -> value.
    /// </summary>
    public virtual IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> Presets { get; } =
        new Dictionary<string, IReadOnlyDictionary<string, string>>();

    /// <summary>One configuration for every data set the paper used (cifar10, vww, coffee).</summary>
    protected static IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> SamePreset(IReadOnlyDictionary<string, string> values)
        => new Dictionary<string, IReadOnlyDictionary<string, string>> { ["cifar10"] = values, ["vww"] = values, ["coffee"] = values };

    /// <summary>Applies the named preset; an unknown one is an error listing the presets this attack has.</summary>
    public void ApplyPreset(string dataset)
    {
        if (!Presets.TryGetValue(dataset, out IReadOnlyDictionary<string, string>? values))
        {
            throw new ArgumentException($"attack '{Name}' has no preset '{dataset}' (it has: {(Presets.Count == 0 ? "none" : string.Join(", ", Presets.Keys))})");
        }
        foreach ((string k, string v) in values)
        {
            Parameters.Set(k, v);
        }
    }

    /// <summary>
    /// Adversarial examples for <paramref name="n"/> images <paramref name="x"/> (NHWC in [0, 1]) with true labels
    /// <paramref name="y"/>. <paramref name="seed"/> makes randomised attacks reproducible.
    /// </summary>
    public float[] Generate(AttackTarget target, ReadOnlySpan<float> x, int[] y, int n, int seed)
    {
        if (WhyCannotAttack(target) is string why)
        {
            throw new InvalidOperationException(why);
        }
        if (x.Length != n * target.ImageSize || y.Length != n)
        {
            throw new ArgumentException($"attack '{Name}': {x.Length} values and {y.Length} labels for {n} images of {target.ImageSize} values");
        }
        float[] copy = x.ToArray();
        QueriesPerImage = null;
        float[] adv = Run(target, copy, y, n, seed);
        for (int i = 0; i < adv.Length; i++)
        {
            adv[i] = float.IsNaN(adv[i]) ? x[i] : Math.Clamp(adv[i], 0f, 1f);
        }
        return adv;
    }

    /// <summary>
    /// Null when <paramref name="target"/> answers everything this attack needs; otherwise the one error naming the
    /// attack, the target and the missing capability (the CLI checks it before loading data).
    /// </summary>
    public string? WhyCannotAttack(AttackTarget target)
    {
        if (target.Has(Needs))
        {
            return null;
        }
        TargetCapabilities missing = Needs & ~target.Capabilities;
        return $"attack '{Name}' needs {missing.ToString().ToLowerInvariant()} that target '{target.Name}' cannot give (it offers {target.Capabilities.ToString().ToLowerInvariant()})";
    }

    /// <summary>
    /// Queries each image of the last <see cref="Generate"/> cost, for attacks that search image by image (the query
    /// attacks); null for batch attacks, whose images share every query (their count per image is the batch's mean).
    /// </summary>
    public long[]? QueriesPerImage { get; protected set; }

    /// <summary>The algorithm; may use <paramref name="x"/> as scratch (it is the caller's copy).</summary>
    protected abstract float[] Run(AttackTarget target, float[] x, int[] y, int n, int seed);
}

/// <summary>Marks an attack parameter with its ART name and meaning.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class ParamAttribute(string name, string description) : Attribute
{
    public string Name { get; } = name;
    public string Description { get; } = description;
}

/// <summary>Parameters of an attack, settable by their ART names from the CLI (--set eps=0.004) and presets.</summary>
public abstract class AttackParameters
{
    private IEnumerable<(PropertyInfo Property, ParamAttribute Param)> All()
        => GetType().GetProperties().Select(p => (p, p.GetCustomAttribute<ParamAttribute>())).Where(t => t.Item2 is not null).Select(t => (t.p, t.Item2!));

    /// <summary>Sets a parameter by its ART name; an unknown name or a bad value is one error naming the choices.</summary>
    public void Set(string name, string value)
    {
        (PropertyInfo Property, ParamAttribute Param) hit = All().FirstOrDefault(t => t.Param.Name == name);
        if (hit.Property is null)
        {
            throw new ArgumentException($"unknown parameter '{name}' (this attack takes: {string.Join(", ", All().Select(t => t.Param.Name))})");
        }
        Type type = Nullable.GetUnderlyingType(hit.Property.PropertyType) ?? hit.Property.PropertyType;
        try
        {
            object parsed = type == typeof(bool) ? bool.Parse(value)
                : type == typeof(string) ? value
                : type.IsEnum ? Enum.Parse(type, value, ignoreCase: true)
                : Convert.ChangeType(value, type, CultureInfo.InvariantCulture);
            hit.Property.SetValue(this, parsed);
        }
        catch (Exception e) when (e is FormatException or InvalidCastException or OverflowException or ArgumentException)
        {
            throw new ArgumentException($"parameter '{name}': '{value}' is not a {type.Name.ToLowerInvariant()}");
        }
    }

    /// <summary>Sets each "name=value" of the CLI's repeatable --set (attacks and train-based defences alike).</summary>
    public void SetAll(IEnumerable<string> assignments)
    {
        foreach (string kv in assignments)
        {
            int eq = kv.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new ArgumentException($"--set '{kv}': expected NAME=VALUE");
            }
            Set(kv[..eq].Trim(), kv[(eq + 1)..].Trim());
        }
    }

    /// <summary>Every parameter by ART name with its current value (for reports and the store).</summary>
    public IReadOnlyDictionary<string, object?> Values() => All().ToDictionary(t => t.Param.Name, t => t.Property.GetValue(this));

    public override string ToString()
        => string.Join(" ", Values().Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Key}={kv.Value}")));
}
