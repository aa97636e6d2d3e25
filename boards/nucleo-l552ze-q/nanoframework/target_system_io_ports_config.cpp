//
// Pins of the application protocol UART (target_system_io_ports_config.h).
//

#include "target_system_io_ports_config.h"
#include <sys_io_ser_native_target.h>

// USART3: TX PD8 (Zio D1), RX PD9 (Zio D0), alternate function 7 (STM32L552xx datasheet, table
// "Alternate function AF0 to AF7"). Check the board's solder bridges in UM2581 before wiring.
UART_CONFIG_PINS(3, GPIOD, GPIOD, 8, 9, 7)

UART_INIT(3)

UART_UNINIT(3)
