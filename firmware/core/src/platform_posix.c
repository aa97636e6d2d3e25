/* qnn_platform_cycles for hosted builds (tests, the sim): monotonic nanoseconds mod 2^32. */
#define _POSIX_C_SOURCE 199309L
#include <time.h>

#include "qnn/qnn.h"

uint32_t qnn_platform_cycles(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint32_t)((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
}
