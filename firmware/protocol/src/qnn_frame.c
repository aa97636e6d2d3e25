#include "qnn_frame.h"

#include <string.h>

/* Nibble-table CRC-32 (reflected 0xEDB88320): 64 bytes of table instead of 1 KiB, fast enough
 * for a UART link. */
static const uint32_t crc_nibble[16] = {
    0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u, 0x4DB26158u, 0x5005713Cu,
    0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu, 0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu,
};

uint32_t qnn_frame_crc32_update(uint32_t crc, const uint8_t *data, size_t len)
{
    crc = ~crc;
    for (size_t i = 0; i < len; i++) {
        crc ^= data[i];
        crc = (crc >> 4) ^ crc_nibble[crc & 0xFu];
        crc = (crc >> 4) ^ crc_nibble[crc & 0xFu];
    }
    return ~crc;
}

uint32_t qnn_frame_crc32(const uint8_t *data, size_t len) { return qnn_frame_crc32_update(0, data, len); }

typedef struct {
    uint8_t *out;
    size_t cap;
    size_t n;
    int overflow;
} buf_writer_t;

static void buf_write(void *user, const uint8_t *data, size_t len)
{
    buf_writer_t *w = (buf_writer_t *)user;
    if (w->overflow || w->cap - w->n < len) {
        w->overflow = 1;
        return;
    }
    memmove(w->out + w->n, data, len);
    w->n += len;
}

/* Emits the COBS blocks of raw; with_delimiter adds the trailing 0x00. Minimal encoding: a final
 * full 254-byte run gets no extra 0x01 block (SPEC.md, vectors/gen_vectors.py). */
static void cobs_blocks(const uint8_t *raw, size_t len, qnn_write_fn write, void *user)
{
    size_t start = 0;
    int last_full = 0;
    for (;;) {
        size_t run = 0;
        while (start + run < len && raw[start + run] != 0 && run < 254) {
            run++;
        }
        int at_end = start + run == len;
        if (at_end && run == 0 && last_full) {
            return;
        }
        uint8_t code = (uint8_t)(run + 1);
        write(user, &code, 1);
        if (run > 0) {
            write(user, raw + start, run);
        }
        if (at_end) {
            return;
        }
        if (run == 254) {
            start += run; /* a full run carries no implied zero */
            last_full = 1;
        } else {
            start += run + 1; /* skip the zero the block stands for */
            last_full = 0;
            if (start == len) {
                /* data ended with a zero: one more empty block stands for it */
                code = 1;
                write(user, &code, 1);
                return;
            }
        }
    }
}

size_t qnn_cobs_encode(const uint8_t *in, size_t len, uint8_t *out, size_t out_cap)
{
    buf_writer_t w = {out, out_cap, 0, 0};
    cobs_blocks(in, len, buf_write, &w);
    return w.overflow ? 0 : w.n;
}

void qnn_cobs_write(const uint8_t *raw, size_t len, qnn_write_fn write, void *user)
{
    static const uint8_t delimiter = 0;
    cobs_blocks(raw, len, write, user);
    write(user, &delimiter, 1);
}

long qnn_cobs_decode(const uint8_t *in, size_t len, uint8_t *out)
{
    size_t i = 0;
    size_t o = 0;
    while (i < len) {
        size_t code = in[i];
        if (code == 0 || i + code > len) {
            return -1;
        }
        /* out never overtakes in: each block's code byte frees the slot of its implied zero */
        memmove(out + o, in + i + 1, code - 1);
        o += code - 1;
        i += code;
        if (code < 255 && i < len) {
            out[o++] = 0;
        }
    }
    return (long)o;
}

void qnn_frame_rx_init(qnn_frame_rx_t *rx, uint8_t *buf, size_t cap)
{
    memset(rx, 0, sizeof(*rx));
    rx->buf = buf;
    rx->cap = cap;
}

qnn_rx_result_t qnn_frame_rx_push(qnn_frame_rx_t *rx, uint8_t byte)
{
    if (byte != 0) {
        if (rx->n >= rx->cap) {
            rx->overflow = 1; /* keep discarding until the next delimiter */
        } else {
            rx->buf[rx->n++] = byte;
        }
        return QNN_RX_NONE;
    }
    size_t n = rx->n;
    int overflow = rx->overflow;
    rx->n = 0;
    rx->overflow = 0;
    if (overflow) {
        return QNN_RX_OVERSIZE;
    }
    if (n == 0) {
        return QNN_RX_NONE;
    }
    long raw_len = qnn_cobs_decode(rx->buf, n, rx->buf);
    if (raw_len < 0) {
        return QNN_RX_BAD_COBS;
    }
    if ((size_t)raw_len < QNN_FRAME_OVERHEAD) {
        return QNN_RX_RUNT;
    }
    size_t body = (size_t)raw_len - 4;
    if (qnn_frame_crc32(rx->buf, body) != qnn_get_u32(rx->buf + body)) {
        return QNN_RX_BAD_CRC;
    }
    const uint8_t *b = rx->buf;
    rx->header.version = b[0];
    rx->header.type = b[1];
    rx->header.flags = b[2];
    rx->header.status = b[3];
    rx->header.seq = qnn_get_u16(b + 4);
    rx->header.len = qnn_get_u16(b + 6);
    if ((size_t)rx->header.len != body - QNN_FRAME_HEADER_BYTES) {
        return QNN_RX_BAD_LENGTH;
    }
    rx->payload = b + QNN_FRAME_HEADER_BYTES;
    return QNN_RX_FRAME;
}

size_t qnn_frame_build(const qnn_frame_header_t *h, const uint8_t *payload, uint8_t *raw, size_t raw_cap)
{
    size_t total = QNN_FRAME_OVERHEAD + h->len;
    if (total > raw_cap) {
        return 0;
    }
    raw[0] = h->version;
    raw[1] = h->type;
    raw[2] = h->flags;
    raw[3] = h->status;
    qnn_put_u16(raw + 4, h->seq);
    qnn_put_u16(raw + 6, h->len);
    if (h->len > 0 && payload != raw + QNN_FRAME_HEADER_BYTES) {
        memmove(raw + QNN_FRAME_HEADER_BYTES, payload, h->len);
    }
    qnn_put_u32(raw + QNN_FRAME_HEADER_BYTES + h->len, qnn_frame_crc32(raw, QNN_FRAME_HEADER_BYTES + h->len));
    return total;
}
