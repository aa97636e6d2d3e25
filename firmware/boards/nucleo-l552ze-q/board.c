/* Board shell for the NUCLEO-L552ZE-Q (STM32L552ZE, Cortex-M33, TrustZone off): start-up, 110 MHz
 * clock, LPUART1 on PG7/PG8 (ST-LINK virtual COM port) with an interrupt-fed receive ring so requests
 * keep arriving while an inference runs, DWT cycle counter, ICACHE, LEDs (green: running, blue:
 * toggles per received frame delimiter, red: fault). Facts: boards/nucleo-l552ze-q/README.md and
 * ARCHITECTURE.md section 5. Register addresses: RM0438 (non-secure aliases). */
#include <stdint.h>

#include "board_shell.h"
#include "qnn_protocol.h"

#define REG(addr) (*(volatile uint32_t *)(addr))

/* RCC */
#define RCC_BASE 0x40021000u
#define RCC_CR REG(RCC_BASE + 0x00u)
#define RCC_CFGR REG(RCC_BASE + 0x08u)
#define RCC_PLLCFGR REG(RCC_BASE + 0x0Cu)
#define RCC_AHB2ENR REG(RCC_BASE + 0x4Cu)
#define RCC_APB1ENR1 REG(RCC_BASE + 0x58u)
#define RCC_APB1ENR2 REG(RCC_BASE + 0x5Cu)
#define RCC_CCIPR1 REG(RCC_BASE + 0x88u)
#define RCC_BDCR REG(RCC_BASE + 0x90u)
/* PWR, FLASH, ICACHE */
#define PWR_CR1 REG(0x40007000u)
#define PWR_CR2 REG(0x40007004u)
#define PWR_SR2 REG(0x40007014u)
#define FLASH_ACR REG(0x40022000u)
#define ICACHE_CR REG(0x40030400u)
#define ICACHE_SR REG(0x40030404u)
/* GPIO */
#define GPIO(port) (0x42020000u + 0x400u * (port))
#define GPIO_MODER(p) REG(GPIO(p) + 0x00u)
#define GPIO_OSPEEDR(p) REG(GPIO(p) + 0x08u)
#define GPIO_BSRR(p) REG(GPIO(p) + 0x18u)
#define GPIO_ODR(p) REG(GPIO(p) + 0x14u)
#define GPIO_AFRL(p) REG(GPIO(p) + 0x20u)
#define GPIO_AFRH(p) REG(GPIO(p) + 0x24u)
#define PORT_A 0u
#define PORT_B 1u
#define PORT_C 2u
#define PORT_G 6u
/* LPUART1 */
#define LPUART1 0x40008000u
#define LPUART_CR1 REG(LPUART1 + 0x00u)
#define LPUART_BRR REG(LPUART1 + 0x0Cu)
#define LPUART_ISR REG(LPUART1 + 0x1Cu)
#define LPUART_ICR REG(LPUART1 + 0x20u)
#define LPUART_RDR REG(LPUART1 + 0x24u)
#define LPUART_TDR REG(LPUART1 + 0x28u)
#define LPUART_ISR_ORE (1u << 3)
#define LPUART_ISR_RXNE (1u << 5)
#define LPUART_ISR_TC (1u << 6)
#define LPUART_ISR_TXE (1u << 7)
#define LPUART1_IRQN 66u
/* Cortex-M33 */
#define SCB_CPACR REG(0xE000ED88u)
#define SCB_AIRCR REG(0xE000ED0Cu)
#define DEMCR REG(0xE000EDFCu)
#define DWT_CTRL REG(0xE0001000u)
#define DWT_CYCCNT REG(0xE0001004u)
#define NVIC_ISER(n) REG(0xE000E100u + 4u * (n))

#define SYSCLK_HZ 110000000u
#define DEFAULT_BAUD 115200u

extern uint32_t _estack, _sidata, _sdata, _edata, _sbss, _ebss;
int main(void);
void Reset_Handler(void);
void Fault_Handler(void);
void LPUART1_IRQHandler(void);

static void led(unsigned port, unsigned pin, int on) { GPIO_BSRR(port) = on ? (1u << pin) : (1u << (pin + 16u)); }

void Reset_Handler(void)
{
    SCB_CPACR |= 0xFu << 20; /* FPU before any float code */
    __asm volatile("dsb\n isb");
    uint32_t *src = &_sidata;
    for (uint32_t *dst = &_sdata; dst < &_edata;) {
        *dst++ = *src++;
    }
    for (uint32_t *dst = &_sbss; dst < &_ebss;) {
        *dst++ = 0;
    }
    main();
    for (;;) {
    }
}

void Fault_Handler(void)
{
    led(PORT_A, 9, 1); /* LD3 red */
    for (;;) {
    }
}

/* 16 system vectors + IRQs up to LPUART1 (66); unused IRQs stay disabled. */
__attribute__((section(".isr_vector"), used)) static const void *const vectors[16 + LPUART1_IRQN + 1] = {
    [0] = &_estack,         [1] = Reset_Handler,   [2] = Fault_Handler,  [3] = Fault_Handler,
    [4] = Fault_Handler,    [5] = Fault_Handler,   [6] = Fault_Handler,  [7] = Fault_Handler,
    [16 + LPUART1_IRQN] = LPUART1_IRQHandler,
};

/* 110 MHz: MSI 4 MHz (trimmed by LSE through MSIPLL) -> PLL M=1 N=55 R=2; range 0; 5 wait states. */
static void clock_init(void)
{
    RCC_APB1ENR1 |= 1u << 28; /* PWREN */
    (void)RCC_APB1ENR1;
    PWR_CR1 |= 1u << 8; /* DBP: backup domain writable for the LSE */
    RCC_BDCR |= 1u;     /* LSEON */
    for (uint32_t i = 0; i < 2000000u && !(RCC_BDCR & 2u); i++) {
    }
    if (RCC_BDCR & 2u) {
        RCC_CR |= 1u << 2; /* MSIPLLEN: MSI locked to the LSE */
    }
    PWR_CR1 &= ~(3u << 9); /* VOS = 00: range 0 */
    while (PWR_SR2 & (1u << 10)) {
    }
    FLASH_ACR = (FLASH_ACR & ~0xFu) | 5u;
    while ((FLASH_ACR & 0xFu) != 5u) {
    }
    RCC_PLLCFGR = (1u << 0)      /* PLLSRC = MSI */
                  | (0u << 4)    /* PLLM = 1 */
                  | (55u << 8)   /* PLLN = 55 */
                  | (0u << 25)   /* PLLR = 2 */
                  | (1u << 24);  /* PLLREN */
    RCC_CR |= 1u << 24;          /* PLLON */
    while (!(RCC_CR & (1u << 25))) {
    }
    /* Over 80 MHz the switch goes through AHB/2 for a moment (RM0438 clock switching rule). */
    RCC_CFGR = (RCC_CFGR & ~(0xFu << 4)) | (0x8u << 4);
    RCC_CFGR = (RCC_CFGR & ~3u) | 3u; /* SW = PLL */
    while (((RCC_CFGR >> 2) & 3u) != 3u) {
    }
    for (volatile uint32_t i = 0; i < 200u; i++) {
    }
    RCC_CFGR &= ~(0xFu << 4);
    ICACHE_CR |= 1u; /* instruction cache on */
}

static void gpio_init(void)
{
    RCC_AHB2ENR |= (1u << PORT_A) | (1u << PORT_B) | (1u << PORT_C) | (1u << PORT_G);
    (void)RCC_AHB2ENR;
    PWR_CR2 |= 1u << 9; /* IOSV: VDDIO2 valid, port G usable */
    /* LEDs: PC7, PB7, PA9 outputs */
    GPIO_MODER(PORT_C) = (GPIO_MODER(PORT_C) & ~(3u << 14)) | (1u << 14);
    GPIO_MODER(PORT_B) = (GPIO_MODER(PORT_B) & ~(3u << 14)) | (1u << 14);
    GPIO_MODER(PORT_A) = (GPIO_MODER(PORT_A) & ~(3u << 18)) | (1u << 18);
    /* PG7 TX, PG8 RX: alternate function 8 */
    GPIO_MODER(PORT_G) = (GPIO_MODER(PORT_G) & ~((3u << 14) | (3u << 16))) | (2u << 14) | (2u << 16);
    GPIO_OSPEEDR(PORT_G) |= (3u << 14) | (3u << 16);
    GPIO_AFRL(PORT_G) = (GPIO_AFRL(PORT_G) & ~(0xFu << 28)) | (8u << 28);
    GPIO_AFRH(PORT_G) = (GPIO_AFRH(PORT_G) & ~0xFu) | 8u;
}

/* Receive ring: the frames a pipelining host may have in flight besides the one being executed
 * (that one already sits in the engine's own buffer), so the host never overruns it. */
#define RX_RING ((QNN_PROTO_MAX_INFLIGHT - 1u) * QNN_PROTO_RX_CAPACITY + 64u)
static volatile uint8_t rx_ring[RX_RING];
static volatile uint32_t rx_head, rx_tail;
static volatile uint32_t rx_overruns;

void LPUART1_IRQHandler(void)
{
    uint32_t isr = LPUART_ISR;
    if (isr & LPUART_ISR_ORE) {
        LPUART_ICR = LPUART_ISR_ORE;
        rx_overruns++;
    }
    if (isr & LPUART_ISR_RXNE) {
        uint8_t b = (uint8_t)LPUART_RDR;
        uint32_t next = (rx_head + 1u) % RX_RING;
        if (next != rx_tail) {
            rx_ring[rx_head] = b;
            rx_head = next;
        } else {
            rx_overruns++; /* the frame it belonged to fails its CRC: the host retransmits */
        }
    }
}

static int rx_ready(void) { return rx_head != rx_tail; }

static uint8_t rx_read(void)
{
    uint8_t b = rx_ring[rx_tail];
    rx_tail = (rx_tail + 1u) % RX_RING;
    if (b == 0) {
        GPIO_ODR(PORT_B) ^= 1u << 7; /* LD2 blue: activity */
    }
    return b;
}

static void tx_byte(uint8_t b)
{
    while (!(LPUART_ISR & LPUART_ISR_TXE)) {
    }
    LPUART_TDR = b;
}

static void tx_flush(void)
{
    while (!(LPUART_ISR & LPUART_ISR_TC)) {
    }
}

static void lpuart_baud(uint32_t baud)
{
    /* LPUART: BRR = 256 * f_ck / baud, in 0x300..0xFFFFF */
    LPUART_BRR = (uint32_t)(((uint64_t)SYSCLK_HZ * 256u + baud / 2u) / baud);
}

static int set_baud(uint32_t baud)
{
    tx_flush();
    LPUART_CR1 &= ~1u; /* UE off to change BRR */
    lpuart_baud(baud);
    LPUART_CR1 |= 1u;
    return 0;
}

static void lpuart_init(void)
{
    RCC_APB1ENR2 |= 1u; /* LPUART1EN */
    (void)RCC_APB1ENR2;
    RCC_CCIPR1 = (RCC_CCIPR1 & ~(3u << 10)) | (1u << 10); /* LPUART1SEL = SYSCLK */
    LPUART_CR1 = 0;
    lpuart_baud(DEFAULT_BAUD);
    LPUART_CR1 = (1u << 5) | (1u << 3) | (1u << 2); /* RXNEIE, TE, RE */
    LPUART_CR1 |= 1u;                                 /* UE */
    NVIC_ISER(LPUART1_IRQN / 32u) = 1u << (LPUART1_IRQN % 32u);
}

static uint64_t cycles_high;
static uint32_t cycles_last;

/* 64-bit DWT cycles; called at least every 39 s (2^32 cycles at 110 MHz) by the protocol loop. */
static uint64_t now_cycles(void)
{
    uint32_t c = DWT_CYCCNT;
    if (c < cycles_last) {
        cycles_high += 1ull << 32;
    }
    cycles_last = c;
    return cycles_high | c;
}

uint32_t qnn_platform_cycles(void);
uint32_t qnn_platform_cycles(void) { return DWT_CYCCNT; }

static void system_reset(void)
{
    __asm volatile("dsb");
    SCB_AIRCR = 0x05FA0004u;
    __asm volatile("dsb");
    for (;;) {
    }
}

static const uint32_t bauds[] = {115200u, 230400u, 460800u, 921600u, 1000000u, 2000000u};

int main(void)
{
    clock_init();
    gpio_init();
    DEMCR |= 1u << 24; /* TRCENA */
    DWT_CYCCNT = 0;
    DWT_CTRL |= 1u; /* CYCCNTENA */
    lpuart_init();
    led(PORT_C, 7, 1); /* LD1 green: running */
    static const board_shell_t shell = {
        .board = "nucleo-l552ze-q",
        .clock_hz = SYSCLK_HZ,
        .timing_unit = QNN_TIMING_CYCLES,
        .timing_resolution = 1,
        .bauds = bauds,
        .n_bauds = sizeof(bauds) / sizeof(bauds[0]),
        .current_baud = DEFAULT_BAUD,
        .rx_ready = rx_ready,
        .rx_read = rx_read,
        .tx_byte = tx_byte,
        .tx_flush = tx_flush,
        .now = now_cycles,
        .system_reset = system_reset,
        .set_baud = set_baud,
    };
    board_shell_run(&shell);
    return 0;
}
