/* QNN device core: public API. Blob format: shared/model-blob/SPEC.md.
 * No malloc anywhere: one static arena, one loaded model at a time per qnn_model. */
#ifndef QNN_QNN_H
#define QNN_QNN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef QNN_ARENA_SIZE
#define QNN_ARENA_SIZE (160u * 1024u)
#endif
#ifndef QNN_MAX_INPUT_BYTES
#define QNN_MAX_INPUT_BYTES (96u * 96u * 3u)
#endif
#define QNN_MAX_TENSORS 256
#define QNN_MAX_OPS 256
#define QNN_MAX_OUTPUTS 64
#define QNN_MAX_SQUEEZERS 4

typedef enum qnn_status {
    QNN_OK = 0,
    QNN_E_NULL = 1,
    QNN_E_TRUNCATED = 2,
    QNN_E_MAGIC = 3,
    QNN_E_VERSION = 4,
    QNN_E_CHECKSUM = 5,
    QNN_E_ALIGNMENT = 6,
    QNN_E_BOUNDS = 7,
    QNN_E_TENSOR = 8,
    QNN_E_OP = 9,
    QNN_E_SHAPE = 10,
    QNN_E_PARAM = 11,
    QNN_E_GRAPH = 12,
    QNN_E_ARENA = 13,
    QNN_E_ARENA_TOO_SMALL = 14,
    QNN_E_INPUT = 15,
    QNN_E_SQUEEZE = 16,
    QNN_E_NOT_LOADED = 17,
    QNN_E_BACKEND = 18,
    QNN_E_LIMIT = 19,
} qnn_status;

const char *qnn_status_name(qnn_status s);

/* What a valid blob says about itself (filled by qnn_blob_validate). */
typedef struct qnn_blob_info {
    uint8_t model_hash[16];
    char name[33];
    uint8_t precision; /* 1 int8, 2 int16 */
    uint16_t tensor_count, op_count;
    uint32_t arena_size;
    uint32_t input_bytes;   /* raw pixels the model takes (H*W*C) */
    uint16_t input_h, input_w, input_c;
    uint16_t output_count;  /* elements of the output tensor */
    uint8_t output_type;    /* 1 int8, 2 int16 */
} qnn_blob_info;

/* Checks everything in shared/model-blob/SPEC.md; touches no global state (fuzzed). */
qnn_status qnn_blob_validate(const void *blob, size_t size, qnn_blob_info *info);

struct qnn_kernels;

/* A loaded (validated) model. Fields are private to the core. */
typedef struct qnn_model {
    const uint8_t *blob;
    uint32_t size;
    const struct qnn_kernels *kernels;
    qnn_blob_info info;
    uint8_t loaded;
} qnn_model;

/* Validates the blob, then binds it to the static arena and to a kernel backend (NULL = default:
 * CMSIS-NN when built with it, else portable). The blob must stay valid while the model is used. */
qnn_status qnn_model_load(qnn_model *m, const void *blob, size_t size, const struct qnn_kernels *kernels);
const char *qnn_backend_name(const qnn_model *m);

typedef enum qnn_squeeze_kind {
    QNN_SQUEEZE_NONE = 0,
    QNN_SQUEEZE_BIT_DEPTH = 1, /* param = bits, 1..8 */
    QNN_SQUEEZE_MEDIAN = 2,    /* param = window k, 2..7 */
} qnn_squeeze_kind;

typedef struct qnn_squeezer {
    uint8_t kind;  /* qnn_squeeze_kind */
    uint8_t param;
} qnn_squeezer;

/* Cycle counts of one run (unit: whatever qnn_platform_cycles counts). */
typedef struct qnn_stage_cycles {
    uint32_t squeeze, quantize, inference;
} qnn_stage_cycles;

typedef struct qnn_run_result {
    int16_t label;          /* argmax of the output, ties to the lowest index */
    uint8_t output_type;    /* 1 int8, 2 int16 */
    uint16_t output_count;
    int16_t output[QNN_MAX_OUTPUTS]; /* raw quantized outputs (int8 widened) */
    qnn_stage_cycles cycles;
} qnn_run_result;

/* Squeeze (optional) -> quantize -> infer on raw HWC pixels. op_cycles: NULL, or op_count entries
 * receiving each operator's cycles. */
qnn_status qnn_run(qnn_model *m, const uint8_t *pixels, size_t n, const qnn_squeezer *sq,
                   qnn_run_result *res, uint32_t *op_cycles);

/* Infers on an already quantized input tensor (input_bytes elements of the model's activation type,
 * int16 little-endian; bytes = input_bytes x precision), skipping the input table: for hosts that send
 * quantized tensors (adversarial examples off the pixel grid). cycles.quantize is the copy. */
qnn_status qnn_run_tensor(qnn_model *m, const void *data, size_t bytes, qnn_run_result *res, uint32_t *op_cycles);

/* What an input is: raw HWC pixels (n = input_bytes, quantized through the input table) or the model's
 * quantized input tensor (as qnn_run_tensor). */
typedef enum qnn_input_kind {
    QNN_INPUT_PIXELS = 0,
    QNN_INPUT_TENSOR = 1,
} qnn_input_kind;

/* Squeeze (optional, on pixels or on the tensor's values: SPEC.md) -> quantize -> infer. */
qnn_status qnn_run_input(qnn_model *m, qnn_input_kind kind, const void *data, size_t bytes, const qnn_squeezer *sq,
                         qnn_run_result *res, uint32_t *op_cycles);

/* Squeezes (optional) and quantizes an input into the model's input tensor in the arena, without inferring;
 * cycles (may be NULL) gets the squeeze and quantize stages. qnn_input_data then points at the tensor. */
qnn_status qnn_prepare_input(qnn_model *m, qnn_input_kind kind, const void *data, size_t bytes, const qnn_squeezer *sq,
                             qnn_stage_cycles *cycles);
const void *qnn_input_data(const qnn_model *m);

typedef struct qnn_detect_result {
    qnn_run_result raw;                  /* the unsqueezed run (raw.cycles: its quantize and inference) */
    int32_t l1[QNN_MAX_SQUEEZERS];       /* L1 of raw quantized outputs vs each squeezed run */
    int16_t squeezed_label[QNN_MAX_SQUEEZERS];
    int32_t score;                       /* max of l1 */
    uint8_t adversarial;                 /* score > threshold */
    qnn_stage_cycles sq_cycles[QNN_MAX_SQUEEZERS]; /* each squeezed run: squeeze, quantize, inference */
    uint32_t compare_cycles;             /* the L1 distances and the threshold decision */
    uint32_t total_cycles;               /* the whole call: >= the sum of the stages above */
} qnn_detect_result;

/* Feature Squeezing detector (SPEC.md "Detector") on pixels, and on pixels or a quantized tensor. */
qnn_status qnn_detect(qnn_model *m, const uint8_t *pixels, size_t n, const qnn_squeezer *sqs,
                      unsigned n_sq, int32_t threshold, qnn_detect_result *res);
qnn_status qnn_detect_input(qnn_model *m, qnn_input_kind kind, const void *data, size_t bytes, const qnn_squeezer *sqs,
                            unsigned n_sq, int32_t threshold, qnn_detect_result *res);

/* Building blocks (used by qnn_run; exposed for tests and the protocol). */
qnn_status qnn_squeeze(const qnn_model *m, const qnn_squeezer *sq, const uint8_t *pixels, uint8_t *out);
qnn_status qnn_quantize_input(qnn_model *m, const qnn_squeezer *sq, const uint8_t *squeezed);
qnn_status qnn_invoke(qnn_model *m, uint32_t *op_cycles);
const void *qnn_output_data(const qnn_model *m);

/* Monotonic counter mod 2^32, provided by the shell (DWT, SysTick icount on QEMU, ns on hosts). */
uint32_t qnn_platform_cycles(void);

#ifdef __cplusplus
}
#endif
#endif
