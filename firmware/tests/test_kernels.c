/* Hand-worked kernel cases (expected values derived in the comments), run against one backend:
 * QNN_TEST_BACKEND selects it at build time so the same cases check portable and CMSIS-NN. */
#include <math.h>
#include <string.h>

#include "qnn/qnn_fixedpoint.h"
#include "qnn/qnn_kernels.h"
#include "test_harness.h"

#ifndef QNN_TEST_BACKEND
#define QNN_TEST_BACKEND qnn_kernels_portable
#endif
static const qnn_kernels *const K = &QNN_TEST_BACKEND;

/* ---- arithmetic primitives ---- */

TEST(srdhm_rounds_half_up_and_saturates)
{
    EXPECT_EQ(qnn_srdhm(1 << 30, 1 << 30), 1 << 29); /* 2^60 / 2^31 = 2^29 exactly */
    EXPECT_EQ(qnn_srdhm(1, 1 << 30), 1);             /* 0.5 -> 1 */
    EXPECT_EQ(qnn_srdhm(-1, 1 << 30), 0);            /* -0.5 -> 0: the nudge rounds half up */
    EXPECT_EQ(qnn_srdhm(-3, 1 << 30), -1);           /* -1.5 -> -1 */
    EXPECT_EQ(qnn_srdhm(INT32_MIN, INT32_MIN), INT32_MAX);
}

TEST(rounding_divide_by_pot_is_half_away_from_zero)
{
    EXPECT_EQ(qnn_rdbpot(5, 1), 3);   /* 2.5 */
    EXPECT_EQ(qnn_rdbpot(-5, 1), -3); /* -2.5 */
    EXPECT_EQ(qnn_rdbpot(4, 1), 2);
    EXPECT_EQ(qnn_rdbpot(7, 2), 2);   /* 1.75 */
    EXPECT_EQ(qnn_rdbpot(-6, 2), -2); /* -1.5 */
    EXPECT_EQ(qnn_rdbpot(-5, 2), -1); /* -1.25 */
    EXPECT_EQ(qnn_rdbpot(12345, 0), 12345);
}

TEST(multiply_by_quantized_multiplier_double_rounding)
{
    EXPECT_EQ(qnn_mbqm(1000, 1 << 30, -3), 63);   /* 1000 * 0.5 / 8 = 62.5 -> 63 */
    EXPECT_EQ(qnn_mbqm(-1000, 1 << 30, -3), -63); /* -62.5 -> -63 (away) */
    EXPECT_EQ(qnn_mbqm(3, 1 << 30, 2), 6);        /* (3 << 2) * 0.5 */
    EXPECT_EQ(qnn_mbqm(101, 1 << 30, 0), 51);     /* 50.5 -> 51 */
    EXPECT_EQ(qnn_mbqm(-101, 1 << 30, 0), -50);   /* -50.5 -> -50 (srdhm rounds half up) */
}

TEST(multiply_16x8_reduces_multiplier_and_rounds_once)
{
    /* m = 2^30 -> (2^30 + 2^15) >> 16 = 16384; shift -3: (x * 16384 + 2^17) >> 18 */
    EXPECT_EQ(qnn_mbqm_s64(1000, 1 << 30, -3), 63);   /* 62.5 -> 63 */
    EXPECT_EQ(qnn_mbqm_s64(-1000, 1 << 30, -3), -62); /* -62.5 -> -62: half up, unlike int8 */
    /* m >= 0x7FFF0000 caps at 0x7FFF: 65536 * 32767 / 32768 = 65534 exactly (+0.5 floors) */
    EXPECT_EQ(qnn_mbqm_s64(65536, 0x7FFFFFFF, 0), 65534);
    /* m = 0x40008000 reduces to 0x4001: (3 << 16) * 0x4001 >> 15 = 98310 (0x4000 would give 98304) */
    EXPECT_EQ(qnn_mbqm_s64((int64_t)3 << 16, 0x40008000, 0), 98310);
}

TEST(exp_and_reciprocal_fixed_point)
{
    EXPECT_EQ(qnn_exp_on_negative_values_q5(0), INT32_MAX);
    /* exp(-1) = exp(-1/4)^4: the quarter's polynomial (4th-order Taylor about -1/8, error
     * <= (1/8)^5 / 120 = 2.5e-7) times gemmlowp's barrel-shifter constants. */
    int32_t e1 = qnn_exp_on_negative_values_q5(-(1 << 26));
    EXPECT_TRUE(fabs(e1 / 2147483648.0 - exp(-1.0)) < 3e-7);
    /* 1 / (1 + 0.5) = 2/3 */
    int32_t r = qnn_one_over_one_plus_x(1 << 30);
    EXPECT_TRUE(fabs(r / 2147483648.0 - 2.0 / 3.0) < 1e-8);
    for (int i = 1; i <= 16; ++i) {
        double x = -i / 4.0;
        int32_t v = qnn_exp_on_negative_values_q5((int32_t)(x * (1 << 26)));
        EXPECT_TRUE(fabs(v / 2147483648.0 - exp(x)) < 3e-7);
    }
}

/* ---- conv ---- */

TEST(conv_s8_valid_hand_worked)
{
    /* input 3x3 values 1..9, zp -1 -> effective 2..10; filter 2x2 [1 2;3 4]; bias 10; x0.5; out zp 5.
     * (0,0): 2+6+15+24+10 = 57 -> 28.5 -> 29 -> 34;  (0,1): 3+8+18+28+10 = 67 -> 33.5 -> 34 -> 39
     * (1,0): 5+12+24+36+10 = 87 -> 43.5 -> 44 -> 49;  (1,1): 6+14+27+40+10 = 97 -> 48.5 -> 49 -> 54 */
    int8_t in[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, filt[4] = {1, 2, 3, 4}, out[4];
    int32_t bias[1] = {10}, mult[1] = {1 << 30}, shift[1] = {0};
    qnn_conv_args a = {.input = in, .in = {1, 3, 3, 1}, .input_zp = -1, .filter = filt, .filt = {1, 2, 2, 1},
                       .bias = bias, .output = out, .out = {1, 2, 2, 1}, .output_zp = 5, .stride_h = 1,
                       .stride_w = 1, .dilation_h = 1, .dilation_w = 1, .depth_multiplier = 1, .act_min = -128,
                       .act_max = 127, .n_quant = 1, .mult = mult, .shift = shift};
    EXPECT_EQ(K->conv_s8(&a), QNN_OK);
    EXPECT_EQ(out[0], 34);
    EXPECT_EQ(out[1], 39);
    EXPECT_EQ(out[2], 49);
    EXPECT_EQ(out[3], 54);
}

TEST(conv_s8_same_padding_and_clamp)
{
    /* 3x3 ones filter, SAME (pad 1), x1 (m 2^30, shift 1), out zp 5, act_max 50.
     * effective input 2..10: corner (0,0) = 2+3+5+6 = 16 -> 21; centre = 54 -> 59 -> clamp 50;
     * edge (0,1) = 2+3+4+5+6+7 = 27 -> 32 */
    int8_t in[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, filt[9], out[9];
    memset(filt, 1, sizeof filt);
    int32_t mult[1] = {1 << 30}, shift[1] = {1};
    qnn_conv_args a = {.input = in, .in = {1, 3, 3, 1}, .input_zp = -1, .filter = filt, .filt = {1, 3, 3, 1},
                       .output = out, .out = {1, 3, 3, 1}, .output_zp = 5, .stride_h = 1, .stride_w = 1,
                       .dilation_h = 1, .dilation_w = 1, .pad_top = 1, .pad_left = 1, .depth_multiplier = 1,
                       .act_min = -128, .act_max = 50, .n_quant = 1, .mult = mult, .shift = shift};
    EXPECT_EQ(K->conv_s8(&a), QNN_OK);
    EXPECT_EQ(out[0], 21);
    EXPECT_EQ(out[1], 32);
    EXPECT_EQ(out[4], 50);
    EXPECT_EQ(out[8], 5 + 6 + 7 + 9 + 10); /* (2,2): 6+7+9+10 = 32 -> 37 */
}

TEST(conv_s16_hand_worked_single_rounding)
{
    /* input [1000, -2000]; filters [3 1] and [-1 2]; bias [100, 4000]; m 2^30 shift -3 (/16).
     * oc0: 3000 - 2000 + 100 = 1100 -> 68.75 -> 69; oc1: -1000 - 4000 + 4000 = -1000 -> -62.5 -> -62 */
    int16_t in[2] = {1000, -2000}, out[2];
    int8_t filt[4] = {3, 1, -1, 2};
    int64_t bias[2] = {100, 4000};
    int32_t mult[2] = {1 << 30, 1 << 30}, shift[2] = {-3, -3};
    qnn_conv_args a = {.input = in, .in = {1, 1, 1, 2}, .filter = filt, .filt = {2, 1, 1, 2}, .bias = bias,
                       .output = out, .out = {1, 1, 1, 2}, .stride_h = 1, .stride_w = 1, .dilation_h = 1,
                       .dilation_w = 1, .depth_multiplier = 1, .act_min = -32768, .act_max = 32767, .n_quant = 2,
                       .mult = mult, .shift = shift};
    EXPECT_EQ(K->conv_s16(&a), QNN_OK);
    EXPECT_EQ(out[0], 69);
    EXPECT_EQ(out[1], -62);
}

TEST(depthwise_s8_multiplier_2)
{
    /* channels ch0 = [1 2;3 4], ch1 = [10 20;30 40]; depth multiplier 2 -> 4 outputs, VALID 2x2, x1.
     * oc0 (ch0, ones) = 10; oc1 (ch0, [1 0;0 -1]) = -3; oc2 (ch1, [0 1;0 0]) = 20; oc3 (ch1, ones) = 100 */
    int8_t in[8] = {1, 10, 2, 20, 3, 30, 4, 40}, out[4];
    int8_t filt[16] = {1, 1, 0, 1, 1, 0, 1, 1, 1, 0, 0, 1, 1, -1, 0, 1};
    int32_t mult[4] = {1 << 30, 1 << 30, 1 << 30, 1 << 30}, shift[4] = {1, 1, 1, 1};
    qnn_conv_args a = {.input = in, .in = {1, 2, 2, 2}, .filter = filt, .filt = {1, 2, 2, 4}, .output = out,
                       .out = {1, 1, 1, 4}, .stride_h = 1, .stride_w = 1, .dilation_h = 1, .dilation_w = 1,
                       .depth_multiplier = 2, .act_min = -128, .act_max = 127, .n_quant = 4, .mult = mult,
                       .shift = shift};
    EXPECT_EQ(K->dwconv_s8(&a), QNN_OK);
    EXPECT_EQ(out[0], 10);
    EXPECT_EQ(out[1], -3);
    EXPECT_EQ(out[2], 20);
    EXPECT_EQ(out[3], 100);
}

TEST(depthwise_s16_same_padding)
{
    /* 3x3 single channel, 3x3 ones filter, SAME, bias 1, /2 (m 2^30 shift 0): corner 1+2+4+5+1 = 13 -> 6.5 -> 7 */
    int16_t in[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, out[9];
    int8_t filt[9];
    memset(filt, 1, sizeof filt);
    int64_t bias[1] = {1};
    int32_t mult[1] = {1 << 30}, shift[1] = {0};
    qnn_conv_args a = {.input = in, .in = {1, 3, 3, 1}, .filter = filt, .filt = {1, 3, 3, 1}, .bias = bias,
                       .output = out, .out = {1, 3, 3, 1}, .stride_h = 1, .stride_w = 1, .dilation_h = 1,
                       .dilation_w = 1, .pad_top = 1, .pad_left = 1, .depth_multiplier = 1, .act_min = -32768,
                       .act_max = 32767, .n_quant = 1, .mult = mult, .shift = shift};
    EXPECT_EQ(K->dwconv_s16(&a), QNN_OK);
    EXPECT_EQ(out[0], 7);
    EXPECT_EQ(out[4], 23); /* 45 + 1 = 46 -> 23 */
}

TEST(fully_connected_s8_hand_worked)
{
    /* input [10 -20 30] zp 2 -> [8 -22 28]; W = [1 2 3; -1 0 1]; bias [5 -5]; x0.5; out zp -1.
     * oc0: 8 - 44 + 84 + 5 = 53 -> 26.5 -> 27 -> 26; oc1: -8 + 28 - 5 = 15 -> 7.5 -> 8 -> 7 */
    int8_t in[3] = {10, -20, 30}, filt[6] = {1, 2, 3, -1, 0, 1}, out[2];
    int32_t bias[2] = {5, -5}, mult[1] = {1 << 30}, shift[1] = {0};
    qnn_conv_args a = {.input = in, .in = {1, 1, 1, 3}, .input_zp = 2, .filter = filt, .filt = {2, 1, 1, 3},
                       .bias = bias, .output = out, .out = {1, 1, 1, 2}, .output_zp = -1, .act_min = -128,
                       .act_max = 127, .n_quant = 1, .mult = mult, .shift = shift};
    EXPECT_EQ(K->fc_s8(&a), QNN_OK);
    EXPECT_EQ(out[0], 26);
    EXPECT_EQ(out[1], 7);
}

TEST(fully_connected_s16_hand_worked)
{
    /* input [300 -100]; W = [2 1; 1 -1]; bias [0 10]; /4 (m 2^30, shift -1):
     * oc0: 500 / 4 = 125; oc1: 400 + 10 = 410 / 4 = 102.5 -> 103 (half up) */
    int16_t in[2] = {300, -100}, out[2];
    int8_t filt[4] = {2, 1, 1, -1};
    int64_t bias[2] = {0, 10};
    int32_t mult[1] = {1 << 30}, shift[1] = {-1};
    qnn_conv_args a = {.input = in, .in = {1, 1, 1, 2}, .filter = filt, .filt = {2, 1, 1, 2}, .bias = bias,
                       .output = out, .out = {1, 1, 1, 2}, .act_min = -32768, .act_max = 32767, .n_quant = 1,
                       .mult = mult, .shift = shift};
    EXPECT_EQ(K->fc_s16(&a), QNN_OK);
    EXPECT_EQ(out[0], 125);
    EXPECT_EQ(out[1], 103);
}

/* ---- pooling ---- */

static qnn_pool_args pool3x3(const void *in, void *out)
{
    /* 3x3 -> 2x2, filter 2x2, stride 2, SAME (pad 0 before, 1 after): edge windows have 2 or 1 taps */
    qnn_pool_args a = {.input = in, .in = {1, 3, 3, 1}, .output = out, .out = {1, 2, 2, 1}, .stride_h = 2,
                       .stride_w = 2, .filter_h = 2, .filter_w = 2, .act_min = -128, .act_max = 127};
    return a;
}

TEST(avgpool_s8_counts_valid_taps_rounds_half_away)
{
    /* windows: {1,2,4,5} = 3; {3,6} = 4.5 -> 5; {7,8} = 7.5 -> 8; {9} = 9 */
    int8_t in[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, out[4];
    qnn_pool_args a = pool3x3(in, out);
    EXPECT_EQ(K->avgpool_s8(&a), QNN_OK);
    EXPECT_EQ(out[0], 3);
    EXPECT_EQ(out[1], 5);
    EXPECT_EQ(out[2], 8);
    EXPECT_EQ(out[3], 9);
    int8_t neg[9] = {-1, -2, -3, -4, -5, -6, -7, -8, -9};
    a = pool3x3(neg, out);
    EXPECT_EQ(K->avgpool_s8(&a), QNN_OK);
    EXPECT_EQ(out[1], -5); /* -4.5 -> -5 */
    EXPECT_EQ(out[2], -8); /* -7.5 -> -8 */
}

TEST(avgpool_s16_and_maxpool)
{
    int16_t in16[9] = {100, 200, 301, 400, 500, 600, 700, 800, 900}, out16[4];
    qnn_pool_args a = pool3x3(in16, out16);
    a.act_min = -32768;
    a.act_max = 32767;
    EXPECT_EQ(K->avgpool_s16(&a), QNN_OK);
    EXPECT_EQ(out16[0], 300); /* 1200 / 4 */
    EXPECT_EQ(out16[1], 451); /* 901 / 2 = 450.5 -> 451 */
    int8_t in[9] = {1, 9, 3, 4, 5, 6, 7, 8, 2}, out[4];
    a = pool3x3(in, out);
    EXPECT_EQ(K->maxpool_s8(&a), QNN_OK);
    EXPECT_EQ(out[0], 9);
    EXPECT_EQ(out[1], 6);
    EXPECT_EQ(out[2], 8);
    EXPECT_EQ(out[3], 2);
    a = pool3x3(in16, out16);
    a.act_min = -32768;
    a.act_max = 32767;
    EXPECT_EQ(K->maxpool_s16(&a), QNN_OK);
    EXPECT_EQ(out16[3], 900);
}

/* ---- add ---- */

TEST(add_s8_left_shift_20)
{
    /* scales: in1 1, in2 0.5, out 1 -> twice_max 2: in1 x0.5 (2^30, 0), in2 x0.25 (2^30, -1),
     * out 2/2^20 = 2^30 with shift -18. 10 + 3*0.5 = 11.5 -> 12 (+zp 3 = 15); -10 - 1.5 -> -12 (+3 = -9) */
    int8_t x1[3] = {10, -10, 100}, x2[3] = {3, -3, 127}, out[3];
    qnn_add_args a = {.in1 = x1, .in2 = x2, .output = out, .size = 3, .output_zp = 3, .left_shift = 20,
                      .in1_mult = 1 << 30, .in1_shift = 0, .in2_mult = 1 << 30, .in2_shift = -1,
                      .out_mult = 1 << 30, .out_shift = -18, .act_min = -128, .act_max = 127};
    EXPECT_EQ(K->add_s8(&a), QNN_OK);
    EXPECT_EQ(out[0], 15);
    EXPECT_EQ(out[1], -9);
    EXPECT_EQ(out[2], 127); /* 100 + 63.5 + 3 saturates */
}

TEST(add_s8_zero_points)
{
    /* in1 zp -128 (value = q + 128), in2 zp 10 (value = q - 10), all scales 1, out zp -128:
     * (-100 + 128) + (20 - 10) = 38 -> 38 - 128 = -90 */
    int8_t x1[1] = {-100}, x2[1] = {20}, out[1];
    qnn_add_args a = {.in1 = x1, .in2 = x2, .output = out, .size = 1, .in1_zp = -128, .in2_zp = 10,
                      .output_zp = -128, .left_shift = 20, .in1_mult = 1 << 30, .in1_shift = 0,
                      .in2_mult = 1 << 30, .in2_shift = 0, .out_mult = 1 << 30, .out_shift = -18,
                      .act_min = -128, .act_max = 127};
    EXPECT_EQ(K->add_s8(&a), QNN_OK);
    EXPECT_EQ(out[0], -90);
}

TEST(add_s16_left_shift_15)
{
    /* all scales equal: in x0.5 each, out 2 / 2^15 = 2^30 shift -13. 1000 + 2001 = 3001; -7 + -8 = -15 */
    int16_t x1[2] = {1000, -7}, x2[2] = {2001, -8}, out[2];
    qnn_add_args a = {.in1 = x1, .in2 = x2, .output = out, .size = 2, .left_shift = 15, .in1_mult = 1 << 30,
                      .in2_mult = 1 << 30, .out_mult = 1 << 30, .out_shift = -13, .act_min = -32768,
                      .act_max = 32767};
    EXPECT_EQ(K->add_s16(&a), QNN_OK);
    EXPECT_EQ(out[0], 3001);
    EXPECT_EQ(out[1], -15);
}

/* ---- softmax ---- */

/* TFLite QuantizeMultiplier (double), for building softmax parameters in tests. */
static void quantize_multiplier(double real, int32_t *mult, int *shift)
{
    int e;
    double q = frexp(real, &e);
    long long qf = llround(q * (double)(1ll << 31));
    if (qf == (1ll << 31)) {
        qf /= 2;
        ++e;
    }
    *mult = (int32_t)qf;
    *shift = e;
}

static void softmax_s8_params(double input_scale, qnn_softmax_args *a)
{
    double real = input_scale * (double)(1 << (31 - 5));
    int32_t m;
    int s;
    quantize_multiplier(real, &m, &s);
    a->input_multiplier = m;
    a->input_shift = s;
    double max_input_rescaled = 31.0 * (double)(1ll << (31 - 5)) / (double)(1ll << s);
    a->diff_min = -(int32_t)floor(max_input_rescaled);
}

TEST(softmax_s8_exact_cases)
{
    int8_t in[4] = {5, 5, 20, -128}, out[4];
    qnn_softmax_args a = {.input = in, .output = out, .rows = 1, .depth = 1};
    softmax_s8_params(0.1, &a);
    EXPECT_EQ(K->softmax_s8(&a), QNN_OK);
    EXPECT_EQ(out[0], 127); /* one class: p = 1 -> 256 - 128 saturates */
    a.depth = 2;
    EXPECT_EQ(K->softmax_s8(&a), QNN_OK);
    EXPECT_EQ(out[0], 0); /* two equal: p = 1/2 -> 128 - 128 */
    EXPECT_EQ(out[1], 0);
    a.input = in + 2;
    a.output = out + 2;
    softmax_s8_params(1.0, &a); /* diff -148 is far below diff_min: p = 0 exactly */
    EXPECT_EQ(K->softmax_s8(&a), QNN_OK);
    EXPECT_EQ(out[2], 127);
    EXPECT_EQ(out[3], -128);
}

TEST(softmax_s8_close_to_float)
{
    int8_t in[2 * 10] = {-3, 7, 12, 0, -50, 33, 33, 8, -128, 127, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, out[20];
    const double scale = 0.0625;
    qnn_softmax_args a = {.input = in, .output = out, .rows = 2, .depth = 10};
    softmax_s8_params(scale, &a);
    EXPECT_EQ(K->softmax_s8(&a), QNN_OK);
    for (int r = 0; r < 2; ++r) {
        double sum = 0, mx = -1e9;
        for (int c = 0; c < 10; ++c) {
            mx = fmax(mx, in[r * 10 + c] * scale);
        }
        for (int c = 0; c < 10; ++c) {
            sum += exp(in[r * 10 + c] * scale - mx);
        }
        for (int c = 0; c < 10; ++c) {
            double p = exp(in[r * 10 + c] * scale - mx) / sum;
            double q = fmin(127.0, round(p * 256.0) - 128.0);
            EXPECT_TRUE(fabs(out[r * 10 + c] - q) <= 1.0);
        }
    }
}

TEST(softmax_s16_close_to_float)
{
    /* LUTs as TFLM builds them: exp on [-10, 0] and 1/(1+x) on [0, 1], 512 steps, Q0.15 */
    static int16_t exp_lut[513], recip_lut[513];
    for (int i = 0; i < 513; ++i) {
        exp_lut[i] = (int16_t)fmin(32767.0, round(exp(-10.0 + 10.0 * i / 512.0) * 32768.0));
        recip_lut[i] = (int16_t)fmin(32767.0, round(1.0 / (1.0 + i / 512.0) * 32768.0));
    }
    const double scale = 1.0 / 2048.0; /* input range +-16 */
    int16_t in[10] = {0, 2048, 4096, -4096, 100, 200, 300, 6000, 5999, -32768}, out[10];
    int32_t m;
    int s;
    quantize_multiplier(scale / (10.0 / 65535.0), &m, &s);
    qnn_softmax_args a = {.input = in, .output = out, .rows = 1, .depth = 10, .input_multiplier = m,
                          .input_shift = s, .exp_lut = exp_lut, .recip_lut = recip_lut};
    EXPECT_EQ(K->softmax_s16(&a), QNN_OK);
    double mx = 6000 * scale, sum = 0;
    for (int c = 0; c < 10; ++c) {
        sum += exp(in[c] * scale - mx);
    }
    for (int c = 0; c < 10; ++c) {
        double p = exp(in[c] * scale - mx) / sum * 32768.0;
        EXPECT_TRUE(fabs(out[c] - p) <= 40.0); /* LUT interpolation error, ~0.1 % of full scale */
    }
    EXPECT_TRUE(out[7] >= out[8]);
}
