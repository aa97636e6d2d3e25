namespace QnnLab.NanoApp;

/// <summary>
/// The application UART as the pump sees it. On the board it wraps nanoFramework's
/// System.IO.Ports.SerialPort (see NanoSerialLink.cs); in tests, an in-memory or fault-injecting link.
/// Any method may throw (IOException, InvalidOperationException, TimeoutException...) when the port fails:
/// the <see cref="LinkSupervisor"/> catches, closes and reopens.
/// </summary>
public interface ISerialLink
{
    /// <summary>True between a successful <see cref="Open"/> and the next <see cref="Close"/>.</summary>
    bool IsOpen { get; }

    /// <summary>Opens (or reopens) the port.</summary>
    void Open();

    /// <summary>Closes the port; must not throw when it is already closed or broken.</summary>
    void Close();

    /// <summary>Reads the bytes already received, without waiting.</summary>
    /// <param name="buffer">Destination.</param>
    /// <param name="offset">First index to fill.</param>
    /// <param name="count">Most bytes to read.</param>
    /// <returns>Bytes read, 0 when none are waiting.</returns>
    int Read(byte[] buffer, int offset, int count);

    /// <summary>Writes bytes; returns when the driver has taken all of them.</summary>
    /// <param name="buffer">Source.</param>
    /// <param name="offset">First index to send.</param>
    /// <param name="count">Number of bytes.</param>
    void Write(byte[] buffer, int offset, int count);
}
