/* CMSIS-NN backend (ARM-software/CMSIS-NN, pinned in cmake/cmsis-nn.cmake). Cases CMSIS-NN does not
 * cover exactly as TFLM's reference does fall back to the portable kernels:
 *  - per-channel 16x8 fully connected (no CMSIS-NN kernel), batch > 1 depthwise / pooling;
 *  - int8 ADD with left_shift < 16 (its DSP path is wrong there; TFLM uses 20).
 * Scratch memory is one static buffer; qnn_model_load refuses a model that needs more. */
#include <stdbool.h>

#include "arm_nnfunctions.h"
#include "qnn/qnn_kernels.h"

#ifndef QNN_CMSIS_SCRATCH_SIZE
#define QNN_CMSIS_SCRATCH_SIZE (16u * 1024u)
#endif

static int8_t s_scratch[QNN_CMSIS_SCRATCH_SIZE] __attribute__((aligned(8)));

static cmsis_nn_context scratch(void)
{
    cmsis_nn_context ctx = {s_scratch, (int32_t)sizeof s_scratch};
    return ctx;
}

static cmsis_nn_dims dims(qnn_shape s)
{
    cmsis_nn_dims d = {s.n, s.h, s.w, s.c};
    return d;
}

static qnn_status st(arm_cmsis_nn_status s)
{
    return s == ARM_CMSIS_NN_SUCCESS ? QNN_OK : QNN_E_BACKEND;
}

static cmsis_nn_conv_params conv_params(const qnn_conv_args *a)
{
    cmsis_nn_conv_params p = {.input_offset = -a->input_zp,
                              .output_offset = a->output_zp,
                              .stride = {a->stride_w, a->stride_h},
                              .padding = {a->pad_left, a->pad_top},
                              .dilation = {a->dilation_w, a->dilation_h},
                              .activation = {a->act_min, a->act_max}};
    return p;
}

static cmsis_nn_dw_conv_params dw_params(const qnn_conv_args *a)
{
    cmsis_nn_dw_conv_params p = {.input_offset = -a->input_zp,
                                 .output_offset = a->output_zp,
                                 .ch_mult = a->depth_multiplier,
                                 .stride = {a->stride_w, a->stride_h},
                                 .padding = {a->pad_left, a->pad_top},
                                 .dilation = {a->dilation_w, a->dilation_h},
                                 .activation = {a->act_min, a->act_max}};
    return p;
}

static cmsis_nn_per_channel_quant_params pc_quant(const qnn_conv_args *a)
{
    cmsis_nn_per_channel_quant_params q = {(int32_t *)(uintptr_t)a->mult, (int32_t *)(uintptr_t)a->shift};
    return q;
}

/* CMSIS-NN FC dims: filter n = accumulation depth, c = output depth. */
static void fc_dims(const qnn_conv_args *a, cmsis_nn_dims *in, cmsis_nn_dims *filt, cmsis_nn_dims *bias,
                    cmsis_nn_dims *out)
{
    cmsis_nn_dims i = {a->in.n, 1, 1, a->in.c}, f = {a->in.c, 1, 1, a->out.c}, b = {1, 1, 1, a->out.c},
                  o = {a->out.n, 1, 1, a->out.c};
    *in = i;
    *filt = f;
    *bias = b;
    *out = o;
}

static qnn_status conv_s8(const qnn_conv_args *a)
{
    cmsis_nn_context ctx = scratch();
    cmsis_nn_conv_params p = conv_params(a);
    cmsis_nn_per_channel_quant_params q = pc_quant(a);
    cmsis_nn_dims in = dims(a->in), f = dims(a->filt), out = dims(a->out), b = {1, 1, 1, a->out.c};
    return st(arm_convolve_wrapper_s8(&ctx, &p, &q, &in, a->input, &f, a->filter, &b, a->bias, &out, a->output));
}

static qnn_status conv_s16(const qnn_conv_args *a)
{
    cmsis_nn_context ctx = scratch();
    cmsis_nn_conv_params p = conv_params(a);
    cmsis_nn_per_channel_quant_params q = pc_quant(a);
    cmsis_nn_dims in = dims(a->in), f = dims(a->filt), out = dims(a->out), b = {1, 1, 1, a->out.c};
    const cmsis_nn_bias_data bias = {a->bias, false};
    return st(arm_convolve_wrapper_s16(&ctx, &p, &q, &in, a->input, &f, a->filter, &b, &bias, &out, a->output));
}

static qnn_status dwconv_s8(const qnn_conv_args *a)
{
    if (a->in.n != 1) {
        return qnn_kernels_portable.dwconv_s8(a);
    }
    cmsis_nn_context ctx = scratch();
    cmsis_nn_dw_conv_params p = dw_params(a);
    cmsis_nn_per_channel_quant_params q = pc_quant(a);
    cmsis_nn_dims in = dims(a->in), f = dims(a->filt), out = dims(a->out), b = {1, 1, 1, a->out.c};
    return st(arm_depthwise_conv_wrapper_s8(&ctx, &p, &q, &in, a->input, &f, a->filter, &b, a->bias, &out, a->output));
}

static qnn_status dwconv_s16(const qnn_conv_args *a)
{
    if (a->in.n != 1) {
        return qnn_kernels_portable.dwconv_s16(a);
    }
    cmsis_nn_context ctx = scratch();
    cmsis_nn_dw_conv_params p = dw_params(a);
    cmsis_nn_per_channel_quant_params q = pc_quant(a);
    cmsis_nn_dims in = dims(a->in), f = dims(a->filt), out = dims(a->out), b = {1, 1, 1, a->out.c};
    return st(arm_depthwise_conv_wrapper_s16(&ctx, &p, &q, &in, a->input, &f, a->filter, &b, a->bias, &out,
                                             a->output));
}

static qnn_status fc_s8(const qnn_conv_args *a)
{
    cmsis_nn_context ctx = scratch();
    cmsis_nn_fc_params p = {.input_offset = -a->input_zp,
                            .filter_offset = -a->filter_zp,
                            .output_offset = a->output_zp,
                            .activation = {a->act_min, a->act_max}};
    cmsis_nn_dims in, f, b, out;
    fc_dims(a, &in, &f, &b, &out);
    if (a->n_quant == 1) {
        cmsis_nn_per_tensor_quant_params q = {a->mult[0], a->shift[0]};
        return st(arm_fully_connected_s8(&ctx, &p, &q, &in, a->input, &f, a->filter, &b, a->bias, &out, a->output));
    }
    cmsis_nn_per_channel_quant_params q = pc_quant(a);
    return st(arm_fully_connected_per_channel_s8(&ctx, &p, &q, &in, a->input, &f, a->filter, &b, a->bias, &out,
                                                 a->output));
}

static qnn_status fc_s16(const qnn_conv_args *a)
{
    if (a->n_quant != 1) {
        return qnn_kernels_portable.fc_s16(a);
    }
    cmsis_nn_context ctx = scratch();
    cmsis_nn_fc_params p = {.activation = {a->act_min, a->act_max}};
    cmsis_nn_per_tensor_quant_params q = {a->mult[0], a->shift[0]};
    cmsis_nn_dims in, f, b, out;
    fc_dims(a, &in, &f, &b, &out);
    return st(arm_fully_connected_s16(&ctx, &p, &q, &in, a->input, &f, a->filter, &b, a->bias, &out, a->output));
}

static cmsis_nn_pool_params pool_params(const qnn_pool_args *a, cmsis_nn_dims *in, cmsis_nn_dims *f, cmsis_nn_dims *out)
{
    cmsis_nn_pool_params p = {.stride = {a->stride_w, a->stride_h},
                              .padding = {a->pad_left, a->pad_top},
                              .activation = {a->act_min, a->act_max}};
    *in = dims(a->in);
    cmsis_nn_dims fd = {1, a->filter_h, a->filter_w, 1};
    *f = fd;
    *out = dims(a->out);
    return p;
}

static qnn_status avgpool_s8(const qnn_pool_args *a)
{
    if (a->in.n != 1) {
        return qnn_kernels_portable.avgpool_s8(a);
    }
    cmsis_nn_context ctx = scratch();
    cmsis_nn_dims in, f, out;
    cmsis_nn_pool_params p = pool_params(a, &in, &f, &out);
    return st(arm_avgpool_s8(&ctx, &p, &in, a->input, &f, &out, a->output));
}

static qnn_status avgpool_s16(const qnn_pool_args *a)
{
    if (a->in.n != 1) {
        return qnn_kernels_portable.avgpool_s16(a);
    }
    cmsis_nn_context ctx = scratch();
    cmsis_nn_dims in, f, out;
    cmsis_nn_pool_params p = pool_params(a, &in, &f, &out);
    return st(arm_avgpool_s16(&ctx, &p, &in, a->input, &f, &out, a->output));
}

static qnn_status maxpool_s8(const qnn_pool_args *a)
{
    if (a->in.n != 1) {
        return qnn_kernels_portable.maxpool_s8(a);
    }
    cmsis_nn_context ctx = scratch();
    cmsis_nn_dims in, f, out;
    cmsis_nn_pool_params p = pool_params(a, &in, &f, &out);
    return st(arm_max_pool_s8(&ctx, &p, &in, a->input, &f, &out, a->output));
}

static qnn_status maxpool_s16(const qnn_pool_args *a)
{
    if (a->in.n != 1) {
        return qnn_kernels_portable.maxpool_s16(a);
    }
    cmsis_nn_context ctx = scratch();
    cmsis_nn_dims in, f, out;
    cmsis_nn_pool_params p = pool_params(a, &in, &f, &out);
    return st(arm_max_pool_s16(&ctx, &p, &in, a->input, &f, &out, a->output));
}

static qnn_status add_s8(const qnn_add_args *a)
{
    if (a->left_shift < 16) {
        return qnn_kernels_portable.add_s8(a);
    }
    return st(arm_elementwise_add_s8(a->in1, a->in2, -a->in1_zp, a->in1_mult, a->in1_shift, -a->in2_zp, a->in2_mult,
                                     a->in2_shift, a->left_shift, a->output, a->output_zp, a->out_mult,
                                     a->out_shift, a->act_min, a->act_max, a->size));
}

static qnn_status add_s16(const qnn_add_args *a)
{
    return st(arm_elementwise_add_s16(a->in1, a->in2, -a->in1_zp, a->in1_mult, a->in1_shift, -a->in2_zp,
                                      a->in2_mult, a->in2_shift, a->left_shift, a->output, a->output_zp,
                                      a->out_mult, a->out_shift, a->act_min, a->act_max, a->size));
}

static qnn_status softmax_s8(const qnn_softmax_args *a)
{
    arm_softmax_s8(a->input, a->rows, a->depth, a->input_multiplier, a->input_shift, a->diff_min, a->output);
    return QNN_OK;
}

static qnn_status softmax_s16(const qnn_softmax_args *a)
{
    cmsis_nn_softmax_lut_s16 lut = {a->exp_lut, a->recip_lut};
    return st(arm_softmax_s16(a->input, a->rows, a->depth, a->input_multiplier, a->input_shift, &lut, a->output));
}

static qnn_status prepare(qnn_kernel_op op, int is16, const void *args)
{
    int32_t need = 0;
    if (op == QNN_K_AVGPOOL || op == QNN_K_MAXPOOL) {
        const qnn_pool_args *a = (const qnn_pool_args *)args;
        if (op == QNN_K_AVGPOOL) {
            need = is16 ? arm_avgpool_s16_get_buffer_size(a->out.w, a->in.c) : arm_avgpool_s8_get_buffer_size(a->out.w, a->in.c);
        }
    } else {
        const qnn_conv_args *a = (const qnn_conv_args *)args;
        cmsis_nn_dims in = dims(a->in), f = dims(a->filt), out = dims(a->out);
        if (op == QNN_K_CONV) {
            cmsis_nn_conv_params p = conv_params(a);
            need = is16 ? arm_convolve_wrapper_s16_get_buffer_size(&p, &in, &f, &out)
                        : arm_convolve_wrapper_s8_get_buffer_size(&p, &in, &f, &out);
        } else if (op == QNN_K_DWCONV) {
            cmsis_nn_dw_conv_params p = dw_params(a);
            need = is16 ? arm_depthwise_conv_wrapper_s16_get_buffer_size(&p, &in, &f, &out)
                        : arm_depthwise_conv_wrapper_s8_get_buffer_size(&p, &in, &f, &out);
        } else {
            cmsis_nn_dims fi, ff, fb, fo;
            fc_dims(a, &fi, &ff, &fb, &fo);
            need = is16 ? arm_fully_connected_s16_get_buffer_size(&ff) : arm_fully_connected_s8_get_buffer_size(&ff);
        }
    }
    return need <= (int32_t)sizeof s_scratch ? QNN_OK : QNN_E_BACKEND;
}

const qnn_kernels qnn_kernels_cmsis_nn = {
    .name = "cmsis-nn",
    .prepare = prepare,
    .conv_s8 = conv_s8,
    .conv_s16 = conv_s16,
    .dwconv_s8 = dwconv_s8,
    .dwconv_s16 = dwconv_s16,
    .fc_s8 = fc_s8,
    .fc_s16 = fc_s16,
    .avgpool_s8 = avgpool_s8,
    .avgpool_s16 = avgpool_s16,
    .maxpool_s8 = maxpool_s8,
    .maxpool_s16 = maxpool_s16,
    .add_s8 = add_s8,
    .add_s16 = add_s16,
    .softmax_s8 = softmax_s8,
    .softmax_s16 = softmax_s16,
};
