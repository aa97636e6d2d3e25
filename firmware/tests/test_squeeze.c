/* Feature Squeezing vs hand-computed scipy.ndimage.median_filter(mode='reflect') results and the
 * EvadeML float formula. scipy (ni_filters.c): window offsets -(k/2) .. k-1-k/2, rank = k*k/2. */
#include <math.h>
#include <string.h>

#include "qnn/qnn_squeeze.h"
#include "test_harness.h"

static const uint8_t img[9] = {1, 5, 9, 7, 3, 2, 4, 8, 6};

TEST(median_2x2_reflect_upper_middle)
{
    /* window rows/cols {y-1, y} with -1 -> 0; e.g. (1,1): {1,5,7,3} -> 1 3 [5] 7 = 5;
     * (2,2): {3,2,8,6} -> 2 3 [6] 8 = 6; (0,1): {1,5,1,5} -> 1 1 [5] 5 = 5 */
    const uint8_t expected[9] = {1, 5, 9, 7, 5, 5, 7, 7, 6};
    uint8_t out[9];
    qnn_median_filter(img, 3, 3, 1, 2, out);
    for (int i = 0; i < 9; ++i) {
        EXPECT_EQ(out[i], expected[i]);
    }
}

TEST(median_3x3_reflect)
{
    /* reflect repeats the edge: (0,0) window {1,1,5, 1,1,5, 7,7,3} -> rank 4 of sorted = 3;
     * (0,1): {1,5,9,1,5,9,7,3,2} -> 5; (0,2): {5,9,9,5,9,9,3,2,2} -> 5; (1,0): {1,1,5,7,7,3,4,4,8} -> 4;
     * (1,1): 1..9 -> 5; (1,2): {5,9,9,3,2,2,8,6,6} -> 6; (2,0): {7,7,3,4,4,8,4,4,8} -> 4;
     * (2,1): {7,3,2,4,8,6,4,8,6} -> 6; (2,2): {3,2,2,8,6,6,8,6,6} -> 6 */
    const uint8_t expected[9] = {3, 5, 5, 4, 5, 6, 4, 6, 6};
    uint8_t out[9];
    qnn_median_filter(img, 3, 3, 1, 3, out);
    for (int i = 0; i < 9; ++i) {
        EXPECT_EQ(out[i], expected[i]);
    }
}

TEST(median_is_per_channel)
{
    /* channel 0 constant 100, channel 1 the test image: channels must not mix */
    uint8_t rgb[18], out[18];
    for (int i = 0; i < 9; ++i) {
        rgb[2 * i] = 100;
        rgb[2 * i + 1] = img[i];
    }
    qnn_median_filter(rgb, 3, 3, 2, 3, out);
    const uint8_t expected[9] = {3, 5, 5, 4, 5, 6, 4, 6, 6};
    for (int i = 0; i < 9; ++i) {
        EXPECT_EQ(out[2 * i], 100);
        EXPECT_EQ(out[2 * i + 1], expected[i]);
    }
}

TEST(median_window_larger_than_image)
{
    /* 1x2 image, 5x5 window: reflect of [a b] is ... b a | a b | b a ...: columns x-2..x+2 for x=0
     * are b a a b b -> with 5 identical rows: {a x10, b x15} sorted, rank 12 -> b */
    const uint8_t two[2] = {10, 20};
    uint8_t out[2];
    qnn_median_filter(two, 1, 2, 1, 5, out);
    EXPECT_EQ(out[0], 20);
    EXPECT_EQ(out[1], 10); /* x=1: columns -1..3 -> a a b b a: {a x15, b x10} -> a */
}

TEST(bit_depth_matches_float_formula)
{
    /* EvadeML: rint(x * L) / L with x = p / 255; rint is round-half-even, ties never occur */
    for (unsigned bits = 1; bits <= 8; ++bits) {
        double levels = (double)((1u << bits) - 1u);
        for (int p = 0; p < 256; ++p) {
            double y = (double)p / 255.0 * levels;
            long k = lrint(y);
            EXPECT_TRUE(fabs(fabs(y - floor(y)) - 0.5) > 1e-6); /* no ties */
            EXPECT_EQ(qnn_bit_depth_level((uint8_t)p, bits), k);
        }
    }
    uint8_t px[4] = {0, 127, 128, 255}, lv[4];
    qnn_squeeze_bit_depth(px, 4, 1, lv);
    EXPECT_EQ(lv[0], 0);
    EXPECT_EQ(lv[1], 0); /* 127/255 = 0.498 -> 0 */
    EXPECT_EQ(lv[2], 1); /* 0.502 -> 1 */
    EXPECT_EQ(lv[3], 1);
}

/* A small deterministic generator (tests must not depend on rand()'s implementation). */
static uint32_t lcg(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

TEST(histogram_median_equals_the_sorted_window_for_every_window_and_shape)
{
    /* random images, windows 2..7, shapes narrower and wider than the window, 1..3 channels, few and many distinct
     * values (ties decide which equal value is the median only by rank, so duplicates must be counted right) */
    static uint8_t im[13 * 11 * 3], want[13 * 11 * 3], got[13 * 11 * 3];
    const int shapes[][3] = {{1, 1, 1}, {1, 2, 1}, {2, 3, 2}, {5, 4, 3}, {13, 11, 3}, {7, 1, 1}, {3, 9, 1}};
    uint32_t seed = 1;
    for (unsigned s = 0; s < sizeof shapes / sizeof shapes[0]; ++s) {
        const int h = shapes[s][0], w = shapes[s][1], c = shapes[s][2];
        for (int range = 0; range < 2; ++range) {
            for (int i = 0; i < h * w * c; ++i) {
                im[i] = (uint8_t)(range ? lcg(&seed) : lcg(&seed) % 3u);
            }
            /* k = 2 runs the reference itself; SqueezeAgreementTests check it against the host's sort */
            for (int k = 3; k <= QNN_MEDIAN_MAX; ++k) {
                qnn_median_filter_reference(im, h, w, c, k, want);
                qnn_median_filter(im, h, w, c, k, got);
                EXPECT_TRUE(memcmp(want, got, (size_t)(h * w * c)) == 0);
            }
        }
    }
}

TEST(median_of_tensor_values_is_the_pixel_median_through_any_increasing_map)
{
    /* int16 (little-endian in, native out) and int8 tensors: the median of v(p) is v(median of p) */
    static uint8_t im[9 * 8 * 3], want[9 * 8 * 3];
    static uint8_t le[2 * 9 * 8 * 3];
    static int16_t out16[9 * 8 * 3];
    static int8_t in8[9 * 8 * 3], out8[9 * 8 * 3];
    uint32_t seed = 7;
    for (int i = 0; i < 9 * 8 * 3; ++i) {
        im[i] = (uint8_t)lcg(&seed);
        int16_t v = (int16_t)(im[i] * 257 - 32768 + (im[i] & 1)); /* increasing, spans the int16 range */
        le[2 * i] = (uint8_t)((uint16_t)v & 0xFFu);
        le[2 * i + 1] = (uint8_t)((uint16_t)v >> 8);
        in8[i] = (int8_t)(im[i] - 128);
    }
    for (int k = 2; k <= QNN_MEDIAN_MAX; ++k) {
        qnn_median_filter_reference(im, 9, 8, 3, k, want);
        qnn_median_any(le, QNN_ELEM_I16LE, out16, QNN_ELEM_I16, 9, 8, 3, k);
        qnn_median_any(in8, QNN_ELEM_I8, out8, QNN_ELEM_I8, 9, 8, 3, k);
        for (int i = 0; i < 9 * 8 * 3; ++i) {
            EXPECT_EQ(out16[i], (int16_t)(want[i] * 257 - 32768 + (want[i] & 1)));
            EXPECT_EQ(out8[i], (int8_t)(want[i] - 128));
        }
    }
}

TEST(tensor_level_counts_the_boundaries_reached)
{
    /* 2 bits, boundaries at -10, 0, 10 (and the sentinel): q below -10 is level 0, -10..-1 level 1, 10 and up 3 */
    const int32_t bounds[4] = {-10, 0, 10, 128};
    EXPECT_EQ(qnn_bit_depth_level_q(-128, bounds, 2), 0u);
    EXPECT_EQ(qnn_bit_depth_level_q(-11, bounds, 2), 0u);
    EXPECT_EQ(qnn_bit_depth_level_q(-10, bounds, 2), 1u);
    EXPECT_EQ(qnn_bit_depth_level_q(-1, bounds, 2), 1u);
    EXPECT_EQ(qnn_bit_depth_level_q(0, bounds, 2), 2u);
    EXPECT_EQ(qnn_bit_depth_level_q(9, bounds, 2), 2u);
    EXPECT_EQ(qnn_bit_depth_level_q(10, bounds, 2), 3u);
    EXPECT_EQ(qnn_bit_depth_level_q(127, bounds, 2), 3u);
}
