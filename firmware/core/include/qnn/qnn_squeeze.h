/* Feature Squeezing on raw 8-bit pixels (semantics: shared/model-blob/SPEC.md). */
#ifndef QNN_SQUEEZE_H
#define QNN_SQUEEZE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bit-depth level of pixel p for b bits: rint(p * (2^b - 1) / 255), exact in integers. */
static inline uint8_t qnn_bit_depth_level(uint8_t p, unsigned bits)
{
    uint32_t levels = (1u << bits) - 1u;
    return (uint8_t)((2u * p * levels + 255u) / 510u);
}

/* Writes the level index of every pixel (bits 1..8; 8 is the identity). */
void qnn_squeeze_bit_depth(const uint8_t *pixels, size_t n, unsigned bits, uint8_t *levels);

/* k x k median per channel of an HWC image, scipy.ndimage.median_filter(mode='reflect') semantics.
 * k in 2..5; out must not alias pixels. */
void qnn_median_filter(const uint8_t *pixels, int h, int w, int c, int k, uint8_t *out);

#ifdef __cplusplus
}
#endif
#endif
