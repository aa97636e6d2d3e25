/* Blob validation (each refusal with its error code) and end-to-end runs of a tiny hand-derived model. */
#include <string.h>

#include "../core/src/qnn_internal.h"
#include "blob_builder.h"
#include "qnn/qnn.h"
#include "qnn/qnn_squeeze.h"
#include "test_harness.h"

static qb_builder B;

/* The suite's clock: one tick per read, so every timed stage that ran measures >= 1 on any machine (a real
 * counter may not tick across a few instructions: QEMU's SysTick counts ~50 at a time) and one that did not
 * run reads 0. Overrides the platform's counter (weak on the QEMU test platform). */
static uint32_t s_ticks;
uint32_t qnn_platform_cycles(void)
{
    return ++s_ticks;
}
enum { T_IN, T_CONV_W, T_CONV_B, T_CONV_OUT, T_POOL_OUT, T_FLAT, T_FC_W, T_FC_OUT, T_SOFT_OUT };
enum { OP_CONV, OP_POOL, OP_RESHAPE, OP_FC, OP_SOFTMAX };

/* input 4x4x1 (q = p - 128) -> conv 3x3 SAME (oc0: centre 1, oc1: centre 2; x1; zp -128)
 * -> avgpool 4x4 VALID -> reshape [1,2] in place -> FC [[1,0],[0,1],[1,-1]] x1 zp 0 -> softmax (optional) */
static uint32_t build_model(int with_softmax)
{
    qb_init(&B, 1);
    int32_t d_in[4] = {1, 4, 4, 1}, d_w[4] = {2, 3, 3, 1}, d_b[1] = {2}, d_c[4] = {1, 4, 4, 2};
    int32_t d_p[4] = {1, 1, 1, 2}, d_f[2] = {1, 2}, d_fw[2] = {3, 2}, d_o[2] = {1, 3};
    int8_t conv_w[18] = {0};
    conv_w[4] = 1;
    conv_w[9 + 4] = 2;
    int32_t conv_b[2] = {0, 0};
    int8_t fc_w[6] = {1, 0, 0, 1, 1, -1};
    qb_act(&B, 1, 4, d_in, -128, 0);              /* T_IN: arena 0..16 */
    qb_const(&B, 1, 4, d_w, 0, conv_w);           /* T_CONV_W */
    qb_const(&B, 3, 1, d_b, 0, conv_b);           /* T_CONV_B */
    qb_act(&B, 1, 4, d_c, -128, 16);              /* T_CONV_OUT: 16..48 */
    qb_act(&B, 1, 4, d_p, -128, 0);               /* T_POOL_OUT: reuses the dead input */
    qb_act(&B, 1, 2, d_f, -128, 0);               /* T_FLAT: in place on the pool output */
    qb_const(&B, 1, 2, d_fw, 0, fc_w);            /* T_FC_W */
    qb_act(&B, 1, 2, d_o, 0, 4);                  /* T_FC_OUT */
    qb_act(&B, 1, 2, d_o, -128, 8);               /* T_SOFT_OUT */
    int32_t conv_p[12] = {1, 1, 1, 1, 1, 1, -128, 127, 1 << 30, 1 << 30, 1, 1};
    qb_op(&B, 1, 3, T_IN, T_CONV_W, T_CONV_B, T_CONV_OUT, conv_p, 12);
    int32_t pool_p[8] = {1, 1, 4, 4, 0, 0, -128, 127};
    qb_op(&B, 4, 1, T_CONV_OUT, -1, -1, T_POOL_OUT, pool_p, 8);
    qb_op(&B, 7, 1, T_POOL_OUT, -1, -1, T_FLAT, NULL, 0);
    int32_t fc_p[5] = {-128, 127, 1, 1 << 30, 1};
    qb_op(&B, 3, 2, T_FLAT, T_FC_W, -1, T_FC_OUT, fc_p, 5);
    B.input = T_IN;
    B.output = T_FC_OUT;
    if (with_softmax) {
        /* input scale 1: multiplier 2^26 -> (2^30, 27); diff_min = -floor(31 * 2^26 / 2^27) = -15 */
        int32_t sm_p[3] = {1 << 30, 27, -15};
        qb_op(&B, 9, 1, T_FC_OUT, -1, -1, T_SOFT_OUT, sm_p, 3);
        B.output = T_SOFT_OUT;
    }
    B.arena_size = 48;
    return qb_finish(&B);
}

static uint8_t *tensor_field(int t, int off)
{
    return B.blob + B.tensor_table + (uint32_t)t * 32u + (uint32_t)off;
}

static uint8_t *op_field(int op, int off)
{
    return B.blob + B.op_table + (uint32_t)op * 20u + (uint32_t)off;
}

static uint8_t *op_param(int op, int word)
{
    return B.blob + qnn_rd32(op_field(op, 12)) + 4u * (uint32_t)word;
}

static qnn_status validate_fixed(void)
{
    qb_fix_crc(&B);
    return qnn_blob_validate(B.blob, B.blob_len, NULL);
}

TEST(valid_blob_is_accepted_and_described)
{
    uint32_t n = build_model(1);
    qnn_blob_info info;
    EXPECT_EQ(qnn_blob_validate(B.blob, n, &info), QNN_OK);
    EXPECT_EQ(info.precision, 1);
    EXPECT_EQ(info.input_bytes, 16);
    EXPECT_EQ(info.output_count, 3);
    EXPECT_EQ(info.op_count, 5);
    EXPECT_EQ(info.model_hash[0], 0xA0);
    EXPECT_TRUE(strcmp(info.name, "test-model") == 0);
}

TEST(truncated_and_header_errors)
{
    uint32_t n = build_model(0);
    EXPECT_EQ(qnn_blob_validate(NULL, n, NULL), QNN_E_NULL);
    EXPECT_EQ(qnn_blob_validate(B.blob, 50, NULL), QNN_E_TRUNCATED);
    EXPECT_EQ(qnn_blob_validate(B.blob, n - 1, NULL), QNN_E_TRUNCATED);
    B.blob[0] = 'X';
    EXPECT_EQ(qnn_blob_validate(B.blob, n, NULL), QNN_E_MAGIC);
    build_model(0);
    qb_put16(B.blob + 4, 1); /* version 1 had no tensor bit-depth boundaries */
    EXPECT_EQ(validate_fixed(), QNN_E_VERSION);
    build_model(0);
    qb_put16(B.blob + 4, 3);
    EXPECT_EQ(validate_fixed(), QNN_E_VERSION);
}

TEST(tensor_bit_depth_boundaries_are_validated)
{
    /* 1-bit boundary (slot 0) above the 1-bit sentinel; a 3-bit entry below its predecessor; a sentinel not qmax + 1 */
    const uint32_t slots[] = {0, 7, 1};
    const int32_t values[] = {200, -128, 100};
    for (int i = 0; i < 3; ++i) {
        build_model(0);
        qb_put32(B.blob + B.squeeze_table_off + 508 + 4 * slots[i], (uint32_t)values[i]);
        EXPECT_EQ(validate_fixed(), QNN_E_PARAM);
    }
    build_model(0);
    EXPECT_EQ(validate_fixed(), QNN_OK);
}

TEST(bad_checksum)
{
    uint32_t n = build_model(0);
    B.blob[n - 1] ^= 0x01; /* one bit of weight data */
    EXPECT_EQ(qnn_blob_validate(B.blob, n, NULL), QNN_E_CHECKSUM);
    build_model(0);
    B.blob[20] ^= 0x80; /* the model hash is covered too */
    EXPECT_EQ(qnn_blob_validate(B.blob, n, NULL), QNN_E_CHECKSUM);
}

TEST(misaligned_blob)
{
    static _Alignas(8) uint8_t shifted[QB_DATA_CAP + 8192 + 8];
    uint32_t n = build_model(0);
    memcpy(shifted + 4, B.blob, n);
    EXPECT_EQ(qnn_blob_validate(shifted + 4, n, NULL), QNN_E_ALIGNMENT);
}

TEST(offsets_out_of_range)
{
    build_model(0);
    qb_put32(B.blob + QNN_H_TENSOR_TABLE, B.blob_len - 8); /* table runs past the end */
    EXPECT_EQ(validate_fixed(), QNN_E_BOUNDS);
    build_model(0);
    qb_put32(tensor_field(T_CONV_W, 24), B.blob_len - 4); /* 18 weight bytes from 4 before the end */
    EXPECT_EQ(validate_fixed(), QNN_E_BOUNDS);
    build_model(0);
    qb_put32(op_field(OP_CONV, 12), 0xFFFFFFF0u); /* params offset wraps */
    EXPECT_EQ(validate_fixed(), QNN_E_BOUNDS);
    build_model(0);
    qb_put32(B.blob + QNN_H_INPUT_TABLE, 40); /* inside the header */
    EXPECT_EQ(validate_fixed(), QNN_E_BOUNDS);
}

TEST(bad_tensor_records)
{
    build_model(0);
    *tensor_field(T_CONV_W, 1) = 5; /* rank 5 */
    EXPECT_EQ(validate_fixed(), QNN_E_TENSOR);
    build_model(0);
    qb_put32(tensor_field(T_CONV_W, 28), 17); /* size disagrees with the shape */
    EXPECT_EQ(validate_fixed(), QNN_E_TENSOR);
    build_model(0);
    *tensor_field(T_CONV_OUT, 0) = 3; /* int32 activation */
    EXPECT_EQ(validate_fixed(), QNN_E_TENSOR);
}

TEST(bad_operators)
{
    build_model(0);
    *op_field(OP_POOL, 0) = 99;
    EXPECT_EQ(validate_fixed(), QNN_E_OP);
    build_model(0);
    qb_put16(op_field(OP_FC, 6), T_CONV_B); /* FC filter given an int32 tensor */
    EXPECT_EQ(validate_fixed(), QNN_E_OP);
    build_model(0);
    qb_put16(op_field(OP_CONV, 4), 200); /* tensor index out of range */
    EXPECT_EQ(validate_fixed(), QNN_E_OP);
}

TEST(shapes_inconsistent_with_op)
{
    build_model(0);
    qb_put32(tensor_field(T_CONV_OUT, 12), 2); /* conv output 4x2x4: same bytes, wrong shape */
    qb_put32(tensor_field(T_CONV_OUT, 16), 4);
    EXPECT_EQ(validate_fixed(), QNN_E_SHAPE);
    build_model(0);
    qb_put32(op_param(OP_CONV, 4), 0); /* pad_top 0 is neither SAME (1) nor VALID for 4 -> 4 */
    EXPECT_EQ(validate_fixed(), QNN_E_SHAPE);
    build_model(0);
    qb_put32(tensor_field(T_FLAT, 8), 1); /* reshape to [1, 1]: element count differs */
    qb_put32(tensor_field(T_FLAT, 28), 1);
    EXPECT_EQ(validate_fixed(), QNN_E_SHAPE);
}

TEST(bad_op_params)
{
    build_model(0);
    qb_put32(op_param(OP_CONV, 6), 10); /* act_min 10 > act_max? no: 10 <= 127; make it exceed */
    qb_put32(op_param(OP_CONV, 7), 5);
    EXPECT_EQ(validate_fixed(), QNN_E_PARAM);
    build_model(0);
    qb_put32(op_param(OP_CONV, 10), 40); /* shift 40 */
    EXPECT_EQ(validate_fixed(), QNN_E_PARAM);
    build_model(0);
    qb_put32(op_param(OP_CONV, 0), 0); /* stride 0 */
    EXPECT_EQ(validate_fixed(), QNN_E_PARAM);
    build_model(0);
    qb_put32(op_param(OP_CONV, 8), 0x80000000u); /* negative multiplier */
    EXPECT_EQ(validate_fixed(), QNN_E_PARAM);
    build_model(0);
    qb_put32(op_field(OP_POOL, 16), 28); /* params_size disagrees with the layout */
    EXPECT_EQ(validate_fixed(), QNN_E_PARAM);
    build_model(1);
    qb_put32(op_param(OP_SOFTMAX, 1), 30); /* softmax left shift would overflow */
    EXPECT_EQ(validate_fixed(), QNN_E_PARAM);
}

TEST(graph_errors)
{
    build_model(0);
    /* swap pool and conv records: the pool then reads the conv output before it is written */
    uint8_t tmp[20];
    memcpy(tmp, op_field(OP_CONV, 0), 20);
    memcpy(op_field(OP_CONV, 0), op_field(OP_POOL, 0), 20);
    memcpy(op_field(OP_POOL, 0), tmp, 20);
    EXPECT_EQ(validate_fixed(), QNN_E_GRAPH);
    build_model(0);
    qb_put16(B.blob + QNN_H_OUTPUT, T_SOFT_OUT); /* output nobody writes */
    EXPECT_EQ(validate_fixed(), QNN_E_GRAPH);
}

TEST(arena_plan_errors)
{
    build_model(0);
    qb_put32(tensor_field(T_CONV_OUT, 24), 8); /* conv output overlaps its live input */
    EXPECT_EQ(validate_fixed(), QNN_E_ARENA);
    build_model(0);
    qb_put32(tensor_field(T_FLAT, 24), 16); /* reshape output on live conv bytes? conv is dead: but 16 != 0 */
    qb_put32(tensor_field(T_FC_OUT, 24), 16); /* FC output on its live input */
    EXPECT_EQ(validate_fixed(), QNN_E_ARENA);
    build_model(0);
    qb_put32(B.blob + QNN_H_ARENA_SIZE, 40); /* conv output ends at 48 */
    EXPECT_EQ(validate_fixed(), QNN_E_ARENA);
    build_model(0);
    qb_put32(B.blob + QNN_H_ARENA_SIZE, QNN_ARENA_SIZE + 4u);
    EXPECT_EQ(validate_fixed(), QNN_E_ARENA_TOO_SMALL);
    build_model(0);
    qb_put16(B.blob + QNN_H_TENSOR_COUNT, 300);
    EXPECT_EQ(validate_fixed(), QNN_E_LIMIT);
}

static void pixels64(uint8_t *px)
{
    for (int i = 0; i < 16; ++i) {
        px[i] = (uint8_t)(64 + (i % 2));
    }
}

TEST(runs_hand_derived_logits)
{
    /* p in {64, 65}: conv oc0 = p - 128, oc1 = 2p - 128 (0 or 2); pool: mean -63.5 -> -64, mean 1 -> 1;
     * FC inputs (zp -128): 64, 129 -> [64, 129 -> 127, 64 - 129 = -65] */
    uint32_t n = build_model(0);
    qnn_model m;
    EXPECT_EQ(qnn_model_load(&m, B.blob, n, &qnn_kernels_portable), QNN_OK);
    uint8_t px[16];
    pixels64(px);
    qnn_run_result r;
    uint32_t op_cycles[4];
    EXPECT_EQ(qnn_run(&m, px, 16, NULL, &r, op_cycles), QNN_OK);
    EXPECT_EQ(r.output_count, 3);
    EXPECT_EQ(r.output[0], 64);
    EXPECT_EQ(r.output[1], 127);
    EXPECT_EQ(r.output[2], -65);
    EXPECT_EQ(r.label, 1);
    EXPECT_EQ(qnn_run(&m, px, 15, NULL, &r, NULL), QNN_E_INPUT);
    qnn_squeezer bad = {QNN_SQUEEZE_BIT_DEPTH, 9};
    EXPECT_EQ(qnn_run(&m, px, 16, &bad, &r, NULL), QNN_E_SQUEEZE);
    qnn_model none;
    memset(&none, 0, sizeof none);
    EXPECT_EQ(qnn_run(&none, px, 16, NULL, &r, NULL), QNN_E_NOT_LOADED);
    /* a refused blob leaves the model unloaded */
    B.blob[n - 1] ^= 1;
    EXPECT_EQ(qnn_model_load(&m, B.blob, n, NULL), QNN_E_CHECKSUM);
    EXPECT_EQ(qnn_run(&m, px, 16, NULL, &r, NULL), QNN_E_NOT_LOADED);
}

TEST(ties_break_to_lowest_index_and_squeezed_run)
{
    /* 1-bit squeeze: p 64/65 -> level 0 -> q = -128 (pixel 0): conv 0-128 both channels, pool -128,
     * FC inputs 0, 0 -> logits [0, 0, 0]: a three-way tie, label 0 */
    uint32_t n = build_model(0);
    qnn_model m;
    EXPECT_EQ(qnn_model_load(&m, B.blob, n, NULL), QNN_OK);
    uint8_t px[16];
    pixels64(px);
    qnn_squeezer one_bit = {QNN_SQUEEZE_BIT_DEPTH, 1};
    qnn_run_result r;
    EXPECT_EQ(qnn_run(&m, px, 16, &one_bit, &r, NULL), QNN_OK);
    EXPECT_EQ(r.output[0], 0);
    EXPECT_EQ(r.output[1], 0);
    EXPECT_EQ(r.output[2], 0);
    EXPECT_EQ(r.label, 0);
}

TEST(detector_l1_over_softmax_outputs)
{
    /* raw: logits [64, 127, -65] into softmax (scale 1): diffs -63, -192 are below diff_min -15 ->
     * [-128, 127, -128]. 1-bit squeeze: logits [0,0,0] -> p = 1/3 each -> 256/3 - 128 = -42.67 -> -43
     * (gemmlowp may land one step away). L1 = 85 + 170 + 85 = 340 (+-3). Median 3x3 of a 64/65
     * checkerboard keeps the outcome: L1 0. */
    uint32_t n = build_model(1);
    qnn_model m;
    EXPECT_EQ(qnn_model_load(&m, B.blob, n, NULL), QNN_OK);
    uint8_t px[16];
    pixels64(px);
    qnn_squeezer sq[2] = {{QNN_SQUEEZE_BIT_DEPTH, 1}, {QNN_SQUEEZE_MEDIAN, 3}};
    qnn_detect_result d;
    EXPECT_EQ(qnn_detect(&m, px, 16, sq, 2, 100, &d), QNN_OK);
    EXPECT_EQ(d.raw.output[0], -128);
    EXPECT_EQ(d.raw.output[1], 127);
    EXPECT_EQ(d.raw.output[2], -128);
    EXPECT_TRUE(d.l1[0] >= 337 && d.l1[0] <= 343);
    EXPECT_EQ(d.l1[1], 0);
    EXPECT_EQ(d.score, d.l1[0]);
    EXPECT_EQ(d.adversarial, 1);
    EXPECT_EQ(d.squeezed_label[0], 0);
    EXPECT_EQ(qnn_detect(&m, px, 16, sq, 2, 1000, &d), QNN_OK);
    EXPECT_EQ(d.adversarial, 0);
    EXPECT_EQ(qnn_detect(&m, px, 16, sq, 0, 1000, &d), QNN_E_SQUEEZE);
}

static uint32_t stage_sum(const qnn_stage_cycles *c)
{
    return c->squeeze + c->quantize + c->inference;
}

/* The detector's stages are reported apart (protocol "results"): the raw run's quantize and inference, each
 * squeezer's squeeze, quantize and inference, the comparison; a squeezer slot not run stays 0, and the stages
 * never overlap, so they sum to at most the whole call. */
TEST(detector_times_every_stage_apart)
{
    uint32_t n = build_model(1);
    qnn_model m;
    EXPECT_EQ(qnn_model_load(&m, B.blob, n, NULL), QNN_OK);
    uint8_t px[16];
    pixels64(px);
    qnn_squeezer sq[2] = {{QNN_SQUEEZE_BIT_DEPTH, 1}, {QNN_SQUEEZE_MEDIAN, 3}};
    for (int kind = QNN_INPUT_PIXELS; kind <= QNN_INPUT_TENSOR; ++kind) {
        int8_t tensor[16];
        for (int i = 0; i < 16; ++i) {
            tensor[i] = (int8_t)(px[i] - 128);
        }
        const void *in = kind == QNN_INPUT_PIXELS ? (const void *)px : (const void *)tensor;
        qnn_detect_result d;
        EXPECT_EQ(qnn_detect_input(&m, (qnn_input_kind)kind, in, 16, sq, 2, 100, &d), QNN_OK);
        EXPECT_EQ(d.raw.cycles.squeeze, 0u);
        EXPECT_TRUE(d.raw.cycles.quantize > 0);
        EXPECT_TRUE(d.raw.cycles.inference > 0);
        uint32_t sum = stage_sum(&d.raw.cycles) + d.compare_cycles;
        for (unsigned i = 0; i < 2; ++i) {
            EXPECT_TRUE(d.sq_cycles[i].squeeze > 0);
            EXPECT_TRUE(d.sq_cycles[i].inference > 0);
            /* a squeezed tensor is written into the arena by the squeezer itself: no separate quantization */
            EXPECT_TRUE(kind == QNN_INPUT_PIXELS ? d.sq_cycles[i].quantize > 0 : d.sq_cycles[i].quantize == 0);
            sum += stage_sum(&d.sq_cycles[i]);
        }
        for (unsigned i = 2; i < QNN_MAX_SQUEEZERS; ++i) {
            EXPECT_EQ(stage_sum(&d.sq_cycles[i]), 0u);
        }
        EXPECT_TRUE(d.compare_cycles > 0);
        EXPECT_TRUE(sum <= d.total_cycles);
    }
    /* one squeezer: the second slot is not run */
    qnn_detect_result d;
    EXPECT_EQ(qnn_detect(&m, px, 16, sq + 1, 1, 100, &d), QNN_OK);
    EXPECT_TRUE(d.sq_cycles[0].squeeze > 0);
    EXPECT_EQ(stage_sum(&d.sq_cycles[1]), 0u);
}

/* Squeezing the quantized tensor of pixels on the grid gives what squeezing the pixels gives, for every pixel value
 * and every bit depth and window (SPEC "Squeezing a quantized input tensor"), on int8 and int16 inputs. */
static void check_tensor_squeeze_equals_pixel_squeeze(uint8_t precision)
{
    if (precision == 2) {
        /* the same graph's input re-declared int16 would not validate; only the tables matter for preparation, so
         * the int16 tables are checked through the builder's default tables directly */
        qb_init(&B, 2);
        qb_default_tables(&B);
        for (unsigned bits = 1; bits <= 8; ++bits) {
            const int32_t *bounds = B.squeeze_bounds + (1u << bits) - 2u;
            for (int p = 0; p < 256; ++p) {
                EXPECT_EQ(qnn_bit_depth_level_q(B.input_table[p], bounds, bits), qnn_bit_depth_level((uint8_t)p, bits));
            }
        }
        return;
    }
    uint32_t n = build_model(0);
    qnn_model m;
    EXPECT_EQ(qnn_model_load(&m, B.blob, n, NULL), QNN_OK);
    uint8_t px[16];
    int8_t q[16], from_pixels[16];
    for (int base = 0; base < 256; base += 16) {
        for (int i = 0; i < 16; ++i) {
            px[i] = (uint8_t)(base + ((i * 7) % 16));
            q[i] = (int8_t)(px[i] - 128);
        }
        for (int kind = 1; kind <= 2; ++kind) {
            for (int param = kind == 1 ? 1 : 2; param <= (kind == 1 ? 8 : 7); ++param) {
                qnn_squeezer sq = {(uint8_t)kind, (uint8_t)param};
                EXPECT_EQ(qnn_prepare_input(&m, QNN_INPUT_PIXELS, px, 16, &sq, NULL), QNN_OK);
                memcpy(from_pixels, qnn_input_data(&m), 16);
                EXPECT_EQ(qnn_prepare_input(&m, QNN_INPUT_TENSOR, q, 16, &sq, NULL), QNN_OK);
                EXPECT_TRUE(memcmp(from_pixels, qnn_input_data(&m), 16) == 0);
            }
        }
    }
    qnn_squeezer too_big = {QNN_SQUEEZE_MEDIAN, 8};
    EXPECT_EQ(qnn_prepare_input(&m, QNN_INPUT_TENSOR, q, 16, &too_big, NULL), QNN_E_SQUEEZE);
    EXPECT_EQ(qnn_prepare_input(&m, QNN_INPUT_TENSOR, q, 15, NULL, NULL), QNN_E_INPUT);
}

TEST(int8_tensor_squeeze_equals_pixel_squeeze_on_the_grid)
{
    check_tensor_squeeze_equals_pixel_squeeze(1);
}

TEST(int16_tensor_levels_equal_pixel_levels_on_the_grid)
{
    check_tensor_squeeze_equals_pixel_squeeze(2);
}

TEST(off_grid_tensor_values_take_the_level_of_their_real_value)
{
    /* int8 model, q = p - 128: pixel 18 is level 0 of 3 bits (18 * 7 / 255 = 0.49), 19 is level 1 (0.52); a bit-depth
     * run writes the level's table value, squeeze_table[6 + k] */
    uint32_t n = build_model(0);
    qnn_model m;
    EXPECT_EQ(qnn_model_load(&m, B.blob, n, NULL), QNN_OK);
    int8_t q[16];
    for (int i = 0; i < 16; ++i) {
        q[i] = (int8_t)(i < 8 ? 18 - 128 : 19 - 128);
    }
    qnn_squeezer sq = {QNN_SQUEEZE_BIT_DEPTH, 3};
    EXPECT_EQ(qnn_prepare_input(&m, QNN_INPUT_TENSOR, q, 16, &sq, NULL), QNN_OK);
    const int8_t *in = (const int8_t *)qnn_input_data(&m);
    EXPECT_EQ(in[0], B.squeeze_table[6]);
    EXPECT_EQ(in[15], B.squeeze_table[7]);
}
