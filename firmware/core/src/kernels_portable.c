/* Portable C kernels: TFLite Micro reference_integer_ops arithmetic, bit for bit. */
#include "qnn/qnn_fixedpoint.h"
#include "qnn/qnn_kernels.h"

static qnn_status conv_s8(const qnn_conv_args *a)
{
    const int8_t *in = (const int8_t *)a->input;
    const int32_t *bias = (const int32_t *)a->bias;
    int8_t *out = (int8_t *)a->output;
    const int32_t input_offset = -a->input_zp;
    const int32_t cin = a->in.c, cout = a->out.c, kh = a->filt.h, kw = a->filt.w;
    for (int32_t b = 0; b < a->out.n; ++b) {
        for (int32_t oy = 0; oy < a->out.h; ++oy) {
            const int32_t iy0 = oy * a->stride_h - a->pad_top;
            for (int32_t ox = 0; ox < a->out.w; ++ox) {
                const int32_t ix0 = ox * a->stride_w - a->pad_left;
                for (int32_t oc = 0; oc < cout; ++oc) {
                    int32_t acc = 0;
                    for (int32_t fy = 0; fy < kh; ++fy) {
                        const int32_t iy = iy0 + a->dilation_h * fy;
                        if (iy < 0 || iy >= a->in.h) {
                            continue;
                        }
                        for (int32_t fx = 0; fx < kw; ++fx) {
                            const int32_t ix = ix0 + a->dilation_w * fx;
                            if (ix < 0 || ix >= a->in.w) {
                                continue;
                            }
                            const int8_t *ip = in + ((b * a->in.h + iy) * a->in.w + ix) * cin;
                            const int8_t *fp = a->filter + ((oc * kh + fy) * kw + fx) * cin;
                            for (int32_t ic = 0; ic < cin; ++ic) {
                                acc += (int32_t)fp[ic] * ((int32_t)ip[ic] + input_offset);
                            }
                        }
                    }
                    if (bias) {
                        acc += bias[oc];
                    }
                    acc = qnn_mbqm(acc, a->mult[oc], a->shift[oc]) + a->output_zp;
                    out[((b * a->out.h + oy) * a->out.w + ox) * cout + oc] = (int8_t)qnn_clamp(acc, a->act_min, a->act_max);
                }
            }
        }
    }
    return QNN_OK;
}

static qnn_status conv_s16(const qnn_conv_args *a)
{
    const int16_t *in = (const int16_t *)a->input;
    const int64_t *bias = (const int64_t *)a->bias;
    int16_t *out = (int16_t *)a->output;
    const int32_t cin = a->in.c, cout = a->out.c, kh = a->filt.h, kw = a->filt.w;
    for (int32_t b = 0; b < a->out.n; ++b) {
        for (int32_t oy = 0; oy < a->out.h; ++oy) {
            const int32_t iy0 = oy * a->stride_h - a->pad_top;
            for (int32_t ox = 0; ox < a->out.w; ++ox) {
                const int32_t ix0 = ox * a->stride_w - a->pad_left;
                for (int32_t oc = 0; oc < cout; ++oc) {
                    int64_t acc = 0;
                    for (int32_t fy = 0; fy < kh; ++fy) {
                        const int32_t iy = iy0 + a->dilation_h * fy;
                        if (iy < 0 || iy >= a->in.h) {
                            continue;
                        }
                        for (int32_t fx = 0; fx < kw; ++fx) {
                            const int32_t ix = ix0 + a->dilation_w * fx;
                            if (ix < 0 || ix >= a->in.w) {
                                continue;
                            }
                            const int16_t *ip = in + ((b * a->in.h + iy) * a->in.w + ix) * cin;
                            const int8_t *fp = a->filter + ((oc * kh + fy) * kw + fx) * cin;
                            for (int32_t ic = 0; ic < cin; ++ic) {
                                acc += (int32_t)fp[ic] * (int32_t)ip[ic];
                            }
                        }
                    }
                    if (bias) {
                        acc += bias[oc];
                    }
                    int32_t v = qnn_mbqm_s64(acc, a->mult[oc], a->shift[oc]);
                    out[((b * a->out.h + oy) * a->out.w + ox) * cout + oc] = (int16_t)qnn_clamp(v, a->act_min, a->act_max);
                }
            }
        }
    }
    return QNN_OK;
}

static qnn_status dwconv_s8(const qnn_conv_args *a)
{
    const int8_t *in = (const int8_t *)a->input;
    const int32_t *bias = (const int32_t *)a->bias;
    int8_t *out = (int8_t *)a->output;
    const int32_t input_offset = -a->input_zp;
    const int32_t cin = a->in.c, cout = a->out.c, kh = a->filt.h, kw = a->filt.w, dm = a->depth_multiplier;
    for (int32_t b = 0; b < a->out.n; ++b) {
        for (int32_t oy = 0; oy < a->out.h; ++oy) {
            const int32_t iy0 = oy * a->stride_h - a->pad_top;
            for (int32_t ox = 0; ox < a->out.w; ++ox) {
                const int32_t ix0 = ox * a->stride_w - a->pad_left;
                for (int32_t ic = 0; ic < cin; ++ic) {
                    for (int32_t m = 0; m < dm; ++m) {
                        const int32_t oc = m + ic * dm;
                        int32_t acc = 0;
                        for (int32_t fy = 0; fy < kh; ++fy) {
                            const int32_t iy = iy0 + a->dilation_h * fy;
                            if (iy < 0 || iy >= a->in.h) {
                                continue;
                            }
                            for (int32_t fx = 0; fx < kw; ++fx) {
                                const int32_t ix = ix0 + a->dilation_w * fx;
                                if (ix < 0 || ix >= a->in.w) {
                                    continue;
                                }
                                int32_t iv = in[((b * a->in.h + iy) * a->in.w + ix) * cin + ic];
                                int32_t fv = a->filter[(fy * kw + fx) * cout + oc];
                                acc += fv * (iv + input_offset);
                            }
                        }
                        if (bias) {
                            acc += bias[oc];
                        }
                        acc = qnn_mbqm(acc, a->mult[oc], a->shift[oc]) + a->output_zp;
                        out[((b * a->out.h + oy) * a->out.w + ox) * cout + oc] = (int8_t)qnn_clamp(acc, a->act_min, a->act_max);
                    }
                }
            }
        }
    }
    return QNN_OK;
}

static qnn_status dwconv_s16(const qnn_conv_args *a)
{
    const int16_t *in = (const int16_t *)a->input;
    const int64_t *bias = (const int64_t *)a->bias;
    int16_t *out = (int16_t *)a->output;
    const int32_t cin = a->in.c, cout = a->out.c, kh = a->filt.h, kw = a->filt.w, dm = a->depth_multiplier;
    for (int32_t b = 0; b < a->out.n; ++b) {
        for (int32_t oy = 0; oy < a->out.h; ++oy) {
            const int32_t iy0 = oy * a->stride_h - a->pad_top;
            for (int32_t ox = 0; ox < a->out.w; ++ox) {
                const int32_t ix0 = ox * a->stride_w - a->pad_left;
                for (int32_t ic = 0; ic < cin; ++ic) {
                    for (int32_t m = 0; m < dm; ++m) {
                        const int32_t oc = m + ic * dm;
                        int64_t acc = 0;
                        for (int32_t fy = 0; fy < kh; ++fy) {
                            const int32_t iy = iy0 + a->dilation_h * fy;
                            if (iy < 0 || iy >= a->in.h) {
                                continue;
                            }
                            for (int32_t fx = 0; fx < kw; ++fx) {
                                const int32_t ix = ix0 + a->dilation_w * fx;
                                if (ix < 0 || ix >= a->in.w) {
                                    continue;
                                }
                                int32_t iv = in[((b * a->in.h + iy) * a->in.w + ix) * cin + ic];
                                int32_t fv = a->filter[(fy * kw + fx) * cout + oc];
                                acc += fv * iv;
                            }
                        }
                        if (bias) {
                            acc += bias[oc];
                        }
                        int32_t v = qnn_mbqm_s64(acc, a->mult[oc], a->shift[oc]);
                        out[((b * a->out.h + oy) * a->out.w + ox) * cout + oc] = (int16_t)qnn_clamp(v, a->act_min, a->act_max);
                    }
                }
            }
        }
    }
    return QNN_OK;
}

static qnn_status fc_s8(const qnn_conv_args *a)
{
    const int8_t *in = (const int8_t *)a->input;
    const int32_t *bias = (const int32_t *)a->bias;
    int8_t *out = (int8_t *)a->output;
    const int32_t input_offset = -a->input_zp, filter_offset = -a->filter_zp;
    const int32_t depth = a->in.c, cout = a->out.c;
    for (int32_t b = 0; b < a->out.n; ++b) {
        for (int32_t oc = 0; oc < cout; ++oc) {
            int32_t acc = 0;
            for (int32_t d = 0; d < depth; ++d) {
                acc += ((int32_t)a->filter[oc * depth + d] + filter_offset) * ((int32_t)in[b * depth + d] + input_offset);
            }
            if (bias) {
                acc += bias[oc];
            }
            int32_t q = a->n_quant == 1 ? 0 : oc;
            acc = qnn_mbqm(acc, a->mult[q], a->shift[q]) + a->output_zp;
            out[b * cout + oc] = (int8_t)qnn_clamp(acc, a->act_min, a->act_max);
        }
    }
    return QNN_OK;
}

static qnn_status fc_s16(const qnn_conv_args *a)
{
    const int16_t *in = (const int16_t *)a->input;
    const int64_t *bias = (const int64_t *)a->bias;
    int16_t *out = (int16_t *)a->output;
    const int32_t depth = a->in.c, cout = a->out.c;
    for (int32_t b = 0; b < a->out.n; ++b) {
        for (int32_t oc = 0; oc < cout; ++oc) {
            int64_t acc = 0;
            for (int32_t d = 0; d < depth; ++d) {
                acc += (int32_t)a->filter[oc * depth + d] * (int32_t)in[b * depth + d];
            }
            if (bias) {
                acc += bias[oc];
            }
            int32_t q = a->n_quant == 1 ? 0 : oc;
            int32_t v = qnn_mbqm_s64(acc, a->mult[q], a->shift[q]);
            out[b * cout + oc] = (int16_t)qnn_clamp(v, a->act_min, a->act_max);
        }
    }
    return QNN_OK;
}

/* Pooling: taps clipped to the image; the average counts only those taps and rounds half away. */
#define POOL_BODY(T, IS_AVG)                                                                                 \
    const T *in = (const T *)a->input;                                                                       \
    T *out = (T *)a->output;                                                                                 \
    const int32_t ch = a->in.c;                                                                              \
    for (int32_t b = 0; b < a->out.n; ++b) {                                                                 \
        for (int32_t oy = 0; oy < a->out.h; ++oy) {                                                          \
            const int32_t iy0 = oy * a->stride_h - a->pad_top;                                               \
            const int32_t fy0 = iy0 < 0 ? -iy0 : 0;                                                          \
            const int32_t fy1 = a->filter_h < a->in.h - iy0 ? a->filter_h : a->in.h - iy0;                   \
            for (int32_t ox = 0; ox < a->out.w; ++ox) {                                                      \
                const int32_t ix0 = ox * a->stride_w - a->pad_left;                                          \
                const int32_t fx0 = ix0 < 0 ? -ix0 : 0;                                                      \
                const int32_t fx1 = a->filter_w < a->in.w - ix0 ? a->filter_w : a->in.w - ix0;               \
                for (int32_t c = 0; c < ch; ++c) {                                                           \
                    int32_t acc = IS_AVG ? 0 : INT32_MIN;                                                    \
                    int32_t count = 0;                                                                       \
                    for (int32_t fy = fy0; fy < fy1; ++fy) {                                                 \
                        for (int32_t fx = fx0; fx < fx1; ++fx) {                                             \
                            int32_t v = in[((b * a->in.h + iy0 + fy) * a->in.w + ix0 + fx) * ch + c];        \
                            if (IS_AVG) {                                                                    \
                                acc += v;                                                                    \
                            } else if (v > acc) {                                                            \
                                acc = v;                                                                     \
                            }                                                                                \
                            ++count;                                                                         \
                        }                                                                                    \
                    }                                                                                        \
                    if (count == 0) {                                                                        \
                        return QNN_E_SHAPE;                                                                  \
                    }                                                                                        \
                    if (IS_AVG) {                                                                            \
                        acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;               \
                    }                                                                                        \
                    out[((b * a->out.h + oy) * a->out.w + ox) * ch + c] = (T)qnn_clamp(acc, a->act_min, a->act_max); \
                }                                                                                            \
            }                                                                                                \
        }                                                                                                    \
    }                                                                                                        \
    return QNN_OK;

static qnn_status avgpool_s8(const qnn_pool_args *a) { POOL_BODY(int8_t, 1) }
static qnn_status avgpool_s16(const qnn_pool_args *a) { POOL_BODY(int16_t, 1) }
static qnn_status maxpool_s8(const qnn_pool_args *a) { POOL_BODY(int8_t, 0) }
static qnn_status maxpool_s16(const qnn_pool_args *a) { POOL_BODY(int16_t, 0) }

#define ADD_BODY(T)                                                                                          \
    const T *x1 = (const T *)a->in1;                                                                         \
    const T *x2 = (const T *)a->in2;                                                                         \
    T *out = (T *)a->output;                                                                                 \
    for (int32_t i = 0; i < a->size; ++i) {                                                                  \
        int32_t v1 = qnn_shl32((int32_t)x1[i] - a->in1_zp, a->left_shift);                                   \
        int32_t v2 = qnn_shl32((int32_t)x2[i] - a->in2_zp, a->left_shift);                                   \
        int32_t s1 = qnn_mbqm(v1, a->in1_mult, a->in1_shift);                                                \
        int32_t s2 = qnn_mbqm(v2, a->in2_mult, a->in2_shift);                                                \
        int32_t r = qnn_mbqm(s1 + s2, a->out_mult, a->out_shift) + a->output_zp;                             \
        out[i] = (T)qnn_clamp(r, a->act_min, a->act_max);                                                    \
    }                                                                                                        \
    return QNN_OK;

static qnn_status add_s8(const qnn_add_args *a) { ADD_BODY(int8_t) }
static qnn_status add_s16(const qnn_add_args *a) { ADD_BODY(int16_t) }

static qnn_status softmax_s8(const qnn_softmax_args *a)
{
    const int8_t *in = (const int8_t *)a->input;
    int8_t *out = (int8_t *)a->output;
    for (int32_t r = 0; r < a->rows; ++r) {
        const int8_t *x = in + r * a->depth;
        int8_t *y = out + r * a->depth;
        int32_t max_in_row = INT8_MIN;
        for (int32_t c = 0; c < a->depth; ++c) {
            if (x[c] > max_in_row) {
                max_in_row = x[c];
            }
        }
        int32_t sum_of_exps = 0; /* Q12.19 */
        for (int32_t c = 0; c < a->depth; ++c) {
            int32_t diff = (int32_t)x[c] - max_in_row;
            if (diff >= a->diff_min) {
                int32_t scaled = qnn_srdhm(qnn_shl32(diff, a->input_shift), a->input_multiplier);
                sum_of_exps += qnn_rdbpot(qnn_exp_on_negative_values_q5(scaled), 12);
            }
        }
        int num_bits_over_unit;
        int32_t shifted_scale = qnn_get_reciprocal(sum_of_exps, 12, &num_bits_over_unit);
        for (int32_t c = 0; c < a->depth; ++c) {
            int32_t diff = (int32_t)x[c] - max_in_row;
            if (diff >= a->diff_min) {
                int32_t scaled = qnn_srdhm(qnn_shl32(diff, a->input_shift), a->input_multiplier);
                int32_t exp_in_0 = qnn_exp_on_negative_values_q5(scaled);
                int32_t unsat = qnn_rdbpot(qnn_srdhm(shifted_scale, exp_in_0), num_bits_over_unit + 31 - 8);
                y[c] = (int8_t)qnn_clamp(unsat - 128, INT8_MIN, INT8_MAX);
            } else {
                y[c] = INT8_MIN;
            }
        }
    }
    return QNN_OK;
}

static qnn_status softmax_s16(const qnn_softmax_args *a)
{
    const int16_t *in = (const int16_t *)a->input;
    int16_t *out = (int16_t *)a->output;
    for (int32_t r = 0; r < a->rows; ++r) {
        const int16_t *x = in + r * a->depth;
        int16_t *y = out + r * a->depth;
        int32_t max_in_row = INT16_MIN;
        for (int32_t c = 0; c < a->depth; ++c) {
            if (x[c] > max_in_row) {
                max_in_row = x[c];
            }
        }
        /* Two passes instead of TFLM's exp buffer: the LUT lookup is cheap and needs no scratch. */
        int32_t sum_of_exps = 0;
        for (int32_t c = 0; c < a->depth; ++c) {
            int32_t scaled = qnn_mbqm((int32_t)x[c] - max_in_row, a->input_multiplier, a->input_shift);
            int16_t sym = (int16_t)qnn_clamp(scaled + 32767, INT16_MIN, INT16_MAX);
            sum_of_exps += qnn_int16_lut(sym, a->exp_lut);
        }
        int headroom_plus_one = qnn_clz32((uint32_t)sum_of_exps);
        int32_t shifted_sum = (int32_t)((((int64_t)sum_of_exps << (headroom_plus_one - 1)) + (1 << 13)) >> 14);
        int32_t sym_shifted_sum = shifted_sum + (-((1 << 15) + (1 << 16)));
        int16_t sat = (int16_t)qnn_clamp(sym_shifted_sum, INT16_MIN, INT16_MAX);
        int16_t reciprocal = qnn_int16_lut(sat, a->recip_lut);
        int right_shift = 31 - headroom_plus_one;
        int64_t round = (int64_t)1 << (right_shift - 1);
        for (int32_t c = 0; c < a->depth; ++c) {
            int32_t scaled = qnn_mbqm((int32_t)x[c] - max_in_row, a->input_multiplier, a->input_shift);
            int16_t sym = (int16_t)qnn_clamp(scaled + 32767, INT16_MIN, INT16_MAX);
            int16_t e = qnn_int16_lut(sym, a->exp_lut);
            int32_t v = (int32_t)(((int64_t)e * reciprocal + round) >> right_shift);
            y[c] = (int16_t)qnn_clamp(v, 0, INT16_MAX);
        }
    }
    return QNN_OK;
}

const qnn_kernels qnn_kernels_portable = {
    .name = "portable",
    .prepare = NULL,
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
