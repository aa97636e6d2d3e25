using System.IO.Ports;

namespace QnnLab.Protocol;

/// <summary>Opens a serial device (a board's virtual COM port, QEMU's or the sim's pty) as a raw 8N1 byte stream.</summary>
public static class SerialLink
{
    public static SerialPort Open(string portName, int baud = 115200)
    {
        var port = new SerialPort(portName, baud, Parity.None, 8, StopBits.One)
        {
            Handshake = Handshake.None,
            ReadBufferSize = 1 << 16,
            WriteBufferSize = 1 << 16,
        };
        port.Open();
        port.DiscardInBuffer();
        return port;
    }

    /// <summary>Opens a port and the protocol on it; switching baud rates is wired to the port.</summary>
    public static async Task<BoardConnection> ConnectAsync(string portName, int baud = 115200, BoardConnectionOptions? options = null, CancellationToken ct = default)
    {
        SerialPort port = Open(portName, baud);
        var opts = options ?? new BoardConnectionOptions();
        opts = new BoardConnectionOptions
        {
            ResponseTimeout = opts.ResponseTimeout,
            MaxRetries = opts.MaxRetries,
            Window = opts.Window,
            HandshakeTimeout = opts.HandshakeTimeout,
            Log = opts.Log,
            SwitchHostBaud = opts.SwitchHostBaud ?? (b =>
            {
                port.BaudRate = (int)b;
                return Task.CompletedTask;
            }),
        };
        try
        {
            return await BoardConnection.OpenAsync(new PortStream(port), opts, ownsStream: true, ct).ConfigureAwait(false);
        }
        catch
        {
            port.Dispose();
            throw;
        }
    }

    /// <summary>The port's stream, closing the port with it.</summary>
    private sealed class PortStream(SerialPort port) : Stream
    {
        private readonly Stream _s = port.BaseStream;

        public override bool CanRead => true;
        public override bool CanWrite => true;
        public override bool CanSeek => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => _s.Read(buffer, offset, count);
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => _s.ReadAsync(buffer, cancellationToken);
        public override void Write(byte[] buffer, int offset, int count) => _s.Write(buffer, offset, count);
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => _s.WriteAsync(buffer, cancellationToken);
        public override void Flush() => _s.Flush();
        public override Task FlushAsync(CancellationToken cancellationToken) => _s.FlushAsync(cancellationToken);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                port.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
