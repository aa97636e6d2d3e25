using QnnLab.NanoApp;

namespace QnnLab.NanoApp.Tests;

[TestClass]
public sealed class StatusIndicatorTests
{
    [TestMethod]
    public void StartingLightsAllThreeThenLinkUpLeavesGreen()
    {
        var leds = new LedRecorder();
        var indicator = new StatusIndicator(leds);
        indicator.Update(0);
        Assert.AreEqual((true, true, true), leds.Last);
        indicator.LinkUp(10);
        indicator.Update(10);
        Assert.AreEqual((true, false, false), leds.Last);
    }

    [TestMethod]
    public void TrafficLightsBlueForTheHoldTimeOnly()
    {
        var leds = new LedRecorder();
        var indicator = new StatusIndicator(leds);
        indicator.LinkUp(0);
        indicator.Traffic(1000);
        indicator.Update(1000);
        Assert.AreEqual((true, true, false), leds.Last);
        indicator.Update(1000 + StatusIndicator.ActivityHoldMs - 1);
        Assert.AreEqual((true, true, false), leds.Last);
        indicator.Update(1000 + StatusIndicator.ActivityHoldMs);
        Assert.AreEqual((true, false, false), leds.Last);
    }

    [TestMethod]
    public void RecoveringBlinksRedFromTheFailureOnwards()
    {
        var leds = new LedRecorder();
        var indicator = new StatusIndicator(leds);
        indicator.LinkUp(0);
        indicator.LinkDown(500);
        const int half = StatusIndicator.BlinkHalfPeriodMs;
        (long At, bool Red)[] samples = [(500, true), (500 + half - 1, true), (500 + half, false), (500 + (2 * half), true), (500 + (3 * half) + 10, false)];
        foreach ((long at, bool red) in samples)
        {
            indicator.Update(at);
            Assert.AreEqual((false, false, red), leds.Last, $"at {at} ms");
        }
        // A second failure while recovering must not restart the blink phase.
        indicator.LinkDown(500 + (4 * half) + 1);
        indicator.Update(500 + (4 * half) + 1);
        Assert.AreEqual((false, false, true), leds.Last);
    }

    [TestMethod]
    public void EngineFaultHoldsRedWhileTheLinkStaysUp()
    {
        var leds = new LedRecorder();
        var indicator = new StatusIndicator(leds);
        indicator.LinkUp(0);
        indicator.EngineFault(100);
        indicator.Update(100 + StatusIndicator.FaultHoldMs - 1);
        Assert.AreEqual((true, false, true), leds.Last);
        indicator.Update(100 + StatusIndicator.FaultHoldMs);
        Assert.AreEqual((true, false, false), leds.Last);
    }

    [TestMethod]
    public void FatalIsPermanentRed()
    {
        var leds = new LedRecorder();
        var indicator = new StatusIndicator(leds);
        indicator.Fatal();
        indicator.LinkUp(1);
        indicator.Traffic(1);
        indicator.Update(1);
        Assert.AreEqual(LinkState.Fatal, indicator.State);
        Assert.AreEqual((false, false, true), leds.Last);
    }

    [TestMethod]
    public void WritesTheGpiosOnlyWhenALedChanges()
    {
        var leds = new LedRecorder();
        var indicator = new StatusIndicator(leds);
        indicator.LinkUp(0);
        for (long t = 0; t < 1000; t++)
        {
            indicator.Update(t);
        }
        Assert.AreEqual(1, leds.Writes.Count);
        Assert.AreEqual(1, indicator.Writes);
    }
}
