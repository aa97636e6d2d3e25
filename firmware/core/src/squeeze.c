/* Feature Squeezing: bit-depth levels and scipy-compatible median filters on pixels and tensors. */
#include "qnn/qnn_squeeze.h"

#include <string.h>

void qnn_squeeze_bit_depth(const uint8_t *pixels, size_t n, unsigned bits, uint8_t *levels)
{
    for (size_t i = 0; i < n; ++i) {
        levels[i] = qnn_bit_depth_level(pixels[i], bits);
    }
}

/* scipy 'reflect' (half-sample symmetric): d c b a | a b c d | d c b a. */
static int reflect_index(int i, int n)
{
    const int period = 2 * n;
    i %= period;
    if (i < 0) {
        i += period;
    }
    return i < n ? i : period - 1 - i;
}

/* First index in sorted win[0..n) whose value is >= v. */
static int lower_bound(const int32_t *win, int n, int32_t v)
{
    int lo = 0, hi = n;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (win[mid] < v) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

static void insert_sorted(int32_t *win, int *n, int32_t v)
{
    int at = lower_bound(win, *n, v);
    memmove(win + at + 1, win + at, (size_t)(*n - at) * sizeof *win);
    win[at] = v;
    ++*n;
}

static void remove_sorted(int32_t *win, int *n, int32_t v)
{
    int at = lower_bound(win, *n, v); /* v is in the window: it entered with its column */
    memmove(win + at, win + at + 1, (size_t)(*n - at - 1) * sizeof *win);
    --*n;
}

/* Pixels: Huang's running histogram per (row, channel). m is the median, below the count of window values < m;
 * after k values leave and k enter, m walks until below <= rank < below + hist[m]. */
static void median_u8_histogram(const uint8_t *in, void *out, qnn_elem_kind out_kind, int h, int w, int c, int k)
{
    const int lo = -(k / 2);
    const int rank = (k * k) / 2;
    int rows[QNN_MEDIAN_MAX];
    uint16_t hist[256];
    for (int y = 0; y < h; ++y) {
        for (int dy = 0; dy < k; ++dy) {
            rows[dy] = reflect_index(y + lo + dy, h);
        }
        for (int ch = 0; ch < c; ++ch) {
            memset(hist, 0, sizeof hist);
            int m = 0, below = 0;
            for (int x = 0; x < w; ++x) {
                if (x == 0) {
                    for (int dx = 0; dx < k; ++dx) {
                        const int xx = reflect_index(lo + dx, w);
                        for (int dy = 0; dy < k; ++dy) {
                            ++hist[in[((size_t)rows[dy] * (size_t)w + (size_t)xx) * (size_t)c + (size_t)ch]];
                        }
                    }
                } else {
                    const int gone = reflect_index(x - 1 + lo, w), come = reflect_index(x + lo + k - 1, w);
                    if (gone != come) {
                        for (int dy = 0; dy < k; ++dy) {
                            const size_t row = (size_t)rows[dy] * (size_t)w;
                            const uint8_t a = in[(row + (size_t)gone) * (size_t)c + (size_t)ch];
                            const uint8_t b = in[(row + (size_t)come) * (size_t)c + (size_t)ch];
                            --hist[a];
                            ++hist[b];
                            below += (b < m) - (a < m);
                        }
                    }
                }
                while (below > rank) {
                    --m;
                    below -= hist[m];
                }
                while (below + hist[m] <= rank) {
                    below += hist[m];
                    ++m;
                }
                qnn_elem_set(out, out_kind, ((size_t)y * (size_t)w + (size_t)x) * (size_t)c + (size_t)ch, m);
            }
        }
    }
}

/* Gather the k*k values and insertion-sort them: tensors' small windows, and the pixel reference (inlined there with
 * constant kinds, so the element switch folds away). */
static inline void median_gather(const void *in, qnn_elem_kind in_kind, void *out, qnn_elem_kind out_kind, int h, int w, int c,
                          int k)
{
    const int lo = -(k / 2);
    const int rank = (k * k) / 2;
    int32_t window[QNN_MEDIAN_MAX * QNN_MEDIAN_MAX];
    for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
            for (int ch = 0; ch < c; ++ch) {
                int n = 0;
                for (int dy = 0; dy < k; ++dy) {
                    const size_t row = (size_t)reflect_index(y + lo + dy, h) * (size_t)w;
                    for (int dx = 0; dx < k; ++dx) {
                        const size_t xx = (size_t)reflect_index(x + lo + dx, w);
                        int32_t v = qnn_elem_get(in, in_kind, (row + xx) * (size_t)c + (size_t)ch);
                        int j = n++;
                        while (j > 0 && window[j - 1] > v) {
                            window[j] = window[j - 1];
                            --j;
                        }
                        window[j] = v;
                    }
                }
                qnn_elem_set(out, out_kind, ((size_t)y * (size_t)w + (size_t)x) * (size_t)c + (size_t)ch, window[rank]);
            }
        }
    }
}

/* Tensors, larger windows: a sorted window; per output k values leave and k enter. */
static void median_sliding(const void *in, qnn_elem_kind in_kind, void *out, qnn_elem_kind out_kind, int h, int w, int c,
                           int k)
{
    /* scipy's default origin puts the window's centre at index k/2: offsets -k/2 .. k-1-k/2. */
    const int lo = -(k / 2);
    const int rank = (k * k) / 2;
    int rows[QNN_MEDIAN_MAX];
    int32_t win[QNN_MEDIAN_MAX * QNN_MEDIAN_MAX];
    for (int y = 0; y < h; ++y) {
        for (int dy = 0; dy < k; ++dy) {
            rows[dy] = reflect_index(y + lo + dy, h);
        }
        for (int ch = 0; ch < c; ++ch) {
            int n = 0;
            for (int x = 0; x < w; ++x) {
                if (x == 0) {
                    for (int dx = 0; dx < k; ++dx) {
                        const int xx = reflect_index(lo + dx, w);
                        for (int dy = 0; dy < k; ++dy) {
                            insert_sorted(win, &n, qnn_elem_get(in, in_kind, ((size_t)rows[dy] * (size_t)w + (size_t)xx) * (size_t)c + (size_t)ch));
                        }
                    }
                } else {
                    /* The window's columns, reflected, are a multiset: the leftmost leaves, one enters. */
                    const int gone = reflect_index(x - 1 + lo, w), come = reflect_index(x + lo + k - 1, w);
                    if (gone != come) {
                        for (int dy = 0; dy < k; ++dy) {
                            const size_t row = (size_t)rows[dy] * (size_t)w;
                            remove_sorted(win, &n, qnn_elem_get(in, in_kind, (row + (size_t)gone) * (size_t)c + (size_t)ch));
                            insert_sorted(win, &n, qnn_elem_get(in, in_kind, (row + (size_t)come) * (size_t)c + (size_t)ch));
                        }
                    }
                }
                qnn_elem_set(out, out_kind, ((size_t)y * (size_t)w + (size_t)x) * (size_t)c + (size_t)ch, win[rank]);
            }
        }
    }
}

void qnn_median_any(const void *in, qnn_elem_kind in_kind, void *out, qnn_elem_kind out_kind, int h, int w, int c,
                    int k)
{
    if (in_kind == QNN_ELEM_U8 && out_kind == QNN_ELEM_U8 && k == 2) {
        /* four values: sorting them beats keeping a histogram (squeeze_bench, M33 under QEMU) */
        qnn_median_filter_reference((const uint8_t *)in, h, w, c, k, (uint8_t *)out);
    } else if (in_kind == QNN_ELEM_U8) {
        median_u8_histogram((const uint8_t *)in, out, out_kind, h, w, c, k);
    } else if (k <= 3) {
        median_gather(in, in_kind, out, out_kind, h, w, c, k);
    } else {
        median_sliding(in, in_kind, out, out_kind, h, w, c, k);
    }
}

void qnn_median_filter(const uint8_t *pixels, int h, int w, int c, int k, uint8_t *out)
{
    qnn_median_any(pixels, QNN_ELEM_U8, out, QNN_ELEM_U8, h, w, c, k);
}

void qnn_median_filter_reference(const uint8_t *pixels, int h, int w, int c, int k, uint8_t *out)
{
    median_gather(pixels, QNN_ELEM_U8, out, QNN_ELEM_U8, h, w, c, k);
}
