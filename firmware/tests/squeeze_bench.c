/* Median squeezer cost: on pixels qnn_median_filter (the sorted window for k = 2, else the running histogram) beside
 * the gather-and-insertion-sort reference, and on an int16 tensor (INPUT_TENSOR, little-endian) the core's tensor
 * median; windows 2..7, on a CIFAR-sized (32x32x3) and a VWW-sized (96x96x3) image of seeded random pixels.
 * Prints qnn_platform_cycles units per image (ns on hosts, SysTick ticks of 50 instructions under QEMU) and
 * checks both give the same output. Works hosted and under QEMU semihosting. */
#include <stdio.h>
#include <string.h>

#include "qnn/qnn.h"
#include "qnn/qnn_squeeze.h"

static uint8_t s_img[96 * 96 * 3], s_a[96 * 96 * 3], s_b[96 * 96 * 3], s_le[2 * 96 * 96 * 3];
static int16_t s_t[96 * 96 * 3];

int main(void)
{
    uint32_t seed = 3;
    for (size_t i = 0; i < sizeof s_img; ++i) {
        seed = seed * 1664525u + 1013904223u;
        s_img[i] = (uint8_t)(seed >> 24);
        s_le[2 * i] = (uint8_t)(seed >> 8);
        s_le[2 * i + 1] = (uint8_t)(seed >> 16);
    }
    const int sizes[2] = {32, 96};
    int bad = 0;
    for (int s = 0; s < 2; ++s) {
        const int n = sizes[s];
        for (int k = 2; k <= QNN_MEDIAN_MAX; ++k) {
            uint32_t t0 = qnn_platform_cycles();
            qnn_median_filter(s_img, n, n, 3, k, s_a);
            uint32_t t1 = qnn_platform_cycles();
            qnn_median_filter_reference(s_img, n, n, 3, k, s_b);
            uint32_t t2 = qnn_platform_cycles();
            qnn_median_any(s_le, QNN_ELEM_I16LE, s_t, QNN_ELEM_I16, n, n, 3, k);
            uint32_t t3 = qnn_platform_cycles();
            int same = memcmp(s_a, s_b, (size_t)(n * n * 3)) == 0;
            bad |= !same;
            printf("%dx%dx3 median %dx%d: pixels qnn_median_filter %lu, pixels insertion-sort reference %lu, int16 tensor %lu units%s\n", n, n, k,
                   k, (unsigned long)(t1 - t0), (unsigned long)(t2 - t1), (unsigned long)(t3 - t2), same ? "" : " MISMATCH");
        }
    }
    return bad;
}
