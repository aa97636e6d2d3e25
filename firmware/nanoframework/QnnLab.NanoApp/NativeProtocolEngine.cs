using QnnLab.Nano;

namespace QnnLab.NanoApp;

/// <summary>The device core's protocol engine, reached through the QnnLab.Nano interop.</summary>
internal sealed class NativeProtocolEngine : IProtocolEngine
{
    public int Feed(byte[] rx, int count)
    {
        return QnnDevice.ProtocolFeed(rx, count);
    }

    public int Poll(byte[] tx)
    {
        return QnnDevice.ProtocolPoll(tx);
    }
}
