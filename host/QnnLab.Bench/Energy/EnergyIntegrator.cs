namespace QnnLab.Bench.Energy;

/// <summary>Energy over a time window from power samples: trapezoids between samples, each edge of the window interpolated.</summary>
public static class EnergyIntegrator
{
    /// <summary>Joules in [from, to]; NaN when the samples do not cover the window (then nothing honest can be said).</summary>
    public static double Joules(IReadOnlyList<PowerSample> samples, double from, double to)
    {
        if (to < from || samples.Count < 2 || samples[0].Time > from || samples[^1].Time < to)
        {
            return double.NaN;
        }
        double sum = 0;
        for (int i = 1; i < samples.Count; i++)
        {
            PowerSample a = samples[i - 1], b = samples[i];
            double lo = Math.Max(a.Time, from), hi = Math.Min(b.Time, to);
            if (hi <= lo || b.Time <= a.Time)
            {
                continue;
            }
            sum += (At(a, b, lo) + At(a, b, hi)) / 2 * (hi - lo);
        }
        return sum;
    }

    /// <summary>Power at <paramref name="t"/> on the straight line between two samples.</summary>
    private static double At(PowerSample a, PowerSample b, double t) =>
        a.Watts + (b.Watts - a.Watts) * (t - a.Time) / (b.Time - a.Time);
}
