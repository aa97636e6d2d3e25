#if NANO_HARDWARE
using System.IO.Ports;

namespace QnnLab.NanoApp;

/// <summary>
/// The application UART through nanoFramework.System.IO.Ports. Compiled only in the board build
/// (NANO_HARDWARE): that package is not available on the CI machine.
/// </summary>
internal sealed class NanoSerialLink : ISerialLink
{
    private readonly string _portName;
    private readonly int _baudRate;
    private SerialPort _port;

    public NanoSerialLink(string portName, int baudRate)
    {
        _portName = portName;
        _baudRate = baudRate;
    }

    public bool IsOpen
    {
        get { return _port != null && _port.IsOpen; }
    }

    public void Open()
    {
        Close();
        _port = new SerialPort(_portName, _baudRate, Parity.None, 8, StopBits.One);
        _port.Handshake = Handshake.None;
        _port.ReadBufferSize = 4096;
        _port.ReadTimeout = 0;
        _port.WriteTimeout = 1000;
        _port.Open();
    }

    public void Close()
    {
        SerialPort port = _port;
        _port = null;
        if (port != null)
        {
            try
            {
                port.Close();
            }
            finally
            {
                port.Dispose();
            }
        }
    }

    public int Read(byte[] buffer, int offset, int count)
    {
        int available = _port.BytesToRead;
        if (available == 0)
        {
            return 0;
        }
        return _port.Read(buffer, offset, available < count ? available : count);
    }

    public void Write(byte[] buffer, int offset, int count)
    {
        _port.Write(buffer, offset, count);
    }
}
#endif
