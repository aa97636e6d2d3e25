namespace QnnLab.Bench.Energy;

/// <summary>One reading of the board's supply: when (host seconds on <see cref="IPowerMonitor.Now"/>), bus volts and amps.</summary>
public readonly record struct PowerSample(double Time, double Volts, double Amps)
{
    public double Watts => Volts * Amps;
}

/// <summary>
/// Samples the board's supply in the background. Callers ask for the samples of a time window afterwards,
/// on the monitor's own clock, so a slow link or store never costs samples.
/// </summary>
public interface IPowerMonitor : IDisposable
{
    string Description { get; }

    /// <summary>Seconds on the clock that stamps the samples.</summary>
    double Now { get; }

    void Start();

    /// <summary>The samples around [from, to]: those inside plus one on each side when there is one, oldest first.</summary>
    IReadOnlyList<PowerSample> Samples(double from, double to);

    /// <summary>Forgets samples older than <paramref name="time"/> (windows before it will not be asked for again).</summary>
    void Discard(double time);
}
