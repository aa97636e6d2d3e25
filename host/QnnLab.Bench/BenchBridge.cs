using System.Device.Gpio;
using System.Device.I2c;
using System.Globalization;
using Iot.Device.Arduino;
using Iot.Device.Ft232H;
using Iot.Device.FtCommon;

namespace QnnLab.Bench;

public enum BridgeKind
{
    Ft232H,
    Firmata,
}

/// <summary>
/// A USB bridge on the bench: "ft232h[:PIN]" (FTDI FT232H, needs FTDI's D2XX driver) or "firmata:PORT[:PIN]"
/// (an Arduino running StandardFirmata on a serial port). PIN is the GPIO wired to NRST (FT232H: D0..D7,
/// C0..C7 or a number; default D7 / Arduino pin 7); its I2C carries the INA219.
/// </summary>
public sealed record BridgeSpec(BridgeKind Kind, string? Port, int Pin)
{
    public const int DefaultPin = 7;

    public static BridgeSpec Parse(string text)
    {
        string[] parts = text.Trim().Split(':');
        string kind = parts[0].ToLowerInvariant();
        if (kind == "ft232h" && parts.Length <= 2)
        {
            return new BridgeSpec(BridgeKind.Ft232H, null, parts.Length == 2 ? Ft232HPin(parts[1], text) : DefaultPin);
        }
        if (kind == "firmata" && parts.Length is 2 or 3 && parts[1].Length > 0)
        {
            int pin = DefaultPin;
            if (parts.Length == 3 && !int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out pin))
            {
                throw new ArgumentException($"'{text}': the Firmata pin must be an Arduino pin number");
            }
            return new BridgeSpec(BridgeKind.Firmata, parts[1], pin);
        }
        throw new ArgumentException($"'{text}': expected ft232h[:PIN] or firmata:PORT[:PIN]");
    }

    /// <summary>D0..D7 are ADBUS0..7 (pins 0..7), C0..C7 ACBUS0..7 (pins 8..15), as the FT232H binding numbers them.</summary>
    private static int Ft232HPin(string pin, string text)
    {
        string p = pin.ToUpperInvariant();
        if (p.Length == 2 && (p[0] == 'D' || p[0] == 'C') && p[1] is >= '0' and <= '7')
        {
            return (p[0] == 'C' ? 8 : 0) + (p[1] - '0');
        }
        if (int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n < 16)
        {
            return n;
        }
        throw new ArgumentException($"'{text}': FT232H pins are D0..D7, C0..C7 or 0..15");
    }

    public override string ToString() => Kind == BridgeKind.Ft232H
        ? $"ft232h:{(Pin < 8 ? "D" : "C")}{Pin % 8}"
        : $"firmata:{Port}:{Pin}";
}

/// <summary>An opened bridge: hands out its GPIO controller and I2C devices, and closes the hardware last.</summary>
public sealed class BenchBridge : IDisposable
{
    private readonly Ft232HDevice? _ft232h;
    private readonly ArduinoBoard? _arduino;
    private I2cBus? _i2c;

    private BenchBridge(BridgeSpec spec, Ft232HDevice? ft232h, ArduinoBoard? arduino)
    {
        Spec = spec;
        _ft232h = ft232h;
        _arduino = arduino;
    }

    public BridgeSpec Spec { get; }

    public static BenchBridge Open(BridgeSpec spec)
    {
        if (spec.Kind == BridgeKind.Ft232H)
        {
            List<FtDevice> all;
            try
            {
                all = FtCommon.GetDevices();
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or TypeInitializationException)
            {
                throw new InvalidOperationException("FT232H: FTDI's D2XX driver (libftd2xx) is not installed", e);
            }
            FtDevice dev = all.FirstOrDefault(d => d.Type == FtDeviceType.Ft232H)
                ?? throw new InvalidOperationException($"no FT232H found (FTDI devices: {(all.Count == 0 ? "none" : string.Join(", ", all.Select(d => d.Type)))})");
            return new BenchBridge(spec, new Ft232HDevice(dev), null);
        }
        var board = new ArduinoBoard(spec.Port!, 115_200);
        try
        {
            // a Firmata handshake fails here, not at the first reset, when the sketch is missing
            _ = board.FirmwareVersion;
        }
        catch
        {
            board.Dispose();
            throw;
        }
        return new BenchBridge(spec, null, board);
    }

    public GpioController CreateGpioController() =>
        _ft232h?.CreateGpioController() ?? _arduino!.CreateGpioController();

    public I2cDevice CreateI2cDevice(int address)
    {
        if (_arduino is not null)
        {
            return _arduino.CreateI2cDevice(new I2cConnectionSettings(0, address));
        }
        _i2c ??= _ft232h!.CreateOrGetI2cBus(0);
        return _i2c.CreateDevice(address);
    }

    public void Dispose()
    {
        _i2c?.Dispose();
        _ft232h?.Dispose();
        _arduino?.Dispose();
    }
}
