using System.Device.Gpio;
using System.Diagnostics;
using QnnLab.Bench.Energy;
using QnnLab.Bench.Reset;

namespace QnnLab.Bench.Tests;

[TestClass]
public sealed class ResetLineTests
{
    [TestMethod]
    public async Task Pulse_DrivesNrstLowForTheWidthThenReleasesIt()
    {
        var driver = new FakeGpioDriver();
        using var line = new GpioResetLine(new GpioController(driver), 7, "fake:7");
        TimeSpan width = TimeSpan.FromMilliseconds(50);
        await line.PulseAsync(width);

        List<(int Pin, FakeGpioDriver.Level Level, TimeSpan At)> c = driver.Changes;
        CollectionAssert.AreEqual(new[] { FakeGpioDriver.Level.Released, FakeGpioDriver.Level.Low, FakeGpioDriver.Level.Released },
            c.Select(x => x.Level).ToArray(), "released while idle, low, then released (never driven high)");
        Assert.IsTrue(c.All(x => x.Pin == 7));
        TimeSpan low = c[2].At - c[1].At;
        Assert.IsGreaterThanOrEqualTo(width, low, $"held low {low.TotalMilliseconds} ms");
        Assert.IsLessThan(width + TimeSpan.FromMilliseconds(40), low, $"held low {low.TotalMilliseconds} ms");
    }

    [TestMethod]
    public async Task CancelledPulse_StillReleasesTheLine()
    {
        var driver = new FakeGpioDriver();
        using var line = new GpioResetLine(new GpioController(driver), 3, "fake:3");
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(20));
        await Assert.ThrowsAsync<OperationCanceledException>(() => line.PulseAsync(TimeSpan.FromSeconds(30), cts.Token));
        Assert.AreEqual(FakeGpioDriver.Level.Released, driver.Changes[^1].Level, "a board must never be left held in reset");
    }

    [TestMethod]
    public void BridgeSpecs_ParseAndRefuse()
    {
        Assert.AreEqual(new BridgeSpec(BridgeKind.Ft232H, null, 7), BridgeSpec.Parse("ft232h"));
        Assert.AreEqual(new BridgeSpec(BridgeKind.Ft232H, null, 10), BridgeSpec.Parse("FT232H:C2"));
        Assert.AreEqual(new BridgeSpec(BridgeKind.Firmata, "/dev/ttyUSB0", 4), BridgeSpec.Parse("firmata:/dev/ttyUSB0:4"));
        Assert.AreEqual(new BridgeSpec(BridgeKind.Firmata, "COM5", 7), BridgeSpec.Parse("firmata:COM5"));
        Assert.AreEqual("ft232h:C2", BridgeSpec.Parse("ft232h:10").ToString());
        Assert.ThrowsExactly<ArgumentException>(() => BridgeSpec.Parse("ft232h:D9"));
        Assert.ThrowsExactly<ArgumentException>(() => BridgeSpec.Parse("firmata"));
        Assert.ThrowsExactly<ArgumentException>(() => BridgeSpec.Parse("gpio:3"));
    }
}

[TestClass]
public sealed class EnergyTests
{
    [TestMethod]
    public void Trapezoid_OfALinearRampIsExactAndEdgesAreInterpolated()
    {
        // P(t) = 1 + t watts (1 V, 1 + t A), sampled every 0.1 s; over [0.05, 0.93]: integral t + t^2/2
        PowerSample[] s = Enumerable.Range(0, 11).Select(i => new PowerSample(i / 10.0, 1, 1 + i / 10.0)).ToArray();
        double want = F(0.93) - F(0.05);
        Assert.AreEqual(want, EnergyIntegrator.Joules(s, 0.05, 0.93), 1e-12);
        Assert.IsTrue(double.IsNaN(EnergyIntegrator.Joules(s, -0.1, 0.5)), "a window the samples do not cover has no energy");
        static double F(double t) => t + t * t / 2;
    }

    [TestMethod]
    public void Trapezoid_OfASineSampledAt1kHzIsWithinAPercent()
    {
        // 3.3 V, 40 mA + 25 mA sin(2 pi 13 t): 1 kHz samples, window [0.0123, 0.4567] s
        Func<double, double> amps = t => 0.040 + 0.025 * Math.Sin(2 * Math.PI * 13 * t);
        PowerSample[] s = Enumerable.Range(0, 501).Select(i => new PowerSample(i / 1000.0, 3.3, amps(i / 1000.0))).ToArray();
        double a = 0.0123, b = 0.4567, w = 2 * Math.PI * 13;
        double want = 3.3 * (0.040 * (b - a) - 0.025 / w * (Math.Cos(w * b) - Math.Cos(w * a)));
        double got = EnergyIntegrator.Joules(s, a, b);
        Assert.AreEqual(want, got, Math.Abs(want) * 0.01);
    }

    [TestMethod]
    public void Calibration_FollowsTheDatasheetExample()
    {
        // datasheet 8.5.1's arithmetic: 0.1 ohm, 3.2 A full scale -> 97.66 uA LSB, Cal 4194 (even), PGA 320 mV
        Ina219Calibration c = Ina219Calibration.For(0.1);
        Assert.AreEqual(4194, c.Register);
        Assert.AreEqual(320, c.PgaMillivolts);
        Assert.AreEqual(0.04096 / (4194 * 0.1), c.CurrentLsb, 1e-12);
        Ina219Calibration small = Ina219Calibration.For(0.1, 0.3);
        Assert.AreEqual(40, small.PgaMillivolts, "300 mA through 0.1 ohm drops 30 mV");
        Assert.ThrowsExactly<ArgumentException>(() => Ina219Calibration.For(0.1, 5));
    }

    [TestMethod]
    public void Ina219Binding_ConfiguresTheChipAndReadsVoltsAndAmpsThroughItsRegisters()
    {
        var clock = Stopwatch.StartNew();
        var chip = new FakeIna219(_ => 0.04731, _ => 3.287, 0.1, () => clock.Elapsed.TotalSeconds);
        Ina219Calibration cal = Ina219Calibration.For(0.1, 0.3);
        using var monitor = new Ina219PowerMonitor(chip, cal, "fake", () => clock.Elapsed.TotalSeconds);
        Assert.AreEqual(0x07, chip.Config & 0x07, "continuous shunt and bus conversions");
        Assert.AreEqual(0, (chip.Config >> 11) & 3, "PGA /1 (40 mV) for 300 mA through 0.1 ohm");
        Assert.Contains((byte)5, chip.Writes.Select(w => w.Register).ToList(), "calibration written");
        Thread.Sleep(5);
        PowerSample s = monitor.ReadOnce();
        Assert.AreEqual(3.287, s.Volts, 0.004, "bus LSB 4 mV");
        Assert.AreEqual(0.04731, s.Amps, cal.CurrentLsb + 1e-5, "current to one register LSB");
    }

    [TestMethod]
    public void Ina219Monitor_EnergyOverAWindowFromAKnownCurrentWithinAPercent()
    {
        var clock = Stopwatch.StartNew();
        double Now() => clock.Elapsed.TotalSeconds;
        // a slow ramp, as a board's supply changes between stages: 30 -> 60 mA over a second at 3.31 V
        Func<double, double> amps = t => 0.030 + 0.030 * Math.Min(1, t);
        var chip = new FakeIna219(amps, _ => 3.31, 0.1, Now);
        using var monitor = new Ina219PowerMonitor(chip, Ina219Calibration.For(0.1, 0.1), "fake", Now);
        monitor.Start();
        double from = Now() + 0.05;
        double to = from + 0.25;
        while (monitor.Samples(to, to).LastOrDefault().Time < to)
        {
            Thread.Sleep(5);
        }
        double got = EnergyIntegrator.Joules(monitor.Samples(from, to), from, to);
        double want = 3.31 * (0.030 * (to - from) + 0.015 * (to * to - from * from));
        Assert.AreEqual(want, got, want * 0.01, $"µJ: {got * 1e6:F1} vs {want * 1e6:F1}");
    }
}
