namespace QnnLab.NanoApp;

/// <summary>Flags <see cref="FramePump.Step"/> returns (an int, not a [Flags] enum, to keep mscorlib v1 happy with bit tests).</summary>
public static class PumpResult
{
    /// <summary>Nothing moved: the loop may sleep.</summary>
    public const int Idle = 0;

    /// <summary>Bytes were received or sent.</summary>
    public const int Moved = 1;

    /// <summary>The protocol engine threw or broke its contract; its buffered input was dropped.</summary>
    public const int EngineFault = 2;
}
