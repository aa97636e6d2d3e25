using QnnLab.Model;

namespace QnnLab.Engine;

/// <summary>
/// TFLite's fixed-point requantization arithmetic (double rounding, as TFLM's reference kernels and
/// CMSIS-NN without CMSIS_NN_USE_SINGLE_ROUNDING). Every function reproduces the C code bit for bit,
/// including its int32 wrap-around; C# masks shift counts, so large shifts are handled explicitly.
/// </summary>
public static class Requantization
{
    /// <summary>
    /// TFLite's QuantizeMultiplier: m = round(frac * 2^31) with frac from frexp (in [0.5, 1)), so that
    /// real ≈ m * 2^(shift - 31). Zero gives (0, 0); shifts below -31 flush to (0, 0).
    /// </summary>
    public static (int Multiplier, int Shift) QuantizeMultiplier(double realMultiplier)
    {
        if (realMultiplier == 0.0)
        {
            return (0, 0);
        }
        if (double.IsNaN(realMultiplier) || double.IsInfinity(realMultiplier))
        {
            throw new ArgumentOutOfRangeException(nameof(realMultiplier), realMultiplier, "multiplier must be finite");
        }
        (double q, int shift) = Frexp(realMultiplier);
        long qFixed = (long)Math.Round(q * (1L << 31), MidpointRounding.AwayFromZero);
        if (qFixed == (1L << 31))
        {
            qFixed /= 2;
            shift++;
        }
        if (shift < -31)
        {
            shift = 0;
            qFixed = 0;
        }
        return ((int)qFixed, shift);
    }

    /// <summary>TFLite's QuantizeMultiplierSmallerThanOneExp: requires 0 &lt; m &lt; 1, returns a shift &lt;= 0.</summary>
    public static (int Multiplier, int Shift) QuantizeMultiplierSmallerThanOneExp(double realMultiplier)
    {
        if (!(realMultiplier > 0.0 && realMultiplier < 1.0))
        {
            throw new ArgumentOutOfRangeException(nameof(realMultiplier), realMultiplier, "expected 0 < multiplier < 1");
        }
        return QuantizeMultiplier(realMultiplier);
    }

    /// <summary>TFLite's QuantizeMultiplierGreaterThanOne: requires m &gt; 1, returns a left shift &gt;= 0.</summary>
    public static (int Multiplier, int Shift) QuantizeMultiplierGreaterThanOne(double realMultiplier)
    {
        if (!(realMultiplier > 1.0))
        {
            throw new ArgumentOutOfRangeException(nameof(realMultiplier), realMultiplier, "expected multiplier > 1");
        }
        return QuantizeMultiplier(realMultiplier);
    }

    /// <summary>C's frexp: x = q * 2^e with |q| in [0.5, 1). Exact (scaling by a power of two).</summary>
    public static (double Fraction, int Exponent) Frexp(double x)
    {
        if (x == 0.0 || double.IsNaN(x) || double.IsInfinity(x))
        {
            return (x, 0);
        }
        int e = Math.ILogB(x) + 1;
        return (Math.ScaleB(x, -e), e);
    }

    /// <summary>gemmlowp SaturatingRoundingDoublingHighMul (ARM VQRDMULH): round(a*b / 2^31), INT32_MIN² saturates.</summary>
    public static int SaturatingRoundingDoublingHighMul(int a, int b)
    {
        if (a == b && a == int.MinValue)
        {
            return int.MaxValue;
        }
        long ab = (long)a * b;
        long nudge = ab >= 0 ? (1L << 30) : 1 - (1L << 30);
        // C++ integer division truncates toward zero, as C#'s does.
        return (int)((ab + nudge) / (1L << 31));
    }

    /// <summary>gemmlowp RoundingDivideByPOT: x / 2^exponent rounded to nearest, ties away from zero.</summary>
    public static int RoundingDivideByPOT(int x, int exponent)
    {
        if ((uint)exponent > 31)
        {
            throw new ArgumentOutOfRangeException(nameof(exponent), exponent, "exponent must be 0..31");
        }
        int mask = unchecked((int)((1L << exponent) - 1));
        int remainder = x & mask;
        int threshold = (mask >> 1) + (x < 0 ? 1 : 0);
        return (x >> exponent) + (remainder > threshold ? 1 : 0);
    }

    /// <summary>gemmlowp SaturatingRoundingMultiplyByPOT: saturating left shift (exponent &gt; 0) or rounding right shift.</summary>
    public static int SaturatingRoundingMultiplyByPOT(int x, int exponent)
    {
        if (exponent == 0)
        {
            return x;
        }
        if (exponent < 0)
        {
            return RoundingDivideByPOT(x, -exponent);
        }
        int threshold = (1 << (31 - exponent)) - 1;
        if (x > threshold)
        {
            return int.MaxValue;
        }
        if (x < -threshold)
        {
            return int.MinValue;
        }
        return x << exponent;
    }

    /// <summary>C's x * (1 &lt;&lt; shift) on int32 (wrapping), defined for every shift &gt;= 0.</summary>
    public static int ShiftLeftWrapping(int x, int shift)
        => shift >= 32 ? 0 : unchecked(x * (1 << shift));

    /// <summary>TFLite MultiplyByQuantizedMultiplier (int32 accumulator, double rounding).</summary>
    public static int MultiplyByQuantizedMultiplier(int x, int quantizedMultiplier, int shift)
    {
        int leftShift = shift > 0 ? shift : 0;
        int rightShift = shift > 0 ? 0 : -shift;
        return RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(ShiftLeftWrapping(x, leftShift), quantizedMultiplier), rightShift);
    }

    /// <summary>
    /// TFLite MultiplyByQuantizedMultiplier for int64 accumulators (16x8 conv/depthwise/FC): the multiplier is
    /// first reduced to 16 bits ((m + 2^15) &gt;&gt; 16, capped at 0x7FFF), then one rounding shift by 15 - shift.
    /// </summary>
    public static int MultiplyByQuantizedMultiplier(long x, int quantizedMultiplier, int shift)
    {
        int reduced = ReduceMultiplierTo16Bits(quantizedMultiplier);
        int totalShift = 15 - shift;
        if (totalShift < 1 || totalShift > 62)
        {
            throw new ArgumentOutOfRangeException(nameof(shift), shift, "16x8 requantization needs -47 <= shift <= 14");
        }
        long v = unchecked((x * reduced) + (1L << (totalShift - 1)));
        return unchecked((int)(v >> totalShift));
    }

    /// <summary>The 16-bit multiplier TFLite's int64 requantization uses.</summary>
    public static int ReduceMultiplierTo16Bits(int quantizedMultiplier)
        => quantizedMultiplier < 0x7FFF0000 ? (quantizedMultiplier + (1 << 15)) >> 16 : 0x7FFF;

    /// <summary>TFLite MultiplyByQuantizedMultiplierGreaterThanOne: x * 2^leftShift then the doubling high multiply.</summary>
    public static int MultiplyByQuantizedMultiplierGreaterThanOne(int x, int quantizedMultiplier, int leftShift)
        => SaturatingRoundingDoublingHighMul(ShiftLeftWrapping(x, leftShift), quantizedMultiplier);

    /// <summary>TFLite MultiplyByQuantizedMultiplierSmallerThanOneExp (shift &lt;= 0).</summary>
    public static int MultiplyByQuantizedMultiplierSmallerThanOneExp(int x, int quantizedMultiplier, int shift)
        => RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x, quantizedMultiplier), -shift);

    /// <summary>std::round on float: half away from zero.</summary>
    public static float RoundF(float x) => MathF.Round(x, MidpointRounding.AwayFromZero);

    /// <summary>Quantized range of an integer element type.</summary>
    public static (int Min, int Max) TypeRange(ElementType type) => type switch
    {
        ElementType.Int8 => (sbyte.MinValue, sbyte.MaxValue),
        ElementType.Int16 => (short.MinValue, short.MaxValue),
        ElementType.UInt8 => (byte.MinValue, byte.MaxValue),
        ElementType.Int32 => (int.MinValue, int.MaxValue),
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not an integer activation type"),
    };

    /// <summary>
    /// TFLite CalculateActivationRangeQuantized: the fused activation's bounds quantized with the output's
    /// float32 scale (f / scale in float, std::round), intersected with the type's range.
    /// </summary>
    public static (int Min, int Max) ActivationRange(Activation activation, float outputScale, int outputZeroPoint, ElementType outputType)
    {
        (int qmin, int qmax) = TypeRange(outputType);
        int Quantize(float f) => outputZeroPoint + (int)RoundF(f / outputScale);
        return activation switch
        {
            Activation.None => (qmin, qmax),
            Activation.Relu => (Math.Max(qmin, Quantize(0f)), qmax),
            Activation.Relu6 => (Math.Max(qmin, Quantize(0f)), Math.Min(qmax, Quantize(6f))),
            Activation.ReluN1To1 => (Math.Max(qmin, Quantize(-1f)), Math.Min(qmax, Quantize(1f))),
            _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, null),
        };
    }
}
