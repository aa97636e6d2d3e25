/* Differential test: the CMSIS-NN backend must equal the portable one on every output element, over
 * randomized shapes, paddings, strides, zero points and multipliers (seeded, reproducible). */
#include <string.h>

#include "qnn/qnn_kernels.h"
#include "test_harness.h"

static uint32_t s_rng = 12345u;

static uint32_t rnd(void)
{
    s_rng ^= s_rng << 13;
    s_rng ^= s_rng >> 17;
    s_rng ^= s_rng << 5;
    return s_rng;
}

static int32_t rnd_in(int32_t lo, int32_t hi)
{
    return lo + (int32_t)(rnd() % (uint32_t)(hi - lo + 1));
}

#define BIG 65536
static int8_t s_in8[BIG], s_out8a[BIG], s_out8b[BIG], s_filt[BIG];
static int16_t s_in16[BIG], s_out16a[BIG], s_out16b[BIG];
static int32_t s_bias32[512], s_mult[512], s_shift[512];
static int64_t s_bias64[512];

static void fill_random(void)
{
    for (int i = 0; i < BIG; ++i) {
        s_in8[i] = (int8_t)rnd_in(-128, 127);
        s_in16[i] = (int16_t)rnd_in(-32768, 32767);
        s_filt[i] = (int8_t)rnd_in(-127, 127);
    }
}

/* TFLite-style multipliers: [2^30, 2^31) with shifts that keep outputs in range. */
static void fill_quant(int n, int is16)
{
    for (int i = 0; i < n; ++i) {
        s_mult[i] = rnd_in(1 << 30, 0x7FFFFFFF);
        s_shift[i] = is16 ? rnd_in(-26, -14) : rnd_in(-16, -8); /* mixes saturated and in-range outputs */
        s_bias32[i] = rnd_in(-20000, 20000);
        s_bias64[i] = rnd_in(-2000000, 2000000);
    }
}

static int padding_same(int in, int k, int s, int d, int *out)
{
    *out = (in + s - 1) / s;
    int total = (*out - 1) * s + (k - 1) * d + 1 - in;
    return total > 0 ? total / 2 : 0;
}

static int compare8(const int8_t *a, const int8_t *b, int n)
{
    for (int i = 0; i < n; ++i) {
        if (a[i] != b[i]) {
            fprintf(stderr, "element %d: portable %d cmsis %d\n", i, a[i], b[i]);
            return 0;
        }
    }
    return 1;
}

static int compare16(const int16_t *a, const int16_t *b, int n)
{
    for (int i = 0; i < n; ++i) {
        if (a[i] != b[i]) {
            fprintf(stderr, "element %d: portable %d cmsis %d\n", i, a[i], b[i]);
            return 0;
        }
    }
    return 1;
}

static qnn_conv_args random_conv(int depthwise, int is16)
{
    qnn_conv_args a;
    memset(&a, 0, sizeof a);
    int h = rnd_in(1, 12), w = rnd_in(1, 12), cin = rnd_in(1, 16), k = rnd_in(1, 3) * 2 - 1;
    int stride = rnd_in(1, 2), same = rnd_in(0, 1);
    if (!same && (h < k || w < k)) {
        same = 1;
    }
    a.depth_multiplier = depthwise ? rnd_in(1, 2) : 1;
    int cout = depthwise ? cin * a.depth_multiplier : rnd_in(1, 16);
    a.in = (qnn_shape){1, h, w, cin};
    a.filt = depthwise ? (qnn_shape){1, k, k, cout} : (qnn_shape){cout, k, k, cin};
    int oh, ow;
    a.pad_top = same ? padding_same(h, k, stride, 1, &oh) : 0;
    a.pad_left = same ? padding_same(w, k, stride, 1, &ow) : 0;
    if (!same) {
        oh = (h - k + stride) / stride;
        ow = (w - k + stride) / stride;
    }
    a.out = (qnn_shape){1, oh, ow, cout};
    a.stride_h = a.stride_w = stride;
    a.dilation_h = a.dilation_w = 1;
    a.input_zp = is16 ? 0 : rnd_in(-128, 127);
    a.output_zp = is16 ? 0 : rnd_in(-128, 127);
    a.act_min = is16 ? -32768 : -128;
    a.act_max = is16 ? 32767 : 127;
    if (rnd_in(0, 2) == 0) {
        a.act_min = a.output_zp; /* fused ReLU */
    }
    a.input = is16 ? (const void *)s_in16 : (const void *)s_in8;
    a.filter = s_filt;
    a.bias = is16 ? (const void *)s_bias64 : (const void *)s_bias32;
    a.n_quant = cout;
    fill_quant(cout, is16);
    a.mult = s_mult;
    a.shift = s_shift;
    return a;
}

static int out_count(const qnn_conv_args *a)
{
    return a->out.n * a->out.h * a->out.w * a->out.c;
}

#define ROUNDS 200

TEST(conv_s8_agrees)
{
    for (int r = 0; r < ROUNDS; ++r) {
        fill_random();
        qnn_conv_args a = random_conv(0, 0);
        a.output = s_out8a;
        EXPECT_EQ(qnn_kernels_portable.conv_s8(&a), QNN_OK);
        a.output = s_out8b;
        EXPECT_EQ(qnn_kernels_cmsis_nn.conv_s8(&a), QNN_OK);
        EXPECT_TRUE(compare8(s_out8a, s_out8b, out_count(&a)));
    }
}

TEST(conv_s16_agrees)
{
    for (int r = 0; r < ROUNDS; ++r) {
        fill_random();
        qnn_conv_args a = random_conv(0, 1);
        a.output = s_out16a;
        EXPECT_EQ(qnn_kernels_portable.conv_s16(&a), QNN_OK);
        a.output = s_out16b;
        EXPECT_EQ(qnn_kernels_cmsis_nn.conv_s16(&a), QNN_OK);
        EXPECT_TRUE(compare16(s_out16a, s_out16b, out_count(&a)));
    }
}

TEST(depthwise_s8_agrees)
{
    for (int r = 0; r < ROUNDS; ++r) {
        fill_random();
        qnn_conv_args a = random_conv(1, 0);
        a.output = s_out8a;
        EXPECT_EQ(qnn_kernels_portable.dwconv_s8(&a), QNN_OK);
        a.output = s_out8b;
        EXPECT_EQ(qnn_kernels_cmsis_nn.dwconv_s8(&a), QNN_OK);
        EXPECT_TRUE(compare8(s_out8a, s_out8b, out_count(&a)));
    }
}

TEST(depthwise_s16_agrees)
{
    for (int r = 0; r < ROUNDS; ++r) {
        fill_random();
        qnn_conv_args a = random_conv(1, 1);
        a.output = s_out16a;
        EXPECT_EQ(qnn_kernels_portable.dwconv_s16(&a), QNN_OK);
        a.output = s_out16b;
        EXPECT_EQ(qnn_kernels_cmsis_nn.dwconv_s16(&a), QNN_OK);
        EXPECT_TRUE(compare16(s_out16a, s_out16b, out_count(&a)));
    }
}

TEST(fully_connected_agrees)
{
    for (int r = 0; r < ROUNDS; ++r) {
        fill_random();
        int is16 = r % 2, depth = rnd_in(1, 300), cout = rnd_in(1, 40), batch = rnd_in(1, 3);
        qnn_conv_args a;
        memset(&a, 0, sizeof a);
        a.in = (qnn_shape){batch, 1, 1, depth};
        a.filt = (qnn_shape){cout, 1, 1, depth};
        a.out = (qnn_shape){batch, 1, 1, cout};
        a.input_zp = is16 ? 0 : rnd_in(-128, 127);
        a.output_zp = is16 ? 0 : rnd_in(-128, 127);
        a.act_min = is16 ? -32768 : -128;
        a.act_max = is16 ? 32767 : 127;
        a.input = is16 ? (const void *)s_in16 : (const void *)s_in8;
        a.filter = s_filt;
        a.bias = is16 ? (const void *)s_bias64 : (const void *)s_bias32;
        a.n_quant = rnd_in(0, 1) ? cout : 1;
        fill_quant(cout, is16);
        a.mult = s_mult;
        a.shift = s_shift;
        if (is16) {
            a.output = s_out16a;
            qnn_kernels_portable.fc_s16(&a);
            a.output = s_out16b;
            EXPECT_EQ(qnn_kernels_cmsis_nn.fc_s16(&a), QNN_OK);
            EXPECT_TRUE(compare16(s_out16a, s_out16b, batch * cout));
        } else {
            a.output = s_out8a;
            qnn_kernels_portable.fc_s8(&a);
            a.output = s_out8b;
            EXPECT_EQ(qnn_kernels_cmsis_nn.fc_s8(&a), QNN_OK);
            EXPECT_TRUE(compare8(s_out8a, s_out8b, batch * cout));
        }
    }
}

TEST(pooling_agrees)
{
    for (int r = 0; r < ROUNDS; ++r) {
        fill_random();
        int is16 = r % 2, avg = (r / 2) % 2;
        int h = rnd_in(1, 16), w = rnd_in(1, 16), c = rnd_in(1, 24), k = rnd_in(1, 4), s = rnd_in(1, 3);
        qnn_pool_args a;
        memset(&a, 0, sizeof a);
        int oh, ow;
        a.pad_top = padding_same(h, k, s, 1, &oh);
        a.pad_left = padding_same(w, k, s, 1, &ow);
        a.in = (qnn_shape){1, h, w, c};
        a.out = (qnn_shape){1, oh, ow, c};
        a.stride_h = a.stride_w = s;
        a.filter_h = a.filter_w = k;
        a.act_min = is16 ? -32768 : -128;
        a.act_max = is16 ? 32767 : 127;
        a.input = is16 ? (const void *)s_in16 : (const void *)s_in8;
        int n = oh * ow * c;
        if (is16) {
            a.output = s_out16a;
            (avg ? qnn_kernels_portable.avgpool_s16 : qnn_kernels_portable.maxpool_s16)(&a);
            a.output = s_out16b;
            EXPECT_EQ((avg ? qnn_kernels_cmsis_nn.avgpool_s16 : qnn_kernels_cmsis_nn.maxpool_s16)(&a), QNN_OK);
            EXPECT_TRUE(compare16(s_out16a, s_out16b, n));
        } else {
            a.output = s_out8a;
            (avg ? qnn_kernels_portable.avgpool_s8 : qnn_kernels_portable.maxpool_s8)(&a);
            a.output = s_out8b;
            EXPECT_EQ((avg ? qnn_kernels_cmsis_nn.avgpool_s8 : qnn_kernels_cmsis_nn.maxpool_s8)(&a), QNN_OK);
            EXPECT_TRUE(compare8(s_out8a, s_out8b, n));
        }
    }
}

TEST(add_agrees)
{
    for (int r = 0; r < ROUNDS; ++r) {
        fill_random();
        int is16 = r % 2;
        qnn_add_args a;
        memset(&a, 0, sizeof a);
        a.size = rnd_in(1, 3000);
        a.in1 = is16 ? (const void *)s_in16 : (const void *)s_in8;
        a.in2 = is16 ? (const void *)(s_in16 + 3000) : (const void *)(s_in8 + 3000);
        a.in1_zp = is16 ? 0 : rnd_in(-128, 127);
        a.in2_zp = is16 ? 0 : rnd_in(-128, 127);
        a.output_zp = is16 ? 0 : rnd_in(-128, 127);
        a.left_shift = is16 ? 15 : 20;
        a.in1_mult = rnd_in(1 << 30, 0x7FFFFFFF);
        a.in2_mult = rnd_in(1 << 30, 0x7FFFFFFF);
        a.in1_shift = rnd_in(-3, 0);
        a.in2_shift = rnd_in(-3, 0);
        a.out_mult = rnd_in(1 << 30, 0x7FFFFFFF);
        a.out_shift = is16 ? rnd_in(-16, -13) : rnd_in(-21, -17);
        a.act_min = is16 ? -32768 : -128;
        a.act_max = is16 ? 32767 : 127;
        if (is16) {
            a.output = s_out16a;
            qnn_kernels_portable.add_s16(&a);
            a.output = s_out16b;
            EXPECT_EQ(qnn_kernels_cmsis_nn.add_s16(&a), QNN_OK);
            EXPECT_TRUE(compare16(s_out16a, s_out16b, a.size));
        } else {
            a.output = s_out8a;
            qnn_kernels_portable.add_s8(&a);
            a.output = s_out8b;
            EXPECT_EQ(qnn_kernels_cmsis_nn.add_s8(&a), QNN_OK);
            EXPECT_TRUE(compare8(s_out8a, s_out8b, a.size));
        }
    }
}

TEST(softmax_s8_agrees)
{
    for (int r = 0; r < ROUNDS; ++r) {
        fill_random();
        qnn_softmax_args a;
        memset(&a, 0, sizeof a);
        a.rows = rnd_in(1, 4);
        a.depth = rnd_in(1, 100);
        a.input = s_in8;
        a.input_multiplier = rnd_in(1 << 30, 0x7FFFFFFF);
        a.input_shift = rnd_in(18, 26);
        a.diff_min = -(int32_t)(((int64_t)31 << 26) >> a.input_shift) + rnd_in(0, 1);
        if (a.diff_min > 0) {
            a.diff_min = 0;
        }
        a.output = s_out8a;
        qnn_kernels_portable.softmax_s8(&a);
        a.output = s_out8b;
        EXPECT_EQ(qnn_kernels_cmsis_nn.softmax_s8(&a), QNN_OK);
        EXPECT_TRUE(compare8(s_out8a, s_out8b, a.rows * a.depth));
    }
}

TEST(softmax_s16_agrees)
{
    static int16_t exp_lut[513], recip_lut[513];
    for (int i = 0; i < 513; ++i) {
        /* any non-negative monotone tables exercise the same interpolation in both backends */
        exp_lut[i] = (int16_t)(i == 512 ? 32767 : 16384 + i * 32);
        recip_lut[i] = (int16_t)(32767 - i * 32);
    }
    for (int r = 0; r < ROUNDS; ++r) {
        fill_random();
        qnn_softmax_args a;
        memset(&a, 0, sizeof a);
        a.rows = rnd_in(1, 4);
        a.depth = rnd_in(1, 100);
        a.input = s_in16;
        a.input_multiplier = rnd_in(1 << 30, 0x7FFFFFFF);
        a.input_shift = rnd_in(-2, 0);
        a.exp_lut = exp_lut;
        a.recip_lut = recip_lut;
        a.output = s_out16a;
        qnn_kernels_portable.softmax_s16(&a);
        a.output = s_out16b;
        EXPECT_EQ(qnn_kernels_cmsis_nn.softmax_s16(&a), QNN_OK);
        EXPECT_TRUE(compare16(s_out16a, s_out16b, a.rows * a.depth));
    }
}
