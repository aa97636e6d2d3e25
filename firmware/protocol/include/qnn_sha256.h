/* SHA-256 (FIPS 180-4), streaming, for model hashes and upload verification. */
#ifndef QNN_SHA256_H
#define QNN_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t h[8];
    uint64_t total;
    uint8_t block[64];
    size_t fill;
} qnn_sha256_t;

void qnn_sha256_init(qnn_sha256_t *s);
void qnn_sha256_update(qnn_sha256_t *s, const uint8_t *data, size_t len);
void qnn_sha256_final(qnn_sha256_t *s, uint8_t out[32]);
void qnn_sha256(const uint8_t *data, size_t len, uint8_t out[32]);

#endif
