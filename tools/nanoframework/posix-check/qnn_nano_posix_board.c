/* Board half of the QnnLab.Nano interop for nf-interpreter's posix nanoCLR (tools/nanoframework/posix-check):
 * the device core's executor with the model region at the STM32 address 0x08050000, filled from the blob
 * file named by $QNN_NANO_MODEL_FILE, as openocd would flash it. Built only by check.sh beside it. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "qnn_core_device.h"
#include "qnn_nano_port.h"

#define REGION 0x08050000u
#define REGION_BYTES (192u * 1024u)

static qnn_core_device_t s_core;
static qnn_device_t s_device;
static uint32_t s_blob_bytes;
static uint32_t s_boots;

static void flash_region(void)
{
    static int done;
    if (done) {
        return;
    }
    done = 1;
    void *p = mmap((void *)(uintptr_t)REGION, REGION_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (p != (void *)(uintptr_t)REGION) {
        fprintf(stderr, "qnn posix board: cannot map the model region\n");
        return;
    }
    const char *file = getenv("QNN_NANO_MODEL_FILE");
    FILE *f = file ? fopen(file, "rb") : NULL;
    if (f) {
        s_blob_bytes = (uint32_t)fread(p, 1, REGION_BYTES, f);
        fclose(f);
    }
    fprintf(stderr, "qnn posix board: model region 0x%08X holds %u bytes from %s\n", REGION, s_blob_bytes, file ? file : "(none)");
}

const qnn_device_t *qnn_nano_board_device(void)
{
    flash_region();
    qnn_core_device_init(&s_core, &s_device, NULL, 0);
    s_core.info.board = "nanoframework-posix";
    s_core.info.timing_unit = QNN_TIMING_NS;
    s_core.on_reset = qnn_nano_on_reset_request;
    if (s_blob_bytes) {
        int rc = qnn_core_device_add_model(&s_core, (const uint8_t *)(uintptr_t)REGION, s_blob_bytes);
        fprintf(stderr, "qnn posix board: registered the flashed blob: status %d\n", rc);
    }
    return &s_device;
}

uint32_t qnn_nano_board_boot_id(void) { return ++s_boots; }
