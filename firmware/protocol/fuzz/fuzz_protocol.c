/* libFuzzer target: arbitrary bytes into the frame receiver and the protocol engine (with the fake
 * executor). The first byte picks a receive-buffer size so small-capacity paths are hit too; every
 * device answer is decoded again and must be a valid frame. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qnn_fake_device.h"
#include "qnn_protocol.h"

static qnn_fake_device_t fake;
static qnn_device_t dev;
static qnn_proto_t proto;
static uint8_t out_buf[QNN_FRAME_MAX_ENCODED(4096)];
static qnn_frame_rx_t out_rx;

static void check_tx(void *user, const uint8_t *data, size_t len)
{
    (void)user;
    for (size_t i = 0; i < len; i++) {
        qnn_rx_result_t r = qnn_frame_rx_push(&out_rx, data[i]);
        if (r != QNN_RX_NONE && r != QNN_RX_FRAME) {
            abort(); /* the device produced a malformed frame */
        }
    }
}

static void noop_reset(void *ctx) { (void)ctx; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) {
        return 0;
    }
    /* the bare receiver with a small buffer */
    static uint8_t small[300];
    qnn_frame_rx_t rx;
    qnn_frame_rx_init(&rx, small, (size_t)(data[0] % sizeof(small)) + 1);
    for (size_t i = 1; i < size; i++) {
        if (qnn_frame_rx_push(&rx, data[i]) == QNN_RX_FRAME && rx.header.len > rx.cap) {
            abort();
        }
    }
    /* the whole engine; the fake's first model is selected when the first byte is odd */
    qnn_fake_device_init(&fake, &dev);
    fake.on_reset = noop_reset;
    qnn_frame_rx_init(&out_rx, out_buf, sizeof(out_buf));
    qnn_proto_init(&proto, &dev, check_tx, NULL, 1);
    if (data[0] & 1) {
        dev.select_model(dev.ctx, fake.models[0].hash);
    }
    qnn_proto_rx(&proto, data + 1, size - 1);
    return 0;
}
