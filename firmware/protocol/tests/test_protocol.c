/* Protocol engine tests: the engine with the fake executor, driven frame by frame like a host.
 * Expected logits are recomputed here from the fake's documented formula, not taken from it. */
#include <stdlib.h>

#include "qnn_fake_device.h"
#include "qnn_protocol.h"
#include "test_harness.h"
#include "vectors.h"

static qnn_fake_device_t fake;
static qnn_device_t dev;
static qnn_proto_t proto;

/* Device output, decoded like the host would. */
typedef struct {
    qnn_frame_header_t h;
    uint8_t payload[4096];
} got_frame_t;
static got_frame_t got[64];
static size_t n_got;
static int bad_output; /* device sent something that is not a valid frame */
static uint8_t host_rx_buf[QNN_FRAME_MAX_ENCODED(4096)];
static qnn_frame_rx_t host_rx;
static int resets, baud_switches;
static uint32_t last_baud;

static void device_tx(void *user, const uint8_t *data, size_t len)
{
    (void)user;
    for (size_t i = 0; i < len; i++) {
        qnn_rx_result_t r = qnn_frame_rx_push(&host_rx, data[i]);
        if (r == QNN_RX_FRAME && n_got < 64) {
            got[n_got].h = host_rx.header;
            memcpy(got[n_got].payload, host_rx.payload, host_rx.header.len);
            n_got++;
        } else if (r != QNN_RX_NONE) {
            bad_output++;
        }
    }
}

static void on_reset(void *ctx)
{
    (void)ctx;
    resets++;
}

static int on_set_baud(void *ctx, uint32_t baud)
{
    (void)ctx;
    baud_switches++;
    last_baud = baud;
    return QNN_DEV_OK;
}

static const uint32_t bauds[] = {115200, 921600};

static void setup(void)
{
    qnn_fake_device_init(&fake, &dev);
    fake.on_reset = on_reset;
    fake.on_set_baud = on_set_baud;
    fake.info.bauds = bauds;
    fake.info.n_bauds = 2;
    fake.info.current_baud = 115200;
    qnn_frame_rx_init(&host_rx, host_rx_buf, sizeof(host_rx_buf));
    qnn_proto_init(&proto, &dev, device_tx, NULL, 0xB007u);
    n_got = 0;
    bad_output = 0;
    resets = 0;
    baud_switches = 0;
}

static void send_raw_frame(uint8_t version, uint8_t type, uint8_t flags, uint16_t seq, const uint8_t *pl, size_t len)
{
    static uint8_t raw[QNN_FRAME_OVERHEAD + 70000];
    static uint8_t enc[QNN_FRAME_MAX_ENCODED(70000) + 1];
    qnn_frame_header_t h = {version, type, flags, 0, seq, (uint16_t)len};
    size_t n = qnn_frame_build(&h, pl, raw, sizeof(raw));
    size_t e = qnn_cobs_encode(raw, n, enc, sizeof(enc));
    enc[e++] = 0;
    qnn_proto_rx(&proto, enc, e);
}

/* Sends a request and returns the single answer it produced. */
static const got_frame_t *request(uint8_t type, uint16_t seq, const uint8_t *pl, size_t len)
{
    size_t before = n_got;
    send_raw_frame(QNN_PROTO_VERSION, type, 0, seq, pl, len);
    CHECK_EQ(n_got, before + 1);
    if (n_got != before + 1) {
        static got_frame_t none;
        memset(&none, 0, sizeof(none));
        none.h.status = 0xEE;
        return &none;
    }
    CHECK_EQ(got[before].h.type, type | 0x80);
    CHECK_EQ(got[before].h.seq, seq);
    return &got[before];
}

static void select_builtin(int index, uint16_t seq)
{
    const got_frame_t *r = request(QNN_MSG_SELECT_MODEL, seq, fake.models[index].hash, 32);
    CHECK_EQ(r->h.status, QNN_ST_OK);
}

/* The fake model's logits, from its documented formula. */
static void expected_logits(const uint8_t *x, size_t len, unsigned n_out, unsigned elem, unsigned bits, int32_t *out)
{
    for (unsigned k = 0; k < n_out; k++) {
        uint64_t s = 0;
        for (size_t i = k; i < len; i += n_out) {
            s += bits ? (x[i] >> (8 - bits)) << (8 - bits) : x[i];
        }
        out[k] = elem == 1 ? (int32_t)(s % 256) - 128 : (int32_t)(s % 65536) - 32768;
    }
}

static unsigned expected_label(const int32_t *l, unsigned n)
{
    unsigned best = 0;
    for (unsigned i = 1; i < n; i++) {
        if (l[i] > l[best]) {
            best = i;
        }
    }
    return best;
}

static uint8_t image[96 * 96 * 3 * 2 * 2];

static void make_image(size_t len, unsigned seed)
{
    for (size_t i = 0; i < len; i++) {
        image[i] = (uint8_t)((i * 31 + seed * 17 + (i >> 5)) & 0xFF);
    }
}

/* INFER payload: flags, count, reserved, offset, data. */
static size_t infer_payload(uint8_t *out, uint8_t flags, uint8_t count, uint32_t offset, const uint8_t *data, size_t len)
{
    out[0] = flags;
    out[1] = count;
    out[2] = out[3] = 0;
    qnn_put_u32(out + 4, offset);
    memcpy(out + 8, data, len);
    return 8 + len;
}

/* Checks one result item against the fake's formula; returns the item's size. */
static size_t check_result_item(const uint8_t *p, const uint8_t *x, size_t len, unsigned n_out, unsigned elem,
                                unsigned bits)
{
    int32_t want[16];
    expected_logits(x, len, n_out, elem, bits, want);
    CHECK_EQ(qnn_get_u16(p), expected_label(want, n_out));
    CHECK_EQ(p[3], QNN_STAGE_COUNT);
    const uint8_t *t = p + 4 + 8 * QNN_STAGE_INFERENCE;
    uint64_t inference = qnn_get_u32(t) | ((uint64_t)qnn_get_u32(t + 4) << 32);
    CHECK(inference >= 1000 && inference <= 1100);
    CHECK_EQ(qnn_get_u32(p + 4), len); /* quantize stage = input bytes */
    const uint8_t *l = p + 4 + 8 * QNN_STAGE_COUNT + 4;
    CHECK_EQ(qnn_get_u16(l), n_out);
    CHECK_EQ(l[2], elem);
    for (unsigned k = 0; k < n_out; k++) {
        int32_t v = elem == 1 ? (int8_t)l[3 + k] : (int16_t)qnn_get_u16(l + 3 + 2 * k);
        CHECK_EQ(v, want[k]);
    }
    return 4 + 8 * QNN_STAGE_COUNT + 4 + 3 + n_out * elem;
}

TEST(boot_frame_announces_hello_with_boot_id)
{
    setup();
    qnn_proto_boot(&proto);
    CHECK_EQ(n_got, 1);
    CHECK_EQ(got[0].h.type, QNN_MSG_BOOT);
    CHECK_EQ(got[0].h.flags, QNN_FLAG_UNSOLICITED);
    CHECK_EQ(got[0].h.seq, 0);
    CHECK_EQ(qnn_get_u32(got[0].payload + 8), 0xB007u);
}

TEST(hello_reports_limits_and_capabilities)
{
    setup();
    uint8_t pl[4] = {QNN_PROTO_VERSION, QNN_PROTO_VERSION, 0, 16};
    const got_frame_t *r = request(QNN_MSG_HELLO, 1, pl, 4);
    CHECK_EQ(r->h.status, QNN_ST_OK);
    const uint8_t *p = r->payload;
    CHECK_EQ(p[0], QNN_PROTO_VERSION);
    CHECK_EQ(qnn_get_u16(p + 2), QNN_PROTO_MAX_PAYLOAD);
    CHECK_EQ(p[4], QNN_PROTO_MAX_INFLIGHT);
    CHECK_EQ(p[5], QNN_PROTO_CACHE_ENTRIES);
    CHECK_EQ(qnn_get_u32(p + 8), 0xB007u);
    uint32_t caps = qnn_get_u32(p + 12);
    CHECK_EQ(caps, QNN_CAP_UPLOAD | QNN_CAP_SQUEEZE | QNN_CAP_DETECTOR | QNN_CAP_BENCHMARK | QNN_CAP_SET_BAUD |
                       QNN_CAP_INPUT_TENSOR | QNN_CAP_RESET);
    CHECK_EQ(qnn_get_u32(p + 20), 115200);
    CHECK_EQ(p[24], 2);
    CHECK_EQ(qnn_get_u32(p + 25), 115200);
    CHECK_EQ(qnn_get_u32(p + 29), 921600);
    CHECK_EQ(r->h.len, 33);
    r = request(QNN_MSG_HELLO, 2, pl, 3);
    CHECK_EQ(r->h.status, QNN_ST_BAD_PAYLOAD);
}

TEST(info_lists_board_and_models)
{
    setup();
    select_builtin(1, 1);
    const got_frame_t *r = request(QNN_MSG_INFO, 2, NULL, 0);
    CHECK_EQ(r->h.status, QNN_ST_OK);
    const uint8_t *p = r->payload;
    CHECK_EQ(p[4], QNN_TIMING_NS);
    p += 9;
    CHECK_EQ(p[0], 4);
    CHECK_MEM(p + 1, "fake", 4);
    p += 5; /* board */
    p += 1 + p[0]; /* backend */
    p += 1 + p[0]; /* build id */
    CHECK_EQ(p[0], 1);
    CHECK_MEM(p + 1, fake.models[1].hash, 32);
    p += 33;
    CHECK_EQ(p[0], 2);
    p++;
    CHECK_MEM(p, fake.models[0].hash, 32);
    CHECK_EQ(qnn_get_u16(p + 37), 32);
    CHECK_EQ(qnn_get_u16(p + 44), 10);
    CHECK_EQ(p[47], 15);
    CHECK_MEM(p + 48, "fake-cifar-int8", 15);
}

TEST(select_unknown_model_is_refused)
{
    setup();
    uint8_t hash[32] = {1};
    CHECK_EQ(request(QNN_MSG_SELECT_MODEL, 1, hash, 32)->h.status, QNN_ST_UNKNOWN_MODEL);
    CHECK_EQ(request(QNN_MSG_SELECT_MODEL, 2, hash, 31)->h.status, QNN_ST_BAD_PAYLOAD);
}

TEST(infer_without_model_is_refused)
{
    setup();
    uint8_t pl[8 + 3072];
    make_image(3072, 1);
    size_t n = infer_payload(pl, 0, 1, 0, image, 3072);
    const got_frame_t *r = request(QNN_MSG_INFER, 1, pl, n);
    CHECK_EQ(r->h.status, QNN_ST_NO_MODEL);
    CHECK_EQ(r->h.len, 0);
    CHECK_EQ(fake.inferences, 0);
}

TEST(infer_one_cifar_input_returns_the_models_logits)
{
    setup();
    select_builtin(0, 1);
    static uint8_t pl[8 + 3072];
    make_image(3072, 2);
    size_t n = infer_payload(pl, 0, 1, 0, image, 3072);
    const got_frame_t *r = request(QNN_MSG_INFER, 2, pl, n);
    CHECK_EQ(r->h.status, QNN_ST_OK);
    CHECK_EQ(r->payload[0], 1);
    size_t item = check_result_item(r->payload + 1, image, 3072, 10, 1, 0);
    CHECK_EQ(r->h.len, 1 + item);
    CHECK_EQ(proto.stats[QNN_STAT_INFERENCES], 1);
}

static void upload(const uint8_t *blob, size_t size, uint16_t *seq);
static const uint8_t small_blob[] = "FAKEQNN1"
                                    "\x08\x00\x08\x00\x03\x00\x0a\x00\x01\x01\x01"
                                    "small";

TEST(infer_batch_of_three_and_no_logits_flag)
{
    setup();
    uint16_t seq = 1;
    upload(small_blob, sizeof(small_blob) - 1, &seq); /* 8x8x3 input, 10 int8 outputs */
    static uint8_t pl[8 + 3 * 192];
    make_image(3 * 192, 3);
    size_t n = infer_payload(pl, 0, 3, 0, image, 3 * 192);
    CHECK_EQ(request(QNN_MSG_INFER, seq++, pl, n - 1)->h.status, QNN_ST_BAD_INPUT_SIZE);
    const got_frame_t *r = request(QNN_MSG_INFER, seq++, pl, n);
    CHECK_EQ(r->h.status, QNN_ST_OK);
    CHECK_EQ(r->payload[0], 3);
    size_t at = 1;
    for (int i = 0; i < 3; i++) {
        at += check_result_item(r->payload + at, image + 192 * i, 192, 10, 1, 0);
    }
    CHECK_EQ(r->h.len, at);
    n = infer_payload(pl, QNN_INFER_NO_LOGITS, 1, 0, image, 192);
    r = request(QNN_MSG_INFER, seq++, pl, n);
    CHECK_EQ(r->h.status, QNN_ST_OK);
    CHECK_EQ(r->h.len, 1 + 4 + 8 * QNN_STAGE_COUNT + 4 + 3);
    CHECK_EQ(fake.inferences, 4);
    n = infer_payload(pl, 0x80, 1, 0, image, 192);
    CHECK_EQ(request(QNN_MSG_INFER, seq++, pl, n)->h.status, QNN_ST_BAD_PAYLOAD);
    n = infer_payload(pl, 0, 0, 0, image, 0);
    CHECK_EQ(request(QNN_MSG_INFER, seq++, pl, n)->h.status, QNN_ST_BAD_PAYLOAD);
}

TEST(staged_int16_tensor_input_spanning_many_frames)
{
    setup();
    select_builtin(1, 1);
    size_t total = 96 * 96 * 3 * 2;
    make_image(total, 4);
    static uint8_t pl[8 + 4096];
    uint16_t seq = 2;
    size_t off = 0;
    while (total - off > 4000) {
        qnn_put_u32(pl, (uint32_t)off);
        memcpy(pl + 4, image + off, 4000);
        const got_frame_t *r = request(QNN_MSG_INPUT_CHUNK, seq++, pl, 4 + 4000);
        CHECK_EQ(r->h.status, QNN_ST_OK);
        CHECK_EQ(qnn_get_u32(r->payload), off + 4000);
        off += 4000;
    }
    size_t n = infer_payload(pl, QNN_INFER_INPUT_TENSOR, 1, (uint32_t)off, image + off, total - off);
    const got_frame_t *r = request(QNN_MSG_INFER, seq++, pl, n);
    CHECK_EQ(r->h.status, QNN_ST_OK);
    check_result_item(r->payload + 1, image, total, 2, 2, 0);
    /* a tail that does not complete the input exactly */
    n = infer_payload(pl, QNN_INFER_INPUT_TENSOR, 1, (uint32_t)off, image + off, total - off - 1);
    CHECK_EQ(request(QNN_MSG_INFER, seq++, pl, n)->h.status, QNN_ST_BAD_INPUT_SIZE);
    /* the staged bytes were used once: running the tail again needs a new staging */
    n = infer_payload(pl, QNN_INFER_INPUT_TENSOR, 1, (uint32_t)off, image + off, total - off);
    CHECK_EQ(request(QNN_MSG_INFER, seq++, pl, n)->h.status, QNN_ST_NOT_STAGED);
    CHECK_EQ(fake.inferences, 1);
    qnn_put_u32(pl, 60000);
    CHECK_EQ(request(QNN_MSG_INPUT_CHUNK, seq++, pl, 4 + 100)->h.status, QNN_ST_BAD_PAYLOAD);
}

TEST(repeated_seq_is_answered_from_cache_without_second_inference)
{
    setup();
    select_builtin(0, 1);
    static uint8_t pl[8 + 3072];
    make_image(3072, 5);
    size_t n = infer_payload(pl, 0, 1, 0, image, 3072);
    const got_frame_t *first = request(QNN_MSG_INFER, 7, pl, n);
    got_frame_t a = *first;
    send_raw_frame(QNN_PROTO_VERSION, QNN_MSG_INFER, QNN_FLAG_REPLAY, 7, pl, n);
    CHECK_EQ(n_got, 3);
    CHECK_EQ(got[2].h.flags, QNN_FLAG_REPLAY);
    CHECK_EQ(got[2].h.seq, 7);
    CHECK_EQ(got[2].h.len, a.h.len);
    CHECK_MEM(got[2].payload, a.payload, a.h.len);
    CHECK_EQ(fake.inferences, 1);
    CHECK_EQ(proto.stats[QNN_STAT_INFERENCES], 1);
    CHECK_EQ(proto.stats[QNN_STAT_REPLAYS], 1);
    /* same seq, different type: a new request (seq reuse after wrap-around) */
    CHECK_EQ(request(QNN_MSG_STATS, 7, NULL, 0)->h.status, QNN_ST_OK);
}

TEST(refusals_are_not_cached_so_a_repeat_runs_again)
{
    setup();
    static uint8_t pl[8 + 3072];
    make_image(3072, 11);
    size_t n = infer_payload(pl, 0, 1, 0, image, 3072);
    CHECK_EQ(request(QNN_MSG_INFER, 20, pl, n)->h.status, QNN_ST_NO_MODEL);
    select_builtin(0, 21);
    const got_frame_t *r = request(QNN_MSG_INFER, 20, pl, n);
    CHECK_EQ(r->h.status, QNN_ST_OK);
    CHECK_EQ(r->h.flags, 0);
    CHECK_EQ(fake.inferences, 1);
}

TEST(cache_forgets_after_cache_entries_newer_requests)
{
    setup();
    select_builtin(0, 1);
    static uint8_t pl[8 + 3072];
    make_image(3072, 6);
    size_t n = infer_payload(pl, 0, 1, 0, image, 3072);
    request(QNN_MSG_INFER, 100, pl, n);
    for (uint16_t s = 0; s < QNN_PROTO_CACHE_ENTRIES - 1; s++) {
        request(QNN_MSG_STATS, (uint16_t)(200 + s), NULL, 0);
    }
    CHECK_EQ(request(QNN_MSG_INFER, 100, pl, n)->h.flags, QNN_FLAG_REPLAY);
    CHECK_EQ(fake.inferences, 1);
    request(QNN_MSG_STATS, 300, NULL, 0);
    request(QNN_MSG_STATS, 301, NULL, 0);
    CHECK_EQ(request(QNN_MSG_INFER, 100, pl, n)->h.flags, 0);
    CHECK_EQ(fake.inferences, 2);
}

static const uint8_t big_blob[] = "FAKEQNN1"
                                  "\x04\x00\x04\x00\x01\x00\x58\x02\x01\x01\x01"
                                  "many-outputs";

static void upload(const uint8_t *blob, size_t size, uint16_t *seq)
{
    uint8_t hash[32], pl[64];
    qnn_sha256(blob, size, hash);
    qnn_put_u32(pl, (uint32_t)size);
    memcpy(pl + 4, hash, 32);
    CHECK_EQ(request(QNN_MSG_UPLOAD_BEGIN, (*seq)++, pl, 36)->h.status, QNN_ST_OK);
    qnn_put_u32(pl, 0);
    memcpy(pl + 4, blob, size);
    CHECK_EQ(request(QNN_MSG_UPLOAD_CHUNK, (*seq)++, pl, 4 + size)->h.status, QNN_ST_OK);
    CHECK_EQ(request(QNN_MSG_UPLOAD_END, (*seq)++, NULL, 0)->h.status, QNN_ST_OK);
}

TEST(answer_too_big_to_cache_replays_as_not_cached)
{
    setup();
    uint16_t seq = 1;
    upload(big_blob, sizeof(big_blob) - 1, &seq); /* 4x4x1 input, 600 int8 outputs */
    uint8_t pl[8 + 16];
    make_image(16, 7);
    size_t n = infer_payload(pl, 0, 1, 0, image, 16);
    const got_frame_t *r = request(QNN_MSG_INFER, 50, pl, n);
    CHECK_EQ(r->h.status, QNN_ST_OK);
    CHECK_EQ(qnn_get_u16(r->payload + 1 + 4 + 8 * QNN_STAGE_COUNT + 4), 600);
    r = request(QNN_MSG_INFER, 50, pl, n);
    CHECK_EQ(r->h.status, QNN_ST_NOT_CACHED);
    CHECK_EQ(r->h.flags, QNN_FLAG_REPLAY);
    CHECK_EQ(fake.inferences, 1);
}

TEST(each_malformed_frame_class_gets_a_nak_and_is_counted)
{
    setup();
    for (size_t i = 0; i < N_VEC(stream_vectors); i++) {
        const stream_vec_t *v = &stream_vectors[i];
        if (v->max_payload != QNN_PROTO_MAX_PAYLOAD) {
            continue;
        }
        size_t before = n_got;
        qnn_proto_rx(&proto, v->wire, v->wire_len);
        CHECK_EQ(n_got - before, v->n_events);
        for (size_t k = 0; k < v->n_events && before + k < n_got; k++) {
            const got_frame_t *g = &got[before + k];
            if (v->events[k] < 0) {
                CHECK_EQ(g->h.type, QNN_MSG_NAK);
                CHECK_EQ(g->h.status, -v->events[k]);
                CHECK_EQ(g->h.flags, QNN_FLAG_UNSOLICITED);
            } else {
                CHECK_EQ(g->h.type, QNN_MSG_INFO | 0x80); /* the vectors' good frames are INFO requests */
                CHECK_EQ(g->h.seq, v->events[k]);
            }
        }
    }
    CHECK(proto.stats[QNN_STAT_BAD_CRC] >= 2);
    CHECK(proto.stats[QNN_STAT_BAD_COBS] >= 2);
    CHECK(proto.stats[QNN_STAT_RUNT] >= 2);
    CHECK(proto.stats[QNN_STAT_BAD_LENGTH] >= 2);
    CHECK_EQ(bad_output, 0);
}

TEST(oversize_frame_is_dropped_and_the_next_frame_is_answered)
{
    setup();
    static uint8_t pl[QNN_PROTO_MAX_PAYLOAD + 100];
    memset(pl, 0x33, sizeof(pl));
    send_raw_frame(QNN_PROTO_VERSION, QNN_MSG_INPUT_CHUNK, 0, 1, pl, sizeof(pl));
    CHECK_EQ(n_got, 1);
    CHECK_EQ(got[0].h.type, QNN_MSG_NAK);
    CHECK_EQ(got[0].h.status, QNN_ST_OVERSIZE);
    CHECK_EQ(request(QNN_MSG_STATS, 2, NULL, 0)->h.status, QNN_ST_OK);
    CHECK_EQ(qnn_get_u32(got[1].payload + 4 * QNN_STAT_OVERSIZE), 1);
    /* the largest allowed payload is accepted */
    qnn_put_u32(pl, 0);
    CHECK_EQ(request(QNN_MSG_INPUT_CHUNK, 3, pl, QNN_PROTO_MAX_PAYLOAD)->h.status, QNN_ST_OK);
}

TEST(garbage_between_frames_is_survived)
{
    setup();
    static const uint8_t noise[] = {0xFF, 0x13, 0x37, 0x42, 0x99, 0x01, 0x02};
    qnn_proto_rx(&proto, noise, sizeof(noise)); /* no delimiter: merges into the next frame */
    send_raw_frame(QNN_PROTO_VERSION, QNN_MSG_STATS, 0, 5, NULL, 0);
    CHECK_EQ(n_got, 1);
    CHECK_EQ(got[0].h.type, QNN_MSG_NAK);
    static const uint8_t zero = 0;
    qnn_proto_rx(&proto, noise, sizeof(noise));
    qnn_proto_rx(&proto, &zero, 1);
    CHECK_EQ(request(QNN_MSG_STATS, 6, NULL, 0)->h.status, QNN_ST_OK);
    CHECK_EQ(bad_output, 0);
}

TEST(bad_version_and_unknown_types_are_answered_with_status)
{
    setup();
    send_raw_frame(QNN_PROTO_VERSION + 1, QNN_MSG_HELLO, 0, 9, NULL, 0);
    CHECK_EQ(n_got, 1);
    CHECK_EQ(got[0].h.status, QNN_ST_BAD_VERSION);
    CHECK_EQ(got[0].h.seq, 9);
    CHECK_EQ(got[0].h.len, 2);
    CHECK_EQ(request(0x3F, 10, NULL, 0)->h.status, QNN_ST_UNKNOWN_TYPE);
    CHECK_EQ(request(0x00, 11, NULL, 0)->h.status, QNN_ST_UNKNOWN_TYPE);
    /* a response or an unsolicited type sent to the device */
    send_raw_frame(QNN_PROTO_VERSION, QNN_MSG_HELLO | 0x80, 0, 12, NULL, 0);
    CHECK_EQ(got[n_got - 1].h.status, QNN_ST_UNKNOWN_TYPE);
    send_raw_frame(QNN_PROTO_VERSION, QNN_MSG_BOOT, 0, 13, NULL, 0);
    CHECK_EQ(got[n_got - 1].h.status, QNN_ST_UNKNOWN_TYPE);
    CHECK_EQ(proto.stats[QNN_STAT_UNKNOWN_TYPE], 4);
    CHECK_EQ(proto.stats[QNN_STAT_BAD_VERSION], 1);
}

TEST(wrong_payload_sizes_are_bad_payload)
{
    setup();
    uint8_t pl[64] = {0};
    CHECK_EQ(request(QNN_MSG_INFO, 1, pl, 1)->h.status, QNN_ST_BAD_PAYLOAD);
    CHECK_EQ(request(QNN_MSG_STATS, 2, pl, 1)->h.status, QNN_ST_BAD_PAYLOAD);
    CHECK_EQ(request(QNN_MSG_SET_SQUEEZE, 3, pl, 7)->h.status, QNN_ST_BAD_PAYLOAD);
    CHECK_EQ(request(QNN_MSG_INFER, 4, pl, 7)->h.status, QNN_ST_BAD_PAYLOAD);
    CHECK_EQ(request(QNN_MSG_BENCHMARK, 5, pl, 7)->h.status, QNN_ST_BAD_PAYLOAD);
    CHECK_EQ(request(QNN_MSG_UPLOAD_BEGIN, 6, pl, 35)->h.status, QNN_ST_BAD_PAYLOAD);
    CHECK_EQ(request(QNN_MSG_INPUT_CHUNK, 7, pl, 3)->h.status, QNN_ST_BAD_PAYLOAD);
    CHECK_EQ(request(QNN_MSG_RESET, 8, pl, 1)->h.status, QNN_ST_BAD_PAYLOAD);
    CHECK_EQ(request(QNN_MSG_SET_BAUD, 9, pl, 3)->h.status, QNN_ST_BAD_PAYLOAD);
    pl[0] = 9; /* bit depths are 1..8 */
    CHECK_EQ(request(QNN_MSG_SET_SQUEEZE, 10, pl, 8)->h.status, QNN_ST_BAD_PAYLOAD);
    CHECK_EQ(resets, 0);
}

TEST(benchmark_reports_min_median_max)
{
    setup();
    select_builtin(0, 1);
    static uint8_t pl[8 + 3072];
    make_image(3072, 8);
    pl[0] = 9; /* 9 repetitions */
    pl[1] = 0;
    pl[2] = 0;
    pl[3] = 0;
    qnn_put_u32(pl + 4, 0);
    memcpy(pl + 8, image, 3072);
    const got_frame_t *r = request(QNN_MSG_BENCHMARK, 2, pl, 8 + 3072);
    CHECK_EQ(r->h.status, QNN_ST_OK);
    /* the fake's i-th call takes 3072 (quantize) + 1000 + (37 i) % 101 */
    uint64_t t[9];
    for (unsigned i = 0; i < 9; i++) {
        t[i] = 3072 + 1000 + (37u * i) % 101u;
    }
    for (unsigned i = 0; i < 9; i++) {
        for (unsigned j = i + 1; j < 9; j++) {
            if (t[j] < t[i]) {
                uint64_t x = t[i];
                t[i] = t[j];
                t[j] = x;
            }
        }
    }
    CHECK_EQ(qnn_get_u16(r->payload), 9);
    int32_t want[10];
    expected_logits(image, 3072, 10, 1, 0, want);
    CHECK_EQ(qnn_get_u16(r->payload + 2), expected_label(want, 10));
    CHECK_EQ(qnn_get_u32(r->payload + 4), t[0]);
    CHECK_EQ(qnn_get_u32(r->payload + 12), t[4]);
    CHECK_EQ(qnn_get_u32(r->payload + 20), t[8]);
    CHECK_EQ(proto.stats[QNN_STAT_INFERENCES], 0); /* benchmark runs are not inference records */
    pl[0] = 0;
    CHECK_EQ(request(QNN_MSG_BENCHMARK, 3, pl, 8 + 3072)->h.status, QNN_ST_BAD_PAYLOAD);
    pl[0] = 129;
    CHECK_EQ(request(QNN_MSG_BENCHMARK, 4, pl, 8 + 3072)->h.status, QNN_ST_BAD_PAYLOAD);
}

TEST(squeeze_bit_depth_and_detector_reach_the_executor)
{
    setup();
    select_builtin(0, 1);
    uint8_t sq[8] = {3, 2, 0, 0, 0, 0, 0, 0};
    const got_frame_t *r = request(QNN_MSG_SET_SQUEEZE, 2, sq, 8);
    CHECK_EQ(r->h.status, QNN_ST_OK);
    CHECK_MEM(r->payload, sq, 8);
    CHECK_EQ(fake.squeeze.bit_depth, 3);
    CHECK_EQ(fake.squeeze.median_size, 2);
    static uint8_t pl[8 + 3072];
    make_image(3072, 9);
    size_t n = infer_payload(pl, 0, 1, 0, image, 3072);
    r = request(QNN_MSG_INFER, 3, pl, n);
    check_result_item(r->payload + 1, image, 3072, 10, 1, 3);
    /* detector: label from the original, score = L1 of logits / 256 */
    float threshold = 1.5f;
    sq[2] = 1;
    memcpy(sq + 4, &threshold, 4);
    CHECK_EQ(request(QNN_MSG_SET_SQUEEZE, 4, sq, 8)->h.status, QNN_ST_OK);
    r = request(QNN_MSG_INFER, 5, pl, n);
    check_result_item(r->payload + 1, image, 3072, 10, 1, 0);
    int32_t a[10], b[10];
    expected_logits(image, 3072, 10, 1, 0, a);
    expected_logits(image, 3072, 10, 1, 3, b);
    float score = 0;
    for (int k = 0; k < 10; k++) {
        score += (float)abs(a[k] - b[k]);
    }
    score /= 256.0f;
    float got_score;
    uint32_t bits = qnn_get_u32(r->payload + 1 + 4 + 8 * QNN_STAGE_COUNT);
    memcpy(&got_score, &bits, 4);
    CHECK(got_score == score);
    CHECK_EQ(r->payload[1 + 2], score > threshold);
    sq[3] = 1; /* reserved byte */
    CHECK_EQ(request(QNN_MSG_SET_SQUEEZE, 6, sq, 8)->h.status, QNN_ST_BAD_PAYLOAD);
}

TEST(upload_resumes_refuses_gaps_and_checks_the_hash)
{
    setup();
    static uint8_t blob[3000];
    memcpy(blob, "FAKEQNN1\x08\x00\x08\x00\x03\x00\x05\x00\x01\x01\x01uploaded", 27);
    for (size_t i = 27; i < sizeof(blob); i++) {
        blob[i] = (uint8_t)(i * 7);
    }
    uint8_t hash[32];
    qnn_sha256(blob, sizeof(blob), hash);
    static uint8_t pl[8 + 4096];
    qnn_put_u32(pl, sizeof(blob));
    memcpy(pl + 4, hash, 32);
    const got_frame_t *r = request(QNN_MSG_UPLOAD_BEGIN, 1, pl, 36);
    CHECK_EQ(r->h.status, QNN_ST_OK);
    CHECK_EQ(qnn_get_u32(r->payload), 0);
    CHECK_EQ(qnn_get_u32(r->payload + 4), QNN_FAKE_BLOB_BYTES);
    qnn_put_u32(pl, 0);
    memcpy(pl + 4, blob, 1000);
    CHECK_EQ(qnn_get_u32(request(QNN_MSG_UPLOAD_CHUNK, 2, pl, 1004)->payload), 1000);
    /* a gap is refused with the offset to resume at */
    qnn_put_u32(pl, 2000);
    memcpy(pl + 4, blob + 2000, 1000);
    r = request(QNN_MSG_UPLOAD_CHUNK, 3, pl, 1004);
    CHECK_EQ(r->h.status, QNN_ST_UPLOAD_OFFSET);
    CHECK_EQ(qnn_get_u32(r->payload), 1000);
    CHECK_EQ(request(QNN_MSG_UPLOAD_END, 4, NULL, 0)->h.status, QNN_ST_UPLOAD_OFFSET);
    /* a new UPLOAD_BEGIN for the same blob resumes (a host restart) */
    qnn_put_u32(pl, sizeof(blob));
    memcpy(pl + 4, hash, 32);
    CHECK_EQ(qnn_get_u32(request(QNN_MSG_UPLOAD_BEGIN, 5, pl, 36)->payload), 1000);
    /* an overlapping chunk only adds its new part */
    qnn_put_u32(pl, 500);
    memcpy(pl + 4, blob + 500, 2500);
    CHECK_EQ(qnn_get_u32(request(QNN_MSG_UPLOAD_CHUNK, 6, pl, 2504)->payload), 3000);
    r = request(QNN_MSG_UPLOAD_END, 7, NULL, 0);
    CHECK_EQ(r->h.status, QNN_ST_OK);
    CHECK_MEM(r->payload, hash, 32);
    CHECK_EQ(qnn_get_u16(r->payload + 44), 5);
    CHECK_EQ(request(QNN_MSG_UPLOAD_END, 8, NULL, 0)->h.status, QNN_ST_NO_UPLOAD);
    /* a corrupted blob fails the hash and is discarded */
    qnn_put_u32(pl, sizeof(blob));
    memcpy(pl + 4, hash, 32);
    hash[0] ^= 1;
    memcpy(pl + 4, hash, 32);
    CHECK_EQ(qnn_get_u32(request(QNN_MSG_UPLOAD_BEGIN, 9, pl, 36)->payload), 0);
    qnn_put_u32(pl, 0);
    memcpy(pl + 4, blob, 3000);
    request(QNN_MSG_UPLOAD_CHUNK, 10, pl, 3004);
    CHECK_EQ(request(QNN_MSG_UPLOAD_END, 11, NULL, 0)->h.status, QNN_ST_HASH_MISMATCH);
    CHECK_EQ(request(QNN_MSG_UPLOAD_CHUNK, 12, pl, 3004)->h.status, QNN_ST_NO_UPLOAD);
    qnn_put_u32(pl, QNN_FAKE_BLOB_BYTES + 1);
    CHECK_EQ(request(QNN_MSG_UPLOAD_BEGIN, 13, pl, 36)->h.status, QNN_ST_NO_SPACE);
}

TEST(reset_answers_then_resets)
{
    setup();
    const got_frame_t *r = request(QNN_MSG_RESET, 1, NULL, 0);
    CHECK_EQ(r->h.status, QNN_ST_OK);
    CHECK_EQ(resets, 1);
}

TEST(set_baud_switches_only_to_listed_rates_after_answering)
{
    setup();
    uint8_t pl[4];
    qnn_put_u32(pl, 57600);
    CHECK_EQ(request(QNN_MSG_SET_BAUD, 1, pl, 4)->h.status, QNN_ST_NOT_SUPPORTED);
    CHECK_EQ(baud_switches, 0);
    qnn_put_u32(pl, 921600);
    const got_frame_t *r = request(QNN_MSG_SET_BAUD, 2, pl, 4);
    CHECK_EQ(r->h.status, QNN_ST_OK);
    CHECK_EQ(qnn_get_u32(r->payload), 921600);
    CHECK_EQ(baud_switches, 1);
    CHECK_EQ(last_baud, 921600);
    CHECK_EQ(fake.info.current_baud, 921600);
}

TEST(executor_errors_map_to_status_codes)
{
    setup();
    select_builtin(0, 1);
    static uint8_t pl[8 + 3072];
    make_image(3072, 10);
    size_t n = infer_payload(pl, QNN_INFER_INPUT_TENSOR, 1, 0, image, 3072);
    CHECK_EQ(request(QNN_MSG_INFER, 2, pl, n)->h.status, QNN_ST_OK); /* int8 tensor = 3072 bytes */
    fake.info.capabilities &= ~QNN_CAP_INPUT_TENSOR;
    CHECK_EQ(request(QNN_MSG_INFER, 3, pl, n)->h.status, QNN_ST_NOT_SUPPORTED);
    n = infer_payload(pl, 0, 1, 0, image, 3000);
    CHECK_EQ(request(QNN_MSG_INFER, 4, pl, n)->h.status, QNN_ST_BAD_INPUT_SIZE);
}

static const test_case_t tests[] = {
    {"boot_frame_announces_hello_with_boot_id", boot_frame_announces_hello_with_boot_id},
    {"hello_reports_limits_and_capabilities", hello_reports_limits_and_capabilities},
    {"info_lists_board_and_models", info_lists_board_and_models},
    {"select_unknown_model_is_refused", select_unknown_model_is_refused},
    {"infer_without_model_is_refused", infer_without_model_is_refused},
    {"infer_one_cifar_input_returns_the_models_logits", infer_one_cifar_input_returns_the_models_logits},
    {"infer_batch_of_three_and_no_logits_flag", infer_batch_of_three_and_no_logits_flag},
    {"staged_int16_tensor_input_spanning_many_frames", staged_int16_tensor_input_spanning_many_frames},
    {"repeated_seq_is_answered_from_cache_without_second_inference", repeated_seq_is_answered_from_cache_without_second_inference},
    {"refusals_are_not_cached_so_a_repeat_runs_again", refusals_are_not_cached_so_a_repeat_runs_again},
    {"cache_forgets_after_cache_entries_newer_requests", cache_forgets_after_cache_entries_newer_requests},
    {"answer_too_big_to_cache_replays_as_not_cached", answer_too_big_to_cache_replays_as_not_cached},
    {"each_malformed_frame_class_gets_a_nak_and_is_counted", each_malformed_frame_class_gets_a_nak_and_is_counted},
    {"oversize_frame_is_dropped_and_the_next_frame_is_answered", oversize_frame_is_dropped_and_the_next_frame_is_answered},
    {"garbage_between_frames_is_survived", garbage_between_frames_is_survived},
    {"bad_version_and_unknown_types_are_answered_with_status", bad_version_and_unknown_types_are_answered_with_status},
    {"wrong_payload_sizes_are_bad_payload", wrong_payload_sizes_are_bad_payload},
    {"benchmark_reports_min_median_max", benchmark_reports_min_median_max},
    {"squeeze_bit_depth_and_detector_reach_the_executor", squeeze_bit_depth_and_detector_reach_the_executor},
    {"upload_resumes_refuses_gaps_and_checks_the_hash", upload_resumes_refuses_gaps_and_checks_the_hash},
    {"reset_answers_then_resets", reset_answers_then_resets},
    {"set_baud_switches_only_to_listed_rates_after_answering", set_baud_switches_only_to_listed_rates_after_answering},
    {"executor_errors_map_to_status_codes", executor_errors_map_to_status_codes},
};

int main(int argc, char **argv) { return run_tests(tests, N_VEC(tests), argc, argv); }
