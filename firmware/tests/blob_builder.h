/* Test-side writer of model blobs (shared/model-blob/SPEC.md), so tests can build tiny models and
 * corrupt them field by field. Layout: header | tensors | ops | input table | squeeze table | data. */
#ifndef QNN_BLOB_BUILDER_H
#define QNN_BLOB_BUILDER_H

#include <stdint.h>

#define QB_MAX 64
#define QB_DATA_CAP (64 * 1024)

typedef struct qb_tensor {
    uint8_t type, rank, storage;
    int32_t dims[4];
    int32_t zp;
    uint32_t offset; /* arena offset, or data-region offset for constants */
    uint32_t size;
} qb_tensor;

typedef struct qb_op_rec {
    uint8_t kind, n_in;
    uint16_t in[3], out;
    uint32_t params_offset, params_size; /* data-region offset */
} qb_op_rec;

typedef struct qb_builder {
    qb_tensor tensors[QB_MAX];
    qb_op_rec ops[QB_MAX];
    int n_tensors, n_ops;
    uint8_t data[QB_DATA_CAP];
    uint32_t data_len;
    uint8_t precision;
    uint16_t input, output;
    uint32_t arena_size;
    int16_t input_table[256];
    int16_t squeeze_table[254];
    int32_t squeeze_bounds[510]; /* tensor bit-depth boundaries, b = 1..8 */
    /* Output of qb_finish: 8-aligned. */
    _Alignas(8) uint8_t blob[QB_DATA_CAP + 8192];
    uint32_t blob_len;
    uint32_t tensor_table, op_table, input_table_off, squeeze_table_off, data_base;
} qb_builder;

void qb_init(qb_builder *b, uint8_t precision);
/* Activation tensor at an arena offset. */
int qb_act(qb_builder *b, uint8_t type, int rank, const int32_t *dims, int32_t zp, uint32_t arena_offset);
/* Constant tensor; data copied (little-endian host assumed). */
int qb_const(qb_builder *b, uint8_t type, int rank, const int32_t *dims, int32_t zp, const void *data);
/* Op with params (n_words int32 values, or raw bytes via qb_op_raw). Inputs: -1 = absent. */
int qb_op(qb_builder *b, uint8_t kind, int n_in, int in0, int in1, int in2, int out, const int32_t *params, int n_words);
int qb_op_raw(qb_builder *b, uint8_t kind, int n_in, int in0, int in1, int in2, int out, const void *params,
              uint32_t size);
/* Input table: q = p - 128 (int8) or round(p / 255 * 32767) (int16) unless set by the caller. */
void qb_default_tables(qb_builder *b);
uint32_t qb_finish(qb_builder *b);
/* Recomputes the CRC after a test edits blob bytes. */
void qb_fix_crc(qb_builder *b);
void qb_put32(uint8_t *p, uint32_t v);
void qb_put16(uint8_t *p, uint16_t v);

#endif
