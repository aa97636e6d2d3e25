#include "blob_builder.h"

#include <math.h>
#include <string.h>

#include "../core/src/qnn_internal.h"

void qb_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

void qb_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static int type_size(uint8_t t)
{
    return t == 1 ? 1 : t == 2 ? 2 : t == 3 ? 4 : 8;
}

void qb_init(qb_builder *b, uint8_t precision)
{
    memset(b, 0, sizeof *b);
    b->precision = precision;
    qb_default_tables(b);
}

static int add_tensor(qb_builder *b, uint8_t type, int rank, const int32_t *dims, int32_t zp, uint8_t storage)
{
    qb_tensor *t = &b->tensors[b->n_tensors];
    t->type = type;
    t->rank = (uint8_t)rank;
    t->storage = storage;
    uint32_t count = 1;
    for (int i = 0; i < 4; ++i) {
        t->dims[i] = i < rank ? dims[i] : 1;
        count *= (uint32_t)t->dims[i];
    }
    t->zp = zp;
    t->size = count * (uint32_t)type_size(type);
    return b->n_tensors++;
}

int qb_act(qb_builder *b, uint8_t type, int rank, const int32_t *dims, int32_t zp, uint32_t arena_offset)
{
    int i = add_tensor(b, type, rank, dims, zp, 0);
    b->tensors[i].offset = arena_offset;
    return i;
}

static uint32_t append(qb_builder *b, const void *data, uint32_t size)
{
    b->data_len = (b->data_len + 7u) & ~7u;
    uint32_t off = b->data_len;
    memcpy(b->data + off, data, size);
    b->data_len += size;
    return off;
}

int qb_const(qb_builder *b, uint8_t type, int rank, const int32_t *dims, int32_t zp, const void *data)
{
    int i = add_tensor(b, type, rank, dims, zp, 1);
    b->tensors[i].offset = append(b, data, b->tensors[i].size);
    return i;
}

int qb_op_raw(qb_builder *b, uint8_t kind, int n_in, int in0, int in1, int in2, int out, const void *params,
              uint32_t size)
{
    qb_op_rec *o = &b->ops[b->n_ops];
    o->kind = kind;
    o->n_in = (uint8_t)n_in;
    int ins[3] = {in0, in1, in2};
    for (int i = 0; i < 3; ++i) {
        o->in[i] = (i < n_in && ins[i] >= 0) ? (uint16_t)ins[i] : 0xFFFFu;
    }
    o->out = (uint16_t)out;
    o->params_size = size;
    o->params_offset = size ? append(b, params, size) : 0xFFFFFFFFu;
    return b->n_ops++;
}

int qb_op(qb_builder *b, uint8_t kind, int n_in, int in0, int in1, int in2, int out, const int32_t *params, int n_words)
{
    return qb_op_raw(b, kind, n_in, in0, in1, in2, out, params, (uint32_t)n_words * 4u);
}

void qb_default_tables(qb_builder *b)
{
    for (int p = 0; p < 256; ++p) {
        b->input_table[p] = b->precision == 2 ? (int16_t)lround(p / 255.0 * 32767.0) : (int16_t)(p - 128);
    }
    for (int bits = 1; bits <= 7; ++bits) {
        int levels = (1 << bits) - 1;
        for (int k = 0; k <= levels; ++k) {
            double x = (double)k / levels;
            b->squeeze_table[(1 << bits) - 2 + k] =
                b->precision == 2 ? (int16_t)lround(x * 32767.0) : (int16_t)(lround(x * 255.0) - 128);
        }
    }
    /* Boundary j of b bits: the smallest q whose pixel value (q / 32767 or q + 128, in pixel units) reaches
     * 255 (j + 1/2) / L; qmax + 1 where none does, and in each b's last slot. */
    const int32_t qmin = b->precision == 2 ? -32768 : -128, qmax = b->precision == 2 ? 32767 : 127;
    for (int bits = 1; bits <= 8; ++bits) {
        int levels = (1 << bits) - 1;
        for (int j = 0; j <= levels; ++j) {
            int32_t q = qmin;
            double edge = 255.0 * (j + 0.5) / levels;
            while (j < levels && q <= qmax && (b->precision == 2 ? q * 255.0 / 32767.0 : q + 128.0) < edge) {
                ++q;
            }
            b->squeeze_bounds[(1 << bits) - 2 + j] = j < levels ? q : qmax + 1;
        }
    }
}

void qb_fix_crc(qb_builder *b)
{
    qb_put32(b->blob + QNN_H_CRC, qnn_crc32(b->blob, b->blob_len, QNN_H_CRC));
}

uint32_t qb_finish(qb_builder *b)
{
    uint8_t *o = b->blob;
    memset(o, 0, sizeof b->blob);
    uint32_t pos = QNN_HEADER_SIZE;
    b->tensor_table = pos;
    pos += (uint32_t)b->n_tensors * QNN_TENSOR_REC_SIZE;
    b->op_table = pos;
    pos += (uint32_t)b->n_ops * QNN_OP_REC_SIZE;
    pos = (pos + 7u) & ~7u;
    b->input_table_off = pos;
    pos += 512;
    b->squeeze_table_off = pos;
    pos += 508 + 4 * 510;
    pos = (pos + 7u) & ~7u;
    b->data_base = pos;
    pos += b->data_len;
    b->blob_len = pos;

    memcpy(o, "QNNB", 4);
    qb_put16(o + QNN_H_VERSION, QNN_BLOB_VERSION);
    qb_put16(o + QNN_H_HEADER_SIZE, QNN_HEADER_SIZE);
    qb_put32(o + QNN_H_TOTAL_SIZE, b->blob_len);
    for (int i = 0; i < 16; ++i) {
        o[QNN_H_HASH + i] = (uint8_t)(0xA0 + i);
    }
    qb_put16(o + QNN_H_TENSOR_COUNT, (uint16_t)b->n_tensors);
    qb_put16(o + QNN_H_OP_COUNT, (uint16_t)b->n_ops);
    qb_put16(o + QNN_H_INPUT, b->input);
    qb_put16(o + QNN_H_OUTPUT, b->output);
    qb_put32(o + QNN_H_ARENA_SIZE, b->arena_size);
    qb_put32(o + QNN_H_TENSOR_TABLE, b->tensor_table);
    qb_put32(o + QNN_H_OP_TABLE, b->op_table);
    qb_put32(o + QNN_H_INPUT_TABLE, b->input_table_off);
    qb_put32(o + QNN_H_SQUEEZE_TABLE, b->squeeze_table_off);
    o[QNN_H_PRECISION] = b->precision;
    memcpy(o + QNN_H_NAME, "test-model", 10);

    for (int i = 0; i < b->n_tensors; ++i) {
        const qb_tensor *t = &b->tensors[i];
        uint8_t *p = o + b->tensor_table + (uint32_t)i * QNN_TENSOR_REC_SIZE;
        p[0] = t->type;
        p[1] = t->rank;
        p[2] = t->storage;
        for (int k = 0; k < 4; ++k) {
            qb_put32(p + 4 + 4 * k, (uint32_t)t->dims[k]);
        }
        qb_put32(p + 20, (uint32_t)t->zp);
        qb_put32(p + 24, t->storage ? t->offset + b->data_base : t->offset);
        qb_put32(p + 28, t->size);
    }
    for (int i = 0; i < b->n_ops; ++i) {
        const qb_op_rec *op = &b->ops[i];
        uint8_t *p = o + b->op_table + (uint32_t)i * QNN_OP_REC_SIZE;
        p[0] = op->kind;
        p[1] = op->n_in;
        for (int k = 0; k < 3; ++k) {
            qb_put16(p + 4 + 2 * k, op->in[k]);
        }
        qb_put16(p + 10, op->out);
        qb_put32(p + 12, op->params_size ? op->params_offset + b->data_base : 0);
        qb_put32(p + 16, op->params_size);
    }
    for (int i = 0; i < 256; ++i) {
        qb_put16(o + b->input_table_off + 2 * i, (uint16_t)b->input_table[i]);
    }
    for (int i = 0; i < 254; ++i) {
        qb_put16(o + b->squeeze_table_off + 2 * i, (uint16_t)b->squeeze_table[i]);
    }
    for (int i = 0; i < 510; ++i) {
        qb_put32(o + b->squeeze_table_off + 508 + 4 * i, (uint32_t)b->squeeze_bounds[i]);
    }
    memcpy(o + b->data_base, b->data, b->data_len);
    qb_fix_crc(b);
    return b->blob_len;
}
