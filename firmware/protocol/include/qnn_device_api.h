/* The executor interface the protocol engine drives: what a board can run. The device core (model
 * executor, kernels, squeeze) implements it; fake/qnn_fake_device.c is a stand-in for tests and for
 * the board shells until the core is linked in. All calls come from the protocol engine's context
 * (the main loop), never from an interrupt. */
#ifndef QNN_DEVICE_API_H
#define QNN_DEVICE_API_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define QNN_HASH_BYTES 32u
#define QNN_STAGE_COUNT 7u
#define QNN_MODEL_NAME_MAX 31u

/* Timing units (SPEC.md "info"). */
#define QNN_TIMING_CYCLES 0u
#define QNN_TIMING_NS 1u
#define QNN_TIMING_INSTRUCTIONS 2u

/* Stages reported per inference (SPEC.md "results"); they do not overlap, and one that did not run is 0. */
#define QNN_STAGE_QUANTIZE 0u           /* every quantization of an input into the model's tensor */
#define QNN_STAGE_SQUEEZE_BIT_DEPTH 1u  /* the bit-depth squeezer */
#define QNN_STAGE_SQUEEZE_MEDIAN 2u     /* the median squeezer */
#define QNN_STAGE_INFERENCE 3u          /* the model on the input the label comes from */
#define QNN_STAGE_INFERENCE_BIT_DEPTH 4u /* detector: the model on the bit-depth-squeezed input */
#define QNN_STAGE_INFERENCE_MEDIAN 5u   /* detector: the model on the median-squeezed input */
#define QNN_STAGE_COMPARE 6u            /* detector: L1 distances and the threshold decision */

/* Executor results: 0 = success; these negative codes map to the protocol's status codes, any
 * other negative value is reported as EXECUTOR with the value. */
#define QNN_DEV_OK 0
#define QNN_DEV_ERR_NO_MODEL (-1)
#define QNN_DEV_ERR_UNKNOWN_MODEL (-2)
#define QNN_DEV_ERR_INPUT_SIZE (-3)
#define QNN_DEV_ERR_NOT_SUPPORTED (-4)
#define QNN_DEV_ERR_NO_SPACE (-5)
#define QNN_DEV_ERR_BAD_ARGUMENT (-6)

/* Capability bits the executor contributes (the protocol adds UPLOAD/BENCHMARK/RESET itself). */
#define QNN_CAP_UPLOAD (1u << 0)
#define QNN_CAP_SQUEEZE (1u << 1)
#define QNN_CAP_DETECTOR (1u << 2)
#define QNN_CAP_BENCHMARK (1u << 3)
#define QNN_CAP_SET_BAUD (1u << 4)
#define QNN_CAP_INPUT_TENSOR (1u << 5)
#define QNN_CAP_RESET (1u << 6)

typedef struct {
    const char *board;    /* e.g. "sim", "qemu-mps2-an505", "nucleo-l552ze-q" */
    const char *backend;  /* e.g. "portable", "cmsis-nn", "fake" */
    const char *build_id; /* e.g. git describe + build date */
    uint32_t clock_hz;
    uint8_t timing_unit;        /* QNN_TIMING_* */
    uint32_t timing_resolution; /* units per timer tick */
    uint32_t arena_bytes;
    uint32_t max_blob_bytes; /* upload storage; 0 = no upload */
    uint32_t capabilities;   /* QNN_CAP_* the executor/board supports */
    const uint32_t *bauds;   /* supported baud rates (none for a pty) */
    uint8_t n_bauds;
    uint32_t current_baud;
} qnn_board_info_t;

typedef struct {
    uint8_t hash[QNN_HASH_BYTES]; /* SHA-256 of the model blob */
    uint32_t blob_bytes;
    uint8_t precision; /* 1 int8, 2 int16 */
    uint16_t height, width, channels;
    uint8_t input_element_bytes;
    uint16_t n_outputs;
    uint8_t output_element_bytes;
    char name[QNN_MODEL_NAME_MAX + 1];
} qnn_model_desc_t;

typedef struct {
    uint8_t bit_depth;   /* 0 = off, else 1..7 */
    uint8_t median_size; /* 0/1 = off, else the square window */
    uint8_t detector;    /* 1 = run the detector (label from the original input) */
    float threshold;     /* detector L1 threshold */
} qnn_squeeze_t;

typedef struct {
    uint16_t label;
    uint8_t adversarial; /* detector verdict */
    float detector_score;
    uint64_t stage_time[QNN_STAGE_COUNT]; /* in the board's timing unit */
    uint16_t n_logits;
    uint8_t logit_bytes; /* 1, 2 or 4: the output tensor's element size */
    int32_t *logits;     /* filled by infer; capacity logits_cap (set by the caller) */
    uint16_t logits_cap;
} qnn_infer_result_t;

typedef struct qnn_device {
    void *ctx;
    void (*board_info)(void *ctx, qnn_board_info_t *out);
    int (*model_count)(void *ctx);
    int (*model_desc)(void *ctx, int index, qnn_model_desc_t *out);
    int (*select_model)(void *ctx, const uint8_t hash[QNN_HASH_BYTES]);
    /* 0 and *out filled when a model is selected, QNN_DEV_ERR_NO_MODEL otherwise. */
    int (*selected_model)(void *ctx, qnn_model_desc_t *out);
    int (*set_squeeze)(void *ctx, const qnn_squeeze_t *cfg);
    /* Staging buffer for inputs that span several frames (at least one model input). */
    uint8_t *(*input_buffer)(void *ctx, uint32_t *capacity);
    /* Runs the selected model on one input: pixels (HWC uint8) or, with is_tensor, the model's
     * quantized input tensor bytes. */
    int (*infer)(void *ctx, const uint8_t *input, uint32_t len, int is_tensor, qnn_infer_result_t *res);
    /* Upload storage: the protocol checks order, size and SHA-256; the executor stores the bytes
     * and on commit makes the blob a model (hash given) and selects it. NULL = no upload. */
    int (*upload_write)(void *ctx, uint32_t offset, const uint8_t *data, uint32_t len);
    int (*upload_commit)(void *ctx, uint32_t size, const uint8_t hash[QNN_HASH_BYTES]);
    /* Called after the RESET answer has been handed to tx: flush, then reset (NULL = no reset). */
    void (*reset)(void *ctx);
    /* Called after the SET_BAUD answer has been handed to tx: drain, then switch (NULL = none). */
    int (*set_baud)(void *ctx, uint32_t baud);
} qnn_device_t;

#ifdef __cplusplus
}
#endif
#endif
