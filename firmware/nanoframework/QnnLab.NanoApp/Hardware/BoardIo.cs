using System;

namespace QnnLab.NanoApp;

/// <summary>Creates the board's port and LEDs; the only place that knows whether the hardware packages are in the build.</summary>
internal static class BoardIo
{
    public static ISerialLink CreateApplicationLink()
    {
#if NANO_HARDWARE
        return new NanoSerialLink(BoardPins.ApplicationPort, BoardPins.BaudRate);
#else
        throw new NotSupportedException("built without nanoFramework.System.IO.Ports: build with -p:NanoHardware=true on a machine that has it");
#endif
    }

    public static IStatusLeds CreateLeds()
    {
#if NANO_HARDWARE
        return new NanoGpioLeds(new System.Device.Gpio.GpioController());
#else
        throw new NotSupportedException("built without nanoFramework.System.Device.Gpio: build with -p:NanoHardware=true on a machine that has it");
#endif
    }
}
