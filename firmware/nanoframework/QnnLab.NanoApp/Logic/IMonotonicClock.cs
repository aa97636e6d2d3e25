namespace QnnLab.NanoApp;

/// <summary>Milliseconds from an arbitrary origin, never going backwards; injected so tests control time.</summary>
public interface IMonotonicClock
{
    /// <summary>Current time in milliseconds.</summary>
    long NowMs { get; }
}
