/* Runs a model blob over raw pixel inputs and compares every output element with golden values.
 *   qnn_golden_runner <blob> <inputs.bin> <expected.bin | -> [portable|cmsis-nn] [bits:N|median:K] [tensor] [input-out:FILE]
 * inputs.bin: N records of input_bytes raw HWC pixels, or with "tensor" of already quantized input tensors
 * (input_bytes elements of the activation type, little-endian; squeezed on their values when a squeezer is given);
 * expected.bin: N records of output_count elements in the output type (int8, or int16 little-endian). "-" prints
 * the outputs instead. input-out:FILE writes each record's squeezed and quantized input tensor (what the model
 * would run on, little-endian) to FILE instead of inferring: the host's squeezers are checked against it.
 * Exit 0 when every element of every record matches. Works hosted and under QEMU semihosting. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qnn/qnn.h"
#include "qnn/qnn_kernels.h"

#ifndef QNN_GOLDEN_MAX_BLOB
#define QNN_GOLDEN_MAX_BLOB (1024u * 1024u)
#endif

static _Alignas(8) uint8_t s_blob[QNN_GOLDEN_MAX_BLOB];
static uint8_t s_pixels[2 * QNN_MAX_INPUT_BYTES];

static long read_file(const char *path, uint8_t *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return -1;
    }
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return (long)n;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s blob inputs expected|- [portable|cmsis-nn] [bits:N|median:K] [tensor]\n", argv[0]);
        return 2;
    }
    const qnn_kernels *kernels = &qnn_kernels_portable;
    qnn_squeezer sq = {QNN_SQUEEZE_NONE, 0};
    int tensor = 0;
    const char *input_out = NULL;
    for (int i = 4; i < argc; ++i) {
        if (strcmp(argv[i], "cmsis-nn") == 0) {
#ifdef QNN_HAVE_CMSIS_NN
            kernels = &qnn_kernels_cmsis_nn;
#else
            fprintf(stderr, "built without CMSIS-NN\n");
            return 2;
#endif
        } else if (strcmp(argv[i], "tensor") == 0) {
            tensor = 1;
        } else if (strncmp(argv[i], "bits:", 5) == 0) {
            sq.kind = QNN_SQUEEZE_BIT_DEPTH;
            sq.param = (uint8_t)atoi(argv[i] + 5);
        } else if (strncmp(argv[i], "input-out:", 10) == 0) {
            input_out = argv[i] + 10;
        } else if (strncmp(argv[i], "median:", 7) == 0) {
            sq.kind = QNN_SQUEEZE_MEDIAN;
            sq.param = (uint8_t)atoi(argv[i] + 7);
        }
    }
    long blob_len = read_file(argv[1], s_blob, sizeof s_blob);
    if (blob_len <= 0) {
        fprintf(stderr, "cannot read %s\n", argv[1]);
        return 2;
    }
    qnn_model m;
    qnn_status s = qnn_model_load(&m, s_blob, (size_t)blob_len, kernels);
    if (s != QNN_OK) {
        fprintf(stderr, "blob refused: %s (%d)\n", qnn_status_name(s), (int)s);
        return 3;
    }
    FILE *in = fopen(argv[2], "rb");
    FILE *exp = strcmp(argv[3], "-") == 0 ? NULL : fopen(argv[3], "rb");
    if (!in || (strcmp(argv[3], "-") != 0 && !exp)) {
        fprintf(stderr, "cannot open inputs or expected file\n");
        return 2;
    }
    const unsigned es = m.info.output_type == 2 ? 2u : 1u;
    unsigned long records = 0, mismatches = 0, elements = 0;
    unsigned long long inference = 0, squeeze = 0, quantize = 0;
    uint8_t expected[2 * QNN_MAX_OUTPUTS];
    const size_t record = tensor ? (size_t)m.info.input_bytes * m.info.precision : m.info.input_bytes;
    const qnn_input_kind kind = tensor ? QNN_INPUT_TENSOR : QNN_INPUT_PIXELS;
    if (input_out) {
        FILE *out = fopen(input_out, "wb");
        if (!out) {
            fprintf(stderr, "cannot open %s\n", input_out);
            return 2;
        }
        const size_t tensor_bytes = (size_t)m.info.input_bytes * m.info.precision;
        while (fread(s_pixels, 1, record, in) == record) {
            s = qnn_prepare_input(&m, kind, s_pixels, record, &sq, NULL);
            if (s != QNN_OK || fwrite(qnn_input_data(&m), 1, tensor_bytes, out) != tensor_bytes) {
                fprintf(stderr, "record %lu: %s\n", records, s != QNN_OK ? qnn_status_name(s) : "write failed");
                return 3;
            }
            ++records;
        }
        fclose(out);
        fclose(in);
        printf("model %s: %lu records, input tensors written\n", m.info.name, records);
        return records ? 0 : 1;
    }
    while (fread(s_pixels, 1, record, in) == record) {
        qnn_run_result r;
        s = qnn_run_input(&m, kind, s_pixels, record, &sq, &r, NULL);
        if (s != QNN_OK) {
            fprintf(stderr, "record %lu: run failed: %s\n", records, qnn_status_name(s));
            return 3;
        }
        inference += r.cycles.inference;
        squeeze += r.cycles.squeeze;
        quantize += r.cycles.quantize;
        if (exp) {
            if (fread(expected, es, r.output_count, exp) != r.output_count) {
                fprintf(stderr, "expected file too short at record %lu\n", records);
                return 2;
            }
            for (unsigned c = 0; c < r.output_count; ++c) {
                int32_t want = es == 2 ? (int16_t)(expected[2 * c] | (expected[2 * c + 1] << 8)) : (int8_t)expected[c];
                ++elements;
                if (want != r.output[c]) {
                    if (mismatches < 10) {
                        fprintf(stderr, "record %lu element %u: got %d expected %d\n", records, c, r.output[c], (int)want);
                    }
                    ++mismatches;
                }
            }
        } else {
            printf("%lu:", records);
            for (unsigned c = 0; c < r.output_count; ++c) {
                printf(" %d", r.output[c]);
            }
            printf(" label %d\n", r.label);
        }
        ++records;
    }
    fclose(in);
    if (exp) {
        fclose(exp);
    }
    /* Units: qnn_platform_cycles (ns on hosts, SysTick ticks of 50 instructions under QEMU -icount shift=0). */
    unsigned long long div = records ? records : 1ull;
    printf("model %s backend %s: %lu records, %lu elements, %lu mismatches, mean inference %lu units, "
           "squeeze %lu, quantize %lu\n", /* newlib-nano's printf has no %llu */
           m.info.name, qnn_backend_name(&m), records, elements, mismatches, (unsigned long)(inference / div),
           (unsigned long)(squeeze / div), (unsigned long)(quantize / div));
    return (records == 0 || mismatches) ? 1 : 0;
}
