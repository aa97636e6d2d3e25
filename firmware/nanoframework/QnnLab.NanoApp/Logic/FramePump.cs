using System;

namespace QnnLab.NanoApp;

/// <summary>
/// Moves bytes between the application UART and the device core's protocol engine, one bounded
/// step at a time. The engine owns framing; the pump owns buffering and never loses an answer on a port
/// failure: received bytes the engine has not taken yet stay in the receive buffer, and after a failed
/// write (which may have sent any prefix of its bytes) the pump sends the link's frame delimiter (0x00),
/// then every byte of the frame that was being sent, from its start. The host's parser drops the cut
/// fragment by its CRC and a frame that arrives twice by its sequence number. Knowing the delimiter is all
/// the pump knows of the protocol (shared/protocol/SPEC.md: COBS frames, each ended by 0x00).
/// </summary>
public sealed class FramePump
{
    /// <summary>The byte that ends every frame on the link (COBS leaves no other 0x00).</summary>
    public const byte FrameDelimiter = 0;

    private static readonly byte[] DelimiterBytes = new byte[] { FrameDelimiter };

    private readonly IProtocolEngine _engine;
    private readonly byte[] _rx;
    private readonly byte[] _tx;
    private readonly byte[] _frameStart;
    private readonly int _maxPollsPerStep;
    private int _rxCount;
    private int _txPending;
    // Bytes of the frame under way that earlier writes sent (since the last delimiter); -1 once it outgrew
    // _frameStart, when a cut can no longer be repaired here and the host's retransmission has to.
    private int _frameStartCount;
    private bool _writeCut;

    /// <summary>Creates a pump.</summary>
    /// <param name="engine">The protocol engine.</param>
    /// <param name="rxBufferSize">Receive buffer; one UART FIFO drain per step (e.g. 512).</param>
    /// <param name="txBufferSize">Transmit buffer; one engine poll per write (e.g. 512).</param>
    /// <param name="maxPollsPerStep">Most engine polls per step, so a chatty engine cannot starve the receive side.</param>
    /// <param name="maxFrameBytes">Largest encoded frame the engine sends, delimiter included: what a cut write may have to resend.</param>
    public FramePump(IProtocolEngine engine, int rxBufferSize, int txBufferSize, int maxPollsPerStep, int maxFrameBytes)
    {
        if (engine == null)
        {
            throw new ArgumentNullException(nameof(engine));
        }
        if (rxBufferSize <= 0 || txBufferSize <= 0 || maxPollsPerStep <= 0 || maxFrameBytes <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(rxBufferSize), "buffer sizes, poll count and frame size must be positive");
        }
        _engine = engine;
        _rx = new byte[rxBufferSize];
        _tx = new byte[txBufferSize];
        _frameStart = new byte[maxFrameBytes];
        _maxPollsPerStep = maxPollsPerStep;
    }

    /// <summary>Bytes read from the link in total.</summary>
    public long BytesReceived { get; private set; }

    /// <summary>Bytes the engine consumed in total.</summary>
    public long BytesFed { get; private set; }

    /// <summary>Bytes fully written to the link in total (what is resent after a failure counts again).</summary>
    public long BytesSent { get; private set; }

    /// <summary>Engine faults seen (exception or contract breach).</summary>
    public int EngineFaults { get; private set; }

    /// <summary>Received bytes waiting for the engine to take them.</summary>
    public int PendingReceive
    {
        get { return _rxCount; }
    }

    /// <summary>Bytes the engine produced that are waiting to be (re)written.</summary>
    public int PendingTransmit
    {
        get { return _txPending; }
    }

    /// <summary>
    /// One pump step: write any held response, read what the UART has, feed the engine, then poll it
    /// and write its output. Link exceptions propagate (the caller recovers the link); engine failures do not.
    /// </summary>
    /// <param name="link">An open link.</param>
    /// <returns>A combination of <see cref="PumpResult"/> flags.</returns>
    public int Step(ISerialLink link)
    {
        int result = PumpResult.Idle;

        if (_txPending > 0 || _writeCut)
        {
            WritePending(link);
            result |= PumpResult.Moved;
        }

        if (_rxCount < _rx.Length)
        {
            int read = link.Read(_rx, _rxCount, _rx.Length - _rxCount);
            if (read < 0 || read > _rx.Length - _rxCount)
            {
                throw new InvalidOperationException("serial link returned " + read.ToString() + " bytes");
            }
            if (read > 0)
            {
                _rxCount += read;
                BytesReceived += read;
                result |= PumpResult.Moved;
            }
        }

        if (_rxCount > 0 && !Feed())
        {
            return result | PumpResult.EngineFault;
        }

        for (int i = 0; i < _maxPollsPerStep; i++)
        {
            int produced;
            if (!Poll(out produced))
            {
                return result | PumpResult.EngineFault;
            }
            if (produced == 0)
            {
                break;
            }
            // Held before writing: if the write throws, the response survives for the next step.
            _txPending = produced;
            WritePending(link);
            result |= PumpResult.Moved;
        }
        return result;
    }

    private void WritePending(ISerialLink link)
    {
        try
        {
            if (_writeCut)
            {
                // The host may hold a fragment of the cut frame: end it, then send that frame again from its start.
                link.Write(DelimiterBytes, 0, 1);
                BytesSent++;
                if (_frameStartCount > 0)
                {
                    link.Write(_frameStart, 0, _frameStartCount);
                    BytesSent += _frameStartCount;
                }
                _writeCut = false;
            }
            if (_txPending > 0)
            {
                link.Write(_tx, 0, _txPending);
                BytesSent += _txPending;
            }
        }
        catch (Exception)
        {
            _writeCut = true;
            throw;
        }
        RememberFrameStart(_txPending);
        _txPending = 0;
    }

    // Keeps the sent bytes of the frame still under way: after the chunk's last delimiter, or all of it.
    private void RememberFrameStart(int sent)
    {
        int lastDelimiter = -1;
        for (int i = sent - 1; i >= 0; i--)
        {
            if (_tx[i] == FrameDelimiter)
            {
                lastDelimiter = i;
                break;
            }
        }
        int from = lastDelimiter + 1;
        int tail = sent - from;
        if (lastDelimiter >= 0)
        {
            _frameStartCount = 0;
        }
        if (_frameStartCount < 0 || _frameStartCount + tail > _frameStart.Length)
        {
            _frameStartCount = -1;
            return;
        }
        Array.Copy(_tx, from, _frameStart, _frameStartCount, tail);
        _frameStartCount += tail;
    }

    private bool Feed()
    {
        int consumed;
        try
        {
            consumed = _engine.Feed(_rx, _rxCount);
        }
        catch (Exception)
        {
            DropInputAfterFault();
            return false;
        }
        if (consumed < 0 || consumed > _rxCount)
        {
            DropInputAfterFault();
            return false;
        }
        if (consumed > 0)
        {
            // Keep the unconsumed tail at the front: the engine always sees its input from index 0.
            Array.Copy(_rx, consumed, _rx, 0, _rxCount - consumed);
            _rxCount -= consumed;
            BytesFed += consumed;
        }
        return true;
    }

    private bool Poll(out int produced)
    {
        try
        {
            produced = _engine.Poll(_tx);
        }
        catch (Exception)
        {
            produced = 0;
            EngineFaults++;
            return false;
        }
        if (produced < 0 || produced > _tx.Length)
        {
            produced = 0;
            EngineFaults++;
            return false;
        }
        return true;
    }

    // Offering the same bytes again would fault again; the host resends what got no answer.
    private void DropInputAfterFault()
    {
        _rxCount = 0;
        EngineFaults++;
    }
}
