using System.Device.Gpio;

namespace QnnLab.Bench.Reset;

/// <summary>
/// NRST (active low) on one GPIO pin. Asserting drives the pin low; releasing turns it back into an input,
/// because NRST has its own pull-up and the ST-LINK drives the same net: driving it high would fight it.
/// </summary>
public sealed class GpioResetLine : IResetLine
{
    private readonly GpioController _gpio;
    private readonly int _pin;
    private readonly IDisposable? _owner;

    /// <param name="owner">Disposed with the line (the FT232H or Firmata board the controller came from).</param>
    public GpioResetLine(GpioController gpio, int pin, string description, IDisposable? owner = null)
    {
        _gpio = gpio;
        _pin = pin;
        _owner = owner;
        Description = description;
        // released until the first pulse: the board keeps running when the bench opens
        _gpio.OpenPin(_pin, PinMode.Input);
    }

    public string Description { get; }

    public async Task PulseAsync(TimeSpan width, CancellationToken ct = default)
    {
        _gpio.SetPinMode(_pin, PinMode.Output);
        _gpio.Write(_pin, PinValue.Low);
        var held = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            await Task.Delay(width, ct).ConfigureAwait(false);
            // timers may fire a little early: the pulse is never shorter than asked (NRST has a minimum width)
            while (held.Elapsed < width)
            {
                Thread.Yield();
            }
        }
        finally
        {
            _gpio.SetPinMode(_pin, PinMode.Input);
        }
    }

    public void Dispose()
    {
        if (_gpio.IsPinOpen(_pin))
        {
            _gpio.ClosePin(_pin);
        }
        _gpio.Dispose();
        _owner?.Dispose();
    }
}
