/* Feature Squeezing on raw pixels: bit-depth levels and scipy-compatible median filters. */
#include "qnn/qnn_squeeze.h"

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

void qnn_median_filter(const uint8_t *pixels, int h, int w, int c, int k, uint8_t *out)
{
    /* scipy's default origin puts the window's centre at index k/2: offsets -k/2 .. k-1-k/2. */
    const int lo = -(k / 2);
    const int rank = (k * k) / 2;
    uint8_t window[25];
    for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
            for (int ch = 0; ch < c; ++ch) {
                int n = 0;
                for (int dy = 0; dy < k; ++dy) {
                    const int yy = reflect_index(y + lo + dy, h);
                    for (int dx = 0; dx < k; ++dx) {
                        const int xx = reflect_index(x + lo + dx, w);
                        /* Insertion sort while gathering: at most 25 values. */
                        uint8_t v = pixels[((size_t)yy * (size_t)w + (size_t)xx) * (size_t)c + (size_t)ch];
                        int j = n++;
                        while (j > 0 && window[j - 1] > v) {
                            window[j] = window[j - 1];
                            --j;
                        }
                        window[j] = v;
                    }
                }
                out[((size_t)y * (size_t)w + (size_t)x) * (size_t)c + (size_t)ch] = window[rank];
            }
        }
    }
}
