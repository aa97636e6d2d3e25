/* See qnn_nano_port.h. */
#include "qnn_nano_port.h"

#include <string.h>

#include "qnn/qnn.h"
#include "qnn_protocol.h"
#include "qnn_sha256.h"

/* One encoded answer of the largest size, plus its delimiter and a leading 0x00 (BOOT). */
#define QNN_NANO_MAX_WIRE_FRAME (QNN_FRAME_MAX_ENCODED(QNN_PROTO_MAX_PAYLOAD) + 2u)
#ifndef QNN_NANO_TX_RING_BYTES
#define QNN_NANO_TX_RING_BYTES (QNN_NANO_MAX_WIRE_FRAME + 512u)
#endif

static qnn_proto_t s_proto;
static const qnn_device_t *s_dev;
static qnn_infer_result_t s_last;
static uint8_t s_ring[QNN_NANO_TX_RING_BYTES];
static uint32_t s_ring_head; /* next byte to read */
static uint32_t s_ring_count;
static uint32_t s_overflow;
static int s_restart_pending;

static uint32_t ring_free(void) { return QNN_NANO_TX_RING_BYTES - s_ring_count; }

static void ring_write(void *user, const uint8_t *data, size_t len)
{
    (void)user;
    for (size_t i = 0; i < len; i++) {
        if (s_ring_count == QNN_NANO_TX_RING_BYTES) {
            s_overflow += (uint32_t)(len - i);
            return;
        }
        s_ring[(s_ring_head + s_ring_count) % QNN_NANO_TX_RING_BYTES] = data[i];
        s_ring_count++;
    }
}

int32_t qnn_nano_init(void)
{
    const qnn_device_t *dev = qnn_nano_board_device();
    if (dev == NULL) {
        return QNN_DEV_ERR_NOT_SUPPORTED;
    }
    s_dev = dev;
    memset(&s_last, 0, sizeof s_last);
    s_ring_head = 0;
    s_ring_count = 0;
    s_overflow = 0;
    s_restart_pending = 0;
    qnn_proto_init(&s_proto, dev, ring_write, NULL, qnn_nano_board_boot_id());
    /* Queued now, sent when the app first pumps the port: the host learns of the (re)start. */
    qnn_proto_boot(&s_proto);
    return QNN_DEV_OK;
}

int32_t qnn_nano_load_model(const uint8_t *blob, uint32_t len)
{
    if (s_dev == NULL) {
        return QNN_NANO_ERR_NOT_INITIALIZED;
    }
    if (blob == NULL || len == 0) {
        return QNN_DEV_ERR_BAD_ARGUMENT;
    }
    if (s_dev->upload_write == NULL || s_dev->upload_commit == NULL) {
        return QNN_DEV_ERR_NOT_SUPPORTED;
    }
    uint8_t hash[QNN_HASH_BYTES];
    qnn_sha256(blob, len, hash);
    int rc = s_dev->upload_write(s_dev->ctx, 0, blob, len);
    if (rc < 0) {
        return rc;
    }
    return s_dev->upload_commit(s_dev->ctx, len, hash);
}

int32_t qnn_nano_select_model_at(uint32_t address, uint32_t len)
{
    if (s_dev == NULL) {
        return QNN_NANO_ERR_NOT_INITIALIZED;
    }
    if (address == 0 || len == 0) {
        return QNN_DEV_ERR_BAD_ARGUMENT;
    }
    uint8_t hash[QNN_HASH_BYTES];
    /* Flash is memory-mapped on the STM32L5: the blob is read in place. */
    qnn_sha256((const uint8_t *)(uintptr_t)address, len, hash);
    return s_dev->select_model(s_dev->ctx, hash);
}

int32_t qnn_nano_model_info(int32_t *fields, uint32_t n_fields)
{
    if (s_dev == NULL) {
        return QNN_NANO_ERR_NOT_INITIALIZED;
    }
    if (fields == NULL || n_fields < QNN_NANO_MODEL_FIELDS) {
        return QNN_NANO_ERR_BUFFER_TOO_SMALL;
    }
    qnn_model_desc_t desc;
    int rc = s_dev->selected_model(s_dev->ctx, &desc);
    if (rc < 0) {
        return rc;
    }
    fields[0] = desc.height;
    fields[1] = desc.width;
    fields[2] = desc.channels;
    fields[3] = desc.n_outputs;
    fields[4] = desc.precision;
    fields[5] = desc.input_element_bytes;
    fields[6] = (int32_t)desc.blob_bytes;
    return QNN_DEV_OK;
}

int32_t qnn_nano_infer(const uint8_t *pixels, uint32_t len, int32_t *logits, uint32_t logits_cap)
{
    if (s_dev == NULL) {
        return QNN_NANO_ERR_NOT_INITIALIZED;
    }
    if (pixels == NULL || (logits == NULL && logits_cap > 0)) {
        return QNN_DEV_ERR_BAD_ARGUMENT;
    }
    qnn_model_desc_t desc;
    int rc = s_dev->selected_model(s_dev->ctx, &desc);
    if (rc < 0) {
        return rc;
    }
    if (desc.n_outputs > logits_cap) {
        return QNN_NANO_ERR_BUFFER_TOO_SMALL;
    }
    qnn_infer_result_t res;
    memset(&res, 0, sizeof res);
    res.logits = logits;
    res.logits_cap = (uint16_t)(logits_cap > 0xFFFFu ? 0xFFFFu : logits_cap);
    rc = s_dev->infer(s_dev->ctx, pixels, len, 0, &res);
    if (rc < 0) {
        return rc;
    }
    res.logits = NULL; /* points into a managed array that may move after this call */
    s_last = res;
    return res.label;
}

int32_t qnn_nano_configure_squeezing(int32_t bit_depth, int32_t median_size, float threshold)
{
    if (s_dev == NULL) {
        return QNN_NANO_ERR_NOT_INITIALIZED;
    }
    /* The threshold must fit the core's 32-bit integer score (it converts it to int32_t). */
    if (bit_depth < 0 || bit_depth > 7 || median_size < 0 || median_size > 255 || !(threshold >= 0.0f && threshold <= 2147483520.0f)) {
        return QNN_DEV_ERR_BAD_ARGUMENT;
    }
    if (s_dev->set_squeeze == NULL) {
        return QNN_DEV_ERR_NOT_SUPPORTED;
    }
    qnn_squeeze_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.bit_depth = (uint8_t)bit_depth;
    cfg.median_size = (uint8_t)median_size;
    cfg.detector = threshold > 0.0f ? 1u : 0u;
    cfg.threshold = threshold;
    return s_dev->set_squeeze(s_dev->ctx, &cfg);
}

float qnn_nano_last_detector_score(void) { return s_last.detector_score; }

uint32_t qnn_nano_cycles(void) { return qnn_platform_cycles(); }

int32_t qnn_nano_stage_cycles(uint32_t *cycles, uint32_t n)
{
    if (cycles == NULL || n < QNN_NANO_STAGE_FIELDS) {
        return QNN_NANO_ERR_BUFFER_TOO_SMALL;
    }
    uint64_t total = 0;
    for (uint32_t i = 0; i < QNN_STAGE_COUNT; i++) {
        cycles[i] = (uint32_t)s_last.stage_time[i];
        total += s_last.stage_time[i];
    }
    cycles[QNN_STAGE_COUNT] = (uint32_t)total;
    return QNN_DEV_OK;
}

int32_t qnn_nano_protocol_feed(const uint8_t *rx, uint32_t len)
{
    if (s_dev == NULL) {
        return QNN_NANO_ERR_NOT_INITIALIZED;
    }
    if (rx == NULL && len > 0) {
        return QNN_DEV_ERR_BAD_ARGUMENT;
    }
    if (s_restart_pending) {
        return (int32_t)len; /* a board in reset hears nothing */
    }
    uint32_t taken = 0;
    /* Any byte may complete a request whose answer is written at once: take one only while the
     * ring has room for the largest answer, so nothing the engine writes is ever dropped. */
    while (taken < len && ring_free() >= QNN_NANO_MAX_WIRE_FRAME) {
        qnn_proto_rx_byte(&s_proto, rx[taken]);
        taken++;
        if (s_restart_pending) {
            return (int32_t)len; /* what followed the RESET is lost, as in a real reset */
        }
    }
    return (int32_t)taken;
}

int32_t qnn_nano_protocol_poll(uint8_t *tx, uint32_t cap)
{
    if (s_dev == NULL) {
        return QNN_NANO_ERR_NOT_INITIALIZED;
    }
    if (tx == NULL && cap > 0) {
        return QNN_DEV_ERR_BAD_ARGUMENT;
    }
    uint32_t n = s_ring_count < cap ? s_ring_count : cap;
    for (uint32_t i = 0; i < n; i++) {
        tx[i] = s_ring[(s_ring_head + i) % QNN_NANO_TX_RING_BYTES];
    }
    s_ring_head = (s_ring_head + n) % QNN_NANO_TX_RING_BYTES;
    s_ring_count -= n;
    if (s_restart_pending && s_ring_count == 0) {
        /* The RESET answer is with the pump now: restart; the BOOT frame goes out on the next poll.
         * (Init cannot fail here: the board gave an executor at the first init.) */
        (void)qnn_nano_init();
    }
    return (int32_t)n;
}

uint32_t qnn_nano_tx_overflow_bytes(void) { return s_overflow; }

void qnn_nano_on_reset_request(void *hook_ctx)
{
    (void)hook_ctx;
    s_restart_pending = 1;
}
