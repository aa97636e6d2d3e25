using System.Globalization;

namespace QnnLab.Hil;

public enum BoardKind
{
    Sim,
    Qemu,
    Serial,
}

/// <summary>Which board a command talks to: "sim", "qemu", or a serial port ("/dev/ttyACM0", "COM3").</summary>
public sealed record BoardTarget(BoardKind Kind, string? Port = null)
{
    public static readonly BoardTarget Sim = new(BoardKind.Sim);
    public static readonly BoardTarget Qemu = new(BoardKind.Qemu);

    public static BoardTarget Parse(string text)
    {
        string t = text.Trim();
        if (t.Equals("sim", StringComparison.OrdinalIgnoreCase))
        {
            return Sim;
        }
        if (t.Equals("qemu", StringComparison.OrdinalIgnoreCase))
        {
            return Qemu;
        }
        bool windowsPort = t.StartsWith("COM", StringComparison.OrdinalIgnoreCase) && t.Length > 3
            && int.TryParse(t.AsSpan(3), NumberStyles.None, CultureInfo.InvariantCulture, out _);
        if (windowsPort || t.StartsWith('/'))
        {
            return new BoardTarget(BoardKind.Serial, t);
        }
        throw new ArgumentException($"--board '{text}': expected sim, qemu, a device path such as /dev/ttyACM0, or COMn");
    }

    public override string ToString() => Kind switch
    {
        BoardKind.Sim => "sim",
        BoardKind.Qemu => "qemu",
        _ => Port!,
    };
}

/// <summary>
/// Faults the sim injects: per-byte probabilities in both directions, board resets per 1,000 inputs, and a board that
/// goes away for good after N inferences since its boot (`drop=0.01,corrupt=0.01,duplicate=0.001,resets=2`, `die=40`).
/// </summary>
public sealed record FaultSpec(double Drop = 0, double Corrupt = 0, double Duplicate = 0, double ResetsPer1000 = 0, ulong Seed = 1, int DieAfter = 0)
{
    public static readonly FaultSpec None = new();

    public bool Any => Drop > 0 || Corrupt > 0 || Duplicate > 0 || ResetsPer1000 > 0 || DieAfter > 0;

    /// <summary>Inferences between two resets (0: never).</summary>
    public int ResetEvery => ResetsPer1000 > 0 ? Math.Max(1, (int)Math.Round(1000 / ResetsPer1000)) : 0;

    public static FaultSpec Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text) || text.Trim() == "none")
        {
            return None;
        }
        var f = None;
        foreach (string part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string[] kv = part.Split('=', 2, StringSplitOptions.TrimEntries);
            if (kv.Length != 2 || !double.TryParse(kv[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || v < 0)
            {
                throw new ArgumentException($"--faults: '{part}' is not name=non-negative number");
            }
            f = kv[0].ToLowerInvariant() switch
            {
                "drop" => f with { Drop = CheckRate(kv[0], v) },
                "corrupt" => f with { Corrupt = CheckRate(kv[0], v) },
                "duplicate" or "dup" => f with { Duplicate = CheckRate(kv[0], v) },
                "resets" => f with { ResetsPer1000 = v },
                "seed" => f with { Seed = (ulong)v },
                "die" => f with { DieAfter = checked((int)v) },
                _ => throw new ArgumentException($"--faults: unknown fault '{kv[0]}' (drop, corrupt, duplicate, resets, die, seed)"),
            };
        }
        return f;
    }

    private static double CheckRate(string name, double v) =>
        v <= 1 ? v : throw new ArgumentException($"--faults: {name}={v} is a per-byte probability and must be <= 1");

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"drop={Drop},corrupt={Corrupt},duplicate={Duplicate},resets={ResetsPer1000}{(DieAfter > 0 ? $",die={DieAfter}" : "")}");
}
