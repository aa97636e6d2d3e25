#include "qnn_fake_device.h"

#include <string.h>

#include "qnn_sha256.h"

const char qnn_fake_blob_cifar[] = "qnnlab fake model: cifar 32x32x3 int8, 10 classes";
const char qnn_fake_blob_vww[] = "qnnlab fake model: vww 96x96x3 int16, 2 classes";

static void board_info(void *ctx, qnn_board_info_t *out)
{
    const qnn_fake_device_t *f = (const qnn_fake_device_t *)ctx;
    *out = f->info;
}

static int model_count(void *ctx) { return ((const qnn_fake_device_t *)ctx)->n_models; }

static int model_desc(void *ctx, int index, qnn_model_desc_t *out)
{
    const qnn_fake_device_t *f = (const qnn_fake_device_t *)ctx;
    if (index < 0 || index >= f->n_models) {
        return QNN_DEV_ERR_BAD_ARGUMENT;
    }
    *out = f->models[index];
    return QNN_DEV_OK;
}

static int select_model(void *ctx, const uint8_t hash[QNN_HASH_BYTES])
{
    qnn_fake_device_t *f = (qnn_fake_device_t *)ctx;
    for (int i = 0; i < f->n_models; i++) {
        if (memcmp(f->models[i].hash, hash, QNN_HASH_BYTES) == 0) {
            f->selected = i;
            return QNN_DEV_OK;
        }
    }
    return QNN_DEV_ERR_UNKNOWN_MODEL;
}

static int selected_model(void *ctx, qnn_model_desc_t *out)
{
    const qnn_fake_device_t *f = (const qnn_fake_device_t *)ctx;
    if (f->selected < 0) {
        return QNN_DEV_ERR_NO_MODEL;
    }
    *out = f->models[f->selected];
    return QNN_DEV_OK;
}

static int set_squeeze(void *ctx, const qnn_squeeze_t *cfg)
{
    ((qnn_fake_device_t *)ctx)->squeeze = *cfg;
    return QNN_DEV_OK;
}

static uint8_t *input_buffer(void *ctx, uint32_t *capacity)
{
    qnn_fake_device_t *f = (qnn_fake_device_t *)ctx;
    *capacity = sizeof(f->stage);
    return f->stage;
}

/* Logits of the fake model; bits = 0 means no squeezing. */
static void fake_logits(const qnn_model_desc_t *m, const uint8_t *x, uint32_t len, unsigned bits, int32_t *logits)
{
    static uint32_t sums[1024]; /* static: board stacks are small */
    unsigned n = m->n_outputs;
    memset(sums, 0, n * sizeof(uint32_t));
    uint8_t mask = bits ? (uint8_t)(0xFFu << (8u - bits)) : 0xFFu;
    unsigned k = 0;
    for (uint32_t i = 0; i < len; i++) {
        sums[k] += (uint32_t)(x[i] & mask);
        if (++k == n) {
            k = 0;
        }
    }
    unsigned e = m->output_element_bytes;
    uint32_t modulus_mask = e == 1 ? 0xFFu : 0xFFFFu;
    int32_t half = e == 1 ? 128 : 32768;
    for (unsigned i = 0; i < n; i++) {
        logits[i] = (int32_t)(sums[i] & modulus_mask) - half;
    }
}

static uint16_t argmax(const int32_t *v, unsigned n)
{
    unsigned best = 0;
    for (unsigned i = 1; i < n; i++) {
        if (v[i] > v[best]) {
            best = i;
        }
    }
    return (uint16_t)best;
}

static int infer(void *ctx, const uint8_t *input, uint32_t len, int is_tensor, qnn_infer_result_t *res)
{
    qnn_fake_device_t *f = (qnn_fake_device_t *)ctx;
    if (f->selected < 0) {
        return QNN_DEV_ERR_NO_MODEL;
    }
    const qnn_model_desc_t *m = &f->models[f->selected];
    uint32_t need = (uint32_t)m->height * m->width * m->channels * (is_tensor ? m->input_element_bytes : 1u);
    if (len != need) {
        return QNN_DEV_ERR_INPUT_SIZE;
    }
    if (m->n_outputs > res->logits_cap || m->n_outputs > 1024) {
        return QNN_DEV_ERR_NO_SPACE;
    }
    uint64_t t0 = f->now ? f->now(f->hook_ctx) : 0;
    unsigned bits = is_tensor ? 0u : f->squeeze.bit_depth;
    static int32_t squeezed[1024];
    fake_logits(m, input, len, bits, res->logits);
    memset(res->stage_time, 0, sizeof(res->stage_time));
    if (f->squeeze.detector) {
        fake_logits(m, input, len, 0, squeezed); /* the original's logits */
        float score = 0;
        for (unsigned i = 0; i < m->n_outputs; i++) {
            int32_t d = squeezed[i] - res->logits[i];
            score += (float)(d < 0 ? -d : d);
        }
        score /= 256.0f;
        res->detector_score = score;
        res->adversarial = score > f->squeeze.threshold;
        memcpy(res->logits, squeezed, m->n_outputs * sizeof(int32_t));
        res->stage_time[QNN_STAGE_INFERENCE_BIT_DEPTH] = 1; /* the fake's detector: the bit-depth squeezer alone */
        res->stage_time[QNN_STAGE_COMPARE] = 1;
    }
    res->label = argmax(res->logits, m->n_outputs);
    res->n_logits = m->n_outputs;
    res->logit_bytes = m->output_element_bytes;
    res->stage_time[QNN_STAGE_QUANTIZE] = len;
    res->stage_time[QNN_STAGE_SQUEEZE_BIT_DEPTH] = bits ? len : 0;
    res->stage_time[QNN_STAGE_INFERENCE] =
        f->now ? f->now(f->hook_ctx) - t0 : 1000u + (37u * f->calls) % 101u;
    f->calls++;
    f->inferences++;
    return QNN_DEV_OK;
}

static int upload_write(void *ctx, uint32_t offset, const uint8_t *data, uint32_t len)
{
    qnn_fake_device_t *f = (qnn_fake_device_t *)ctx;
    if ((uint64_t)offset + len > sizeof(f->blob)) {
        return QNN_DEV_ERR_NO_SPACE;
    }
    memcpy(f->blob + offset, data, len);
    return QNN_DEV_OK;
}

static int upload_commit(void *ctx, uint32_t size, const uint8_t hash[QNN_HASH_BYTES])
{
    qnn_fake_device_t *f = (qnn_fake_device_t *)ctx;
    const uint8_t *b = f->blob;
    if (size < 19 || memcmp(b, QNN_FAKE_BLOB_MAGIC, 8) != 0) {
        return QNN_DEV_ERR_BAD_ARGUMENT;
    }
    qnn_model_desc_t m;
    memset(&m, 0, sizeof(m));
    memcpy(m.hash, hash, QNN_HASH_BYTES);
    m.blob_bytes = size;
    m.height = (uint16_t)(b[8] | (b[9] << 8));
    m.width = (uint16_t)(b[10] | (b[11] << 8));
    m.channels = (uint16_t)(b[12] | (b[13] << 8));
    m.n_outputs = (uint16_t)(b[14] | (b[15] << 8));
    m.precision = b[16];
    m.input_element_bytes = b[17];
    m.output_element_bytes = b[18];
    if (m.n_outputs == 0 || m.n_outputs > 1024 || (m.output_element_bytes != 1 && m.output_element_bytes != 2) ||
        (uint32_t)m.height * m.width * m.channels * m.input_element_bytes > QNN_FAKE_STAGE_BYTES) {
        return QNN_DEV_ERR_BAD_ARGUMENT;
    }
    uint32_t name_len = size - 19 > QNN_MODEL_NAME_MAX ? QNN_MODEL_NAME_MAX : size - 19;
    memcpy(m.name, b + 19, name_len);
    f->models[QNN_FAKE_MAX_MODELS - 1] = m; /* the upload slot */
    f->n_models = QNN_FAKE_MAX_MODELS;
    f->selected = QNN_FAKE_MAX_MODELS - 1;
    return QNN_DEV_OK;
}

static void reset(void *ctx)
{
    qnn_fake_device_t *f = (qnn_fake_device_t *)ctx;
    if (f->on_reset) {
        f->on_reset(f->hook_ctx);
    }
}

static int set_baud(void *ctx, uint32_t baud)
{
    qnn_fake_device_t *f = (qnn_fake_device_t *)ctx;
    if (!f->on_set_baud) {
        return QNN_DEV_ERR_NOT_SUPPORTED;
    }
    int rc = f->on_set_baud(f->hook_ctx, baud);
    if (rc == QNN_DEV_OK) {
        f->info.current_baud = baud;
    }
    return rc;
}

static void builtin(qnn_model_desc_t *m, const char *blob, const char *name, uint16_t hw, uint8_t precision,
                    uint16_t n_outputs)
{
    memset(m, 0, sizeof(*m));
    qnn_sha256((const uint8_t *)blob, strlen(blob), m->hash);
    m->blob_bytes = (uint32_t)strlen(blob);
    m->precision = precision;
    m->height = hw;
    m->width = hw;
    m->channels = 3;
    m->input_element_bytes = precision;
    m->n_outputs = n_outputs;
    m->output_element_bytes = precision;
    strncpy(m->name, name, QNN_MODEL_NAME_MAX);
}

void qnn_fake_device_init(qnn_fake_device_t *f, qnn_device_t *dev)
{
    memset(f, 0, sizeof(*f));
    f->info.board = "fake";
    f->info.backend = "fake";
    f->info.build_id = "dev";
    f->info.clock_hz = 0;
    f->info.timing_unit = QNN_TIMING_NS;
    f->info.timing_resolution = 1;
    f->info.arena_bytes = 0;
    f->info.max_blob_bytes = QNN_FAKE_BLOB_BYTES;
    f->info.capabilities = QNN_CAP_SQUEEZE | QNN_CAP_DETECTOR | QNN_CAP_INPUT_TENSOR;
    builtin(&f->models[0], qnn_fake_blob_cifar, "fake-cifar-int8", 32, 1, 10);
    builtin(&f->models[1], qnn_fake_blob_vww, "fake-vww-int16", 96, 2, 2);
    f->n_models = 2;
    f->selected = -1;

    memset(dev, 0, sizeof(*dev));
    dev->ctx = f;
    dev->board_info = board_info;
    dev->model_count = model_count;
    dev->model_desc = model_desc;
    dev->select_model = select_model;
    dev->selected_model = selected_model;
    dev->set_squeeze = set_squeeze;
    dev->input_buffer = input_buffer;
    dev->infer = infer;
    dev->upload_write = upload_write;
    dev->upload_commit = upload_commit;
    dev->reset = reset;
    dev->set_baud = set_baud;
}
