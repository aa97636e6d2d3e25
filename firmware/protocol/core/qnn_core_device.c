#include "qnn_core_device.h"

#include <string.h>

#include "qnn/qnn_squeeze.h"
#include "qnn_sha256.h"

static void board_info(void *ctx, qnn_board_info_t *out)
{
    const qnn_core_device_t *d = (const qnn_core_device_t *)ctx;
    *out = d->info;
    out->arena_bytes = QNN_ARENA_SIZE;
    out->max_blob_bytes = d->upload ? d->upload_cap : 0;
    if (d->selected >= 0) {
        out->backend = qnn_backend_name(&d->model);
    }
    /* INPUT_TENSOR: quantized inputs off the pixel grid (adversarial examples) go to qnn_run_tensor */
    out->capabilities = d->info.capabilities | QNN_CAP_SQUEEZE | QNN_CAP_DETECTOR | QNN_CAP_INPUT_TENSOR;
}

static int model_count(void *ctx) { return ((const qnn_core_device_t *)ctx)->n_models; }

static void describe(const qnn_core_device_model_t *m, qnn_model_desc_t *out)
{
    memset(out, 0, sizeof(*out));
    memcpy(out->hash, m->hash, QNN_HASH_BYTES);
    out->blob_bytes = m->size;
    out->precision = m->info.precision;
    out->height = m->info.input_h;
    out->width = m->info.input_w;
    out->channels = m->info.input_c;
    out->input_element_bytes = m->info.precision;
    out->n_outputs = m->info.output_count;
    out->output_element_bytes = m->info.output_type;
    memcpy(out->name, m->info.name, QNN_MODEL_NAME_MAX); /* info.name holds 33 bytes */
    out->name[QNN_MODEL_NAME_MAX] = 0;
}

static int model_desc(void *ctx, int index, qnn_model_desc_t *out)
{
    const qnn_core_device_t *d = (const qnn_core_device_t *)ctx;
    if (index < 0 || index >= d->n_models) {
        return QNN_DEV_ERR_BAD_ARGUMENT;
    }
    describe(&d->models[index], out);
    return QNN_DEV_OK;
}

static int map_status(qnn_status s)
{
    switch (s) {
    case QNN_OK:
        return QNN_DEV_OK;
    case QNN_E_NOT_LOADED:
        return QNN_DEV_ERR_NO_MODEL;
    case QNN_E_INPUT:
        return QNN_DEV_ERR_INPUT_SIZE;
    case QNN_E_SQUEEZE:
        return QNN_DEV_ERR_BAD_ARGUMENT;
    case QNN_E_ARENA_TOO_SMALL:
        return QNN_DEV_ERR_NO_SPACE;
    default:
        return -1000 - (int)s; /* reported as EXECUTOR with the core's status */
    }
}

static int select_index(qnn_core_device_t *d, int i)
{
    qnn_status s = qnn_model_load(&d->model, d->models[i].blob, d->models[i].size, NULL);
    d->selected = s == QNN_OK ? i : -1;
    return map_status(s);
}

static int select_model(void *ctx, const uint8_t hash[QNN_HASH_BYTES])
{
    qnn_core_device_t *d = (qnn_core_device_t *)ctx;
    for (int i = 0; i < d->n_models; i++) {
        if (memcmp(d->models[i].hash, hash, QNN_HASH_BYTES) == 0) {
            return select_index(d, i);
        }
    }
    return QNN_DEV_ERR_UNKNOWN_MODEL;
}

static int selected_model(void *ctx, qnn_model_desc_t *out)
{
    const qnn_core_device_t *d = (const qnn_core_device_t *)ctx;
    if (d->selected < 0) {
        return QNN_DEV_ERR_NO_MODEL;
    }
    describe(&d->models[d->selected], out);
    return QNN_DEV_OK;
}

static int set_squeeze(void *ctx, const qnn_squeeze_t *cfg)
{
    qnn_core_device_t *d = (qnn_core_device_t *)ctx;
    int median = cfg->median_size > 1;
    if ((median && cfg->median_size > QNN_MEDIAN_MAX) || cfg->bit_depth > 8 || (cfg->detector && cfg->bit_depth == 0 && !median)) {
        return QNN_DEV_ERR_BAD_ARGUMENT;
    }
    if (!cfg->detector && cfg->bit_depth != 0 && median) {
        return QNN_DEV_ERR_NOT_SUPPORTED; /* the core runs one squeezer per inference */
    }
    d->squeeze = *cfg;
    return QNN_DEV_OK;
}

static uint8_t *input_buffer(void *ctx, uint32_t *capacity)
{
    qnn_core_device_t *d = (qnn_core_device_t *)ctx;
    *capacity = sizeof(d->stage);
    return d->stage;
}

/* The core's detector score is an integer L1 in raw output units, so score > t exactly when score > floor(t)
 * (score >= 0). Clamped first: a float-to-int conversion out of range is undefined in C (x86 yields INT32_MIN,
 * which flags every input; the M33 saturates), and a host may send a huge threshold to mean "never". */
static int32_t integer_threshold(float t)
{
    if (t < 0.0f) {
        return -1;
    }
    if (t >= 2147483647.0f) {
        return INT32_MAX;
    }
    return (int32_t)t;
}

/* The protocol stage a squeezer's own time goes to. */
static unsigned squeeze_stage(const qnn_squeezer *sq)
{
    return sq->kind == QNN_SQUEEZE_BIT_DEPTH ? QNN_STAGE_SQUEEZE_BIT_DEPTH : QNN_STAGE_SQUEEZE_MEDIAN;
}

static int infer(void *ctx, const uint8_t *input, uint32_t len, int is_tensor, qnn_infer_result_t *res)
{
    qnn_core_device_t *d = (qnn_core_device_t *)ctx;
    if (d->selected < 0) {
        return QNN_DEV_ERR_NO_MODEL;
    }
    const qnn_squeeze_t *c = &d->squeeze;
    qnn_squeezer sq[2];
    unsigned n_sq = 0;
    if (c->bit_depth) {
        sq[n_sq].kind = QNN_SQUEEZE_BIT_DEPTH;
        sq[n_sq++].param = c->bit_depth;
    }
    if (c->median_size > 1) {
        sq[n_sq].kind = QNN_SQUEEZE_MEDIAN;
        sq[n_sq++].param = c->median_size;
    }
    uint64_t k = d->cycles_to_unit ? d->cycles_to_unit : 1u;
    const qnn_run_result *run;
    static qnn_detect_result det;
    static qnn_run_result plain;
    memset(res->stage_time, 0, sizeof(res->stage_time));
    /* A quantized tensor (an input off the pixel grid) is squeezed on its values (model-blob SPEC). */
    const qnn_input_kind kind = is_tensor ? QNN_INPUT_TENSOR : QNN_INPUT_PIXELS;
    if (c->detector) {
        qnn_status s = qnn_detect_input(&d->model, kind, input, len, sq, n_sq, integer_threshold(c->threshold), &det);
        if (s != QNN_OK) {
            return map_status(s);
        }
        run = &det.raw;
        res->adversarial = det.adversarial;
        res->detector_score = (float)det.score;
        /* each squeezed run apart: its squeezer, its quantization (with the raw one), its inference */
        for (unsigned i = 0; i < n_sq; i++) {
            const qnn_stage_cycles *sc = &det.sq_cycles[i];
            res->stage_time[squeeze_stage(&sq[i])] = (uint64_t)sc->squeeze * k;
            res->stage_time[QNN_STAGE_QUANTIZE] += (uint64_t)sc->quantize * k;
            unsigned inf = sq[i].kind == QNN_SQUEEZE_BIT_DEPTH ? QNN_STAGE_INFERENCE_BIT_DEPTH : QNN_STAGE_INFERENCE_MEDIAN;
            res->stage_time[inf] = (uint64_t)sc->inference * k;
        }
        res->stage_time[QNN_STAGE_COMPARE] = (uint64_t)det.compare_cycles * k;
    } else {
        qnn_status s = qnn_run_input(&d->model, kind, input, len, n_sq ? sq : NULL, &plain, NULL);
        if (s != QNN_OK) {
            return map_status(s);
        }
        run = &plain;
        if (n_sq) {
            res->stage_time[squeeze_stage(&sq[0])] = (uint64_t)plain.cycles.squeeze * k;
        }
    }
    if (run->output_count > res->logits_cap) {
        return QNN_DEV_ERR_NO_SPACE;
    }
    res->stage_time[QNN_STAGE_QUANTIZE] += (uint64_t)run->cycles.quantize * k;
    res->stage_time[QNN_STAGE_INFERENCE] = (uint64_t)run->cycles.inference * k;
    res->label = (uint16_t)run->label;
    res->n_logits = run->output_count;
    res->logit_bytes = run->output_type;
    for (unsigned i = 0; i < run->output_count; i++) {
        res->logits[i] = run->output[i];
    }
    return QNN_DEV_OK;
}

static int upload_write(void *ctx, uint32_t offset, const uint8_t *data, uint32_t len)
{
    qnn_core_device_t *d = (qnn_core_device_t *)ctx;
    if (!d->upload || (uint64_t)offset + len > d->upload_cap) {
        return QNN_DEV_ERR_NO_SPACE;
    }
    if (d->selected == d->fixed_models) {
        d->selected = -1; /* the uploaded model being overwritten can no longer run */
    }
    memcpy(d->upload + offset, data, len);
    return QNN_DEV_OK;
}

static qnn_status add(qnn_core_device_t *d, int slot, const uint8_t *blob, uint32_t size, const uint8_t *hash)
{
    qnn_core_device_model_t *m = &d->models[slot];
    qnn_status s = qnn_blob_validate(blob, size, &m->info);
    if (s != QNN_OK) {
        return s;
    }
    m->blob = blob;
    m->size = size;
    if (hash) {
        memcpy(m->hash, hash, QNN_HASH_BYTES);
    } else {
        qnn_sha256(blob, size, m->hash);
    }
    if (slot >= d->n_models) {
        d->n_models = slot + 1;
    }
    return QNN_OK;
}

static int upload_commit(void *ctx, uint32_t size, const uint8_t hash[QNN_HASH_BYTES])
{
    qnn_core_device_t *d = (qnn_core_device_t *)ctx;
    if (d->fixed_models >= QNN_CORE_DEVICE_MAX_MODELS) {
        return QNN_DEV_ERR_NO_SPACE;
    }
    d->n_models = d->fixed_models; /* the upload slot is replaced */
    qnn_status s = add(d, d->fixed_models, d->upload, size, hash);
    if (s != QNN_OK) {
        return map_status(s);
    }
    return select_index(d, d->fixed_models);
}

static void reset(void *ctx)
{
    qnn_core_device_t *d = (qnn_core_device_t *)ctx;
    if (d->on_reset) {
        d->on_reset(d->hook_ctx);
    }
}

static int set_baud(void *ctx, uint32_t baud)
{
    qnn_core_device_t *d = (qnn_core_device_t *)ctx;
    if (!d->on_set_baud) {
        return QNN_DEV_ERR_NOT_SUPPORTED;
    }
    int rc = d->on_set_baud(d->hook_ctx, baud);
    if (rc == QNN_DEV_OK) {
        d->info.current_baud = baud;
    }
    return rc;
}

qnn_status qnn_core_device_add_model(qnn_core_device_t *d, const uint8_t *blob, uint32_t size)
{
    if (d->fixed_models >= QNN_CORE_DEVICE_MAX_MODELS - 1) {
        return QNN_E_LIMIT;
    }
    qnn_status s = add(d, d->fixed_models, blob, size, NULL);
    if (s == QNN_OK) {
        d->fixed_models++;
        d->n_models = d->fixed_models;
    }
    return s;
}

void qnn_core_device_init(qnn_core_device_t *d, qnn_device_t *dev, uint8_t *upload, uint32_t upload_cap)
{
    memset(d, 0, sizeof(*d));
    d->info.board = "core";
    d->info.backend = "core";
    d->info.build_id = "dev";
    d->info.timing_unit = QNN_TIMING_CYCLES;
    d->info.timing_resolution = 1;
    d->cycles_to_unit = 1;
    d->selected = -1;
    d->upload = upload;
    d->upload_cap = upload_cap;
    memset(dev, 0, sizeof(*dev));
    dev->ctx = d;
    dev->board_info = board_info;
    dev->model_count = model_count;
    dev->model_desc = model_desc;
    dev->select_model = select_model;
    dev->selected_model = selected_model;
    dev->set_squeeze = set_squeeze;
    dev->input_buffer = input_buffer;
    dev->infer = infer;
    dev->upload_write = upload == NULL ? NULL : upload_write;
    dev->upload_commit = upload == NULL ? NULL : upload_commit;
    dev->reset = reset;
    dev->set_baud = set_baud;
}
