namespace QnnLab.Bench.Energy;

/// <summary>
/// The INA219 datasheet's calibration (section 8.5.1): the current LSB spreads the largest expected current over
/// the signed 15-bit current register, Cal = trunc(0.04096 / (Current_LSB x R_shunt)), and the PGA is the
/// smallest shunt range that holds that current's drop.
/// </summary>
public sealed record Ina219Calibration(double ShuntOhms, double CurrentLsb, ushort Register, double PgaMillivolts)
{
    public const double DefaultShuntOhms = 0.1;

    private static readonly double[] PgaRanges = [40, 80, 160, 320];

    /// <param name="maxAmps">Largest current to read; null: what the widest range (320 mV) allows.</param>
    public static Ina219Calibration For(double shuntOhms, double? maxAmps = null)
    {
        if (!(shuntOhms > 0))
        {
            throw new ArgumentException($"shunt resistor {shuntOhms} ohm: must be > 0");
        }
        double max = maxAmps ?? 0.320 / shuntOhms;
        double drop = max * shuntOhms * 1000;
        if (!(max > 0) || drop > 320)
        {
            throw new ArgumentException($"--max-amps {max}: through {shuntOhms} ohm that drops {drop:F1} mV, beyond the INA219's 320 mV");
        }
        double pga = PgaRanges.First(r => r >= drop);
        double lsb = max / 32768;
        double cal = Math.Floor(0.04096 / (lsb * shuntOhms));
        // bit 0 of the register is void, and it is 16 bits wide: a tiny LSB is coarsened until Cal fits
        if (cal > 0xFFFE)
        {
            cal = 0xFFFE;
        }
        ushort reg = (ushort)((int)cal & 0xFFFE);
        // the LSB the chip then applies (Current = Shunt x Cal / 4096 in register units)
        double applied = 0.04096 / (reg * shuntOhms);
        return new Ina219Calibration(shuntOhms, applied, reg, pga);
    }
}
