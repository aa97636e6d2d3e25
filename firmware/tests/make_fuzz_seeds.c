/* Writes valid blobs (the test models) into a libFuzzer corpus folder. */
#include <stdio.h>
#include <sys/stat.h>

#include "blob_builder.h"

static qb_builder B;

static void write_seed(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(B.blob, 1, B.blob_len, f);
        fclose(f);
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        return 2;
    }
    mkdir(argv[1], 0755);
    int32_t d_in[4] = {1, 2, 2, 1}, d_out[4] = {1, 1, 1, 1}, d_w[4] = {1, 2, 2, 1}, d_o2[2] = {1, 1};
    int8_t w[4] = {1, 2, 3, 4};
    for (int precision = 1; precision <= 2; ++precision) {
        qb_init(&B, (uint8_t)precision);
        uint8_t at = precision == 2 ? 2 : 1;
        int in = qb_act(&B, at, 4, d_in, 0, 0);
        int wt = qb_const(&B, 1, 4, d_w, 0, w);
        int out = qb_act(&B, at, 4, d_out, 0, 8);
        int pooled = qb_act(&B, at, 2, d_o2, 0, 0);
        int32_t conv_p[10] = {1, 1, 1, 1, 0, 0, -128, 127, 1 << 30, -2};
        qb_op(&B, 1, 2, in, wt, -1, out, conv_p, 10);
        qb_op(&B, 7, 1, out, -1, -1, pooled, NULL, 0);
        B.input = (uint16_t)in;
        B.output = (uint16_t)pooled;
        B.arena_size = 16;
        qb_finish(&B);
        write_seed(argv[1], precision == 1 ? "seed_int8.blob" : "seed_int16.blob");
    }
    return 0;
}
