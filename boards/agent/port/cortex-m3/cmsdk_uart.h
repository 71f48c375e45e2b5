/* Arm CMSDK APB UART (Cortex-M System Design Kit TRM, DDI0479): UART0 of the AN385. */
#ifndef CMSDK_UART_H
#define CMSDK_UART_H

#include <stddef.h>
#include <stdint.h>

/* Enables TX and RX at `baud` (8N1, the only format this UART has) with the RX interrupt. */
void uart_init(uint32_t pclk_hz, uint32_t baud);

/* Blocking transmit: waits while the one-byte TX buffer is full. */
void uart_write(const uint8_t *bytes, size_t n);

/* Moves received bytes into `dst` (at most `max`); returns how many. */
size_t uart_read(uint8_t *dst, size_t max);

/* Whether a received byte waits (in the ring or the UART). */
int uart_rx_pending(void);

#endif
