/* TFLite / gemmlowp integer arithmetic, written to match TFLM's reference kernels bit for bit.
 * Left shifts go through uint32 so that a (never expected) overflow wraps instead of being UB. */
#ifndef QNN_FIXEDPOINT_H
#define QNN_FIXEDPOINT_H

#include <stdint.h>

static inline int32_t qnn_shl32(int32_t x, int s)
{
    return (int32_t)((uint32_t)x << s);
}

/* gemmlowp SaturatingRoundingDoublingHighMul. */
static inline int32_t qnn_srdhm(int32_t a, int32_t b)
{
    if (a == b && a == INT32_MIN) {
        return INT32_MAX;
    }
    int64_t ab = (int64_t)a * (int64_t)b;
    int32_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31)); /* C division truncates, as gemmlowp */
}

/* gemmlowp RoundingDivideByPOT: round half away from zero. exponent in [0, 31]. */
static inline int32_t qnn_rdbpot(int32_t x, int exponent)
{
    int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
    int32_t remainder = x & mask;
    int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* TFLite MultiplyByQuantizedMultiplier (int32, double rounding). */
static inline int32_t qnn_mbqm(int32_t x, int32_t multiplier, int shift)
{
    int left = shift > 0 ? shift : 0;
    int right = shift > 0 ? 0 : -shift;
    return qnn_rdbpot(qnn_srdhm(qnn_shl32(x, left), multiplier), right);
}

/* TFLite MultiplyByQuantizedMultiplier(int64 x, ...) used by 16x8 conv/depthwise/FC:
 * multiplier reduced to 16 bits, one rounding shift (round half up). shift in [-31, 14]. */
static inline int32_t qnn_mbqm_s64(int64_t x, int32_t multiplier, int shift)
{
    int32_t reduced = multiplier < 0x7FFF0000 ? ((multiplier + (1 << 15)) >> 16) : 0x7FFF;
    int total_shift = 15 - shift;
    x = x * (int64_t)reduced + ((int64_t)1 << (total_shift - 1));
    return (int32_t)(x >> total_shift);
}

static inline int32_t qnn_clamp(int32_t x, int32_t lo, int32_t hi)
{
    return x < lo ? lo : (x > hi ? hi : x);
}

/* gemmlowp SaturatingRoundingMultiplyByPOT with a positive exponent: saturating left shift. */
static inline int32_t qnn_sat_shl(int32_t x, int exponent)
{
    const int32_t threshold = (int32_t)((1u << (31 - exponent)) - 1u);
    if (x > threshold) {
        return INT32_MAX;
    }
    if (x < -threshold) {
        return INT32_MIN;
    }
    return qnn_shl32(x, exponent);
}

/* gemmlowp exp_on_interval_between_negative_one_quarter_and_0_excl, Q0.31 in and out. */
static inline int32_t qnn_exp_on_interval_neg_quarter_0(int32_t a)
{
    const int32_t constant_term = 1895147668;    /* exp(-1/8) */
    const int32_t constant_1_over_3 = 715827883; /* 1/3 */
    int32_t x = a + (1 << 28);                   /* a + 1/8 */
    int32_t x2 = qnn_srdhm(x, x);
    int32_t x3 = qnn_srdhm(x2, x);
    int32_t x4 = qnn_srdhm(x2, x2);
    int32_t x4_over_4 = qnn_rdbpot(x4, 2);
    int32_t poly = qnn_rdbpot(qnn_srdhm(x4_over_4 + x3, constant_1_over_3) + x2, 1);
    return constant_term + qnn_srdhm(constant_term, x + poly);
}

/* gemmlowp exp_on_negative_values for a Q5.26 input (kScaledDiffIntegerBits = 5), Q0.31 result. */
static inline int32_t qnn_exp_on_negative_values_q5(int32_t a)
{
    const int frac_bits = 26;
    const int32_t one_quarter = 1 << (frac_bits - 2);
    const int32_t mask = one_quarter - 1;
    int32_t a_mod_quarter_minus_one_quarter = (a & mask) - one_quarter;
    /* Rescale<0> from Q5.26 to Q0.31: saturating left shift by 5. */
    int32_t result = qnn_exp_on_interval_neg_quarter_0(qnn_sat_shl(a_mod_quarter_minus_one_quarter, 5));
    int32_t remainder = a_mod_quarter_minus_one_quarter - a;
    static const int32_t multipliers[7] = {1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242};
    for (int e = -2; e <= 4; ++e) {
        if (remainder & (int32_t)(1u << (frac_bits + e))) {
            result = qnn_srdhm(result, multipliers[e + 2]);
        }
    }
    /* kIntegerBits == 5: no clamp below -32 is applied by gemmlowp. */
    if (a == 0) {
        result = INT32_MAX;
    }
    return result;
}

/* gemmlowp one_over_one_plus_x_for_x_in_0_1, Q0.31 in and out. */
static inline int32_t qnn_one_over_one_plus_x(int32_t a)
{
    int64_t sum = (int64_t)a + INT32_MAX;
    int32_t half_denominator = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2); /* RoundingHalfSum */
    const int32_t c48_17 = 1515870810;   /* 48/17 in Q2.29 */
    const int32_t cm32_17 = -1010580540; /* -32/17 in Q2.29 */
    int32_t x = c48_17 + qnn_srdhm(half_denominator, cm32_17);
    const int32_t one_q2 = 1 << 29;
    for (int i = 0; i < 3; ++i) {
        int32_t hdx = qnn_srdhm(half_denominator, x);                 /* Q2.29 */
        int32_t one_minus = one_q2 - hdx;                             /* Q2.29 */
        x = x + qnn_sat_shl(qnn_srdhm(x, one_minus), 2);              /* Q4.27 -> Q2.29 */
    }
    return qnn_sat_shl(x, 1); /* ExactMulByPot<-1> (Q2 -> Q1) then Rescale<0> */
}

static inline int qnn_clz32(uint32_t x)
{
    if (x == 0) {
        return 32;
    }
    int n = 0;
    while ((x & 0x80000000u) == 0) {
        x <<= 1;
        ++n;
    }
    return n;
}

/* TFLM GetReciprocal. */
static inline int32_t qnn_get_reciprocal(int32_t x, int x_integer_digits, int *num_bits_over_unit)
{
    int headroom_plus_one = qnn_clz32((uint32_t)x);
    *num_bits_over_unit = x_integer_digits - headroom_plus_one;
    int32_t shifted_sum_minus_one = (int32_t)(((uint32_t)x << headroom_plus_one) - (1u << 31));
    return qnn_one_over_one_plus_x(shifted_sum_minus_one);
}

/* TFLM generic_int16_table_lookup: 513-entry table, 9-bit index, 7-bit interpolation. */
static inline int16_t qnn_int16_lut(int16_t value, const int16_t *lut)
{
    uint16_t index = (uint16_t)(256 + (value >> 7));
    int16_t offset = (int16_t)(value & 0x7f);
    int16_t base = lut[index];
    int16_t slope = (int16_t)(lut[index + 1] - lut[index]);
    int32_t delta = ((int32_t)slope * offset + 64) >> 7;
    return (int16_t)(base + delta);
}

#endif
