/* The executor interface (qnn_device_api.h) over the device core (firmware/core): models are blobs
 * (shared/model-blob/SPEC.md) registered by the board or uploaded; the protocol's model hash is the
 * SHA-256 of the blob. Squeezing: one squeezer per run (bit depth or median); with the detector, both
 * configured squeezers and the core's integer L1 (output quantization steps) against the threshold. */
#ifndef QNN_CORE_DEVICE_H
#define QNN_CORE_DEVICE_H

#include "qnn/qnn.h"
#include "qnn_device_api.h"

#define QNN_CORE_DEVICE_MAX_MODELS 8

typedef struct {
    const uint8_t *blob;
    uint32_t size;
    qnn_blob_info info;
    uint8_t hash[QNN_HASH_BYTES];
} qnn_core_device_model_t;

typedef struct {
    qnn_board_info_t info; /* board fields; backend and arena are filled in */
    void (*on_reset)(void *hook_ctx);
    int (*on_set_baud)(void *hook_ctx, uint32_t baud);
    uint32_t cycles_to_unit; /* multiplies qnn_platform_cycles() counts into the timing unit (1 usually) */
    void *hook_ctx;

    qnn_core_device_model_t models[QNN_CORE_DEVICE_MAX_MODELS];
    int n_models;
    int fixed_models; /* registered by the board; the upload slot follows them */
    int selected;
    qnn_model model;
    qnn_squeeze_t squeeze;
    uint8_t *upload;       /* board-provided storage, 8-byte aligned */
    uint32_t upload_cap;
    uint8_t stage[QNN_MAX_INPUT_BYTES];
} qnn_core_device_t;

/* upload/upload_cap: RAM for uploaded blobs (NULL/0: no upload). */
void qnn_core_device_init(qnn_core_device_t *d, qnn_device_t *dev, uint8_t *upload, uint32_t upload_cap);
/* Registers a blob the board holds (flash, or a file the sim read); validates it. */
qnn_status qnn_core_device_add_model(qnn_core_device_t *d, const uint8_t *blob, uint32_t size);

#endif
