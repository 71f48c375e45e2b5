/*
 * The Cortex-M3 port of the board agent for QEMU's mps2-an385 (docs/agent.md
 * "Cortex-M3 under QEMU"): start-up and tick (startup.c), the CMSDK APB UART0
 * (cmsdk_uart.c), the HAL (hal.c) and the main loop (main.c).
 */
#ifndef PORT_H
#define PORT_H

#include <stddef.h>
#include <stdint.h>
#include "agent_board.h"

/* AN385's SYSCLK (QEMU's mps2 model): the core, SysTick and the APB UARTs run on it. */
#define PORT_CORE_CLOCK_HZ 25000000u

/* startup.c: milliseconds since reset (SysTick). */
void port_tick_start(void);
uint32_t port_now_ms(void);

/* hal.c: binds the HAL to this board's memories; formats the simulated flash on a cold boot. */
void port_hal_init(const agent_board *board);

/* Interrupt masking and sleep (Cortex-M3 PRIMASK, WFI). */
static inline void port_irq_off(void) { __asm volatile("cpsid i" ::: "memory"); }
static inline void port_irq_on(void) { __asm volatile("cpsie i" ::: "memory"); }
static inline void port_wait_for_interrupt(void) { __asm volatile("wfi" ::: "memory"); }

#endif
