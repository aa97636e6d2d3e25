namespace QnnLab.Engine;

/// <summary>
/// TFLM's quantized softmax. int8: gemmlowp fixed-point exp / reciprocal (Q5.26 input, Q12.19 sum).
/// int16: two 513-entry interpolated tables built in float32 (exp over [-10, 0], 1/(1+x) over [0, 1]).
/// </summary>
public static class SoftmaxMath
{
    public const int ScaledDiffIntegerBits = 5;
    public const int AccumulationIntegerBits = 12;
    public const int Int16LutSize = 513;

    /// <summary>TFLite PreprocessSoftmaxScaling (double rounding flavour).</summary>
    public static (int Multiplier, int LeftShift) PreprocessSoftmaxScaling(double beta, double inputScale, int inputIntegerBits)
    {
        double real = Math.Min(beta * inputScale * (1 << (31 - inputIntegerBits)), (1L << 31) - 1.0);
        return Requantization.QuantizeMultiplierGreaterThanOne(real);
    }

    /// <summary>TFLite CalculateInputRadius.</summary>
    public static int CalculateInputRadius(int inputIntegerBits, int inputLeftShift, int totalSignedBits = 31)
    {
        double maxInputRescaled = 1.0 * ((1 << inputIntegerBits) - 1) * (1L << (totalSignedBits - inputIntegerBits)) / (1L << inputLeftShift);
        return (int)Math.Floor(maxInputRescaled);
    }

    private static int Mul(int a, int b) => Requantization.SaturatingRoundingDoublingHighMul(a, b);

    /// <summary>gemmlowp exp_on_interval_between_negative_one_quarter_and_0_excl (Q0.31 in and out).</summary>
    public static int ExpOnIntervalBetweenNegativeOneQuarterAnd0Excl(int a)
    {
        const int constantTerm = 1895147668; // exp(-1/8)
        const int constant1Over3 = 715827883;
        int x = unchecked(a + (1 << 28)); // a + 1/8
        int x2 = Mul(x, x);
        int x3 = Mul(x2, x);
        int x4 = Mul(x2, x2);
        int x4Over4 = Requantization.RoundingDivideByPOT(x4, 2);
        int poly = Requantization.RoundingDivideByPOT(unchecked(Mul(unchecked(x4Over4 + x3), constant1Over3) + x2), 1);
        return unchecked(constantTerm + Mul(constantTerm, unchecked(x + poly)));
    }

    /// <summary>gemmlowp exp_on_negative_values for a fixed-point input with <paramref name="integerBits"/> integer bits; result Q0.31.</summary>
    public static int ExpOnNegativeValues(int a, int integerBits)
    {
        int fractionalBits = 31 - integerBits;
        int oneQuarter = 1 << (fractionalBits - 2);
        int mask = oneQuarter - 1;
        int aModQuarterMinusOneQuarter = unchecked((a & mask) - oneQuarter);
        int result = ExpOnIntervalBetweenNegativeOneQuarterAnd0Excl(
            Requantization.SaturatingRoundingMultiplyByPOT(aModQuarterMinusOneQuarter, integerBits));
        int remainder = unchecked(aModQuarterMinusOneQuarter - a);

        ReadOnlySpan<int> multipliers = [1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242];
        for (int i = 0; i < multipliers.Length; i++)
        {
            int exponent = i - 2;
            if (integerBits > exponent)
            {
                int shiftAmount = fractionalBits + exponent;
                if ((remainder & (1 << shiftAmount)) != 0)
                {
                    result = Mul(result, multipliers[i]);
                }
            }
        }
        if (integerBits > 5)
        {
            int clamp = -(1 << (36 - integerBits));
            if (a < clamp)
            {
                result = 0;
            }
        }
        return a == 0 ? int.MaxValue : result;
    }

    /// <summary>gemmlowp RoundingHalfSum on int32.</summary>
    public static int RoundingHalfSum(int a, int b)
    {
        long sum = (long)a + b;
        long sign = sum >= 0 ? 1 : -1;
        return (int)((sum + sign) / 2);
    }

    /// <summary>gemmlowp one_over_one_plus_x_for_x_in_0_1 (Q0.31 in and out; Newton-Raphson in Q2.29).</summary>
    public static int OneOverOnePlusXForXIn01(int a)
    {
        int halfDenominator = RoundingHalfSum(a, int.MaxValue);
        const int constant48Over17 = 1515870810;
        const int constantNeg32Over17 = -1010580540;
        const int oneQ2 = 1 << 29;
        int x = unchecked(constant48Over17 + Mul(halfDenominator, constantNeg32Over17));
        for (int i = 0; i < 3; i++)
        {
            int halfDenominatorTimesX = Mul(halfDenominator, x);
            int oneMinus = unchecked(oneQ2 - halfDenominatorTimesX);
            x = unchecked(x + Requantization.SaturatingRoundingMultiplyByPOT(Mul(x, oneMinus), 2));
        }
        // ExactMulByPot<-1> keeps the raw value (Q2 -> Q1); Rescale<0> from Q1 is a saturating doubling.
        return Requantization.SaturatingRoundingMultiplyByPOT(x, 1);
    }

    /// <summary>TFLite GetReciprocal.</summary>
    public static int GetReciprocal(int x, int xIntegerDigits, out int numBitsOverUnit)
    {
        int headroomPlusOne = System.Numerics.BitOperations.LeadingZeroCount((uint)x);
        numBitsOverUnit = xIntegerDigits - headroomPlusOne;
        uint shifted = headroomPlusOne >= 32 ? 0u : (uint)x << headroomPlusOne;
        int shiftedSumMinusOne = unchecked((int)(shifted - (1u << 31)));
        return OneOverOnePlusXForXIn01(shiftedSumMinusOne);
    }

    /// <summary>TFLM reference Softmax, int8 in and out (output scale 1/256, zero point -128), one row.</summary>
    public static void SoftmaxInt8(ReadOnlySpan<sbyte> input, Span<sbyte> output, int inputMultiplier, int inputLeftShift, int diffMin)
    {
        int depth = input.Length;
        int maxInRow = sbyte.MinValue;
        for (int c = 0; c < depth; c++)
        {
            maxInRow = Math.Max(maxInRow, input[c]);
        }
        int sumOfExps = 0; // Q12.19
        for (int c = 0; c < depth; c++)
        {
            int diff = input[c] - maxInRow;
            if (diff >= diffMin)
            {
                int rescaled = Requantization.MultiplyByQuantizedMultiplierGreaterThanOne(diff, inputMultiplier, inputLeftShift);
                int exp = ExpOnNegativeValues(rescaled, ScaledDiffIntegerBits);
                sumOfExps = unchecked(sumOfExps + Requantization.RoundingDivideByPOT(exp, AccumulationIntegerBits));
            }
        }
        int shiftedScale = GetReciprocal(sumOfExps, AccumulationIntegerBits, out int numBitsOverUnit);
        int exponent = numBitsOverUnit + 31 - 8;
        if (exponent < 0 || exponent > 31)
        {
            throw new InvalidOperationException($"softmax exponent {exponent} out of range");
        }
        for (int c = 0; c < depth; c++)
        {
            int diff = input[c] - maxInRow;
            if (diff >= diffMin)
            {
                int rescaled = Requantization.MultiplyByQuantizedMultiplierGreaterThanOne(diff, inputMultiplier, inputLeftShift);
                int exp = ExpOnNegativeValues(rescaled, ScaledDiffIntegerBits);
                int unsat = Requantization.RoundingDivideByPOT(Mul(shiftedScale, exp), exponent);
                int shifted = unsat + sbyte.MinValue;
                output[c] = (sbyte)Math.Clamp(shifted, sbyte.MinValue, sbyte.MaxValue);
            }
            else
            {
                output[c] = sbyte.MinValue;
            }
        }
    }

    /// <summary>
    /// TFLite gen_lut&lt;float, int16_t, int16_t&gt;: 512 interpolation points over [inputMin, inputMax] plus the end
    /// point, output scaled by 65536 / (outputMax - outputMin), with the midpoint-error bias correction; all in float32.
    /// </summary>
    public static short[] GenerateInt16Lut(Func<float, float> func, float inputMin, float inputMax, float outputMin, float outputMax)
    {
        const int steps = 512;
        var lut = new short[steps + 1];
        float step = (inputMax - inputMin) / steps;
        float halfStep = step / 2;
        float outputScalingInv = 65536f / (outputMax - outputMin);
        const float tableMin = short.MinValue;
        const float tableMax = short.MaxValue;
        for (int i = 0; i < steps; i++)
        {
            float val = func(inputMin + (i * step));
            float valMidpoint = func(inputMin + (i * step) + halfStep);
            float valNext = func(inputMin + ((i + 1) * step));
            float sampleVal = Requantization.RoundF(val * outputScalingInv);
            float midpointInterpVal = Requantization.RoundF(((valNext * outputScalingInv) + Requantization.RoundF(val * outputScalingInv)) / 2);
            float midpointVal = Requantization.RoundF(valMidpoint * outputScalingInv);
            float midpointErr = midpointInterpVal - midpointVal;
            float bias = Requantization.RoundF(midpointErr / 2);
            lut[i] = (short)Math.Min(Math.Max(sampleVal - bias, tableMin), tableMax);
        }
        lut[steps] = (short)Math.Min(Math.Max(Requantization.RoundF(func(inputMax) * outputScalingInv), tableMin), tableMax);
        return lut;
    }

    /// <summary>The exp table TFLM's int16 softmax uses (exp over [-10, 0]).</summary>
    public static short[] ExpLut() => GenerateInt16Lut(MathF.Exp, -10f, 0f, -1f, 1f);

    /// <summary>The reciprocal table TFLM's int16 softmax uses (1/(1+x) over [0, 1]).</summary>
    public static short[] OneOverOnePlusXLut() => GenerateInt16Lut(v => 1f / (1f + v), 0f, 1f, -1f, 1f);

    /// <summary>TFLite LUTLookup for int16: 9-bit index, 7-bit linear interpolation.</summary>
    public static short LutLookup(short value, ReadOnlySpan<short> lut)
    {
        int index = 256 + (value >> 7);
        int offset = value & 0x7f;
        int baseValue = lut[index];
        int slope = (short)(lut[index + 1] - lut[index]);
        int delta = ((slope * offset) + 64) >> 7;
        return unchecked((short)(baseValue + delta));
    }

    /// <summary>TFLM reference SoftmaxInt16 (zero points 0, output scale 1/32768), one row.</summary>
    public static void SoftmaxInt16(ReadOnlySpan<short> input, Span<short> output, int inputMultiplier, int inputShift,
        ReadOnlySpan<short> expLut, ReadOnlySpan<short> oneOverOnePlusXLut)
    {
        int depth = input.Length;
        int maxInRow = short.MinValue;
        for (int c = 0; c < depth; c++)
        {
            maxInRow = Math.Max(maxInRow, input[c]);
        }
        int sumOfExps = 0; // Q16.15
        for (int c = 0; c < depth; c++)
        {
            int diff = input[c] - maxInRow;
            int scaled = Requantization.MultiplyByQuantizedMultiplier(diff, inputMultiplier, inputShift);
            int sym = scaled + 32767;
            short sat = (short)Math.Clamp(sym, short.MinValue, short.MaxValue);
            short e = LutLookup(sat, expLut);
            output[c] = e;
            sumOfExps += e;
        }
        int headroomPlusOne = System.Numerics.BitOperations.LeadingZeroCount((uint)sumOfExps);
        // The C code shifts an int64 left by headroom_plus_one - 1; a sum of at least one exp(0) keeps it >= 0.
        int shiftedSum = (int)((((long)sumOfExps << (headroomPlusOne - 1)) + (1 << 13)) >> 14);
        int symShiftedSum = shiftedSum + (-((1 << 15) + (1 << 16)));
        short satSum = (short)Math.Clamp(symShiftedSum, short.MinValue, short.MaxValue);
        short reciprocal = LutLookup(satSum, oneOverOnePlusXLut);
        int rightShift = 31 - headroomPlusOne;
        long round = 1L << (rightShift - 1);
        for (int c = 0; c < depth; c++)
        {
            int result = (int)(((output[c] * (long)reciprocal) + round) >> rightShift);
            output[c] = (short)Math.Clamp(result, 0, short.MaxValue);
        }
    }
}
