/* Blob record decoding shared by the validator and the executor (layout: shared/model-blob/SPEC.md). */
#ifndef QNN_INTERNAL_H
#define QNN_INTERNAL_H

#include <stdint.h>
#include <string.h>

#include "qnn/qnn.h"
#include "qnn/qnn_kernels.h"

#define QNN_HEADER_SIZE 96u
#define QNN_TENSOR_REC_SIZE 32u
#define QNN_OP_REC_SIZE 20u
#define QNN_INPUT_TABLE_ENTRIES 256u
#define QNN_SQUEEZE_TABLE_ENTRIES 254u
/* After the squeeze table's 254 i16 levels: 510 i32 tensor bit-depth boundaries (b = 1..8), blob version 2. */
#define QNN_SQUEEZE_BOUND_ENTRIES 510u
#define QNN_BLOB_VERSION 2u
#define QNN_LUT_ENTRIES 513
#define QNN_NO_TENSOR 0xFFFFu

enum { QNN_T_INT8 = 1, QNN_T_INT16 = 2, QNN_T_INT32 = 3, QNN_T_INT64 = 4 };
enum { QNN_STORAGE_ARENA = 0, QNN_STORAGE_CONST = 1 };
enum {
    QNN_OP_CONV_2D = 1,
    QNN_OP_DEPTHWISE_CONV_2D = 2,
    QNN_OP_FULLY_CONNECTED = 3,
    QNN_OP_AVERAGE_POOL_2D = 4,
    QNN_OP_MAX_POOL_2D = 5,
    QNN_OP_ADD = 6,
    QNN_OP_RESHAPE = 7,
    QNN_OP_PAD = 8,
    QNN_OP_SOFTMAX = 9,
    QNN_OP_REQUANTIZE = 10,
};

/* Header field offsets. */
enum {
    QNN_H_MAGIC = 0,
    QNN_H_VERSION = 4,
    QNN_H_HEADER_SIZE = 6,
    QNN_H_TOTAL_SIZE = 8,
    QNN_H_CRC = 12,
    QNN_H_HASH = 16,
    QNN_H_TENSOR_COUNT = 32,
    QNN_H_OP_COUNT = 34,
    QNN_H_INPUT = 36,
    QNN_H_OUTPUT = 38,
    QNN_H_ARENA_SIZE = 40,
    QNN_H_TENSOR_TABLE = 44,
    QNN_H_OP_TABLE = 48,
    QNN_H_INPUT_TABLE = 52,
    QNN_H_SQUEEZE_TABLE = 56,
    QNN_H_PRECISION = 60,
    QNN_H_NAME = 64,
};

static inline uint16_t qnn_rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t qnn_rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline int32_t qnn_rdi32(const uint8_t *p)
{
    return (int32_t)qnn_rd32(p);
}

typedef struct qnn_tensor_rec {
    uint8_t type, rank, storage;
    int32_t dims[4];
    int32_t zp;
    uint32_t offset, size;
} qnn_tensor_rec;

typedef struct qnn_op_rec {
    uint8_t kind, n_in;
    uint16_t in[3];
    uint16_t out;
    uint32_t params_offset, params_size;
} qnn_op_rec;

void qnn_read_tensor(const uint8_t *blob, unsigned index, qnn_tensor_rec *t);
void qnn_read_op(const uint8_t *blob, unsigned index, qnn_op_rec *op);
qnn_shape qnn_tensor_shape(const qnn_tensor_rec *t);
uint32_t qnn_crc32(const uint8_t *data, uint32_t size, uint32_t skip_offset);

typedef struct qnn_pad_args {
    const void *input;
    qnn_shape in;
    void *output;
    qnn_shape out;
    int32_t before[4];
    int32_t value;
    int elem_size;
} qnn_pad_args;

typedef struct qnn_requant_args {
    const void *input;
    void *output;
    int32_t size, input_zp, output_zp, multiplier, shift;
    int in16, out16;
} qnn_requant_args;

typedef struct qnn_copy_args {
    const void *input;
    void *output;
    uint32_t bytes;
} qnn_copy_args;

typedef struct qnn_decoded_op {
    uint8_t kind;
    uint8_t is16; /* activations are int16 */
    union {
        qnn_conv_args conv;
        qnn_pool_args pool;
        qnn_add_args add;
        qnn_softmax_args softmax;
        qnn_pad_args pad;
        qnn_requant_args requant;
        qnn_copy_args copy;
    } u;
} qnn_decoded_op;

/* Decodes op `index` into kernel arguments. With `validate`, checks everything about the op
 * (types, shapes, parameters, bounds); arena == NULL leaves data pointers unset. */
qnn_status qnn_decode_op(const uint8_t *blob, uint32_t size, unsigned index, int validate, uint8_t *arena,
                         qnn_decoded_op *d);

uint8_t *qnn_arena_base(void);

#endif
