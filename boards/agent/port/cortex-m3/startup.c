/*
 * Cortex-M3 start-up for QEMU's mps2-an385: the vector table, a reset handler that
 * copies .data and zeroes .bss before main, and a millisecond SysTick. No libc start
 * files (-nostartfiles): nothing runs before Reset_Handler.
 */
#include <stdint.h>
#include "port.h"

extern uint32_t __stack_top;
extern uint32_t __data_load, __data_start, __data_end, __bss_start, __bss_end;
extern int main(void);

void Reset_Handler(void);
void Default_Handler(void);
void SysTick_Handler(void);
void Uart0Rx_Handler(void);

/* Milliseconds since reset; written only by the SysTick interrupt. */
static volatile uint32_t tick_ms;

void Reset_Handler(void) {
  /* Word copies: the linker script aligns both ends of .data and .bss to 4. */
  uint32_t *src = &__data_load;
  for (uint32_t *dst = &__data_start; dst < &__data_end;) *dst++ = *src++;
  for (uint32_t *dst = &__bss_start; dst < &__bss_end;) *dst++ = 0;
  main();
  for (;;) {
  }
}

/* A fault or an unexpected interrupt parks the core; a debugger (qemu -s) shows where. */
void Default_Handler(void) {
  for (;;) {
  }
}

void SysTick_Handler(void) { tick_ms++; }

uint32_t port_now_ms(void) { return tick_ms; }

/* SysTick: reload = core clock / 1000 - 1, clock source = processor, interrupt on. */
#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)

void port_tick_start(void) {
  tick_ms = 0;
  SYST_RVR = PORT_CORE_CLOCK_HZ / 1000u - 1u;
  SYST_CVR = 0;
  SYST_CSR = 7u;
}

typedef void (*vector)(void);

/* Cortex-M3 exceptions, then the AN385's external interrupts (UART0 RX is IRQ 0). */
__attribute__((section(".vectors"), used)) static const vector vectors[16 + 1] = {
    (vector)(uintptr_t)&__stack_top,
    Reset_Handler,
    Default_Handler, /* NMI */
    Default_Handler, /* HardFault */
    Default_Handler, /* MemManage */
    Default_Handler, /* BusFault */
    Default_Handler, /* UsageFault */
    0, 0, 0, 0,
    Default_Handler, /* SVCall */
    Default_Handler, /* DebugMonitor */
    0,
    Default_Handler, /* PendSV */
    SysTick_Handler,
    Uart0Rx_Handler, /* IRQ 0: UART0 receive */
};
