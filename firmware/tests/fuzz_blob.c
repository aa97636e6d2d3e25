/* libFuzzer target: qnn_blob_validate must never crash, read out of bounds or hit UB on any bytes.
 * Each input is tried as is and with its CRC fixed, so mutations reach the deeper checks. */
#include <stdint.h>
#include <string.h>

#include "../core/src/qnn_internal.h"

static _Alignas(8) uint8_t buf[256 * 1024];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > sizeof buf) {
        return 0;
    }
    memcpy(buf, data, size);
    qnn_blob_info info;
    (void)qnn_blob_validate(buf, size, &info);
    if (size >= QNN_HEADER_SIZE) {
        /* Make the header's size and CRC agree with the bytes, then validate again. */
        uint32_t n = (uint32_t)size;
        buf[8] = (uint8_t)n;
        buf[9] = (uint8_t)(n >> 8);
        buf[10] = (uint8_t)(n >> 16);
        buf[11] = (uint8_t)(n >> 24);
        uint32_t crc = qnn_crc32(buf, n, QNN_H_CRC);
        buf[12] = (uint8_t)crc;
        buf[13] = (uint8_t)(crc >> 8);
        buf[14] = (uint8_t)(crc >> 16);
        buf[15] = (uint8_t)(crc >> 24);
        (void)qnn_blob_validate(buf, size, &info);
    }
    return 0;
}
