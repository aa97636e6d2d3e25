#ifndef QNN_SIM_H
#define QNN_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "qnn_device_api.h"

/* Link output used by both modes (throttled, with fault injection). */
void sim_link_write(void *user, const uint8_t *data, size_t len);

/* MLPerf Tiny runner style text mode (EEMBC "db" commands), for the link benchmark's baseline. */
void eembc_init(const qnn_device_t *dev);
void eembc_rx_byte(uint8_t byte);

#endif
