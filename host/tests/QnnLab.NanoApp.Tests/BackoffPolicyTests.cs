using QnnLab.NanoApp;

namespace QnnLab.NanoApp.Tests;

[TestClass]
public sealed class BackoffPolicyTests
{
    [TestMethod]
    public void DelaysDoubleFromTheInitialValueUpToTheCap()
    {
        var policy = new BackoffPolicy(50, 2000);
        int[] expected = [0, 50, 100, 200, 400, 800, 1600, 2000, 2000];
        for (int failures = 0; failures < expected.Length; failures++)
        {
            Assert.AreEqual(expected[failures], policy.DelayMs(failures), $"after {failures} failures");
        }
    }

    [TestMethod]
    public void HugeFailureCountsStayAtTheCapWithoutOverflow()
    {
        var policy = new BackoffPolicy(1, int.MaxValue);
        Assert.AreEqual(1 << 30, policy.DelayMs(31));
        Assert.AreEqual(int.MaxValue, policy.DelayMs(32));
        Assert.AreEqual(int.MaxValue, policy.DelayMs(int.MaxValue));
    }

    [TestMethod]
    public void RejectsAnInitialDelayAboveTheCap()
    {
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new BackoffPolicy(100, 50));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new BackoffPolicy(0, 50));
    }
}
