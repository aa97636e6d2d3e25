using System;

namespace QnnLab.NanoApp;

/// <summary>
/// Keeps the application link alive around the <see cref="FramePump"/>: opens the port, pumps, and on
/// any port exception closes it and reopens after a <see cref="BackoffPolicy"/> delay. The caller's loop
/// is <c>while (true) { int ms = supervisor.Tick(); if (ms &gt; 0) Thread.Sleep(ms); }</c>.
/// </summary>
public sealed class LinkSupervisor
{
    private readonly ISerialLink _link;
    private readonly FramePump _pump;
    private readonly IMonotonicClock _clock;
    private readonly BackoffPolicy _backoff;
    private readonly StatusIndicator _indicator;
    private readonly int _idleSleepMs;
    private readonly int _stableAfterMs;
    private long _nextAttemptMs;
    private long _openedAtMs;

    /// <summary>Creates a supervisor; nothing is opened before the first <see cref="Tick"/>.</summary>
    /// <param name="link">The application UART.</param>
    /// <param name="pump">The pump between it and the protocol engine.</param>
    /// <param name="clock">Time source.</param>
    /// <param name="backoff">Reopen delays.</param>
    /// <param name="indicator">LED state machine.</param>
    /// <param name="idleSleepMs">Sleep suggested when nothing moved (bounds added latency; 1-5 ms fits 115200-921600 baud FIFOs).</param>
    /// <param name="stableAfterMs">An open link that ran this long without error counts as healthy again, even without traffic.</param>
    public LinkSupervisor(ISerialLink link, FramePump pump, IMonotonicClock clock, BackoffPolicy backoff, StatusIndicator indicator, int idleSleepMs, int stableAfterMs)
    {
        if (link == null || pump == null || clock == null || backoff == null || indicator == null)
        {
            throw new ArgumentNullException(nameof(link), "every collaborator is required");
        }
        if (idleSleepMs < 0 || stableAfterMs < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(idleSleepMs));
        }
        _link = link;
        _pump = pump;
        _clock = clock;
        _backoff = backoff;
        _indicator = indicator;
        _idleSleepMs = idleSleepMs;
        _stableAfterMs = stableAfterMs;
    }

    /// <summary>Link failures (open or pump) in a row since the link last proved healthy.</summary>
    public int ConsecutiveFailures { get; private set; }

    /// <summary>Link failures since start-up.</summary>
    public int TotalFailures { get; private set; }

    /// <summary>Successful opens since start-up (the first one included).</summary>
    public int Opens { get; private set; }

    /// <summary>When the next open attempt is due while recovering (ms, the clock's origin).</summary>
    public long NextAttemptMs
    {
        get { return _nextAttemptMs; }
    }

    /// <summary>True while the link is open.</summary>
    public bool IsLinkUp { get; private set; }

    /// <summary>The device core failed to start: stop pumping and show it.</summary>
    public void EnterFatal()
    {
        _indicator.Fatal();
        CloseQuietly();
        IsLinkUp = false;
        _indicator.Update(_clock.NowMs);
    }

    /// <summary>One loop iteration: (re)open when due, pump one step, update the LEDs.</summary>
    /// <returns>Milliseconds the caller should sleep before the next tick (0: call again at once).</returns>
    public int Tick()
    {
        long now = _clock.NowMs;
        if (_indicator.State == LinkState.Fatal)
        {
            return _idleSleepMs > 0 ? _idleSleepMs : 1;
        }

        if (!IsLinkUp)
        {
            if (now < _nextAttemptMs)
            {
                _indicator.Update(now);
                long wait = _nextAttemptMs - now;
                return wait < _idleSleepMs || _idleSleepMs == 0 ? (int)wait : _idleSleepMs;
            }
            try
            {
                _link.Open();
            }
            catch (Exception)
            {
                Fail(now);
                return 0;
            }
            IsLinkUp = true;
            _openedAtMs = now;
            Opens++;
            _indicator.LinkUp(now);
        }

        int result;
        try
        {
            result = _pump.Step(_link);
        }
        catch (Exception)
        {
            Fail(now);
            return 0;
        }

        if ((result & PumpResult.Moved) != 0)
        {
            ConsecutiveFailures = 0;
            _indicator.Traffic(now);
        }
        else if (ConsecutiveFailures > 0 && now - _openedAtMs >= _stableAfterMs)
        {
            ConsecutiveFailures = 0;
        }
        if ((result & PumpResult.EngineFault) != 0)
        {
            _indicator.EngineFault(now);
        }
        _indicator.Update(now);
        return result == PumpResult.Idle ? _idleSleepMs : 0;
    }

    private void Fail(long now)
    {
        CloseQuietly();
        IsLinkUp = false;
        ConsecutiveFailures++;
        TotalFailures++;
        _nextAttemptMs = now + _backoff.DelayMs(ConsecutiveFailures);
        _indicator.LinkDown(now);
        _indicator.Update(now);
    }

    private void CloseQuietly()
    {
        try
        {
            _link.Close();
        }
        catch (Exception)
        {
            // A broken port may refuse to close; the reopen is what matters.
        }
    }
}
