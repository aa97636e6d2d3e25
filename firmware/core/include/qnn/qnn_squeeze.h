/* Feature Squeezing on raw 8-bit pixels and on quantized input tensors (semantics: shared/model-blob/SPEC.md). */
#ifndef QNN_SQUEEZE_H
#define QNN_SQUEEZE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define QNN_MEDIAN_MAX 7

/* Bit-depth level of pixel p for b bits: rint(p * (2^b - 1) / 255), exact in integers. */
static inline uint8_t qnn_bit_depth_level(uint8_t p, unsigned bits)
{
    uint32_t levels = (1u << bits) - 1u;
    return (uint8_t)((2u * p * levels + 255u) / 510u);
}

/* Bit-depth level of a quantized tensor value q for b bits: the number of the b-bit boundaries
 * (bounds[0 .. 2^b - 2], non-decreasing, from the blob) that q reaches. */
static inline unsigned qnn_bit_depth_level_q(int32_t q, const int32_t *bounds, unsigned bits)
{
    unsigned lo = 0, hi = (1u << bits) - 1u; /* the level lies in [lo, hi] */
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2u;
        if (q >= bounds[mid]) {
            lo = mid + 1u;
        } else {
            hi = mid;
        }
    }
    return lo;
}

/* Writes the level index of every pixel (bits 1..8; 8 is the identity). */
void qnn_squeeze_bit_depth(const uint8_t *pixels, size_t n, unsigned bits, uint8_t *levels);

/* Element layouts a median reads and writes. */
typedef enum qnn_elem_kind {
    QNN_ELEM_U8 = 0,    /* raw pixels */
    QNN_ELEM_I8 = 1,    /* int8 tensor */
    QNN_ELEM_I16LE = 2, /* int16 tensor as little-endian bytes (the protocol's layout) */
    QNN_ELEM_I16 = 3,   /* int16 tensor in native order (the arena) */
} qnn_elem_kind;

static inline int32_t qnn_elem_get(const void *p, qnn_elem_kind kind, size_t i)
{
    switch (kind) {
    case QNN_ELEM_U8:
        return ((const uint8_t *)p)[i];
    case QNN_ELEM_I8:
        return ((const int8_t *)p)[i];
    case QNN_ELEM_I16LE: {
        const uint8_t *b = (const uint8_t *)p + 2 * i;
        return (int16_t)(uint16_t)(b[0] | (b[1] << 8));
    }
    default:
        return ((const int16_t *)p)[i];
    }
}

static inline void qnn_elem_set(void *p, qnn_elem_kind kind, size_t i, int32_t v)
{
    switch (kind) {
    case QNN_ELEM_U8:
        ((uint8_t *)p)[i] = (uint8_t)v;
        break;
    case QNN_ELEM_I8:
        ((int8_t *)p)[i] = (int8_t)v;
        break;
    case QNN_ELEM_I16LE: {
        uint8_t *b = (uint8_t *)p + 2 * i;
        b[0] = (uint8_t)((uint32_t)v & 0xFFu);
        b[1] = (uint8_t)(((uint32_t)v >> 8) & 0xFFu);
        break;
    }
    default:
        ((int16_t *)p)[i] = (int16_t)v;
        break;
    }
}

/* k x k median per channel of an HWC image, scipy.ndimage.median_filter(mode='reflect') semantics,
 * k in 2..QNN_MEDIAN_MAX; reads `in` as in_kind, writes `out` (must not alias `in`) as out_kind.
 * Pixels: the sorted window for k = 2, else a running histogram (Huang); tensors: the sorted k*k window for k <= 3, else a sorted window that k
 * values leave and k enter per output (squeeze_bench measures them against the insertion-sort reference). */
void qnn_median_any(const void *in, qnn_elem_kind in_kind, void *out, qnn_elem_kind out_kind, int h, int w, int c,
                    int k);

/* The same on pixels, u8 in and out. */
void qnn_median_filter(const uint8_t *pixels, int h, int w, int c, int k, uint8_t *out);

/* The reference the sliding median must equal: gather the k*k window and insertion-sort it (tests, bench). */
void qnn_median_filter_reference(const uint8_t *pixels, int h, int w, int c, int k, uint8_t *out);

#ifdef __cplusplus
}
#endif
#endif
