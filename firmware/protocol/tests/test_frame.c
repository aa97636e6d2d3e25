/* Codec tests against shared/protocol/vectors/frames.json (generated independently in Python). */
#include <stdlib.h>

#include "qnn_frame.h"
#include "qnn_sha256.h"
#include "test_harness.h"
#include "vectors.h"

typedef struct {
    uint8_t buf[8192];
    size_t n;
} sink_t;

static void sink_write(void *user, const uint8_t *data, size_t len)
{
    sink_t *s = (sink_t *)user;
    if (s->n + len <= sizeof(s->buf)) {
        memcpy(s->buf + s->n, data, len);
    }
    s->n += len;
}

TEST(crc32_matches_zlib_vectors)
{
    for (size_t i = 0; i < N_VEC(crc_vectors); i++) {
        CHECK_EQ(qnn_frame_crc32(crc_vectors[i].data, crc_vectors[i].len), crc_vectors[i].crc);
    }
    /* split updates give the same CRC */
    const crc_vec_t *v = &crc_vectors[3];
    uint32_t c = qnn_frame_crc32_update(0, v->data, 100);
    c = qnn_frame_crc32_update(c, v->data + 100, v->len - 100);
    CHECK_EQ(c, v->crc);
}

TEST(cobs_encode_and_decode_match_vectors)
{
    static uint8_t out[1024];
    for (size_t i = 0; i < N_VEC(cobs_vectors); i++) {
        const cobs_vec_t *v = &cobs_vectors[i];
        size_t n = qnn_cobs_encode(v->data, v->len, out, sizeof(out));
        CHECK_EQ(n, v->enc_len);
        CHECK_MEM(out, v->enc, v->enc_len);
        long d = qnn_cobs_decode(v->enc, v->enc_len, out);
        CHECK_EQ(d, (long)v->len);
        CHECK_MEM(out, v->data, v->len);
    }
}

TEST(cobs_encode_refuses_small_buffer)
{
    uint8_t out[4];
    static const uint8_t in[5] = {1, 2, 3, 4, 5};
    CHECK_EQ(qnn_cobs_encode(in, sizeof(in), out, sizeof(out)), 0);
}

TEST(frames_encode_to_vector_wire_bytes)
{
    static uint8_t raw[8192];
    for (size_t i = 0; i < N_VEC(frame_vectors); i++) {
        const frame_vec_t *v = &frame_vectors[i];
        qnn_frame_header_t h = {v->version, v->type, v->flags, v->status, v->seq, (uint16_t)v->len};
        size_t n = qnn_frame_build(&h, v->payload, raw, sizeof(raw));
        CHECK_EQ(n, v->len + QNN_FRAME_OVERHEAD);
        sink_t s = {{0}, 0};
        qnn_cobs_write(raw, n, sink_write, &s);
        CHECK_EQ(s.n, v->wire_len);
        CHECK_MEM(s.buf, v->wire, v->wire_len);
    }
}

TEST(frames_decode_from_vector_wire_bytes_one_byte_at_a_time)
{
    static uint8_t buf[QNN_FRAME_MAX_ENCODED(4096)];
    for (size_t i = 0; i < N_VEC(frame_vectors); i++) {
        const frame_vec_t *v = &frame_vectors[i];
        qnn_frame_rx_t rx;
        qnn_frame_rx_init(&rx, buf, sizeof(buf));
        int frames = 0;
        for (size_t k = 0; k < v->wire_len; k++) {
            qnn_rx_result_t r = qnn_frame_rx_push(&rx, v->wire[k]);
            if (k + 1 < v->wire_len) {
                CHECK_EQ(r, QNN_RX_NONE);
                continue;
            }
            CHECK_EQ(r, QNN_RX_FRAME);
            frames++;
            CHECK_EQ(rx.header.version, v->version);
            CHECK_EQ(rx.header.type, v->type);
            CHECK_EQ(rx.header.flags, v->flags);
            CHECK_EQ(rx.header.status, v->status);
            CHECK_EQ(rx.header.seq, v->seq);
            CHECK_EQ(rx.header.len, v->len);
            CHECK_MEM(rx.payload, v->payload, v->len);
        }
        CHECK_EQ(frames, 1);
    }
}

TEST(malformed_streams_give_the_vector_events)
{
    static uint8_t buf[QNN_FRAME_MAX_ENCODED(4096)];
    for (size_t i = 0; i < N_VEC(stream_vectors); i++) {
        const stream_vec_t *v = &stream_vectors[i];
        qnn_frame_rx_t rx;
        qnn_frame_rx_init(&rx, buf, QNN_FRAME_MAX_ENCODED(v->max_payload));
        int events[16];
        size_t n = 0;
        for (size_t k = 0; k < v->wire_len; k++) {
            qnn_rx_result_t r = qnn_frame_rx_push(&rx, v->wire[k]);
            if (r == QNN_RX_NONE || n >= 16) {
                continue;
            }
            events[n++] = r == QNN_RX_FRAME ? (int)rx.header.seq : -(int)r;
        }
        if (n != v->n_events) {
            fprintf(stderr, "stream %s: %zu events, expected %zu\n", v->name, n, v->n_events);
        }
        CHECK_EQ(n, v->n_events);
        for (size_t k = 0; k < n && k < v->n_events; k++) {
            if (events[k] != v->events[k]) {
                fprintf(stderr, "stream %s event %zu: %d, expected %d\n", v->name, k, events[k], v->events[k]);
            }
            CHECK_EQ(events[k], v->events[k]);
        }
    }
}

TEST(every_single_bit_flip_is_detected)
{
    /* CRC-32 catches every 1-bit error; flip each bit of a raw frame and expect no valid frame. */
    const frame_vec_t *v = &frame_vectors[1];
    static uint8_t raw[8192], buf[QNN_FRAME_MAX_ENCODED(4096)];
    qnn_frame_header_t h = {v->version, v->type, v->flags, v->status, v->seq, (uint16_t)v->len};
    size_t n = qnn_frame_build(&h, v->payload, raw, sizeof(raw));
    int accepted = 0;
    for (size_t bit = 0; bit < n * 8; bit++) {
        raw[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        sink_t s = {{0}, 0};
        qnn_cobs_write(raw, n, sink_write, &s);
        qnn_frame_rx_t rx;
        qnn_frame_rx_init(&rx, buf, sizeof(buf));
        for (size_t k = 0; k < s.n; k++) {
            accepted += qnn_frame_rx_push(&rx, s.buf[k]) == QNN_RX_FRAME;
        }
        raw[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    CHECK_EQ(accepted, 0);
}

TEST(sha256_known_answers)
{
    /* FIPS 180-4 examples */
    static const uint8_t abc[32] = {0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
                                    0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
                                    0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
    static const uint8_t two_blocks[32] = {0x24, 0x8d, 0x6a, 0x61, 0xd2, 0x06, 0x38, 0xb8, 0xe5, 0xc0, 0x26,
                                           0x93, 0x0c, 0x3e, 0x60, 0x39, 0xa3, 0x3c, 0xe4, 0x59, 0x64, 0xff,
                                           0x21, 0x67, 0xf6, 0xec, 0xed, 0xd4, 0x19, 0xdb, 0x06, 0xc1};
    uint8_t out[32];
    qnn_sha256((const uint8_t *)"abc", 3, out);
    CHECK_MEM(out, abc, 32);
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    qnn_sha256_t s;
    qnn_sha256_init(&s);
    for (size_t i = 0; i < strlen(m); i += 5) {
        size_t k = strlen(m) - i < 5 ? strlen(m) - i : 5;
        qnn_sha256_update(&s, (const uint8_t *)m + i, k);
    }
    qnn_sha256_final(&s, out);
    CHECK_MEM(out, two_blocks, 32);
}

static const test_case_t tests[] = {
    {"crc32_matches_zlib_vectors", crc32_matches_zlib_vectors},
    {"cobs_encode_and_decode_match_vectors", cobs_encode_and_decode_match_vectors},
    {"cobs_encode_refuses_small_buffer", cobs_encode_refuses_small_buffer},
    {"frames_encode_to_vector_wire_bytes", frames_encode_to_vector_wire_bytes},
    {"frames_decode_from_vector_wire_bytes_one_byte_at_a_time", frames_decode_from_vector_wire_bytes_one_byte_at_a_time},
    {"malformed_streams_give_the_vector_events", malformed_streams_give_the_vector_events},
    {"every_single_bit_flip_is_detected", every_single_bit_flip_is_detected},
    {"sha256_known_answers", sha256_known_answers},
};

int main(int argc, char **argv) { return run_tests(tests, N_VEC(tests), argc, argv); }
