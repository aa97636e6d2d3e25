//
// Application protocol UART of the QNN nanoCLR target: USART3 on the ST Zio header (COM3 in C#).
// LPUART1 (ST-LINK virtual COM port, PG7/PG8) carries nanoFramework's Wire Protocol: not listed here.
//

#define NF_SERIAL_COMM_STM32_UART_USE_USART3 TRUE
