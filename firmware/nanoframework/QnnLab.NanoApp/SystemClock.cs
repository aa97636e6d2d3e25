using System;

namespace QnnLab.NanoApp;

/// <summary>
/// Milliseconds from nanoCLR's clock. mscorlib v1 has no Stopwatch or Environment.TickCount, so this
/// reads DateTime.UtcNow; the board's RTC is never set by the app, so the clock only moves forward.
/// </summary>
internal sealed class SystemClock : IMonotonicClock
{
    public long NowMs
    {
        get { return DateTime.UtcNow.Ticks / TimeSpan.TicksPerMillisecond; }
    }
}
