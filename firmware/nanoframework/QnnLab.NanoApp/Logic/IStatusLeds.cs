namespace QnnLab.NanoApp;

/// <summary>
/// The board's three user LEDs (NUCLEO-L552ZE-Q: LD1 green PC7, LD2 blue PB7, LD3 red PA9).
/// On the board it wraps nanoFramework GPIO (see NanoGpioLeds.cs); in tests, a recorder.
/// </summary>
public interface IStatusLeds
{
    /// <summary>Drives all three LEDs at once (true = lit).</summary>
    /// <param name="green">LD1: link up.</param>
    /// <param name="blue">LD2: traffic.</param>
    /// <param name="red">LD3: error or fault.</param>
    void Set(bool green, bool blue, bool red);
}
