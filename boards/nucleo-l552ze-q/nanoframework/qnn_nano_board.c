/* Board half of the QnnLab.Nano interop on the NUCLEO-L552ZE-Q (declared in
 * firmware/nanoframework/interop/qnn_nano_port.h): which executor the protocol engine drives, the
 * boot id, and the cycle counter the device core times with.
 *
 * Executor: the device core does not export a qnn_device_t adapter yet, so this board uses the
 * protocol's documented fake executor (firmware/protocol/fake) unless QNN_NANO_CORE_EXECUTOR names
 * the core's init function. That keeps the whole serial path testable end to end on the board. */
#include <stdint.h>

#include "hal.h"
#include "qnn_nano_port.h"
#include "qnn_fake_device.h"

/* Survives a reset (no-init RAM, .noinit section in the nanoCLR linker script). */
static uint32_t s_boot_counter __attribute__((section(".noinit")));

static qnn_device_t s_device;
static qnn_fake_device_t s_fake;

const qnn_device_t *qnn_nano_board_device(void)
{
    qnn_fake_device_init(&s_fake, &s_device);
    s_fake.info.board = "nucleo-l552ze-q-nanoframework";
    s_fake.info.clock_hz = STM32_SYSCLK; /* 110 MHz */
    s_fake.info.timing_unit = QNN_TIMING_CYCLES;
    s_fake.info.timing_resolution = 1u;
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
