/* Test-only start-up for running the core's test binaries on QEMU mps2-an505 (Cortex-M33) with
 * semihosting: printf/fopen/exit go to the host (newlib rdimon). The board shell proper lives in
 * firmware/boards/; this exists so ctest can run the same suites on the ARM build. */
#include <stdint.h>

extern uint32_t __stack_top;
extern void _start(void); /* newlib crt0 (rdimon): sets up the C library, calls main, then exit */

void qnn_test_reset(void);
void qnn_test_fault(void);

void qnn_test_reset(void)
{
    /* FPU on (CP10/CP11 full access) before any floating-point code runs. */
    volatile uint32_t *cpacr = (volatile uint32_t *)0xE000ED88u;
    *cpacr |= 0xFu << 20;
    __asm volatile("dsb\n isb");
    _start();
    for (;;) {
    }
}

void qnn_test_fault(void)
{
    /* SYS_EXIT with an error code, so a crash fails the test instead of hanging QEMU. */
    static const uint32_t args[2] = {0x20023u /* ADP_Stopped_RunTimeErrorUnknown */, 99u};
    register uint32_t r0 __asm("r0") = 0x18u;
    register const uint32_t *r1 __asm("r1") = args;
    __asm volatile("bkpt 0xAB" : : "r"(r0), "r"(r1) : "memory");
    for (;;) {
    }
}

__attribute__((section(".vectors"), used)) static const void *const vectors[16] = {
    &__stack_top, qnn_test_reset, qnn_test_fault, qnn_test_fault, qnn_test_fault, qnn_test_fault,
    qnn_test_fault, 0, 0, 0, 0, qnn_test_fault, qnn_test_fault, 0, qnn_test_fault, qnn_test_fault,
};

/* QEMU's SysTick with -icount shift=0 is not needed here: tests time with a free-running count. */
/* Weak: a suite may count its own ticks (test_blob.c). */
uint32_t qnn_platform_cycles(void);
__attribute__((weak)) uint32_t qnn_platform_cycles(void)
{
    /* SysTick as an instruction counter (ARCHITECTURE.md 5): CLKSOURCE=1, 24-bit, counts down. */
    volatile uint32_t *syst = (volatile uint32_t *)0xE000E010u;
    static uint32_t last, high;
    if ((syst[0] & 1u) == 0) {
        syst[1] = 0x00FFFFFFu;
        syst[2] = 0;
        syst[0] = 5u; /* enable, processor clock */
    }
    uint32_t now = 0x00FFFFFFu - (syst[2] & 0x00FFFFFFu);
    if (now < last) {
        high += 0x01000000u;
    }
    last = now;
    return high + now;
}
