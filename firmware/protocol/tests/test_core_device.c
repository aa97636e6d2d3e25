/* The protocol engine driving the real device core through qnn_core_device: a blob uploaded over
 * the protocol, inference, squeezing and the detector. The model is the hand-derived one of
 * firmware/tests/test_blob.c (built with the core's test blob builder), so the expected logits
 * are worked out by hand there:
 *   input 4x4x1 (q = p - 128) -> conv 3x3 SAME -> avgpool 4x4 -> reshape -> FC -> softmax (optional);
 *   pixels 64/65 alternating give logits [64, 127, -65] (label 1); a 1-bit squeeze gives [0, 0, 0]. */
#include <math.h>
#include <stdlib.h>

#include "blob_builder.h"
#include "qnn_core_device.h"
#include "qnn_protocol.h"
#include "test_harness.h"

static qb_builder B;

/* One tick per clock read (overriding the host's ns counter): a stage that ran measures >= 1, one that did not 0. */
static uint32_t s_ticks;
uint32_t qnn_platform_cycles(void)
{
    return ++s_ticks;
}
enum { T_IN, T_CONV_W, T_CONV_B, T_CONV_OUT, T_POOL_OUT, T_FLAT, T_FC_W, T_FC_OUT, T_SOFT_OUT };

static uint32_t build_model(int with_softmax)
{
    qb_init(&B, 1);
    int32_t d_in[4] = {1, 4, 4, 1}, d_w[4] = {2, 3, 3, 1}, d_b[1] = {2}, d_c[4] = {1, 4, 4, 2};
    int32_t d_p[4] = {1, 1, 1, 2}, d_f[2] = {1, 2}, d_fw[2] = {3, 2}, d_o[2] = {1, 3};
    int8_t conv_w[18] = {0};
    conv_w[4] = 1;
    conv_w[9 + 4] = 2;
    int32_t conv_b[2] = {0, 0};
    int8_t fc_w[6] = {1, 0, 0, 1, 1, -1};
    qb_act(&B, 1, 4, d_in, -128, 0);
    qb_const(&B, 1, 4, d_w, 0, conv_w);
    qb_const(&B, 3, 1, d_b, 0, conv_b);
    qb_act(&B, 1, 4, d_c, -128, 16);
    qb_act(&B, 1, 4, d_p, -128, 0);
    qb_act(&B, 1, 2, d_f, -128, 0);
    qb_const(&B, 1, 2, d_fw, 0, fc_w);
    qb_act(&B, 1, 2, d_o, 0, 4);
    qb_act(&B, 1, 2, d_o, -128, 8);
    int32_t conv_p[12] = {1, 1, 1, 1, 1, 1, -128, 127, 1 << 30, 1 << 30, 1, 1};
    qb_op(&B, 1, 3, T_IN, T_CONV_W, T_CONV_B, T_CONV_OUT, conv_p, 12);
    int32_t pool_p[8] = {1, 1, 4, 4, 0, 0, -128, 127};
    qb_op(&B, 4, 1, T_CONV_OUT, -1, -1, T_POOL_OUT, pool_p, 8);
    qb_op(&B, 7, 1, T_POOL_OUT, -1, -1, T_FLAT, NULL, 0);
    int32_t fc_p[5] = {-128, 127, 1, 1 << 30, 1};
    qb_op(&B, 3, 2, T_FLAT, T_FC_W, -1, T_FC_OUT, fc_p, 5);
    B.input = T_IN;
    B.output = T_FC_OUT;
    if (with_softmax) {
        int32_t sm_p[3] = {1 << 30, 27, -15};
        qb_op(&B, 9, 1, T_FC_OUT, -1, -1, T_SOFT_OUT, sm_p, 3);
        B.output = T_SOFT_OUT;
    }
    B.arena_size = 48;
    return qb_finish(&B);
}

static qnn_core_device_t core;
static qnn_device_t dev;
static qnn_proto_t proto;
static _Alignas(8) uint8_t upload_store[64 * 1024];
static uint8_t host_buf[QNN_FRAME_MAX_ENCODED(4096)];
static qnn_frame_rx_t host_rx;
static qnn_frame_header_t last_h;
static uint8_t last_payload[4096];
static int answers;

static void device_tx(void *user, const uint8_t *data, size_t len)
{
    (void)user;
    for (size_t i = 0; i < len; i++) {
        if (qnn_frame_rx_push(&host_rx, data[i]) == QNN_RX_FRAME) {
            last_h = host_rx.header;
            memcpy(last_payload, host_rx.payload, host_rx.header.len);
            answers++;
        }
    }
}

static void setup(void)
{
    qnn_core_device_init(&core, &dev, upload_store, sizeof(upload_store));
    qnn_frame_rx_init(&host_rx, host_buf, sizeof(host_buf));
    qnn_proto_init(&proto, &dev, device_tx, NULL, 7);
    answers = 0;
}

static uint8_t request(uint8_t type, uint16_t seq, const uint8_t *pl, size_t len)
{
    static uint8_t raw[QNN_FRAME_OVERHEAD + 4096];
    static uint8_t enc[QNN_FRAME_MAX_ENCODED(4096) + 1];
    qnn_frame_header_t h = {QNN_PROTO_VERSION, type, 0, 0, seq, (uint16_t)len};
    size_t n = qnn_frame_build(&h, pl, raw, sizeof(raw));
    size_t e = qnn_cobs_encode(raw, n, enc, sizeof(enc));
    enc[e++] = 0;
    int before = answers;
    qnn_proto_rx(&proto, enc, e);
    CHECK_EQ(answers, before + 1);
    CHECK_EQ(last_h.seq, seq);
    return last_h.status;
}

static void upload_blob(uint32_t n, uint16_t *seq)
{
    uint8_t pl[4096];
    qnn_put_u32(pl, n);
    qnn_sha256(B.blob, n, pl + 4);
    CHECK_EQ(request(QNN_MSG_UPLOAD_BEGIN, (*seq)++, pl, 36), QNN_ST_OK);
    for (uint32_t off = 0; off < n; off += 1000) {
        uint32_t k = n - off < 1000 ? n - off : 1000;
        qnn_put_u32(pl, off);
        memcpy(pl + 4, B.blob + off, k);
        CHECK_EQ(request(QNN_MSG_UPLOAD_CHUNK, (*seq)++, pl, 4 + k), QNN_ST_OK);
    }
    CHECK_EQ(request(QNN_MSG_UPLOAD_END, (*seq)++, NULL, 0), QNN_ST_OK);
}

static uint8_t infer64(uint16_t seq)
{
    uint8_t pl[8 + 16] = {0, 1};
    for (int i = 0; i < 16; i++) {
        pl[8 + i] = (uint8_t)(64 + (i % 2));
    }
    return request(QNN_MSG_INFER, seq, pl, sizeof(pl));
}

/* logits of the first result of an INFER answer */
static int8_t logit(int k) { return (int8_t)last_payload[1 + 4 + 8 * QNN_STAGE_COUNT + 4 + 3 + k]; }

TEST(uploaded_blob_runs_with_hand_derived_logits)
{
    setup();
    uint16_t seq = 1;
    CHECK_EQ(infer64(seq++), QNN_ST_NO_MODEL);
    uint32_t n = build_model(0);
    upload_blob(n, &seq);
    CHECK_EQ(qnn_get_u16(last_payload + 44), 3); /* the descriptor: 3 outputs */
    CHECK_EQ(qnn_get_u16(last_payload + 37), 4); /* 4x4x1 input */
    CHECK_EQ(infer64(seq++), QNN_ST_OK);
    CHECK_EQ(qnn_get_u16(last_payload + 1), 1);
    CHECK_EQ(qnn_get_u16(last_payload + 1 + 4 + 8 * QNN_STAGE_COUNT + 4), 3);
    CHECK_EQ(last_payload[1 + 4 + 8 * QNN_STAGE_COUNT + 4 + 2], 1);
    CHECK_EQ(logit(0), 64);
    CHECK_EQ(logit(1), 127);
    CHECK_EQ(logit(2), -65);
    /* a wrong input size is the protocol's refusal, before the core runs */
    uint8_t small[8 + 15] = {0, 1};
    CHECK_EQ(request(QNN_MSG_INFER, seq++, small, sizeof(small)), QNN_ST_BAD_INPUT_SIZE);
    /* a quantized input tensor reaches qnn_run_tensor: the answer equals the core's own run on it */
    uint8_t tensor[8 + 16] = {QNN_INFER_INPUT_TENSOR, 1};
    for (int i = 0; i < 16; i++) {
        tensor[8 + i] = (uint8_t)(int8_t)(i * 7 - 50);
    }
    CHECK_EQ(request(QNN_MSG_INFER, seq++, tensor, sizeof(tensor)), QNN_ST_OK);
    static qnn_run_result direct;
    CHECK_EQ(qnn_run_tensor(&core.model, tensor + 8, 16, &direct, NULL), QNN_OK);
    CHECK_EQ(qnn_get_u16(last_payload + 1), (uint16_t)direct.label);
    for (int k = 0; k < 3; k++) {
        CHECK_EQ(logit(k), direct.output[k]);
    }
    /* with squeezing on, a tensor is squeezed on its values: the answer is the core's own squeezed tensor run */
    const qnn_squeezer squeezers[] = {{QNN_SQUEEZE_BIT_DEPTH, 2}, {QNN_SQUEEZE_MEDIAN, 7}};
    for (int i = 0; i < 2; i++) {
        uint8_t sq[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        sq[squeezers[i].kind == QNN_SQUEEZE_BIT_DEPTH ? 0 : 1] = squeezers[i].param;
        CHECK_EQ(request(QNN_MSG_SET_SQUEEZE, seq++, sq, 8), QNN_ST_OK);
        CHECK_EQ(request(QNN_MSG_INFER, seq++, tensor, sizeof(tensor)), QNN_ST_OK);
        CHECK_EQ(qnn_run_input(&core.model, QNN_INPUT_TENSOR, tensor + 8, 16, &squeezers[i], &direct, NULL), QNN_OK);
        CHECK_EQ(qnn_get_u16(last_payload + 1), (uint16_t)direct.label);
        for (int k = 0; k < 3; k++) {
            CHECK_EQ(logit(k), direct.output[k]);
        }
    }
    /* windows past 7 and bit depths past 8 are refused */
    uint8_t big[8] = {0, 8, 0, 0, 0, 0, 0, 0};
    CHECK_EQ(request(QNN_MSG_SET_SQUEEZE, seq++, big, 8), QNN_ST_BAD_PAYLOAD);
    big[0] = 9;
    big[1] = 0;
    CHECK_EQ(request(QNN_MSG_SET_SQUEEZE, seq++, big, 8), QNN_ST_BAD_PAYLOAD);
}

TEST(bit_depth_squeeze_and_detector_reach_the_core)
{
    setup();
    uint16_t seq = 1;
    uint32_t n = build_model(1);
    upload_blob(n, &seq);
    uint8_t sq[8] = {1, 0, 0, 0, 0, 0, 0, 0};
    CHECK_EQ(request(QNN_MSG_SET_SQUEEZE, seq++, sq, 8), QNN_ST_OK);
    CHECK_EQ(infer64(seq++), QNN_ST_OK);
    CHECK_EQ(qnn_get_u16(last_payload + 1), 0); /* 1-bit: a three-way tie of equal softmax outputs */
    /* detector: bit depth 1 and median 3, threshold 100: L1 ~340 (test_blob.c) -> adversarial,
     * label from the unsqueezed run (1) */
    float threshold = 100.0f;
    sq[1] = 3;
    sq[2] = 1;
    memcpy(sq + 4, &threshold, 4);
    CHECK_EQ(request(QNN_MSG_SET_SQUEEZE, seq++, sq, 8), QNN_ST_OK);
    CHECK_EQ(infer64(seq++), QNN_ST_OK);
    CHECK_EQ(qnn_get_u16(last_payload + 1), 1);
    CHECK_EQ(last_payload[1 + 2], 1);
    float score;
    uint32_t bits = qnn_get_u32(last_payload + 1 + 4 + 8 * QNN_STAGE_COUNT);
    memcpy(&score, &bits, 4);
    CHECK(score >= 337.0f && score <= 343.0f);
    CHECK_EQ(logit(1), 127);
    /* the threshold is compared with the integer score as a real: score S is flagged above S - 0.5, not at S or
     * S + 0.5; a negative threshold flags everything, a huge or infinite one nothing (no undefined conversion) */
    const float s_int = score;
    const float thresholds[] = {s_int - 0.5f, s_int, s_int + 0.5f, -3.0f, 1e10f, (float)INFINITY};
    const uint8_t flagged[] = {1, 0, 0, 1, 0, 0};
    for (unsigned i = 0; i < sizeof(flagged); i++) {
        memcpy(sq + 4, &thresholds[i], 4);
        CHECK_EQ(request(QNN_MSG_SET_SQUEEZE, seq++, sq, 8), QNN_ST_OK);
        CHECK_EQ(infer64(seq++), QNN_ST_OK);
        CHECK_EQ(last_payload[1 + 2], flagged[i]);
    }
    /* both squeezers without the detector: the core runs one squeezer per inference */
    sq[2] = 0;
    CHECK_EQ(request(QNN_MSG_SET_SQUEEZE, seq++, sq, 8), QNN_ST_NOT_SUPPORTED);
}

static uint64_t stage(unsigned s)
{
    const uint8_t *t = last_payload + 1 + 4 + 8 * s;
    return qnn_get_u32(t) | ((uint64_t)qnn_get_u32(t + 4) << 32);
}

/* Each stage apart (SPEC "results"): a squeezer's time goes to its own stage, the detector's extra inferences and
 * its comparison to theirs; the rest read 0. */
TEST(stages_are_reported_apart)
{
    setup();
    uint16_t seq = 1;
    upload_blob(build_model(1), &seq);
    static const struct {
        uint8_t bits, median, detector;
        uint8_t ran[QNN_STAGE_COUNT]; /* quantize, bit depth, median, inference, inference bd, inference med, compare */
    } cases[] = {
        {0, 0, 0, {1, 0, 0, 1, 0, 0, 0}},
        {3, 0, 0, {1, 1, 0, 1, 0, 0, 0}},
        {0, 2, 0, {1, 0, 1, 1, 0, 0, 0}},
        {3, 0, 1, {1, 1, 0, 1, 1, 0, 1}},
        {0, 3, 1, {1, 0, 1, 1, 0, 1, 1}},
        {1, 3, 1, {1, 1, 1, 1, 1, 1, 1}},
    };
    for (unsigned c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        uint8_t sq[8] = {cases[c].bits, cases[c].median, cases[c].detector, 0, 0, 0, 0, 0};
        CHECK_EQ(request(QNN_MSG_SET_SQUEEZE, seq++, sq, 8), QNN_ST_OK);
        CHECK_EQ(infer64(seq++), QNN_ST_OK);
        CHECK_EQ(last_payload[1 + 3], QNN_STAGE_COUNT);
        for (unsigned s = 0; s < QNN_STAGE_COUNT; s++) {
            CHECK_EQ(stage(s) > 0, cases[c].ran[s]);
        }
    }
    /* the detector quantizes three inputs (the original and each squeezed copy): at least a tick each */
    CHECK(stage(QNN_STAGE_QUANTIZE) >= 3);
}

TEST(board_registered_models_are_listed_and_selectable)
{
    setup();
    uint32_t n = build_model(0);
    static _Alignas(8) uint8_t flash_copy[sizeof(B.blob)];
    memcpy(flash_copy, B.blob, n);
    CHECK_EQ(qnn_core_device_add_model(&core, flash_copy, n), QNN_OK);
    CHECK_EQ(request(QNN_MSG_INFO, 1, NULL, 0), QNN_ST_OK);
    uint8_t hash[32];
    qnn_sha256(flash_copy, n, hash);
    CHECK_EQ(request(QNN_MSG_SELECT_MODEL, 2, hash, 32), QNN_ST_OK);
    CHECK_EQ(infer64(3), QNN_ST_OK);
    CHECK_EQ(logit(1), 127);
    flash_copy[n - 1] ^= 1; /* a corrupted blob is refused at registration */
    CHECK(qnn_core_device_add_model(&core, flash_copy, n) != QNN_OK);
}

static const test_case_t tests[] = {
    {"uploaded_blob_runs_with_hand_derived_logits", uploaded_blob_runs_with_hand_derived_logits},
    {"bit_depth_squeeze_and_detector_reach_the_core", bit_depth_squeeze_and_detector_reach_the_core},
    {"stages_are_reported_apart", stages_are_reported_apart},
    {"board_registered_models_are_listed_and_selectable", board_registered_models_are_listed_and_selectable},
};

int main(int argc, char **argv)
{
    /* --write-blob FILE [softmax]: the test model as a file, for end-to-end runs on the boards */
    if (argc >= 3 && strcmp(argv[1], "--write-blob") == 0) {
        uint32_t n = build_model(argc > 3);
        FILE *f = fopen(argv[2], "wb");
        int ok = f && fwrite(B.blob, 1, n, f) == n;
        if (f) {
            fclose(f);
        }
        return ok ? 0 : 1;
    }
    return run_tests(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}
