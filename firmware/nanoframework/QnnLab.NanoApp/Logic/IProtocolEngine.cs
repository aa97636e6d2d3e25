namespace QnnLab.NanoApp;

/// <summary>
/// The device core's serial protocol engine (frames, CRC, resumption, model and inference commands).
/// On the board it is native code behind QnnDevice.ProtocolFeed/ProtocolPoll; in tests, the sim
/// board's engine or a fake. The app only moves bytes: it never parses frames.
/// </summary>
public interface IProtocolEngine
{
    /// <summary>Offers received bytes to the engine.</summary>
    /// <param name="rx">Buffer holding the bytes from index 0.</param>
    /// <param name="count">Valid bytes in <paramref name="rx"/>.</param>
    /// <returns>Bytes consumed (0..count); fewer than offered means "full, offer the rest later".</returns>
    int Feed(byte[] rx, int count);

    /// <summary>Takes bytes the engine wants sent.</summary>
    /// <param name="tx">Buffer to fill from index 0.</param>
    /// <returns>Bytes written into <paramref name="tx"/>; 0 when there is nothing to send.</returns>
    int Poll(byte[] tx);
}
