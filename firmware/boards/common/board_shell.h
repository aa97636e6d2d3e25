/* What every bare-metal board shell shares: the protocol engine driven from a polled UART, the
 * fake executor (until the device core is linked in), a boot id kept across resets. */
#ifndef QNN_BOARD_SHELL_H
#define QNN_BOARD_SHELL_H

#include <stdint.h>

#include "qnn_device_api.h"

typedef struct {
    const char *board;
    uint32_t clock_hz;
    uint8_t timing_unit;
    uint32_t timing_resolution;
    const uint32_t *bauds;
    uint8_t n_bauds;
    uint32_t current_baud;
    /* hooks into the board */
    int (*rx_ready)(void);
    uint8_t (*rx_read)(void);
    void (*tx_byte)(uint8_t b);
    void (*tx_flush)(void);
    uint64_t (*now)(void); /* the timing unit, 64-bit */
    void (*system_reset)(void);
    int (*set_baud)(uint32_t baud); /* NULL: fixed rate */
} board_shell_t;

/* Runs forever: announces BOOT, then feeds received bytes to the protocol engine. */
void board_shell_run(const board_shell_t *shell);

#endif
