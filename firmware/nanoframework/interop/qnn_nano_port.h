/* The C half of the QnnLab.Nano interop: everything the nanoCLR native methods
 * (QnnLab_Nano_QnnLab_Nano_QnnDevice.cpp) call, in plain C11 so it builds and is tested on any host.
 * It drives the device core only through its public headers: the executor interface
 * (qnn_device_api.h), the protocol engine (qnn_protocol.h) and qnn_platform_cycles (qnn/qnn.h).
 *
 * Return convention of every int32_t function: >= 0 success (a count, a label, or 0),
 * < 0 failure: the executor's QNN_DEV_ERR_* codes, or the QNN_NANO_ERR_* codes below.
 * Mirrored in C# by QnnLab.Nano.QnnStatus. Single-threaded: nanoCLR calls natives from its one
 * interpreter thread. */
#ifndef QNN_NANO_PORT_H
#define QNN_NANO_PORT_H

#include <stdint.h>

#include "qnn_device_api.h"

#ifdef __cplusplus
extern "C" {
#endif

#define QNN_NANO_ERR_NOT_INITIALIZED (-101)
#define QNN_NANO_ERR_BUFFER_TOO_SMALL (-102)

/* Entries qnn_nano_model_info fills, in order: height, width, channels, n_outputs, precision
 * (1 int8, 2 int16), input_element_bytes, blob_bytes (QnnLab.Nano.QnnModelInfo). */
#define QNN_NANO_MODEL_FIELDS 7u
/* Entries qnn_nano_stage_cycles fills: the protocol's seven stages, then their sum (QnnStage). */
#define QNN_NANO_STAGE_FIELDS (QNN_STAGE_COUNT + 1u)

/* --- provided by the board (boards/nucleo-l552ze-q/nanoframework/qnn_nano_board.c) --- */

/* The executor the board runs: the device core's, with the board's model regions registered. */
const qnn_device_t *qnn_nano_board_device(void);
/* Nonzero and different from the previous boot's (SPEC.md "Resets"). */
uint32_t qnn_nano_board_boot_id(void);

/* --- provided by the port, for the board --- */

/* The executor's reset hook (qnn_core_device_t.on_reset): the protocol's RESET. The answer is still in
 * the transmit ring, which only the managed pump can drain; so the port restarts the device core and
 * the protocol engine (new boot id, BOOT frame, no model selected) once the pump has taken the answer,
 * and drops received bytes until then, as a board in reset would. nanoCLR itself keeps running. */
void qnn_nano_on_reset_request(void *hook_ctx);

/* --- called by the interop --- */

int32_t qnn_nano_init(void);
/* Upload path (as the protocol's UPLOAD): store the blob, hash it, commit and select it. */
int32_t qnn_nano_load_model(const uint8_t *blob, uint32_t len);
/* Selects the registered model whose blob is the len bytes at address (found by SHA-256). */
int32_t qnn_nano_select_model_at(uint32_t address, uint32_t len);
int32_t qnn_nano_model_info(int32_t *fields, uint32_t n_fields);
/* Returns the label and fills logits[0, n_outputs); QNN_NANO_ERR_BUFFER_TOO_SMALL (nothing run) when
 * logits_cap < n_outputs. */
int32_t qnn_nano_infer(const uint8_t *pixels, uint32_t len, int32_t *logits, uint32_t logits_cap);
/* threshold > 0 enables the detector; it is in the executor's score unit (SPEC.md SET_SQUEEZE: with
 * the device core, the L1 distance of the raw quantized outputs, in output quantization steps). */
int32_t qnn_nano_configure_squeezing(int32_t bit_depth, int32_t median_size, float threshold);
float qnn_nano_last_detector_score(void);
uint32_t qnn_nano_cycles(void);
int32_t qnn_nano_stage_cycles(uint32_t *cycles, uint32_t n);

/* Protocol engine, pull style for the managed pump: feed takes bytes only while the transmit
 * ring can hold a whole answer, so it may consume fewer than offered (back-pressure); poll
 * drains what the engine has written. */
int32_t qnn_nano_protocol_feed(const uint8_t *rx, uint32_t len);
int32_t qnn_nano_protocol_poll(uint8_t *tx, uint32_t cap);
/* Bytes the engine wrote while the ring was full (a bug if ever nonzero; for tests and STATS). */
uint32_t qnn_nano_tx_overflow_bytes(void);

#ifdef __cplusplus
}
#endif
#endif
