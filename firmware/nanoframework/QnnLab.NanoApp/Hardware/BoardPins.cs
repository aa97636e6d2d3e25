namespace QnnLab.NanoApp;

/// <summary>
/// NUCLEO-L552ZE-Q wiring the app uses (boards/nucleo-l552ze-q/nanoframework/README.md).
/// nanoFramework numbers a GPIO as port index x 16 + pin (PA0 = 0, PB0 = 16, ...).
/// </summary>
internal static class BoardPins
{
    /// <summary>Application protocol UART: USART3 on the ST Zio header, TX PD8 (D1), RX PD9 (D0), AF7.
    /// The ST-LINK virtual COM port (LPUART1) carries nanoFramework's Wire Protocol, so it is not ours.</summary>
    public const string ApplicationPort = "COM3";

    /// <summary>Application link speed (8N1, no flow control).</summary>
    public const int BaudRate = 921600;

    /// <summary>LD1 green, PC7.</summary>
    public const int LedGreen = (2 * 16) + 7;

    /// <summary>LD2 blue, PB7.</summary>
    public const int LedBlue = (1 * 16) + 7;

    /// <summary>LD3 red, PA9.</summary>
    public const int LedRed = (0 * 16) + 9;
}
