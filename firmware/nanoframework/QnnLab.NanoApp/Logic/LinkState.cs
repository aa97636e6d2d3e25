namespace QnnLab.NanoApp;

/// <summary>Where the application link stands, as <see cref="LinkSupervisor"/> and <see cref="StatusIndicator"/> see it.</summary>
public enum LinkState
{
    /// <summary>Not opened yet since start-up.</summary>
    Starting = 0,

    /// <summary>Open and pumping.</summary>
    Up = 1,

    /// <summary>Failed; waiting for the backoff delay before reopening.</summary>
    Recovering = 2,

    /// <summary>The device core could not start: nothing will work until reset.</summary>
    Fatal = 3,
}
