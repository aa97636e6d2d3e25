/* Device side of the QNN Edge Lab serial protocol (shared/protocol/SPEC.md): a byte-at-a-time
 * receiver fed from a UART poll loop (or from an ISR's ring buffer, drained in the main loop),
 * requests executed through a qnn_device_t, answers streamed through a transmit callback.
 * No malloc: one qnn_proto_t holds every buffer; place it in static storage. */
#ifndef QNN_PROTOCOL_H
#define QNN_PROTOCOL_H

#include "qnn_device_api.h"
#include "qnn_frame.h"
#include "qnn_sha256.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifndef QNN_PROTO_MAX_PAYLOAD
#define QNN_PROTO_MAX_PAYLOAD 4096u
#endif
#ifndef QNN_PROTO_MAX_INFLIGHT
#define QNN_PROTO_MAX_INFLIGHT 4u
#endif
#ifndef QNN_PROTO_CACHE_ENTRIES
#define QNN_PROTO_CACHE_ENTRIES 8u
#endif
#ifndef QNN_PROTO_CACHE_PAYLOAD
#define QNN_PROTO_CACHE_PAYLOAD 512u
#endif
#ifndef QNN_PROTO_MAX_LOGITS
#define QNN_PROTO_MAX_LOGITS 1024u
#endif
#define QNN_PROTO_MAX_BENCH_REPS 128u
#define QNN_PROTO_RX_CAPACITY QNN_FRAME_MAX_ENCODED(QNN_PROTO_MAX_PAYLOAD)

/* Message types. */
enum {
    QNN_MSG_HELLO = 0x01,
    QNN_MSG_INFO = 0x02,
    QNN_MSG_SELECT_MODEL = 0x03,
    QNN_MSG_UPLOAD_BEGIN = 0x04,
    QNN_MSG_UPLOAD_CHUNK = 0x05,
    QNN_MSG_UPLOAD_END = 0x06,
    QNN_MSG_SET_SQUEEZE = 0x07,
    QNN_MSG_INPUT_CHUNK = 0x08,
    QNN_MSG_INFER = 0x09,
    QNN_MSG_BENCHMARK = 0x0A,
    QNN_MSG_RESET = 0x0B,
    QNN_MSG_SET_BAUD = 0x0C,
    QNN_MSG_STATS = 0x0D,
    QNN_MSG_BOOT = 0x70,
    QNN_MSG_NAK = 0x71,
    QNN_MSG_RESPONSE = 0x80,
};

#define QNN_FLAG_UNSOLICITED 0x01u
#define QNN_FLAG_REPLAY 0x02u

#define QNN_INFER_INPUT_TENSOR 0x01u
#define QNN_INFER_NO_LOGITS 0x02u

/* Status codes (SPEC.md section 5). */
enum {
    QNN_ST_OK = 0,
    QNN_ST_BAD_CRC = 1,
    QNN_ST_BAD_COBS = 2,
    QNN_ST_RUNT = 3,
    QNN_ST_OVERSIZE = 4,
    QNN_ST_BAD_LENGTH = 5,
    QNN_ST_BAD_VERSION = 6,
    QNN_ST_UNKNOWN_TYPE = 7,
    QNN_ST_BAD_PAYLOAD = 8,
    QNN_ST_NO_MODEL = 9,
    QNN_ST_UNKNOWN_MODEL = 10,
    QNN_ST_BAD_INPUT_SIZE = 11,
    QNN_ST_UPLOAD_OFFSET = 12,
    QNN_ST_HASH_MISMATCH = 13,
    QNN_ST_NO_SPACE = 14,
    QNN_ST_NOT_SUPPORTED = 15,
    QNN_ST_EXECUTOR = 16,
    QNN_ST_NOT_CACHED = 17,
    QNN_ST_NO_UPLOAD = 18,
    QNN_ST_NOT_STAGED = 19,
};

/* STATS counters, in wire order. */
enum {
    QNN_STAT_FRAMES_OK,
    QNN_STAT_BAD_CRC,
    QNN_STAT_BAD_COBS,
    QNN_STAT_RUNT,
    QNN_STAT_OVERSIZE,
    QNN_STAT_BAD_LENGTH,
    QNN_STAT_BAD_VERSION,
    QNN_STAT_UNKNOWN_TYPE,
    QNN_STAT_REPLAYS,
    QNN_STAT_NAKS_SENT,
    QNN_STAT_INFERENCES,
    QNN_STAT_BYTES_RECEIVED,
    QNN_STAT_COUNT
};

typedef struct {
    uint16_t seq;
    uint8_t type; /* request type; 0 = empty slot */
    uint8_t cached; /* 0: answered but too big to keep */
    uint16_t len; /* raw response frame size */
    uint8_t raw[QNN_FRAME_OVERHEAD + QNN_PROTO_CACHE_PAYLOAD];
} qnn_proto_cache_entry_t;

typedef struct {
    const qnn_device_t *dev;
    qnn_write_fn tx;
    void *tx_user;
    uint32_t boot_id;

    qnn_frame_rx_t rx;
    uint8_t rx_buf[QNN_PROTO_RX_CAPACITY];
    uint8_t tx_raw[QNN_FRAME_OVERHEAD + QNN_PROTO_MAX_PAYLOAD];

    qnn_proto_cache_entry_t cache[QNN_PROTO_CACHE_ENTRIES];
    unsigned cache_next;

    uint32_t stats[QNN_STAT_COUNT];

    /* upload in progress */
    int upload_active;
    uint32_t upload_size;
    uint32_t upload_next;
    uint8_t upload_hash[QNN_HASH_BYTES];
    qnn_sha256_t upload_sha;

    uint32_t staged_bytes; /* high-water mark of INPUT_CHUNK writes */
    int32_t logits[QNN_PROTO_MAX_LOGITS];
    uint64_t bench[QNN_PROTO_MAX_BENCH_REPS];
} qnn_proto_t;

/* boot_id: nonzero, different from the previous boot's (a no-init RAM counter, a random number). */
void qnn_proto_init(qnn_proto_t *p, const qnn_device_t *dev, qnn_write_fn tx, void *tx_user, uint32_t boot_id);
/* Sends 0x00 and the unsolicited BOOT frame; call once the link is up. */
void qnn_proto_boot(qnn_proto_t *p);
/* Feeds one received byte; a completed request is executed and answered before this returns. */
void qnn_proto_rx_byte(qnn_proto_t *p, uint8_t byte);
void qnn_proto_rx(qnn_proto_t *p, const uint8_t *data, size_t len);

#ifdef __cplusplus
}
#endif
#endif
