/* Board shell for QEMU mps2-an505 (Cortex-M33): vector table and start-up, CMSDK UART0 polled, SysTick
 * as an instruction counter (with -icount shift=0 it advances one count per 50 instructions). */
#include <stdint.h>
#include <string.h>

#include "board_shell.h"

#define UART0_BASE 0x40200000u
#define UART_DATA (*(volatile uint32_t *)(UART0_BASE + 0x00u))
#define UART_STATE (*(volatile uint32_t *)(UART0_BASE + 0x04u))
#define UART_CTRL (*(volatile uint32_t *)(UART0_BASE + 0x08u))
#define UART_BAUDDIV (*(volatile uint32_t *)(UART0_BASE + 0x10u))
#define UART_STATE_TX_FULL 0x1u
#define UART_STATE_RX_FULL 0x2u

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define SCB_CPACR (*(volatile uint32_t *)0xE000ED88u)
#define SCB_AIRCR (*(volatile uint32_t *)0xE000ED0Cu)

#define SYSCLK_HZ 20000000u
#define INSTRUCTIONS_PER_TICK 50u

extern uint32_t __stack_top, __data_load__, __data_start__, __data_end__, __bss_start__, __bss_end__;
int main(void);
void Reset_Handler(void);
void Fault_Handler(void);

void Reset_Handler(void)
{
    SCB_CPACR |= 0xFu << 20; /* FPU (CP10, CP11) before any float code */
    __asm volatile("dsb\n isb");
    uint32_t *src = &__data_load__;
    for (uint32_t *dst = &__data_start__; dst < &__data_end__;) {
        *dst++ = *src++;
    }
    for (uint32_t *dst = &__bss_start__; dst < &__bss_end__;) {
        *dst++ = 0;
    }
    main();
    for (;;) {
    }
}

void Fault_Handler(void)
{
    for (;;) {
    }
}

__attribute__((section(".vectors"), used)) static const void *const vectors[16] = {
    &__stack_top,  Reset_Handler, Fault_Handler, Fault_Handler, Fault_Handler, Fault_Handler,
    Fault_Handler, 0,             0,             0,             0,             Fault_Handler,
    Fault_Handler, 0,             Fault_Handler, Fault_Handler,
};

static uint64_t ticks_high;
static uint32_t ticks_last;

/* 64-bit instruction count from the 24-bit down-counting SysTick; called often enough (every
 * protocol step) that it never misses a wrap of 2^24 ticks (~840 M instructions). */
static uint64_t now_instructions(void)
{
    uint32_t t = 0x00FFFFFFu - (SYST_CVR & 0x00FFFFFFu);
    if (t < ticks_last) {
        ticks_high += 0x01000000u;
    }
    ticks_last = t;
    return (ticks_high + t) * INSTRUCTIONS_PER_TICK;
}

/* The device core's cycle counter, when it is linked in. */
uint32_t qnn_platform_cycles(void);
uint32_t qnn_platform_cycles(void) { return (uint32_t)now_instructions(); }

static int rx_ready(void) { return (UART_STATE & UART_STATE_RX_FULL) != 0; }
static uint8_t rx_read(void) { return (uint8_t)UART_DATA; }

static void tx_byte(uint8_t b)
{
    while (UART_STATE & UART_STATE_TX_FULL) {
    }
    UART_DATA = b;
}

static void tx_flush(void)
{
    while (UART_STATE & UART_STATE_TX_FULL) {
    }
}

static void system_reset(void)
{
    __asm volatile("dsb");
    SCB_AIRCR = 0x05FA0004u; /* VECTKEY | SYSRESETREQ */
    __asm volatile("dsb");
    for (;;) {
    }
}

#ifdef QNN_BOARD_USE_CORE
static _Alignas(8) uint8_t upload_store[2u << 20]; /* uploaded blobs: SSRAM2+3 has room */
#endif

int main(void)
{
    UART_BAUDDIV = 16; /* the pty ignores it; the CMSDK UART needs >= 16 */
    UART_CTRL = 0x3u;  /* TX + RX enable */
    SYST_RVR = 0x00FFFFFFu;
    SYST_CVR = 0;
    SYST_CSR = 0x5u; /* enable, processor clock, no interrupt */
    static const board_shell_t shell = {
        .board = "qemu-mps2-an505",
        .clock_hz = SYSCLK_HZ,
        .timing_unit = QNN_TIMING_INSTRUCTIONS,
        .timing_resolution = INSTRUCTIONS_PER_TICK,
        .rx_ready = rx_ready,
        .rx_read = rx_read,
        .tx_byte = tx_byte,
        .tx_flush = tx_flush,
        .now = now_instructions,
        .system_reset = system_reset,
#ifdef QNN_BOARD_USE_CORE
        .upload = upload_store,
        .upload_cap = sizeof(upload_store),
#endif
    };
    board_shell_run(&shell);
    return 0;
}
