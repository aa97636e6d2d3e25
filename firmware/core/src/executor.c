/* Model executor: static arena, squeeze -> quantize -> operators, per-stage timing. */
#include <string.h>

#include "qnn/qnn_fixedpoint.h"
#include "qnn/qnn_squeeze.h"
#include "qnn_internal.h"

/* The only model memory there is: no malloc anywhere in the core. */
static uint8_t s_arena[QNN_ARENA_SIZE] __attribute__((aligned(16)));
static uint8_t s_squeezed[QNN_MAX_INPUT_BYTES];

uint8_t *qnn_arena_base(void)
{
    return s_arena;
}

const qnn_kernels *qnn_default_kernels(void)
{
#ifdef QNN_HAVE_CMSIS_NN
    return &qnn_kernels_cmsis_nn;
#else
    return &qnn_kernels_portable;
#endif
}

const char *qnn_status_name(qnn_status s)
{
    static const char *const names[] = {
        "OK",     "NULL",  "TRUNCATED", "MAGIC", "VERSION", "CHECKSUM",        "ALIGNMENT",
        "BOUNDS", "TENSOR", "OP",       "SHAPE", "PARAM",   "GRAPH",           "ARENA",
        "ARENA_TOO_SMALL",  "INPUT",    "SQUEEZE", "NOT_LOADED", "BACKEND",    "LIMIT",
    };
    unsigned i = (unsigned)s;
    return i < sizeof names / sizeof names[0] ? names[i] : "UNKNOWN";
}

const char *qnn_backend_name(const qnn_model *m)
{
    return m && m->kernels ? m->kernels->name : "none";
}

qnn_status qnn_model_load(qnn_model *m, const void *blob, size_t size, const qnn_kernels *kernels)
{
    if (!m) {
        return QNN_E_NULL;
    }
    memset(m, 0, sizeof *m);
    qnn_status s = qnn_blob_validate(blob, size, &m->info);
    if (s != QNN_OK) {
        return s;
    }
    m->blob = (const uint8_t *)blob;
    m->size = (uint32_t)size;
    m->kernels = kernels ? kernels : qnn_default_kernels();
    if (m->kernels->prepare) {
        for (unsigned i = 0; i < m->info.op_count; ++i) {
            qnn_decoded_op d;
            qnn_decode_op(m->blob, m->size, i, 0, s_arena, &d);
            qnn_kernel_op kop;
            const void *args = &d.u.conv;
            switch (d.kind) {
            case 1: kop = QNN_K_CONV; break;
            case 2: kop = QNN_K_DWCONV; break;
            case 3: kop = QNN_K_FC; break;
            case 4: kop = QNN_K_AVGPOOL; args = &d.u.pool; break;
            case 5: kop = QNN_K_MAXPOOL; args = &d.u.pool; break;
            default: continue;
            }
            if (m->kernels->prepare(kop, d.is16, args) != QNN_OK) {
                return QNN_E_BACKEND;
            }
        }
    }
    m->loaded = 1;
    return QNN_OK;
}

static void pad_generic(const qnn_pad_args *a)
{
    const uint8_t *in = (const uint8_t *)a->input;
    uint8_t *out = (uint8_t *)a->output;
    const int es = a->elem_size;
    for (int32_t n = 0; n < a->out.n; ++n) {
        for (int32_t y = 0; y < a->out.h; ++y) {
            for (int32_t x = 0; x < a->out.w; ++x) {
                for (int32_t c = 0; c < a->out.c; ++c) {
                    int32_t in_n = n - a->before[0], in_y = y - a->before[1];
                    int32_t in_x = x - a->before[2], in_c = c - a->before[3];
                    uint8_t *dst = out + ((size_t)((n * a->out.h + y) * a->out.w + x) * (size_t)a->out.c + (size_t)c) * (size_t)es;
                    if (in_n >= 0 && in_n < a->in.n && in_y >= 0 && in_y < a->in.h && in_x >= 0 && in_x < a->in.w &&
                        in_c >= 0 && in_c < a->in.c) {
                        memcpy(dst, in + ((size_t)((in_n * a->in.h + in_y) * a->in.w + in_x) * (size_t)a->in.c + (size_t)in_c) * (size_t)es,
                               (size_t)es);
                    } else if (es == 1) {
                        *dst = (uint8_t)(int8_t)a->value;
                    } else {
                        int16_t v = (int16_t)a->value;
                        memcpy(dst, &v, 2);
                    }
                }
            }
        }
    }
}

static void requantize(const qnn_requant_args *a)
{
    int32_t lo = a->out16 ? INT16_MIN : INT8_MIN, hi = a->out16 ? INT16_MAX : INT8_MAX;
    for (int32_t i = 0; i < a->size; ++i) {
        int32_t x = a->in16 ? ((const int16_t *)a->input)[i] : ((const int8_t *)a->input)[i];
        int32_t v = qnn_clamp(qnn_mbqm(x - a->input_zp, a->multiplier, a->shift) + a->output_zp, lo, hi);
        if (a->out16) {
            ((int16_t *)a->output)[i] = (int16_t)v;
        } else {
            ((int8_t *)a->output)[i] = (int8_t)v;
        }
    }
}

static qnn_status run_op(const qnn_kernels *k, const qnn_decoded_op *d)
{
    switch (d->kind) {
    case QNN_OP_CONV_2D: return d->is16 ? k->conv_s16(&d->u.conv) : k->conv_s8(&d->u.conv);
    case QNN_OP_DEPTHWISE_CONV_2D: return d->is16 ? k->dwconv_s16(&d->u.conv) : k->dwconv_s8(&d->u.conv);
    case QNN_OP_FULLY_CONNECTED: return d->is16 ? k->fc_s16(&d->u.conv) : k->fc_s8(&d->u.conv);
    case QNN_OP_AVERAGE_POOL_2D: return d->is16 ? k->avgpool_s16(&d->u.pool) : k->avgpool_s8(&d->u.pool);
    case QNN_OP_MAX_POOL_2D: return d->is16 ? k->maxpool_s16(&d->u.pool) : k->maxpool_s8(&d->u.pool);
    case QNN_OP_ADD: return d->is16 ? k->add_s16(&d->u.add) : k->add_s8(&d->u.add);
    case QNN_OP_SOFTMAX: return d->is16 ? k->softmax_s16(&d->u.softmax) : k->softmax_s8(&d->u.softmax);
    case QNN_OP_RESHAPE:
        if (d->u.copy.output != d->u.copy.input) {
            memmove(d->u.copy.output, d->u.copy.input, d->u.copy.bytes);
        }
        return QNN_OK;
    case QNN_OP_PAD: pad_generic(&d->u.pad); return QNN_OK;
    case QNN_OP_REQUANTIZE: requantize(&d->u.requant); return QNN_OK;
    default: return QNN_E_OP;
    }
}

qnn_status qnn_invoke(qnn_model *m, uint32_t *op_cycles)
{
    if (!m || !m->loaded) {
        return QNN_E_NOT_LOADED;
    }
    for (unsigned i = 0; i < m->info.op_count; ++i) {
        uint32_t t0 = op_cycles ? qnn_platform_cycles() : 0;
        qnn_decoded_op d;
        qnn_status s = qnn_decode_op(m->blob, m->size, i, 0, s_arena, &d);
        if (s == QNN_OK) {
            s = run_op(m->kernels, &d);
        }
        if (s != QNN_OK) {
            return s;
        }
        if (op_cycles) {
            op_cycles[i] = qnn_platform_cycles() - t0;
        }
    }
    return QNN_OK;
}

static qnn_status check_squeezer(const qnn_squeezer *sq)
{
    if (!sq || sq->kind == QNN_SQUEEZE_NONE) {
        return QNN_OK;
    }
    if (sq->kind == QNN_SQUEEZE_BIT_DEPTH && sq->param >= 1 && sq->param <= 8) {
        return QNN_OK;
    }
    if (sq->kind == QNN_SQUEEZE_MEDIAN && sq->param >= 2 && sq->param <= QNN_MEDIAN_MAX) {
        return QNN_OK;
    }
    return QNN_E_SQUEEZE;
}

qnn_status qnn_squeeze(const qnn_model *m, const qnn_squeezer *sq, const uint8_t *pixels, uint8_t *out)
{
    if (!m || !m->loaded) {
        return QNN_E_NOT_LOADED;
    }
    if (!pixels || !out) {
        return QNN_E_NULL;
    }
    qnn_status s = check_squeezer(sq);
    if (s != QNN_OK) {
        return s;
    }
    if (!sq || sq->kind == QNN_SQUEEZE_NONE) {
        memmove(out, pixels, m->info.input_bytes);
    } else if (sq->kind == QNN_SQUEEZE_BIT_DEPTH) {
        qnn_squeeze_bit_depth(pixels, m->info.input_bytes, sq->param, out);
    } else {
        if (out == pixels) {
            return QNN_E_SQUEEZE;
        }
        qnn_median_filter(pixels, m->info.input_h, m->info.input_w, m->info.input_c, sq->param, out);
    }
    return QNN_OK;
}

/* Quantized input for bit-depth level k of b bits (b = 8: the input table, whose entry k is pixel k). */
static const int16_t *level_table(const qnn_model *m, unsigned bits)
{
    const uint8_t *blob = m->blob;
    if (bits >= 8) {
        return (const int16_t *)(const void *)(blob + qnn_rd32(blob + QNN_H_INPUT_TABLE));
    }
    /* Levels of b bits start at entry 2^b - 2 of the squeeze table. */
    return (const int16_t *)(const void *)(blob + qnn_rd32(blob + QNN_H_SQUEEZE_TABLE)) + ((1u << bits) - 2u);
}

/* The b-bit boundaries in quantized input units (SPEC: after the squeeze table's levels). */
static const int32_t *level_bounds(const qnn_model *m, unsigned bits)
{
    const uint8_t *table = m->blob + qnn_rd32(m->blob + QNN_H_SQUEEZE_TABLE) + 2u * QNN_SQUEEZE_TABLE_ENTRIES;
    return (const int32_t *)(const void *)table + ((1u << bits) - 2u);
}

qnn_status qnn_quantize_input(qnn_model *m, const qnn_squeezer *sq, const uint8_t *squeezed)
{
    if (!m || !m->loaded) {
        return QNN_E_NOT_LOADED;
    }
    qnn_status s = check_squeezer(sq);
    if (s != QNN_OK) {
        return s;
    }
    const int16_t *lut = level_table(m, sq && sq->kind == QNN_SQUEEZE_BIT_DEPTH ? sq->param : 8u);
    qnn_tensor_rec t;
    qnn_read_tensor(m->blob, qnn_rd16(m->blob + QNN_H_INPUT), &t);
    const uint32_t n = m->info.input_bytes;
    if (m->info.precision == 2) {
        int16_t *q = (int16_t *)(void *)(s_arena + t.offset);
        for (uint32_t i = 0; i < n; ++i) {
            q[i] = lut[squeezed[i]];
        }
    } else {
        int8_t *q = (int8_t *)(s_arena + t.offset);
        for (uint32_t i = 0; i < n; ++i) {
            q[i] = (int8_t)lut[squeezed[i]];
        }
    }
    return QNN_OK;
}

/* A quantized input tensor (little-endian) into the arena's input, squeezed on its values (SPEC): the median
 * of quantized values is the quantized median (quantization is monotone), bit depth goes through the blob's
 * boundaries and levels. */
static void tensor_to_arena(qnn_model *m, const qnn_squeezer *sq, const uint8_t *src)
{
    qnn_tensor_rec t;
    qnn_read_tensor(m->blob, qnn_rd16(m->blob + QNN_H_INPUT), &t);
    void *dst = s_arena + t.offset;
    const int wide = m->info.precision == 2;
    const qnn_elem_kind in_kind = wide ? QNN_ELEM_I16LE : QNN_ELEM_I8, out_kind = wide ? QNN_ELEM_I16 : QNN_ELEM_I8;
    const uint32_t n = m->info.input_bytes;
    if (sq && sq->kind == QNN_SQUEEZE_MEDIAN) {
        qnn_median_any(src, in_kind, dst, out_kind, m->info.input_h, m->info.input_w, m->info.input_c, sq->param);
    } else if (sq && sq->kind == QNN_SQUEEZE_BIT_DEPTH) {
        const int16_t *lut = level_table(m, sq->param);
        const int32_t *bounds = level_bounds(m, sq->param);
        for (uint32_t i = 0; i < n; ++i) {
            qnn_elem_set(dst, out_kind, i, lut[qnn_bit_depth_level_q(qnn_elem_get(src, in_kind, i), bounds, sq->param)]);
        }
    } else if (wide) {
        for (uint32_t i = 0; i < n; ++i) {
            qnn_elem_set(dst, out_kind, i, qnn_elem_get(src, in_kind, i));
        }
    } else {
        memcpy(dst, src, n);
    }
}

qnn_status qnn_prepare_input(qnn_model *m, qnn_input_kind kind, const void *data, size_t bytes, const qnn_squeezer *sq,
                             qnn_stage_cycles *cycles)
{
    if (!m || !m->loaded) {
        return QNN_E_NOT_LOADED;
    }
    if (!data) {
        return QNN_E_NULL;
    }
    qnn_status s = check_squeezer(sq);
    if (s != QNN_OK) {
        return s;
    }
    const int squeezing = sq && sq->kind != QNN_SQUEEZE_NONE;
    qnn_stage_cycles c = {0, 0, 0};
    uint32_t t0 = qnn_platform_cycles();
    if (kind == QNN_INPUT_TENSOR) {
        if (bytes != (size_t)m->info.input_bytes * m->info.precision) {
            return QNN_E_INPUT;
        }
        tensor_to_arena(m, sq, (const uint8_t *)data);
        /* Squeezing a tensor writes the arena directly: its time is the squeeze stage, a plain copy the quantize one. */
        uint32_t dt = qnn_platform_cycles() - t0;
        if (squeezing) {
            c.squeeze = dt;
        } else {
            c.quantize = dt;
        }
    } else {
        if (bytes != m->info.input_bytes) {
            return QNN_E_INPUT;
        }
        const uint8_t *src = (const uint8_t *)data;
        if (squeezing) {
            s = qnn_squeeze(m, sq, src, s_squeezed);
            if (s != QNN_OK) {
                return s;
            }
            src = s_squeezed;
        }
        uint32_t t1 = qnn_platform_cycles();
        s = qnn_quantize_input(m, sq, src);
        if (s != QNN_OK) {
            return s;
        }
        c.squeeze = squeezing ? t1 - t0 : 0; /* a stage that did not run reports 0 */
        c.quantize = qnn_platform_cycles() - t1;
    }
    if (cycles) {
        *cycles = c;
    }
    return QNN_OK;
}

/* The arena bytes of the tensor a header field (QNN_H_INPUT or QNN_H_OUTPUT) names. */
static const void *arena_tensor(const qnn_model *m, unsigned header_field)
{
    if (!m || !m->loaded) {
        return NULL;
    }
    qnn_tensor_rec t;
    qnn_read_tensor(m->blob, qnn_rd16(m->blob + header_field), &t);
    return s_arena + t.offset;
}

const void *qnn_input_data(const qnn_model *m)
{
    return arena_tensor(m, QNN_H_INPUT);
}

const void *qnn_output_data(const qnn_model *m)
{
    return arena_tensor(m, QNN_H_OUTPUT);
}

/* Output values (int8 widened) and the label: argmax, ties to the lowest index as numpy.argmax. */
static void collect_outputs(const qnn_model *m, qnn_run_result *res)
{
    res->output_type = m->info.output_type;
    res->output_count = m->info.output_count;
    const void *out = qnn_output_data(m);
    int32_t best = INT32_MIN;
    for (uint16_t i = 0; i < res->output_count; ++i) {
        int16_t v = res->output_type == 2 ? ((const int16_t *)out)[i] : ((const int8_t *)out)[i];
        res->output[i] = v;
        if (v > best) {
            best = v;
            res->label = (int16_t)i;
        }
    }
}

qnn_status qnn_run_input(qnn_model *m, qnn_input_kind kind, const void *data, size_t bytes, const qnn_squeezer *sq,
                         qnn_run_result *res, uint32_t *op_cycles)
{
    if (!m || !m->loaded) {
        return QNN_E_NOT_LOADED;
    }
    if (!data || !res) {
        return QNN_E_NULL;
    }
    memset(res, 0, sizeof *res);
    qnn_status s = qnn_prepare_input(m, kind, data, bytes, sq, &res->cycles);
    if (s != QNN_OK) {
        return s;
    }
    uint32_t t0 = qnn_platform_cycles();
    s = qnn_invoke(m, op_cycles);
    if (s != QNN_OK) {
        return s;
    }
    res->cycles.inference = qnn_platform_cycles() - t0;
    collect_outputs(m, res);
    return QNN_OK;
}

qnn_status qnn_run(qnn_model *m, const uint8_t *pixels, size_t n, const qnn_squeezer *sq, qnn_run_result *res,
                   uint32_t *op_cycles)
{
    return qnn_run_input(m, QNN_INPUT_PIXELS, pixels, n, sq, res, op_cycles);
}

qnn_status qnn_run_tensor(qnn_model *m, const void *data, size_t bytes, qnn_run_result *res, uint32_t *op_cycles)
{
    return qnn_run_input(m, QNN_INPUT_TENSOR, data, bytes, NULL, res, op_cycles);
}

qnn_status qnn_detect_input(qnn_model *m, qnn_input_kind kind, const void *data, size_t bytes, const qnn_squeezer *sqs,
                            unsigned n_sq, int32_t threshold, qnn_detect_result *res)
{
    if (!res || !sqs) {
        return QNN_E_NULL;
    }
    if (n_sq == 0 || n_sq > QNN_MAX_SQUEEZERS) {
        return QNN_E_SQUEEZE;
    }
    memset(res, 0, sizeof *res);
    uint32_t t0 = qnn_platform_cycles();
    qnn_status s = qnn_run_input(m, kind, data, bytes, NULL, &res->raw, NULL);
    if (s != QNN_OK) {
        return s;
    }
    uint32_t compare = 0;
    for (unsigned i = 0; i < n_sq; ++i) {
        qnn_run_result r;
        s = qnn_run_input(m, kind, data, bytes, &sqs[i], &r, NULL);
        if (s != QNN_OK) {
            return s;
        }
        res->sq_cycles[i] = r.cycles;
        uint32_t t1 = qnn_platform_cycles();
        int32_t l1 = 0;
        for (uint16_t c = 0; c < r.output_count; ++c) {
            int32_t d = (int32_t)res->raw.output[c] - r.output[c];
            l1 += d < 0 ? -d : d;
        }
        res->l1[i] = l1;
        res->squeezed_label[i] = r.label;
        if (l1 > res->score) {
            res->score = l1;
        }
        compare += qnn_platform_cycles() - t1;
    }
    uint32_t t2 = qnn_platform_cycles();
    res->adversarial = res->score > threshold;
    uint32_t t3 = qnn_platform_cycles();
    res->compare_cycles = compare + (t3 - t2);
    res->total_cycles = t3 - t0;
    return QNN_OK;
}

qnn_status qnn_detect(qnn_model *m, const uint8_t *pixels, size_t n, const qnn_squeezer *sqs, unsigned n_sq,
                      int32_t threshold, qnn_detect_result *res)
{
    return qnn_detect_input(m, QNN_INPUT_PIXELS, pixels, n, sqs, n_sq, threshold, res);
}
