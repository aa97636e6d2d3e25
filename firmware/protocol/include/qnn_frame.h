/* Wire framing of the QNN Edge Lab serial protocol (shared/protocol/SPEC.md section 1):
 * COBS(header | payload | CRC-32) followed by a 0x00 delimiter. No allocation: the caller owns
 * every buffer. */
#ifndef QNN_FRAME_H
#define QNN_FRAME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define QNN_PROTO_VERSION 2u
#define QNN_FRAME_HEADER_BYTES 8u
#define QNN_FRAME_OVERHEAD 12u /* header + CRC-32 */

/* Largest COBS encoding (without delimiter) of a frame carrying max_payload bytes. */
#define QNN_FRAME_MAX_ENCODED(max_payload) \
    ((QNN_FRAME_OVERHEAD + (max_payload)) + ((QNN_FRAME_OVERHEAD + (max_payload)) + 253u) / 254u)

typedef struct {
    uint8_t version;
    uint8_t type;
    uint8_t flags;
    uint8_t status;
    uint16_t seq;
    uint16_t len;
} qnn_frame_header_t;

/* Receive outcomes; the error values are the spec's status codes for malformed frames. */
typedef enum {
    QNN_RX_NONE = -1,     /* no complete frame yet (or an empty frame, which is ignored) */
    QNN_RX_FRAME = 0,     /* a valid frame: header and payload are available */
    QNN_RX_BAD_CRC = 1,
    QNN_RX_BAD_COBS = 2,
    QNN_RX_RUNT = 3,
    QNN_RX_OVERSIZE = 4,
    QNN_RX_BAD_LENGTH = 5,
} qnn_rx_result_t;

uint32_t qnn_frame_crc32_update(uint32_t crc, const uint8_t *data, size_t len);
uint32_t qnn_frame_crc32(const uint8_t *data, size_t len);

/* COBS encode into out (capacity out_cap, needs len + len/254 + 1); returns the encoded size,
 * or 0 if out is too small. */
size_t qnn_cobs_encode(const uint8_t *in, size_t len, uint8_t *out, size_t out_cap);
/* COBS decode in place-safe (out may equal in); returns the decoded size, or -1 on a code byte
 * that is 0 or points past the end. */
long qnn_cobs_decode(const uint8_t *in, size_t len, uint8_t *out);

/* Byte-at-a-time receiver. buf holds encoded bytes up to cap; the frame is decoded in place. */
typedef struct {
    uint8_t *buf;
    size_t cap;
    size_t n;
    int overflow;
    qnn_frame_header_t header;
    const uint8_t *payload; /* valid after QNN_RX_FRAME until the next push */
} qnn_frame_rx_t;

void qnn_frame_rx_init(qnn_frame_rx_t *rx, uint8_t *buf, size_t cap);
qnn_rx_result_t qnn_frame_rx_push(qnn_frame_rx_t *rx, uint8_t byte);

/* Writes header+payload+CRC into raw (capacity raw_cap); returns its size or 0 if too small. */
size_t qnn_frame_build(const qnn_frame_header_t *h, const uint8_t *payload, uint8_t *raw, size_t raw_cap);

/* Streams COBS(raw) and the delimiter through a byte-block writer without an encode buffer. */
typedef void (*qnn_write_fn)(void *user, const uint8_t *data, size_t len);
void qnn_cobs_write(const uint8_t *raw, size_t len, qnn_write_fn write, void *user);

static inline uint16_t qnn_get_u16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t qnn_get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline void qnn_put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void qnn_put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}
static inline void qnn_put_u64(uint8_t *p, uint64_t v)
{
    qnn_put_u32(p, (uint32_t)v);
    qnn_put_u32(p + 4, (uint32_t)(v >> 32));
}

#ifdef __cplusplus
}
#endif
#endif
