using System.Device.Gpio;
using System.Diagnostics;

namespace QnnLab.Bench.Tests;

/// <summary>
/// GPIO pins with nothing behind them: records, with Stopwatch timestamps, the level each pin drives
/// (low/high as an output, "released" as an input), which is what a reset line's wire sees.
/// </summary>
internal sealed class FakeGpioDriver : GpioDriver
{
    public enum Level
    {
        Released,
        Low,
        High,
    }

    private readonly Dictionary<int, (PinMode Mode, PinValue Latch)> _pins = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    /// <summary>Invoked on every level change (the test's "wire", e.g. the sim board's NRST).</summary>
    public Action<int, Level>? OnLevel { get; set; }

    public List<(int Pin, Level Level, TimeSpan At)> Changes { get; } = [];

    protected override int PinCount => 16;

    private void Record(int pin)
    {
        (PinMode mode, PinValue latch) = _pins[pin];
        Level level = mode == PinMode.Output ? (latch == PinValue.Low ? Level.Low : Level.High) : Level.Released;
        lock (Changes)
        {
            int last = Changes.FindLastIndex(c => c.Pin == pin);
            if (last >= 0 && Changes[last].Level == level)
            {
                return; // the wire did not change
            }
            Changes.Add((pin, level, _clock.Elapsed));
        }
        OnLevel?.Invoke(pin, level);
    }

    protected override void OpenPin(int pinNumber) => _pins[pinNumber] = (PinMode.Input, PinValue.Low);

    protected override void ClosePin(int pinNumber) => _pins.Remove(pinNumber);

    protected override void SetPinMode(int pinNumber, PinMode mode)
    {
        _pins[pinNumber] = (mode, _pins[pinNumber].Latch);
        Record(pinNumber);
    }

    protected override PinMode GetPinMode(int pinNumber) => _pins[pinNumber].Mode;

    protected override bool IsPinModeSupported(int pinNumber, PinMode mode) => mode is PinMode.Input or PinMode.Output;

    protected override PinValue Read(int pinNumber) => _pins[pinNumber].Latch;

    protected override void Write(int pinNumber, PinValue value)
    {
        _pins[pinNumber] = (_pins[pinNumber].Mode, value);
        Record(pinNumber);
    }

    protected override WaitForEventResult WaitForEvent(int pinNumber, PinEventTypes eventTypes, CancellationToken cancellationToken) =>
        throw new NotSupportedException();

    protected override void AddCallbackForPinValueChangedEvent(int pinNumber, PinEventTypes eventTypes, PinChangeEventHandler callback) =>
        throw new NotSupportedException();

    protected override void RemoveCallbackForPinValueChangedEvent(int pinNumber, PinChangeEventHandler callback) =>
        throw new NotSupportedException();
}
