namespace QnnLab.NanoApp;

/// <summary>
/// Turns link and engine events into the three LEDs, writing the GPIOs only when a LED changes.
/// Starting: all three lit (lamp test). Up: green steady, blue lit for a short while after traffic.
/// Recovering: red blinking, green off. Engine fault: red steady for a while. Fatal: red steady for good.
/// </summary>
public sealed class StatusIndicator
{
    /// <summary>How long blue stays lit after the last byte moved, so single frames are visible.</summary>
    public const int ActivityHoldMs = 50;

    /// <summary>How long red stays lit after an engine fault.</summary>
    public const int FaultHoldMs = 1000;

    /// <summary>Half period of the red blink while recovering (2 Hz).</summary>
    public const int BlinkHalfPeriodMs = 250;

    private readonly IStatusLeds _leds;
    private LinkState _state = LinkState.Starting;
    private long _lastTrafficMs = long.MinValue / 2;
    private long _lastFaultMs = long.MinValue / 2;
    private long _recoveringSinceMs;
    private bool _written;
    private bool _green;
    private bool _blue;
    private bool _red;

    /// <summary>Creates an indicator; LEDs are first written by <see cref="Update"/>.</summary>
    /// <param name="leds">The LEDs.</param>
    public StatusIndicator(IStatusLeds leds)
    {
        _leds = leds;
    }

    /// <summary>Current state.</summary>
    public LinkState State
    {
        get { return _state; }
    }

    /// <summary>LED writes made so far (for tests and diagnostics: a stable state writes nothing).</summary>
    public int Writes { get; private set; }

    /// <summary>The link opened.</summary>
    /// <param name="nowMs">Current time.</param>
    public void LinkUp(long nowMs)
    {
        if (_state != LinkState.Fatal)
        {
            _state = LinkState.Up;
        }
    }

    /// <summary>The link failed.</summary>
    /// <param name="nowMs">Current time; the blink phase starts here.</param>
    public void LinkDown(long nowMs)
    {
        if (_state != LinkState.Fatal && _state != LinkState.Recovering)
        {
            _state = LinkState.Recovering;
            _recoveringSinceMs = nowMs;
        }
    }

    /// <summary>Bytes moved.</summary>
    /// <param name="nowMs">Current time.</param>
    public void Traffic(long nowMs)
    {
        _lastTrafficMs = nowMs;
    }

    /// <summary>The protocol engine faulted.</summary>
    /// <param name="nowMs">Current time.</param>
    public void EngineFault(long nowMs)
    {
        _lastFaultMs = nowMs;
    }

    /// <summary>The device core cannot run; the state stays Fatal.</summary>
    public void Fatal()
    {
        _state = LinkState.Fatal;
    }

    /// <summary>Recomputes the LEDs for <paramref name="nowMs"/> and writes them if any changed.</summary>
    /// <param name="nowMs">Current time.</param>
    public void Update(long nowMs)
    {
        bool green;
        bool blue;
        bool red;
        switch (_state)
        {
            case LinkState.Starting:
                green = true;
                blue = true;
                red = true;
                break;
            case LinkState.Up:
                green = true;
                blue = nowMs - _lastTrafficMs < ActivityHoldMs;
                red = nowMs - _lastFaultMs < FaultHoldMs;
                break;
            case LinkState.Recovering:
                green = false;
                blue = false;
                red = ((nowMs - _recoveringSinceMs) / BlinkHalfPeriodMs) % 2 == 0;
                break;
            default:
                green = false;
                blue = false;
                red = true;
                break;
        }
        if (_written && green == _green && blue == _blue && red == _red)
        {
            return;
        }
        _leds.Set(green, blue, red);
        _green = green;
        _blue = blue;
        _red = red;
        _written = true;
        Writes++;
    }
}
