/* The kernel interface: one function table per backend (portable C, CMSIS-NN). The executor
 * decodes validated operators into these argument records; kernels may assume them valid. */
#ifndef QNN_KERNELS_H
#define QNN_KERNELS_H

#include <stdint.h>

#include "qnn/qnn.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct qnn_shape {
    int32_t n, h, w, c;
} qnn_shape;

/* Conv, depthwise conv and fully connected. For FC: input [n, 1, 1, in_depth] flattened,
 * filter [Cout, 1, 1, Cin], output [n, 1, 1, Cout]; n_quant is 1 (per tensor) or Cout. */
typedef struct qnn_conv_args {
    const void *input;
    qnn_shape in;
    int32_t input_zp;
    const int8_t *filter;
    qnn_shape filt;
    int32_t filter_zp;
    const void *bias; /* int32 (int8 ops) or int64 (16x8 ops); NULL if absent */
    void *output;
    qnn_shape out;
    int32_t output_zp;
    int32_t stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left, depth_multiplier;
    int32_t act_min, act_max;
    int32_t n_quant;
    const int32_t *mult;
    const int32_t *shift;
} qnn_conv_args;

typedef struct qnn_pool_args {
    const void *input;
    qnn_shape in;
    void *output;
    qnn_shape out;
    int32_t stride_h, stride_w, filter_h, filter_w, pad_top, pad_left;
    int32_t act_min, act_max;
} qnn_pool_args;

typedef struct qnn_add_args {
    const void *in1, *in2;
    void *output;
    int32_t size;
    int32_t in1_zp, in2_zp, output_zp;
    int32_t left_shift, in1_mult, in1_shift, in2_mult, in2_shift, out_mult, out_shift;
    int32_t act_min, act_max;
} qnn_add_args;

typedef struct qnn_softmax_args {
    const void *input;
    void *output;
    int32_t rows, depth;
    int32_t input_multiplier, input_shift, diff_min;
    const int16_t *exp_lut, *recip_lut; /* int16 only */
} qnn_softmax_args;

typedef enum qnn_kernel_op {
    QNN_K_CONV = 0,
    QNN_K_DWCONV,
    QNN_K_FC,
    QNN_K_AVGPOOL,
    QNN_K_MAXPOOL,
} qnn_kernel_op;

typedef struct qnn_kernels {
    const char *name;
    /* Optional: checked at load for every conv-like/pool op (e.g. scratch buffer big enough). */
    qnn_status (*prepare)(qnn_kernel_op op, int is16, const void *args);
    qnn_status (*conv_s8)(const qnn_conv_args *a);
    qnn_status (*conv_s16)(const qnn_conv_args *a);
    qnn_status (*dwconv_s8)(const qnn_conv_args *a);
    qnn_status (*dwconv_s16)(const qnn_conv_args *a);
    qnn_status (*fc_s8)(const qnn_conv_args *a);
    qnn_status (*fc_s16)(const qnn_conv_args *a);
    qnn_status (*avgpool_s8)(const qnn_pool_args *a);
    qnn_status (*avgpool_s16)(const qnn_pool_args *a);
    qnn_status (*maxpool_s8)(const qnn_pool_args *a);
    qnn_status (*maxpool_s16)(const qnn_pool_args *a);
    qnn_status (*add_s8)(const qnn_add_args *a);
    qnn_status (*add_s16)(const qnn_add_args *a);
    qnn_status (*softmax_s8)(const qnn_softmax_args *a);
    qnn_status (*softmax_s16)(const qnn_softmax_args *a);
} qnn_kernels;

extern const qnn_kernels qnn_kernels_portable;
#ifdef QNN_HAVE_CMSIS_NN
extern const qnn_kernels qnn_kernels_cmsis_nn;
#endif

/* The backend the build prefers (CMSIS-NN when compiled in). */
const qnn_kernels *qnn_default_kernels(void);

#ifdef __cplusplus
}
#endif
#endif
