/* Board half of the QnnLab.Nano interop on the NUCLEO-L552ZE-Q (declared in
 * firmware/nanoframework/interop/qnn_nano_port.h): the executor the protocol engine drives (the device
 * core through its qnn_device_t adapter, firmware/protocol/core), the model region it lists, the boot id,
 * and the cycle counter the core times with.
 *
 * Models: the blob flashed at QNN_NANO_MODEL_REGION (flash-layout.md) is registered at every start; an
 * erased or invalid region is left out (the host then sees no model in INFO). No upload storage: next to
 * nanoCLR, its managed heap and the tensor arena, 256 KiB of SRAM has no room for a second copy of a blob,
 * so UPLOAD is not offered and QnnDevice.LoadModel reports NotSupported. */
#include <stdint.h>
#include <string.h>

#include "hal.h"
#include "qnn_core_device.h"
#include "qnn_nano_port.h"

#ifndef QNN_NANO_MODEL_REGION
#define QNN_NANO_MODEL_REGION 0x08050000u
#endif
#ifndef QNN_NANO_MODEL_REGION_BYTES
#define QNN_NANO_MODEL_REGION_BYTES (192u * 1024u)
#endif

/* Survives a reset (no-init RAM, .noinit section in the nanoCLR linker script). */
static uint32_t s_boot_counter __attribute__((section(".noinit")));

static qnn_device_t s_device;
static qnn_core_device_t s_core;

/* The blob's total_size (header offset 8, shared/model-blob/SPEC.md), bounded by the region. */
static uint32_t flashed_blob_bytes(const uint8_t *region)
{
    uint32_t size;
    memcpy(&size, region + 8, sizeof size); /* little-endian, as the Cortex-M33 */
    return size <= QNN_NANO_MODEL_REGION_BYTES ? size : QNN_NANO_MODEL_REGION_BYTES;
}

const qnn_device_t *qnn_nano_board_device(void)
{
    qnn_core_device_init(&s_core, &s_device, NULL, 0);
    s_core.info.board = "nucleo-l552ze-q-nanoframework";
    s_core.info.build_id = "qnn-nano " __DATE__ " " __TIME__;
    s_core.info.clock_hz = STM32_SYSCLK; /* 110 MHz */
    s_core.info.timing_unit = QNN_TIMING_CYCLES;
    s_core.info.timing_resolution = 1u;
    /* RESET: the port restarts the core once the answer has left through the managed pump. */
    s_core.on_reset = qnn_nano_on_reset_request;
    const uint8_t *region = (const uint8_t *)QNN_NANO_MODEL_REGION;
    (void)qnn_core_device_add_model(&s_core, region, flashed_blob_bytes(region)); /* validated; a bad blob is left out */
    return &s_device;
}

uint32_t qnn_nano_board_boot_id(void)
{
    /* Mixed with the DWT count at boot so a cold start (garbage counter) also differs. */
    s_boot_counter = s_boot_counter * 1664525u + 1013904223u + DWT->CYCCNT;
    return s_boot_counter == 0u ? 1u : s_boot_counter;
}

/* The device core's clock (qnn/qnn.h): DWT->CYCCNT, enabled here on first use. */
uint32_t qnn_platform_cycles(void)
{
    if ((DWT->CTRL & DWT_CTRL_CYCCNTENA_Msk) == 0u) {
        CoreDebug->DEMCR |= CoreDebug_DEMCR_TRCENA_Msk;
        DWT->CYCCNT = 0u;
        DWT->CTRL |= DWT_CTRL_CYCCNTENA_Msk;
    }
    return DWT->CYCCNT;
}
