using System;

namespace QnnLab.NanoApp;

/// <summary>
/// How long to wait before reopening a failed port: doubling from an initial delay up to a cap, so
/// a cable pulled for minutes costs one open attempt every cap interval rather than a busy loop.
/// </summary>
public sealed class BackoffPolicy
{
    /// <summary>Creates a policy.</summary>
    /// <param name="initialDelayMs">Delay after the first failure (ms, positive).</param>
    /// <param name="maxDelayMs">Upper bound on any delay (ms, at least the initial one).</param>
    public BackoffPolicy(int initialDelayMs, int maxDelayMs)
    {
        if (initialDelayMs <= 0 || maxDelayMs < initialDelayMs)
        {
            throw new ArgumentOutOfRangeException(nameof(initialDelayMs), "need 0 < initial <= max");
        }
        InitialDelayMs = initialDelayMs;
        MaxDelayMs = maxDelayMs;
    }

    /// <summary>Delay after the first failure.</summary>
    public int InitialDelayMs { get; }

    /// <summary>Upper bound on any delay.</summary>
    public int MaxDelayMs { get; }

    /// <summary>Delay before the next attempt after <paramref name="consecutiveFailures"/> failures in a row.</summary>
    /// <param name="consecutiveFailures">Failures since the link last worked; 0 means no wait.</param>
    /// <returns>initial x 2^(failures-1), capped at the maximum.</returns>
    public int DelayMs(int consecutiveFailures)
    {
        if (consecutiveFailures <= 0)
        {
            return 0;
        }
        long delay = InitialDelayMs;
        // Stop doubling at the cap: the loop never runs more than ~31 times and cannot overflow a long.
        for (int i = 1; i < consecutiveFailures && delay < MaxDelayMs; i++)
        {
            delay *= 2;
        }
        return delay > MaxDelayMs ? MaxDelayMs : (int)delay;
    }
}
