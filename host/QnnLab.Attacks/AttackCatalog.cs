namespace QnnLab.Attacks;

/// <summary>Every attack in this assembly by its CLI name (found by reflection, so adding an attack is adding its file).</summary>
public static class AttackCatalog
{
    private static readonly Lazy<IReadOnlyDictionary<string, Type>> Types = new(() =>
        typeof(Attack).Assembly.GetTypes()
            .Where(t => t.IsSubclassOf(typeof(Attack)) && !t.IsAbstract && t.GetConstructor(Type.EmptyTypes) is not null)
            .ToDictionary(t => ((Attack)Activator.CreateInstance(t)!).Name, t => t));

    public static IReadOnlyCollection<string> Names => [.. Types.Value.Keys.Order()];

    /// <summary>A new instance with ART's defaults; an unknown name is an error listing the attacks.</summary>
    public static Attack Create(string name)
        => Types.Value.TryGetValue(name, out Type? t)
            ? (Attack)Activator.CreateInstance(t)!
            : throw new ArgumentException($"unknown attack '{name}' (known: {string.Join(", ", Names)})");
}
