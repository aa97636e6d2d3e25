namespace QnnLab.Bench.Reset;

/// <summary>A wire to the board's reset input: one call holds the board in reset, then lets it boot.</summary>
public interface IResetLine : IDisposable
{
    /// <summary>What the line is, for logs and the store ("ft232h:D7", "firmata:/dev/ttyUSB0:4").</summary>
    string Description { get; }

    /// <summary>Holds reset asserted for <paramref name="width"/>, then releases it.</summary>
    Task PulseAsync(TimeSpan width, CancellationToken ct = default);
}
