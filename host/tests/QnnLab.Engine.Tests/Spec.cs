using System.Numerics;

namespace QnnLab.Engine.Tests;

/// <summary>
/// The TFLite requantization formulas written independently from the engine, in exact BigInteger
/// arithmetic from their mathematical definitions (round-to-nearest with the documented tie rules).
/// </summary>
internal static class Spec
{
    /// <summary>floor(a / b) for b &gt; 0.</summary>
    public static BigInteger FloorDiv(BigInteger a, BigInteger b)
    {
        BigInteger q = BigInteger.DivRem(a, b, out BigInteger r);
        return r.Sign < 0 ? q - 1 : q;
    }

    /// <summary>Doubling high multiply: a*b/2^31 rounded to nearest, ties toward +infinity; INT32_MIN² saturates.</summary>
    public static int DoublingHighMul(int a, int b)
    {
        if (a == int.MinValue && b == int.MinValue)
        {
            return int.MaxValue;
        }
        return (int)FloorDiv(((BigInteger)a * b) + (BigInteger.One << 30), BigInteger.One << 31);
    }

    /// <summary>x / 2^e rounded to nearest, ties away from zero.</summary>
    public static int RoundingShift(int x, int e)
    {
        if (e == 0)
        {
            return x;
        }
        BigInteger mag = FloorDiv(BigInteger.Abs(x) + (BigInteger.One << (e - 1)), BigInteger.One << e);
        return (int)(x < 0 ? -mag : mag);
    }

    /// <summary>int32 wrap of x * 2^s (C's x * (1 &lt;&lt; s)).</summary>
    public static int WrapShift(int x, int s) => (int)(uint)(((BigInteger)x << s) & uint.MaxValue);

    public static int Mbqm(int x, int m, int shift)
        => RoundingShift(DoublingHighMul(WrapShift(x, Math.Max(shift, 0)), m), Math.Max(-shift, 0));

    /// <summary>16x8: the multiplier rounded to 16 bits, then x*m16/2^(15-shift) rounded half up, truncated to int32.</summary>
    public static int Mbqm64(long x, int m, int shift)
    {
        int m16 = m >= 0x7FFF0000 ? 0x7FFF : (int)FloorDiv(m + (BigInteger)32768, 65536);
        int t = 15 - shift;
        BigInteger v = FloorDiv(((BigInteger)x * m16) + (BigInteger.One << (t - 1)), BigInteger.One << t);
        return (int)(uint)(v & uint.MaxValue);
    }

    /// <summary>The real multiplier a (multiplier, shift) pair stands for.</summary>
    public static double Real(int m, int shift) => m * Math.Pow(2, shift - 31);
}
