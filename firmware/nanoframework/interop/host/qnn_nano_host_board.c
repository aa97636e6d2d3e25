/* The board half of the QnnLab.Nano interop (qnn_nano_port.h) for an x86 host: the device core's
 * executor adapter with upload RAM and a "flash" model region, so the very qnn_nano_port.c the nanoCLR
 * image links can be driven from .NET tests (host/tests/QnnLab.NanoApp.Tests, through P/Invoke) in
 * place of the nanoCLR natives. Not part of any board image. */
#define _GNU_SOURCE /* MAP_32BIT */
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "qnn_core_device.h"
#include "qnn_nano_port.h"

#define HOST_UPLOAD_BYTES (4u * 1024u * 1024u)
#define HOST_FLASH_BYTES (4u * 1024u * 1024u)
#define HOST_FLASH_MODELS 4

static qnn_core_device_t s_core;
static qnn_device_t s_device;
static _Alignas(8) uint8_t s_upload[HOST_UPLOAD_BYTES];
static uint32_t s_boots;

/* The model region: QnnDevice.SelectModelAt takes a 32-bit address (the STM32's flash), so the host's
 * stand-in lives below 4 GiB. Blobs are written 8-aligned, back to back, like a flashed region. */
static uint8_t *s_flash;
static uint32_t s_flash_used;
static struct {
    uint32_t offset, size;
} s_flashed[HOST_FLASH_MODELS];
static int s_n_flashed;

const qnn_device_t *qnn_nano_board_device(void)
{
    qnn_core_device_init(&s_core, &s_device, s_upload, sizeof s_upload);
    s_core.info.board = "nanoframework-host";
    s_core.info.build_id = "qnn-nano-host " __DATE__;
    s_core.info.clock_hz = 0;
    s_core.info.timing_unit = QNN_TIMING_NS; /* qnn_platform_cycles is platform_posix's ns counter */
    s_core.info.timing_resolution = 1;
    s_core.on_reset = qnn_nano_on_reset_request;
    for (int i = 0; i < s_n_flashed; i++) {
        /* A bad blob is left out, as on the board: the host then sees it missing from INFO. */
        qnn_core_device_add_model(&s_core, s_flash + s_flashed[i].offset, s_flashed[i].size);
    }
    return &s_device;
}

uint32_t qnn_nano_board_boot_id(void)
{
    s_boots++;
    uint32_t x = s_boots * 0x9E3779B1u;
    x ^= x >> 16;
    return x ? x : 1u;
}

/* Test hook: "flashes" a blob into the model region, registered from the next qnn_nano_init (as a
 * board lists what was flashed when it boots). Returns its 32-bit address, 0 when it does not fit. */
uint32_t qnn_nano_host_flash(const uint8_t *blob, uint32_t len)
{
    if (s_flash == NULL) {
        void *p = mmap(NULL, HOST_FLASH_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
        if (p == MAP_FAILED) {
            return 0;
        }
        s_flash = p;
    }
    uint32_t offset = (s_flash_used + 7u) & ~7u;
    if (blob == NULL || len == 0 || s_n_flashed == HOST_FLASH_MODELS || len > HOST_FLASH_BYTES - offset) {
        return 0;
    }
    memcpy(s_flash + offset, blob, len);
    s_flashed[s_n_flashed].offset = offset;
    s_flashed[s_n_flashed].size = len;
    s_n_flashed++;
    s_flash_used = offset + len;
    return (uint32_t)(uintptr_t)(s_flash + offset);
}

/* Test hook: erases the model region (effective from the next qnn_nano_init). */
void qnn_nano_host_flash_erase(void)
{
    s_n_flashed = 0;
    s_flash_used = 0;
}

/* Test hook: how many times the port (re)started the engine, so tests see a protocol RESET happen. */
uint32_t qnn_nano_host_boots(void) { return s_boots; }
