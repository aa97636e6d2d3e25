using System.Device.I2c;
using System.Diagnostics;
using Iot.Device.Adc;

namespace QnnLab.Bench.Energy;

/// <summary>
/// An INA219 on the board's supply, read through the Iot.Device.Adc.Ina219 binding on a background thread:
/// bus voltage and current, continuously converted at 12 bits, each pair stamped with the middle of its reads.
/// </summary>
public sealed class Ina219PowerMonitor : IPowerMonitor
{
    public const int DefaultAddress = 0x40;

    private readonly Ina219 _ina;
    private readonly I2cDevice _device;
    private readonly IDisposable? _owner;
    private readonly Func<double> _clock;
    private readonly double _currentLsb;
    private readonly List<PowerSample> _samples = [];
    private readonly object _lock = new();
    private readonly CancellationTokenSource _stop = new();
    private Thread? _thread;
    private Exception? _fault;

    /// <param name="clock">Seconds, the same clock the caller stamps inference windows with (default: a Stopwatch).</param>
    /// <param name="owner">Disposed with the monitor (the bridge the device came from).</param>
    public Ina219PowerMonitor(I2cDevice device, Ina219Calibration calibration, string description, Func<double>? clock = null, IDisposable? owner = null)
    {
        _device = device;
        _owner = owner;
        _currentLsb = calibration.CurrentLsb;
        Description = description;
        if (clock is null)
        {
            var sw = Stopwatch.StartNew();
            clock = () => sw.Elapsed.TotalSeconds;
        }
        _clock = clock;
        _ina = new Ina219(device);
        _ina.Reset();
        _ina.BusVoltageRange = Ina219BusVoltageRange.Range32v;
        _ina.PgaSensitivity = calibration.PgaMillivolts switch
        {
            40 => Ina219PgaSensitivity.PlusOrMinus40mv,
            80 => Ina219PgaSensitivity.PlusOrMinus80mv,
            160 => Ina219PgaSensitivity.PlusOrMinus160mv,
            _ => Ina219PgaSensitivity.PlusOrMinus320mv,
        };
        // The shunt ADC keeps its power-on 12 bits: the binding's ShuntAdcResolutionOrSamples setter writes the bus field.
        _ina.BusAdcResolutionOrSamples = Ina219AdcResolutionOrSamples.Adc12Bit;
        _ina.SetCalibration(calibration.Register, (float)calibration.CurrentLsb);
        _ina.OperatingMode = Ina219OperatingMode.ShuntAndBusContinuous;
    }

    public string Description { get; }

    public double Now => _clock();

    public void Start()
    {
        _thread = new Thread(Sample) { IsBackground = true, Name = "ina219", Priority = ThreadPriority.AboveNormal };
        _thread.Start();
    }

    /// <summary>One bus voltage and current pair, read now (also what the sampling thread does).</summary>
    public PowerSample ReadOnce()
    {
        double t0 = _clock();
        double volts = _ina.ReadBusVoltage().Volts;
        double amps = _ina.ReadCurrent().Amperes;
        double t1 = _clock();
        // the binding reads the current register unsigned: a reverse current comes back near 65536 LSB
        if (amps > 32767.5 * _currentLsb)
        {
            amps -= 65536 * _currentLsb;
        }
        return new PowerSample((t0 + t1) / 2, volts, amps);
    }

    private void Sample()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                PowerSample s = ReadOnce();
                lock (_lock)
                {
                    _samples.Add(s);
                }
            }
        }
        catch (Exception e)
        {
            lock (_lock)
            {
                _fault = e;
            }
        }
    }

    public IReadOnlyList<PowerSample> Samples(double from, double to)
    {
        lock (_lock)
        {
            if (_fault is not null)
            {
                throw new IOException($"{Description}: sampling failed: {_fault.Message}", _fault);
            }
            int first = _samples.FindLastIndex(s => s.Time <= from);
            int last = _samples.FindIndex(s => s.Time >= to);
            int lo = first < 0 ? 0 : first;
            int hi = last < 0 ? _samples.Count - 1 : last;
            return hi < lo ? [] : _samples.GetRange(lo, hi - lo + 1);
        }
    }

    public void Discard(double time)
    {
        lock (_lock)
        {
            // keep the last sample before the time: it bounds the next window's left edge
            int keepFrom = _samples.FindLastIndex(s => s.Time <= time);
            if (keepFrom > 0)
            {
                _samples.RemoveRange(0, keepFrom);
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _thread?.Join(TimeSpan.FromSeconds(2));
        _ina.Dispose();
        _device.Dispose();
        _owner?.Dispose();
        _stop.Dispose();
    }
}
