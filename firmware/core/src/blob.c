/* Model blob validation and record decoding (shared/model-blob/SPEC.md). Everything the executor
 * later trusts is checked here; qnn_decode_op is the single place that knows each op's layout. */
#include <limits.h>
#include <string.h>

#include "qnn_internal.h"

uint32_t qnn_crc32(const uint8_t *data, uint32_t size, uint32_t skip_offset)
{
    /* Bitwise CRC-32 (zlib): no 1 KiB table in RAM or flash; runs once per load. */
    uint32_t crc = 0xFFFFFFFFu;
    for (uint32_t i = 0; i < size; ++i) {
        uint8_t byte = (i >= skip_offset && i < skip_offset + 4u) ? 0u : data[i];
        crc ^= byte;
        for (int k = 0; k < 8; ++k) {
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
        }
    }
    return ~crc;
}

void qnn_read_tensor(const uint8_t *blob, unsigned index, qnn_tensor_rec *t)
{
    const uint8_t *p = blob + qnn_rd32(blob + QNN_H_TENSOR_TABLE) + index * QNN_TENSOR_REC_SIZE;
    t->type = p[0];
    t->rank = p[1];
    t->storage = p[2];
    for (int i = 0; i < 4; ++i) {
        t->dims[i] = qnn_rdi32(p + 4 + 4 * i);
    }
    t->zp = qnn_rdi32(p + 20);
    t->offset = qnn_rd32(p + 24);
    t->size = qnn_rd32(p + 28);
}

void qnn_read_op(const uint8_t *blob, unsigned index, qnn_op_rec *op)
{
    const uint8_t *p = blob + qnn_rd32(blob + QNN_H_OP_TABLE) + index * QNN_OP_REC_SIZE;
    op->kind = p[0];
    op->n_in = p[1];
    for (int i = 0; i < 3; ++i) {
        op->in[i] = qnn_rd16(p + 4 + 2 * i);
    }
    op->out = qnn_rd16(p + 10);
    op->params_offset = qnn_rd32(p + 12);
    op->params_size = qnn_rd32(p + 16);
}

qnn_shape qnn_tensor_shape(const qnn_tensor_rec *t)
{
    int32_t d[4] = {1, 1, 1, 1};
    int r = t->rank > 4 ? 4 : t->rank;
    for (int i = 0; i < r; ++i) {
        d[4 - r + i] = t->dims[i];
    }
    qnn_shape s = {d[0], d[1], d[2], d[3]};
    return s;
}

static int elem_size(uint8_t type)
{
    switch (type) {
    case QNN_T_INT8: return 1;
    case QNN_T_INT16: return 2;
    case QNN_T_INT32: return 4;
    case QNN_T_INT64: return 8;
    default: return 0;
    }
}

static int32_t type_min(uint8_t type)
{
    return type == QNN_T_INT8 ? INT8_MIN : INT16_MIN;
}

static int32_t type_max(uint8_t type)
{
    return type == QNN_T_INT8 ? INT8_MAX : INT16_MAX;
}

static int32_t elem_count(const qnn_shape *s)
{
    return s->n * s->h * s->w * s->c;
}

static int same_shape(const qnn_shape *a, const qnn_shape *b)
{
    return a->n == b->n && a->h == b->h && a->w == b->w && a->c == b->c;
}

/* Output size must be TFLite's SAME or VALID result, with the matching leading pad. */
static int padding_ok(int32_t in, int32_t out, int32_t k, int32_t stride, int32_t dil, int32_t pad)
{
    int32_t eff = (k - 1) * dil + 1;
    int32_t same = (in + stride - 1) / stride;
    int32_t total = (same - 1) * stride + eff - in;
    if (total < 0) {
        total = 0;
    }
    if (out == same && pad == total / 2) {
        return 1;
    }
    if (in >= eff && out == (in - eff + stride) / stride && pad == 0) {
        return 1;
    }
    return 0;
}

static int act_range_ok(int32_t lo, int32_t hi, uint8_t type)
{
    return lo <= hi && lo >= type_min(type) && hi <= type_max(type);
}

static const void *tensor_data(const uint8_t *blob, uint8_t *arena, const qnn_tensor_rec *t)
{
    if (t->storage == QNN_STORAGE_CONST) {
        return blob + t->offset;
    }
    return arena ? arena + t->offset : NULL;
}

static int is_act(const qnn_tensor_rec *t)
{
    return t->storage == QNN_STORAGE_ARENA;
}

static int quant_ok(const uint8_t *p, int32_t n, int is16)
{
    for (int32_t i = 0; i < n; ++i) {
        int32_t m = qnn_rdi32(p + 4 * i);
        int32_t s = qnn_rdi32(p + 4 * (n + i));
        if (m < 0 || s < -31 || s > (is16 ? 14 : 30)) {
            return 0;
        }
    }
    return 1;
}

/* Real models carry int32 biases of +-2^30 and more (channels with tiny scales): the bound is what keeps the
 * int32 accumulator from overflowing, |bias| + taps x 255 x 128 <= INT32_MAX (|x - zp| <= 255, |w| <= 128). */
static int bias_ok(const uint8_t *p, int32_t n, int is16, int32_t taps)
{
    const int64_t limit32 = (int64_t)INT32_MAX - (int64_t)taps * 255 * 128;
    for (int32_t i = 0; i < n; ++i) {
        if (is16) {
            int64_t b;
            memcpy(&b, p + 8 * i, sizeof b);
            if (b <= -((int64_t)1 << 40) || b >= ((int64_t)1 << 40)) {
                return 0;
            }
        } else {
            int64_t b = qnn_rdi32(p + 4 * i);
            if (b < -limit32 || b > limit32) {
                return 0;
            }
        }
    }
    return 1;
}

#define CHECK(cond, err)                                                                                     \
    do {                                                                                                     \
        if (validate && !(cond)) {                                                                           \
            return (err);                                                                                    \
        }                                                                                                    \
    } while (0)

static qnn_status decode_conv_like(const uint8_t *blob, const qnn_op_rec *op, const qnn_tensor_rec *tin,
                                   const qnn_tensor_rec *tf, const qnn_tensor_rec *tb, const qnn_tensor_rec *tout,
                                   int validate, uint8_t *arena, int is16, qnn_decoded_op *d)
{
    const uint8_t *p = blob + op->params_offset;
    qnn_conv_args *a = &d->u.conv;
    memset(a, 0, sizeof *a);
    a->in = qnn_tensor_shape(tin);
    a->filt = qnn_tensor_shape(tf);
    a->out = qnn_tensor_shape(tout);
    a->input_zp = tin->zp;
    a->filter_zp = tf->zp;
    a->output_zp = tout->zp;
    a->input = tensor_data(blob, arena, tin);
    a->filter = (const int8_t *)tensor_data(blob, arena, tf);
    a->bias = tb ? tensor_data(blob, arena, tb) : NULL;
    a->output = (void *)(uintptr_t)tensor_data(blob, arena, tout);
    uint8_t act_type = is16 ? QNN_T_INT16 : QNN_T_INT8;

    CHECK(is_act(tin) && is_act(tout) && tin->type == act_type && tout->type == act_type, QNN_E_OP);
    CHECK(tf->storage == QNN_STORAGE_CONST && tf->type == QNN_T_INT8, QNN_E_OP);
    CHECK(!tb || (tb->storage == QNN_STORAGE_CONST && tb->type == (is16 ? QNN_T_INT64 : QNN_T_INT32)), QNN_E_OP);
    CHECK(!is16 || (tin->zp == 0 && tout->zp == 0 && tf->zp == 0), QNN_E_PARAM);

    int32_t cout;
    const uint8_t *q;
    if (op->kind == QNN_OP_FULLY_CONNECTED) {
        CHECK(tf->rank == 2 && op->params_size >= 12, QNN_E_SHAPE);
        cout = tf->dims[0];
        int32_t cin = tf->dims[1];
        a->act_min = qnn_rdi32(p);
        a->act_max = qnn_rdi32(p + 4);
        a->n_quant = qnn_rdi32(p + 8);
        q = p + 12;
        CHECK(a->n_quant == 1 || a->n_quant == cout, QNN_E_PARAM);
        CHECK(op->params_size == 12u + 8u * (uint32_t)a->n_quant, QNN_E_PARAM);
        int32_t total = elem_count(&a->in);
        CHECK(total % cin == 0, QNN_E_SHAPE);
        int32_t batch = total / cin;
        CHECK(elem_count(&a->out) == batch * cout && a->out.c == cout, QNN_E_SHAPE);
        CHECK(cin <= 16384, QNN_E_LIMIT);
        CHECK(tf->zp >= -127 && tf->zp <= 127, QNN_E_PARAM);
        a->in.n = batch;
        a->in.h = a->in.w = 1;
        a->in.c = cin;
        a->out.n = batch;
        a->out.h = a->out.w = 1;
        a->out.c = cout;
        a->filt.n = cout;
        a->filt.h = a->filt.w = 1;
        a->filt.c = cin;
    } else {
        int dw = op->kind == QNN_OP_DEPTHWISE_CONV_2D;
        uint32_t fixed = dw ? 36u : 32u;
        CHECK(tin->rank == 4 && tf->rank == 4 && tout->rank == 4 && op->params_size >= fixed, QNN_E_SHAPE);
        a->stride_h = qnn_rdi32(p);
        a->stride_w = qnn_rdi32(p + 4);
        a->dilation_h = qnn_rdi32(p + 8);
        a->dilation_w = qnn_rdi32(p + 12);
        a->pad_top = qnn_rdi32(p + 16);
        a->pad_left = qnn_rdi32(p + 20);
        if (dw) {
            a->depth_multiplier = qnn_rdi32(p + 24);
            a->act_min = qnn_rdi32(p + 28);
            a->act_max = qnn_rdi32(p + 32);
            cout = a->filt.c;
            CHECK(a->filt.n == 1, QNN_E_SHAPE);
            CHECK(a->depth_multiplier >= 1 && a->in.c * a->depth_multiplier == cout, QNN_E_SHAPE);
            CHECK(a->filt.h * a->filt.w <= 16384, QNN_E_LIMIT);
        } else {
            a->depth_multiplier = 1;
            a->act_min = qnn_rdi32(p + 24);
            a->act_max = qnn_rdi32(p + 28);
            cout = a->filt.n;
            CHECK(a->filt.c == a->in.c, QNN_E_SHAPE);
            CHECK(a->filt.h * a->filt.w * a->filt.c <= 16384, QNN_E_LIMIT);
        }
        q = p + fixed;
        a->n_quant = cout;
        CHECK(op->params_size == fixed + 8u * (uint32_t)cout, QNN_E_PARAM);
        CHECK(a->out.n == a->in.n && a->out.c == cout, QNN_E_SHAPE);
        CHECK(a->stride_h >= 1 && a->stride_w >= 1 && a->stride_h <= 64 && a->stride_w <= 64, QNN_E_PARAM);
        CHECK(a->dilation_h >= 1 && a->dilation_w >= 1 && a->dilation_h <= 64 && a->dilation_w <= 64,
              QNN_E_PARAM);
        CHECK(padding_ok(a->in.h, a->out.h, a->filt.h, a->stride_h, a->dilation_h, a->pad_top) &&
                  padding_ok(a->in.w, a->out.w, a->filt.w, a->stride_w, a->dilation_w, a->pad_left),
              QNN_E_SHAPE);
        CHECK(tf->zp == 0, QNN_E_PARAM);
    }
    a->mult = (const int32_t *)(const void *)q;
    a->shift = (const int32_t *)(const void *)(q + 4 * a->n_quant);
    CHECK(!tb || (tb->rank == 1 && tb->dims[0] == cout), QNN_E_SHAPE);
    CHECK(act_range_ok(a->act_min, a->act_max, act_type), QNN_E_PARAM);
    CHECK(quant_ok(q, a->n_quant, is16), QNN_E_PARAM);
    /* FC weights may have a zero point: |w - zp| <= 255, counted as two taps of 128. */
    int32_t taps = op->kind == QNN_OP_FULLY_CONNECTED ? 2 * a->filt.c
                   : op->kind == QNN_OP_DEPTHWISE_CONV_2D ? a->filt.h * a->filt.w
                                                          : a->filt.h * a->filt.w * a->filt.c;
    CHECK(!tb || bias_ok(blob + tb->offset, cout, is16, taps), QNN_E_PARAM);
    CHECK(is16 || (tin->zp >= -128 && tin->zp <= 127), QNN_E_PARAM);
    return QNN_OK;
}

qnn_status qnn_decode_op(const uint8_t *blob, uint32_t size, unsigned index, int validate, uint8_t *arena,
                         qnn_decoded_op *d)
{
    qnn_op_rec op;
    qnn_read_op(blob, index, &op);
    unsigned tensor_count = qnn_rd16(blob + QNN_H_TENSOR_COUNT);
    memset(d, 0, sizeof *d);
    d->kind = op.kind;

    CHECK(op.kind >= QNN_OP_CONV_2D && op.kind <= QNN_OP_REQUANTIZE, QNN_E_OP);
    CHECK(op.n_in >= 1 && op.n_in <= 3 && op.out < tensor_count, QNN_E_OP);
    for (unsigned i = 0; i < 3; ++i) {
        if (i < op.n_in) {
            /* Only the bias slot (third) of conv-like ops may be absent. */
            CHECK(op.in[i] < tensor_count || (i == 2 && op.in[i] == QNN_NO_TENSOR), QNN_E_OP);
        } else {
            CHECK(op.in[i] == QNN_NO_TENSOR, QNN_E_OP);
        }
    }
    if (op.params_size == 0) {
        CHECK(op.params_offset == 0, QNN_E_BOUNDS);
    } else {
        CHECK(op.params_offset >= QNN_HEADER_SIZE && op.params_offset <= size &&
                  op.params_size <= size - op.params_offset,
              QNN_E_BOUNDS);
        CHECK(op.params_offset % 4u == 0, QNN_E_ALIGNMENT);
    }

    qnn_tensor_rec tin, tout, t1, t2;
    qnn_read_tensor(blob, op.in[0], &tin);
    qnn_read_tensor(blob, op.out, &tout);
    const uint8_t *p = blob + op.params_offset;
    d->is16 = tin.type == QNN_T_INT16;
    qnn_shape sin = qnn_tensor_shape(&tin), sout = qnn_tensor_shape(&tout);
    CHECK(is_act(&tout) && (tout.type == QNN_T_INT8 || tout.type == QNN_T_INT16), QNN_E_OP);
    uint8_t precision = blob[QNN_H_PRECISION];

    switch (op.kind) {
    case QNN_OP_CONV_2D:
    case QNN_OP_DEPTHWISE_CONV_2D:
    case QNN_OP_FULLY_CONNECTED: {
        CHECK(op.n_in >= 2, QNN_E_OP);
        qnn_read_tensor(blob, op.in[1], &t1);
        int has_bias = op.n_in == 3 && op.in[2] != QNN_NO_TENSOR;
        if (has_bias) {
            qnn_read_tensor(blob, op.in[2], &t2);
        }
        CHECK(d->is16 == (precision == 2), QNN_E_OP);
        return decode_conv_like(blob, &op, &tin, &t1, has_bias ? &t2 : NULL, &tout, validate, arena, d->is16, d);
    }
    case QNN_OP_AVERAGE_POOL_2D:
    case QNN_OP_MAX_POOL_2D: {
        qnn_pool_args *a = &d->u.pool;
        CHECK(op.n_in == 1 && is_act(&tin) && tin.type == tout.type, QNN_E_OP);
        CHECK(op.params_size == 32, QNN_E_PARAM);
        CHECK(tin.rank == 4 && tout.rank == 4 && sin.n == sout.n && sin.c == sout.c, QNN_E_SHAPE);
        a->in = sin;
        a->out = sout;
        a->input = tensor_data(blob, arena, &tin);
        a->output = (void *)(uintptr_t)tensor_data(blob, arena, &tout);
        a->stride_h = qnn_rdi32(p);
        a->stride_w = qnn_rdi32(p + 4);
        a->filter_h = qnn_rdi32(p + 8);
        a->filter_w = qnn_rdi32(p + 12);
        a->pad_top = qnn_rdi32(p + 16);
        a->pad_left = qnn_rdi32(p + 20);
        a->act_min = qnn_rdi32(p + 24);
        a->act_max = qnn_rdi32(p + 28);
        CHECK(a->stride_h >= 1 && a->stride_w >= 1 && a->stride_h <= 64 && a->stride_w <= 64, QNN_E_PARAM);
        CHECK(a->filter_h >= 1 && a->filter_w >= 1 && a->filter_h <= 128 && a->filter_w <= 128, QNN_E_PARAM);
        CHECK(padding_ok(sin.h, sout.h, a->filter_h, a->stride_h, 1, a->pad_top) &&
                  padding_ok(sin.w, sout.w, a->filter_w, a->stride_w, 1, a->pad_left),
              QNN_E_SHAPE);
        CHECK(tin.zp == tout.zp, QNN_E_PARAM);
        CHECK(act_range_ok(a->act_min, a->act_max, tout.type), QNN_E_PARAM);
        return QNN_OK;
    }
    case QNN_OP_ADD: {
        qnn_add_args *a = &d->u.add;
        CHECK(op.n_in == 2, QNN_E_OP);
        qnn_read_tensor(blob, op.in[1], &t1);
        qnn_shape s1 = qnn_tensor_shape(&t1);
        CHECK(is_act(&tin) && is_act(&t1) && tin.type == tout.type && t1.type == tout.type, QNN_E_OP);
        CHECK(same_shape(&sin, &sout) && same_shape(&s1, &sout), QNN_E_SHAPE);
        CHECK(op.params_size == 36, QNN_E_PARAM);
        a->in1 = tensor_data(blob, arena, &tin);
        a->in2 = tensor_data(blob, arena, &t1);
        a->output = (void *)(uintptr_t)tensor_data(blob, arena, &tout);
        a->size = elem_count(&sout);
        a->in1_zp = tin.zp;
        a->in2_zp = t1.zp;
        a->output_zp = tout.zp;
        a->left_shift = qnn_rdi32(p);
        a->in1_mult = qnn_rdi32(p + 4);
        a->in1_shift = qnn_rdi32(p + 8);
        a->in2_mult = qnn_rdi32(p + 12);
        a->in2_shift = qnn_rdi32(p + 16);
        a->out_mult = qnn_rdi32(p + 20);
        a->out_shift = qnn_rdi32(p + 24);
        a->act_min = qnn_rdi32(p + 28);
        a->act_max = qnn_rdi32(p + 32);
        CHECK(a->left_shift >= 0 && a->left_shift <= (d->is16 ? 15 : 22), QNN_E_PARAM);
        CHECK(a->in1_mult >= 0 && a->in2_mult >= 0 && a->out_mult >= 0, QNN_E_PARAM);
        CHECK(a->in1_shift <= 0 && a->in1_shift >= -31 && a->in2_shift <= 0 && a->in2_shift >= -31 &&
                  a->out_shift <= 0 && a->out_shift >= -31,
              QNN_E_PARAM);
        CHECK(!d->is16 || (tin.zp == 0 && t1.zp == 0 && tout.zp == 0), QNN_E_PARAM);
        CHECK(act_range_ok(a->act_min, a->act_max, tout.type), QNN_E_PARAM);
        return QNN_OK;
    }
    case QNN_OP_RESHAPE: {
        CHECK(op.n_in == 1 && is_act(&tin) && tin.type == tout.type, QNN_E_OP);
        CHECK(elem_count(&sin) == elem_count(&sout), QNN_E_SHAPE);
        CHECK(op.params_size == 0, QNN_E_PARAM);
        d->u.copy.input = tensor_data(blob, arena, &tin);
        d->u.copy.output = (void *)(uintptr_t)tensor_data(blob, arena, &tout);
        d->u.copy.bytes = tout.size;
        return QNN_OK;
    }
    case QNN_OP_PAD: {
        qnn_pad_args *a = &d->u.pad;
        CHECK(op.n_in == 1 && is_act(&tin) && tin.type == tout.type, QNN_E_OP);
        CHECK(op.params_size == 36, QNN_E_PARAM);
        a->in = sin;
        a->out = sout;
        a->input = tensor_data(blob, arena, &tin);
        a->output = (void *)(uintptr_t)tensor_data(blob, arena, &tout);
        a->elem_size = elem_size(tin.type);
        int32_t in_d[4] = {sin.n, sin.h, sin.w, sin.c}, out_d[4] = {sout.n, sout.h, sout.w, sout.c};
        for (int i = 0; i < 4; ++i) {
            int32_t before = qnn_rdi32(p + 4 * i), after = qnn_rdi32(p + 16 + 4 * i);
            a->before[i] = before;
            CHECK(before >= 0 && after >= 0 && before <= 65535 && after <= 65535, QNN_E_PARAM);
            CHECK(in_d[i] + before + after == out_d[i], QNN_E_SHAPE);
        }
        a->value = qnn_rdi32(p + 32);
        CHECK(a->value >= type_min(tout.type) && a->value <= type_max(tout.type), QNN_E_PARAM);
        return QNN_OK;
    }
    case QNN_OP_SOFTMAX: {
        qnn_softmax_args *a = &d->u.softmax;
        CHECK(op.n_in == 1 && is_act(&tin) && tin.type == tout.type, QNN_E_OP);
        CHECK(same_shape(&sin, &sout), QNN_E_SHAPE);
        a->input = tensor_data(blob, arena, &tin);
        a->output = (void *)(uintptr_t)tensor_data(blob, arena, &tout);
        a->depth = sin.c;
        a->rows = sin.n * sin.h * sin.w;
        CHECK(op.params_size == (d->is16 ? 12u + 4u * QNN_LUT_ENTRIES : 12u), QNN_E_PARAM);
        a->input_multiplier = qnn_rdi32(p);
        a->input_shift = qnn_rdi32(p + 4);
        a->diff_min = qnn_rdi32(p + 8);
        CHECK(a->input_multiplier >= 0, QNN_E_PARAM);
        if (d->is16) {
            a->exp_lut = (const int16_t *)(const void *)(p + 12);
            a->recip_lut = a->exp_lut + QNN_LUT_ENTRIES;
            CHECK(tin.zp == 0 && tout.zp == 0, QNN_E_PARAM);
            CHECK(a->input_shift >= -31 && a->input_shift <= 15 && a->diff_min == 0, QNN_E_PARAM);
            if (validate) {
                for (int i = 0; i < 2 * QNN_LUT_ENTRIES; ++i) {
                    CHECK((int16_t)qnn_rd16(p + 12 + 2 * i) >= 0, QNN_E_PARAM);
                }
                /* exp(0) must be near 1 so the reciprocal's shift stays positive (TFLM assumes it). */
                CHECK((int16_t)qnn_rd16(p + 12 + 2 * 511) >= 16384 && (int16_t)qnn_rd16(p + 12 + 2 * 512) >= 16384,
                      QNN_E_PARAM);
            }
        } else {
            CHECK(tout.zp == -128, QNN_E_PARAM);
            /* Only diffs >= diff_min (and >= -255) get shifted left: that product must fit int32. */
            int64_t reach = a->diff_min < -255 ? 255 : -(int64_t)a->diff_min;
            CHECK(a->input_shift >= 0 && a->input_shift <= 31 && a->diff_min <= 0, QNN_E_PARAM);
            CHECK((reach << a->input_shift) <= INT32_MAX, QNN_E_PARAM);
        }
        return QNN_OK;
    }
    case QNN_OP_REQUANTIZE: {
        qnn_requant_args *a = &d->u.requant;
        CHECK(op.n_in == 1 && is_act(&tin) && (tin.type == QNN_T_INT8 || tin.type == QNN_T_INT16), QNN_E_OP);
        CHECK(elem_count(&sin) == elem_count(&sout), QNN_E_SHAPE);
        CHECK(op.params_size == 8, QNN_E_PARAM);
        a->input = tensor_data(blob, arena, &tin);
        a->output = (void *)(uintptr_t)tensor_data(blob, arena, &tout);
        a->size = elem_count(&sout);
        a->input_zp = tin.zp;
        a->output_zp = tout.zp;
        a->multiplier = qnn_rdi32(p);
        a->shift = qnn_rdi32(p + 4);
        a->in16 = tin.type == QNN_T_INT16;
        a->out16 = tout.type == QNN_T_INT16;
        CHECK(a->multiplier >= 0 && a->shift >= -31 && a->shift <= 30, QNN_E_PARAM);
        return QNN_OK;
    }
    default:
        return QNN_E_OP;
    }
}

#undef CHECK
#define CHECK(cond, err)                                                                                     \
    do {                                                                                                     \
        if (!(cond)) {                                                                                       \
            return (err);                                                                                    \
        }                                                                                                    \
    } while (0)

static int region_ok(uint32_t off, uint32_t len, uint32_t size)
{
    return off >= QNN_HEADER_SIZE && off <= size && len <= size - off;
}

static qnn_status validate_tensor(uint32_t size, uint32_t arena_size, const qnn_tensor_rec *t)
{
    int es = elem_size(t->type);
    CHECK(es != 0 && t->rank >= 1 && t->rank <= 4 && t->storage <= 1, QNN_E_TENSOR);
    uint64_t count = 1;
    for (int i = 0; i < 4; ++i) {
        if (i < t->rank) {
            CHECK(t->dims[i] >= 1 && t->dims[i] <= 65535, QNN_E_TENSOR);
            count *= (uint64_t)t->dims[i];
        } else {
            CHECK(t->dims[i] == 1, QNN_E_TENSOR);
        }
    }
    CHECK(count * (uint64_t)es == t->size, QNN_E_TENSOR);
    if (t->storage == QNN_STORAGE_ARENA) {
        CHECK(t->type == QNN_T_INT8 || t->type == QNN_T_INT16, QNN_E_TENSOR);
        CHECK(t->offset % 4u == 0, QNN_E_ALIGNMENT);
        CHECK(t->offset <= arena_size && t->size <= arena_size - t->offset, QNN_E_ARENA);
    } else {
        CHECK(t->offset % (uint32_t)es == 0, QNN_E_ALIGNMENT);
        CHECK(region_ok(t->offset, t->size, size), QNN_E_BOUNDS);
    }
    if (t->type == QNN_T_INT8) {
        CHECK(t->zp >= -128 && t->zp <= 127, QNN_E_TENSOR);
    } else if (t->type == QNN_T_INT16) {
        CHECK(t->zp >= -32768 && t->zp <= 32767, QNN_E_TENSOR);
    } else {
        CHECK(t->zp == 0, QNN_E_TENSOR);
    }
    return QNN_OK;
}

static int overlaps(const qnn_tensor_rec *a, const qnn_tensor_rec *b)
{
    return a->offset < b->offset + b->size && b->offset < a->offset + a->size;
}

qnn_status qnn_blob_validate(const void *blob_v, size_t size_in, qnn_blob_info *info)
{
    const uint8_t *blob = (const uint8_t *)blob_v;
    CHECK(blob != NULL, QNN_E_NULL);
    CHECK(size_in >= QNN_HEADER_SIZE, QNN_E_TRUNCATED);
    CHECK(memcmp(blob, "QNNB", 4) == 0, QNN_E_MAGIC);
    CHECK(qnn_rd16(blob + QNN_H_VERSION) == QNN_BLOB_VERSION, QNN_E_VERSION);
    CHECK(qnn_rd16(blob + QNN_H_HEADER_SIZE) == QNN_HEADER_SIZE, QNN_E_VERSION);
    uint32_t size = qnn_rd32(blob + QNN_H_TOTAL_SIZE);
    CHECK(size_in <= UINT32_MAX && size == (uint32_t)size_in, QNN_E_TRUNCATED);
    CHECK(((uintptr_t)blob % 8u) == 0, QNN_E_ALIGNMENT);
    CHECK(qnn_crc32(blob, size, QNN_H_CRC) == qnn_rd32(blob + QNN_H_CRC), QNN_E_CHECKSUM);

    unsigned tensor_count = qnn_rd16(blob + QNN_H_TENSOR_COUNT);
    unsigned op_count = qnn_rd16(blob + QNN_H_OP_COUNT);
    CHECK(tensor_count <= QNN_MAX_TENSORS && op_count <= QNN_MAX_OPS, QNN_E_LIMIT);
    CHECK(tensor_count >= 2 && op_count >= 1, QNN_E_GRAPH);
    uint32_t tt = qnn_rd32(blob + QNN_H_TENSOR_TABLE), ot = qnn_rd32(blob + QNN_H_OP_TABLE);
    uint32_t it = qnn_rd32(blob + QNN_H_INPUT_TABLE), st = qnn_rd32(blob + QNN_H_SQUEEZE_TABLE);
    CHECK(region_ok(tt, tensor_count * QNN_TENSOR_REC_SIZE, size) && region_ok(ot, op_count * QNN_OP_REC_SIZE, size) &&
              region_ok(it, 2u * QNN_INPUT_TABLE_ENTRIES, size) && region_ok(st, 2u * QNN_SQUEEZE_TABLE_ENTRIES + 4u * QNN_SQUEEZE_BOUND_ENTRIES, size),
          QNN_E_BOUNDS);
    CHECK(tt % 4u == 0 && ot % 4u == 0 && it % 4u == 0 && st % 4u == 0, QNN_E_ALIGNMENT);
    uint8_t precision = blob[QNN_H_PRECISION];
    CHECK(precision == 1 || precision == 2, QNN_E_PARAM);
    uint32_t arena_size = qnn_rd32(blob + QNN_H_ARENA_SIZE);
    CHECK(arena_size <= QNN_ARENA_SIZE, QNN_E_ARENA_TOO_SMALL);

    qnn_tensor_rec t, u;
    for (unsigned i = 0; i < tensor_count; ++i) {
        qnn_read_tensor(blob, i, &t);
        qnn_status s = validate_tensor(size, arena_size, &t);
        if (s != QNN_OK) {
            return s;
        }
    }

    unsigned in_idx = qnn_rd16(blob + QNN_H_INPUT), out_idx = qnn_rd16(blob + QNN_H_OUTPUT);
    CHECK(in_idx < tensor_count && out_idx < tensor_count && in_idx != out_idx, QNN_E_GRAPH);
    uint8_t act_type = precision == 2 ? QNN_T_INT16 : QNN_T_INT8;
    qnn_tensor_rec tin, tout;
    qnn_read_tensor(blob, in_idx, &tin);
    qnn_read_tensor(blob, out_idx, &tout);
    CHECK(tin.storage == QNN_STORAGE_ARENA && tout.storage == QNN_STORAGE_ARENA, QNN_E_GRAPH);
    CHECK(tin.type == act_type && tin.rank == 4 && tin.dims[0] == 1, QNN_E_SHAPE);
    CHECK(tin.size / (uint32_t)elem_size(tin.type) <= QNN_MAX_INPUT_BYTES, QNN_E_LIMIT);
    CHECK(tout.size / (uint32_t)elem_size(tout.type) <= QNN_MAX_OUTPUTS, QNN_E_LIMIT);

    int32_t qmin = precision == 2 ? INT16_MIN : INT8_MIN, qmax = precision == 2 ? INT16_MAX : INT8_MAX;
    for (unsigned i = 0; i < QNN_INPUT_TABLE_ENTRIES; ++i) {
        int16_t v = (int16_t)qnn_rd16(blob + it + 2 * i);
        CHECK(v >= qmin && v <= qmax, QNN_E_PARAM);
    }
    for (unsigned i = 0; i < QNN_SQUEEZE_TABLE_ENTRIES; ++i) {
        int16_t v = (int16_t)qnn_rd16(blob + st + 2 * i);
        CHECK(v >= qmin && v <= qmax, QNN_E_PARAM);
    }
    /* Tensor bit-depth boundaries: per b, 2^b - 1 non-decreasing values in [qmin, qmax + 1], then qmax + 1. */
    const uint32_t bt = st + 2u * QNN_SQUEEZE_TABLE_ENTRIES;
    for (unsigned bits = 1; bits <= 8; ++bits) {
        const uint32_t first = (1u << bits) - 2u, levels = (1u << bits) - 1u;
        int32_t prev = qmin;
        for (uint32_t j = 0; j <= levels; ++j) {
            int32_t v = (int32_t)qnn_rd32(blob + bt + 4u * (first + j));
            CHECK(v >= prev && v <= qmax + 1 && (j < levels || v == qmax + 1), QNN_E_PARAM);
            prev = v;
        }
    }

    /* Graph: def[t] = op writing t (-1 for the model input), last[t] = last op reading t. */
    int16_t def[QNN_MAX_TENSORS], last[QNN_MAX_TENSORS];
    for (unsigned i = 0; i < tensor_count; ++i) {
        def[i] = -2;
        last[i] = -2;
    }
    def[in_idx] = -1;
    for (unsigned i = 0; i < op_count; ++i) {
        qnn_decoded_op d;
        qnn_status s = qnn_decode_op(blob, size, i, 1, NULL, &d);
        if (s != QNN_OK) {
            return s;
        }
        qnn_op_rec op;
        qnn_read_op(blob, i, &op);
        for (unsigned k = 0; k < op.n_in; ++k) {
            if (op.in[k] == QNN_NO_TENSOR) {
                continue;
            }
            qnn_read_tensor(blob, op.in[k], &t);
            if (t.storage == QNN_STORAGE_ARENA) {
                CHECK(def[op.in[k]] != -2, QNN_E_GRAPH); /* read before written */
                last[op.in[k]] = (int16_t)i;
            }
        }
        CHECK(def[op.out] == -2, QNN_E_GRAPH); /* written twice, or the model input overwritten */
        def[op.out] = (int16_t)i;
        if (last[op.out] < (int16_t)i) {
            last[op.out] = (int16_t)i;
        }
    }
    CHECK(def[out_idx] >= 0, QNN_E_GRAPH);
    last[out_idx] = (int16_t)op_count;
    if (last[in_idx] < -1) {
        last[in_idx] = -1;
    }

    /* Arena plan: activations alive at the same time must not share bytes. */
    for (unsigned i = 0; i < tensor_count; ++i) {
        qnn_read_tensor(blob, i, &t);
        if (t.storage != QNN_STORAGE_ARENA || def[i] == -2) {
            continue; /* constants, and activations no op touches */
        }
        for (unsigned j = i + 1; j < tensor_count; ++j) {
            qnn_read_tensor(blob, j, &u);
            if (u.storage != QNN_STORAGE_ARENA || def[j] == -2) {
                continue;
            }
            int live_together = def[i] <= last[j] && def[j] <= last[i];
            if (!live_together || !overlaps(&t, &u)) {
                continue;
            }
            /* In-place RESHAPE: output exactly on its input. */
            qnn_op_rec op;
            int exempt = 0;
            if (t.offset == u.offset && t.size == u.size) {
                if (def[j] >= 0) {
                    qnn_read_op(blob, (unsigned)def[j], &op);
                    exempt |= op.kind == QNN_OP_RESHAPE && op.in[0] == i;
                }
                if (def[i] >= 0) {
                    qnn_read_op(blob, (unsigned)def[i], &op);
                    exempt |= op.kind == QNN_OP_RESHAPE && op.in[0] == j;
                }
            }
            CHECK(exempt, QNN_E_ARENA);
        }
    }

    if (info) {
        memset(info, 0, sizeof *info);
        memcpy(info->model_hash, blob + QNN_H_HASH, 16);
        memcpy(info->name, blob + QNN_H_NAME, 32);
        info->name[32] = '\0';
        info->precision = precision;
        info->tensor_count = (uint16_t)tensor_count;
        info->op_count = (uint16_t)op_count;
        info->arena_size = arena_size;
        info->input_h = (uint16_t)tin.dims[1];
        info->input_w = (uint16_t)tin.dims[2];
        info->input_c = (uint16_t)tin.dims[3];
        info->input_bytes = (uint32_t)tin.dims[1] * (uint32_t)tin.dims[2] * (uint32_t)tin.dims[3];
        info->output_count = (uint16_t)(tout.size / (uint32_t)elem_size(tout.type));
        info->output_type = tout.type;
    }
    return QNN_OK;
}
