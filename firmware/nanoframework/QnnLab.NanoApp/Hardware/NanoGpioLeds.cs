#if NANO_HARDWARE
using System.Device.Gpio;

namespace QnnLab.NanoApp;

/// <summary>The three user LEDs through nanoFramework.System.Device.Gpio (board build only).</summary>
internal sealed class NanoGpioLeds : IStatusLeds
{
    private readonly GpioPin _green;
    private readonly GpioPin _blue;
    private readonly GpioPin _red;

    public NanoGpioLeds(GpioController controller)
    {
        _green = controller.OpenPin(BoardPins.LedGreen, PinMode.Output);
        _blue = controller.OpenPin(BoardPins.LedBlue, PinMode.Output);
        _red = controller.OpenPin(BoardPins.LedRed, PinMode.Output);
    }

    public void Set(bool green, bool blue, bool red)
    {
        _green.Write(green ? PinValue.High : PinValue.Low);
        _blue.Write(blue ? PinValue.High : PinValue.Low);
        _red.Write(red ? PinValue.High : PinValue.Low);
    }
}
#endif
