using QnnLab.Attacks.Attacks;

namespace QnnLab.Attacks.Tests;

/// <summary>The ziggurat noise source Boundary draws its directions from: normal in body, wedges and tail; repeatable.</summary>
[TestClass]
public sealed class GaussianNoiseTests
{
    [TestMethod]
    public void DrawsFollowTheNormalCdfIncludingTheZigguratsWedgesAndTail()
    {
        const int N = 1_000_000;
        var z = new double[N];
        new GaussianNoise(42).FillNormal(z);
        Array.Sort(z);
        // the empirical CDF at points in the layers' rectangles, in wedges, at the tail's start (3.4426) and beyond;
        // the allowance is 5 standard errors of a binomial proportion
        foreach (double t in new[] { -4.0, -3.6, -3.4426, -2.5, -1.3, -0.4, 0.0, 0.05, 0.7, 1.9, 3.0, 3.4426, 3.8, 4.5 })
        {
            double expected = Phi(t);
            int below = ~Array.BinarySearch(z, t + 1e-15);
            double observed = below / (double)N;
            double tolerance = 5 * Math.Sqrt(expected * (1 - expected) / N) + 2e-6;
            Assert.AreEqual(expected, observed, tolerance, $"P(z < {t})");
        }
        Assert.IsLessThan(-4.5, z[0], "the tail reaches beyond the base layer");
        Assert.IsGreaterThan(4.5, z[^1], "the tail reaches beyond the base layer");
    }

    // the standard normal CDF: erf's Taylor series below 3, erfc's continued fraction above (both to ~1e-12 here)
    private static double Phi(double t) => 0.5 * Erfc(-t / Math.Sqrt(2));

    private static double Erfc(double x)
    {
        if (x < 0)
        {
            return 2 - Erfc(-x);
        }
        if (x < 3)
        {
            // erf by its Taylor series, exact to double rounding for x < 3
            double sum = 0, term = x;
            for (int n = 0; n < 200; n++)
            {
                sum += term / ((2 * n) + 1);
                term *= -x * x / (n + 1);
            }
            return 1 - (2 / Math.Sqrt(Math.PI) * sum);
        }
        // asymptotic continued fraction (Lentz), accurate for x >= 3
        double f = x, c = x, d = 0;
        for (int n = 1; n < 200; n++)
        {
            double a = n / 2.0;
            d = 1 / (x + (a * d));
            c = x + (a / c);
            f *= c * d;
        }
        return Math.Exp(-x * x) / Math.Sqrt(Math.PI) / f;
    }

    [TestMethod]
    public void TheSameSeedRepeatsAndALengthThatIsNotAMultipleOfEightIsAPrefix()
    {
        var a = new double[13];
        var b = new double[16];
        GaussianNoise.ForImage(7, 3).FillNormal(a);
        GaussianNoise.ForImage(7, 3).FillNormal(b);
        CollectionAssert.AreEqual(b[..13], a);
        var other = new double[13];
        GaussianNoise.ForImage(7, 4).FillNormal(other);
        CollectionAssert.AreNotEqual(a, other, "another image draws other noise");
        GaussianNoise.ForImage(8, 3).FillNormal(other);
        CollectionAssert.AreNotEqual(a, other, "another seed draws other noise");
    }

    [TestMethod]
    public void DrawsHaveTheStandardNormalsMomentsAndTails()
    {
        const int N = 400_000;
        var z = new double[N];
        new GaussianNoise(1).FillNormal(z);
        double mean = z.Average();
        double variance = z.Select(v => (v - mean) * (v - mean)).Average();
        double within1 = z.Count(v => Math.Abs(v) < 1) / (double)N;
        double beyond3 = z.Count(v => Math.Abs(v) > 3) / (double)N;
        // standard errors: mean 0.0016, variance 0.0022, P(|z|<1) 0.0007, P(|z|>3) 0.00008
        Assert.AreEqual(0, mean, 0.008);
        Assert.AreEqual(1, variance, 0.011);
        Assert.AreEqual(0.6827, within1, 0.0035);
        Assert.AreEqual(0.0027, beyond3, 0.0004);
        // neighbours uncorrelated
        double lag1 = 0;
        for (int i = 0; i + 1 < N; i++)
        {
            lag1 += z[i] * z[i + 1];
        }
        Assert.AreEqual(0, lag1 / N, 0.008);
        var u = new float[N];
        new GaussianNoise(2).FillUniform(u);
        Assert.IsTrue(u.All(v => v is >= 0 and <= 1), "uniforms in [0, 1]");
        Assert.AreEqual(0.5, u.Average(), 0.003);
    }
}
