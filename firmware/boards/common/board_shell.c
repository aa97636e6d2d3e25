#include "board_shell.h"

#include "qnn_fake_device.h"
#include "qnn_protocol.h"

static qnn_fake_device_t fake;
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

static uint64_t now_hook(void *ctx)
{
    (void)ctx;
    return sh->now();
}

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
    qnn_proto_init(&proto, &dev, tx, NULL, next_boot_id());
    qnn_proto_boot(&proto);
    for (;;) {
        if (shell->rx_ready()) {
            qnn_proto_rx_byte(&proto, shell->rx_read());
        }
    }
}
