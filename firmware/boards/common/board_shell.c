#include "board_shell.h"

#include "qnn_protocol.h"
#ifdef QNN_BOARD_USE_CORE
#include "qnn_core_device.h"
static qnn_core_device_t core;
#else
#include "qnn_fake_device.h"
static qnn_fake_device_t fake;
#endif
static qnn_device_t dev;
static qnn_proto_t proto;
static const board_shell_t *sh;

/* Survives a reset (not zeroed by the start-up code): makes each boot's id differ. */
__attribute__((section(".noinit"))) static uint32_t boot_counter;
__attribute__((section(".noinit"))) static uint32_t boot_magic;

static void tx(void *user, const uint8_t *data, size_t len)
{
    (void)user;
    for (size_t i = 0; i < len; i++) {
        sh->tx_byte(data[i]);
    }
}

#ifndef QNN_BOARD_USE_CORE
static uint64_t now_hook(void *ctx)
{
    (void)ctx;
    return sh->now();
}
#endif

static void reset_hook(void *ctx)
{
    (void)ctx;
    sh->tx_flush();
    sh->system_reset();
}

static int baud_hook(void *ctx, uint32_t baud)
{
    (void)ctx;
    sh->tx_flush();
    return sh->set_baud ? sh->set_baud(baud) : QNN_DEV_ERR_NOT_SUPPORTED;
}

static uint32_t next_boot_id(void)
{
    if (boot_magic != 0x51B0071Du) {
        boot_magic = 0x51B0071Du;
        boot_counter = 0;
    }
    boot_counter++;
    /* a 32-bit mix of the counter and the clock (the clock alone repeats under QEMU's icount) */
    uint32_t x = boot_counter * 0x9E3779B1u ^ (uint32_t)sh->now();
    x ^= x >> 16;
    x *= 0x85EBCA6Bu;
    x ^= x >> 13;
    return x ? x : 1u;
}

void board_shell_run(const board_shell_t *shell)
{
    sh = shell;
#ifdef QNN_BOARD_USE_CORE
    qnn_core_device_init(&core, &dev, shell->upload, shell->upload ? shell->upload_cap : 0);
    core.info.board = shell->board;
    core.info.build_id = "qnn-board " __DATE__ " " __TIME__;
    core.info.clock_hz = shell->clock_hz;
    core.info.timing_unit = shell->timing_unit;
    core.info.timing_resolution = shell->timing_resolution;
    core.info.bauds = shell->bauds;
    core.info.n_bauds = shell->n_bauds;
    core.info.current_baud = shell->current_baud;
    core.on_reset = reset_hook;
    core.on_set_baud = shell->set_baud ? baud_hook : NULL;
    for (unsigned i = 0; i < board_model_count; i++) {
        qnn_core_device_add_model(&core, board_models[i].blob, board_models[i].size); /* a bad blob is left out */
    }
#else
    qnn_fake_device_init(&fake, &dev);
    fake.info.board = shell->board;
    fake.info.backend = "fake";
    fake.info.build_id = "qnn-board " __DATE__ " " __TIME__;
    fake.info.clock_hz = shell->clock_hz;
    fake.info.timing_unit = shell->timing_unit;
    fake.info.timing_resolution = shell->timing_resolution;
    fake.info.bauds = shell->bauds;
    fake.info.n_bauds = shell->n_bauds;
    fake.info.current_baud = shell->current_baud;
    fake.now = now_hook;
    fake.on_reset = reset_hook;
    fake.on_set_baud = shell->set_baud ? baud_hook : NULL;
#endif
    qnn_proto_init(&proto, &dev, tx, NULL, next_boot_id());
    qnn_proto_boot(&proto);
    for (;;) {
        if (shell->rx_ready()) {
            qnn_proto_rx_byte(&proto, shell->rx_read());
        }
    }
}
