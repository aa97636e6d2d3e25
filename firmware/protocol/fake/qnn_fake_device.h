/* A stand-in executor with a documented, trivially checkable "model" (no weights):
 *   x = input bytes (pixels, or the input tensor's bytes); with bit_depth b in 1..7 each pixel
 *   keeps its top b bits (x & (0xFF << (8-b))) -- tensor inputs are not squeezed;
 *   s_k = sum of x[i] over i with i % n_outputs == k;
 *   logit_k = (s_k mod 2^(8*e)) - 2^(8*e-1) for output element size e (1 or 2);
 *   label = argmax, ties to the lowest index; with the detector on, the label comes from the
 *   unsqueezed input, score = sum_k |logit_k(orig) - logit_k(squeezed)| / 256, flagged if > threshold.
 * Every input byte moves a logit, so a corrupted transfer shows. Hosts and tests reproduce it
 * independently. Timings: quantize = input bytes, bit-depth squeeze = input bytes if squeezing else 0,
 * inference = now() difference when a clock is given, else 1000 + (37 * call) % 101; with the detector the
 * bit-depth inference and the comparison 1 each, else 0. */
#ifndef QNN_FAKE_DEVICE_H
#define QNN_FAKE_DEVICE_H

#include "qnn_device_api.h"

#ifndef QNN_FAKE_BLOB_BYTES
#define QNN_FAKE_BLOB_BYTES 16384u
#endif
#define QNN_FAKE_STAGE_BYTES (96u * 96u * 3u * 2u)
#define QNN_FAKE_MAX_MODELS 3

/* Uploaded blobs: "FAKEQNN1" u16 h, u16 w, u16 c, u16 n_outputs, u8 precision, u8 input_bytes,
 * u8 output_bytes, then the name (rest of the blob, up to 31 bytes). */
#define QNN_FAKE_BLOB_MAGIC "FAKEQNN1"

typedef struct {
    qnn_board_info_t info;
    /* optional hooks (NULL: none) */
    uint64_t (*now)(void *hook_ctx);
    void (*on_reset)(void *hook_ctx);
    int (*on_set_baud)(void *hook_ctx, uint32_t baud);
    void *hook_ctx;

    qnn_model_desc_t models[QNN_FAKE_MAX_MODELS];
    int n_models;
    int selected; /* -1: none */
    qnn_squeeze_t squeeze;
    uint32_t calls;      /* infer() calls, for the deterministic timings */
    uint32_t inferences; /* successful infer() calls */
    uint8_t blob[QNN_FAKE_BLOB_BYTES];
    uint8_t stage[QNN_FAKE_STAGE_BYTES];
} qnn_fake_device_t;

/* Fills dev with the fake's functions; the fake starts with two built-in models, none selected. */
void qnn_fake_device_init(qnn_fake_device_t *f, qnn_device_t *dev);
/* The built-in models' blobs (their SHA-256 is the model hash). */
extern const char qnn_fake_blob_cifar[];
extern const char qnn_fake_blob_vww[];

#endif
