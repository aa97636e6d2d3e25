using System.Buffers.Binary;
using System.Device.I2c;

namespace QnnLab.Bench.Tests;

/// <summary>
/// An INA219 behind an I2C address, as the datasheet (SBOS448) describes its registers: 16-bit, big-endian,
/// a register pointer set by the first written byte. Shunt voltage (LSB 10 uV, clipped to the PGA range), bus
/// voltage (bits 15..3, LSB 4 mV; bit 1 CNVR, bit 0 OVF), current = shunt x calibration / 4096, power =
/// current x bus / 5000, calibration (bit 0 void). In continuous mode a new shunt+bus conversion completes every
/// shunt-conversion + bus-conversion time; CNVR is set when one completes and cleared by reading the power
/// register or writing the configuration.
/// </summary>
internal sealed class FakeIna219 : I2cDevice
{
    public const ushort PowerOnConfig = 0x399F;

    private readonly Func<double, double> _amps;
    private readonly Func<double, double> _volts;
    private readonly Func<double> _clock;
    private readonly double _shuntOhms;
    private readonly object _lock = new();
    private byte _pointer;
    private ushort _config = PowerOnConfig;
    private ushort _calibration;
    private double _conversionStart;
    private long _lastConversion = -1;
    private bool _cnvr;
    private short _shunt, _current, _busBits;
    private ushort _power;
    private bool _ovf;

    /// <param name="amps">Load current at a time on <paramref name="clock"/> (seconds).</param>
    /// <param name="volts">Bus voltage at a time.</param>
    public FakeIna219(Func<double, double> amps, Func<double, double> volts, double shuntOhms, Func<double> clock, int address = 0x40)
    {
        _amps = amps;
        _volts = volts;
        _shuntOhms = shuntOhms;
        _clock = clock;
        ConnectionSettings = new I2cConnectionSettings(1, address);
        _conversionStart = clock();
    }

    public override I2cConnectionSettings ConnectionSettings { get; }

    /// <summary>Every register write, in order (register, value).</summary>
    public List<(byte Register, ushort Value)> Writes { get; } = [];

    public ushort Config
    {
        get
        {
            lock (_lock)
            {
                return _config;
            }
        }
    }

    /// <summary>Conversion time of one ADC at the configured resolution/averaging (datasheet table 5), seconds.</summary>
    public static double ConversionSeconds(int adcField) => adcField switch
    {
        0 or 4 => 84e-6,
        1 or 5 => 148e-6,
        2 or 6 => 276e-6,
        3 or 7 or 8 => 532e-6,
        9 => 1.06e-3,
        10 => 2.13e-3,
        11 => 4.26e-3,
        12 => 8.51e-3,
        13 => 17.02e-3,
        14 => 34.05e-3,
        _ => 68.10e-3,
    };

    private double CycleSeconds
    {
        get
        {
            int mode = _config & 7;
            double shunt = (mode & 1) != 0 ? ConversionSeconds((_config >> 3) & 0xF) : 0;
            double bus = (mode & 2) != 0 ? ConversionSeconds((_config >> 7) & 0xF) : 0;
            return shunt + bus;
        }
    }

    /// <summary>Brings the result registers up to the last conversion completed by now.</summary>
    private void Update()
    {
        int mode = _config & 7;
        if (mode is 0 or 4)
        {
            return; // power-down / ADC off: registers hold their last values
        }
        double cycle = CycleSeconds;
        double now = _clock();
        long k = (long)Math.Floor((now - _conversionStart) / cycle) - 1; // index of the last completed conversion
        bool continuous = (mode & 4) != 0;
        if (!continuous)
        {
            k = Math.Min(k, 0); // triggered: one conversion after the configuration write
        }
        if (k < 0 || k == _lastConversion)
        {
            return;
        }
        _lastConversion = k;
        // the ADC integrates over its conversion; the middle of it stands for the whole
        double mid = _conversionStart + (k + 0.5) * cycle;
        double pga = 0.040 * (1 << ((_config >> 11) & 3));
        double shuntVolts = Math.Clamp(_amps(mid) * _shuntOhms, -pga, pga);
        _shunt = (short)Math.Round(shuntVolts / 10e-6);
        double busMax = (_config & 0x2000) != 0 ? 32 : 16;
        double bus = Math.Clamp(_volts(mid), 0, busMax);
        _busBits = (short)Math.Round(bus / 4e-3);
        long current = (long)_shunt * _calibration / 4096;
        long power = current * _busBits / 5000;
        _ovf = current is > short.MaxValue or < short.MinValue || power > ushort.MaxValue;
        _current = (short)Math.Clamp(current, short.MinValue, short.MaxValue);
        _power = (ushort)Math.Clamp(power, 0, ushort.MaxValue);
        _cnvr = true;
    }

    private ushort ReadRegister(byte register)
    {
        Update();
        switch (register)
        {
            case 0: return _config;
            case 1: return (ushort)_shunt;
            case 2: return (ushort)((_busBits << 3) | (_cnvr ? 2 : 0) | (_ovf ? 1 : 0));
            case 3:
                _cnvr = false;
                return _calibration == 0 ? (ushort)0 : _power;
            case 4: return _calibration == 0 ? (ushort)0 : (ushort)_current;
            case 5: return _calibration;
            default: throw new IOException($"INA219 has no register {register}");
        }
    }

    private void WriteRegister(byte register, ushort value)
    {
        Writes.Add((register, value));
        switch (register)
        {
            case 0:
                if ((value & 0x8000) != 0)
                {
                    _config = PowerOnConfig; // RST: every register to its power-on value
                    _calibration = 0;
                    _shunt = _current = _busBits = 0;
                    _power = 0;
                }
                else
                {
                    _config = value;
                }
                _cnvr = false;
                _conversionStart = _clock();
                _lastConversion = -1;
                break;
            case 5:
                _calibration = (ushort)(value & 0xFFFE);
                break;
            default:
                throw new IOException($"INA219 register {register} is read-only");
        }
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        lock (_lock)
        {
            if (buffer.Length == 0)
            {
                return;
            }
            _pointer = buffer[0];
            if (buffer.Length == 3)
            {
                WriteRegister(_pointer, BinaryPrimitives.ReadUInt16BigEndian(buffer[1..]));
            }
            else if (buffer.Length != 1)
            {
                throw new IOException($"INA219 takes a pointer byte and 0 or 2 data bytes, not {buffer.Length - 1}");
            }
        }
    }

    public override void Read(Span<byte> buffer)
    {
        lock (_lock)
        {
            ushort v = ReadRegister(_pointer);
            Span<byte> two = stackalloc byte[2];
            BinaryPrimitives.WriteUInt16BigEndian(two, v);
            for (int i = 0; i < buffer.Length; i++)
            {
                buffer[i] = two[i % 2];
            }
        }
    }

    public override void WriteRead(ReadOnlySpan<byte> writeBuffer, Span<byte> readBuffer)
    {
        Write(writeBuffer);
        Read(readBuffer);
    }

    public override void WriteByte(byte value) => Write([value]);

    public override byte ReadByte()
    {
        Span<byte> b = stackalloc byte[1];
        Read(b);
        return b[0];
    }
}
