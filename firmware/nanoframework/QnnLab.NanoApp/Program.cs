using System;
using System.Diagnostics;
using System.Threading;
using QnnLab.Nano;

namespace QnnLab.NanoApp;

/// <summary>Entry point: start the device core, then pump the application UART for ever.</summary>
public static class Program
{
    // 512-byte steps drain the USART's ring buffer (~5.5 ms of data at 921600 baud) in one call
    // without holding a whole 4 KiB frame twice in managed memory.
    private const int RxBufferBytes = 512;
    private const int TxBufferBytes = 512;
    private const int MaxPollsPerStep = 16;
    // The engine's largest frame (QNN_FRAME_MAX_ENCODED(4096) in qnn_frame.h, plus the delimiter):
    // what the pump may have to resend from its start after a cut write.
    private const int MaxFrameBytes = (4096 + 12) + (4096 + 12 + 253) / 254 + 1;
    private const int IdleSleepMs = 1;
    private const int StableAfterMs = 2000;

    /// <summary>nanoCLR calls this after loading the assemblies.</summary>
    public static void Main()
    {
        IStatusLeds leds = BoardIo.CreateLeds();
        var indicator = new StatusIndicator(leds);
        var clock = new SystemClock();
        indicator.Update(clock.NowMs);

        var pump = new FramePump(new NativeProtocolEngine(), RxBufferBytes, TxBufferBytes, MaxPollsPerStep, MaxFrameBytes);
        var supervisor = new LinkSupervisor(BoardIo.CreateApplicationLink(), pump, clock, new BackoffPolicy(50, 2000), indicator, IdleSleepMs, StableAfterMs);

        try
        {
            QnnDevice.Initialize();
        }
        catch (InvalidOperationException e)
        {
            Debug.WriteLine("QNN device core failed to start: " + e.Message);
            supervisor.EnterFatal();
            Thread.Sleep(Timeout.Infinite);
        }

        while (true)
        {
            int sleepMs = supervisor.Tick();
            if (sleepMs > 0)
            {
                Thread.Sleep(sleepMs);
            }
        }
    }
}
