/* Validates a model blob file with the device core's own validator (used by the host's exporter tests).
 *   qnn_blob_check <blob>
 * Prints "OK" and the blob's info, or the refusal's status name; exit status = the qnn_status code. */
#include <stdio.h>
#include <stdlib.h>

#include "qnn/qnn.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s blob\n", argv[0]);
        return 100;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", argv[1]);
        return 101;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    /* 8-aligned copy, as the device requires (malloc aligns to at least 8 on the hosts we build for). */
    uint8_t *blob = malloc(n > 0 ? (size_t)n : 1u);
    if (!blob || fread(blob, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "cannot read %s\n", argv[1]);
        return 101;
    }
    fclose(f);
    qnn_blob_info info;
    qnn_status s = qnn_blob_validate(blob, (size_t)n, &info);
    if (s == QNN_OK) {
        printf("OK name=%s precision=%u tensors=%u ops=%u arena=%u input=%ux%ux%u outputs=%u\n", info.name,
               info.precision, info.tensor_count, info.op_count, (unsigned)info.arena_size, info.input_h, info.input_w,
               info.input_c, info.output_count);
    } else {
        printf("%s\n", qnn_status_name(s));
    }
    free(blob);
    return (int)s;
}
