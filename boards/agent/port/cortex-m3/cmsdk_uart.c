/*
 * CMSDK APB UART0 at 0x40004000: DATA, STATE, CTRL, INTSTATUS, BAUDDIV. The receiver
 * holds one byte, so the RX interrupt moves each byte into a ring the main loop drains.
 * When the ring is full the interrupt leaves the byte in the UART: the sender is held
 * back (QEMU's pty stops reading while the receiver is full) and no byte is dropped; the
 * main loop then takes it straight from the UART once the ring is drained.
 */
#include "cmsdk_uart.h"
#include "port.h"

typedef struct {
  volatile uint32_t DATA;
  volatile uint32_t STATE;     /* bit 0 TX full, bit 1 RX full, bits 2/3 overruns (W1C) */
  volatile uint32_t CTRL;      /* bit 0 TX en, 1 RX en, 2 TX int, 3 RX int */
  volatile uint32_t INTSTATUS; /* W1C: bit 0 TX, bit 1 RX */
  volatile uint32_t BAUDDIV;   /* >= 16: baud = PCLK / BAUDDIV */
} cmsdk_uart;

#define UART0 ((cmsdk_uart *)0x40004000u)
#define STATE_TX_FULL 1u
#define STATE_RX_FULL 2u
#define CTRL_TX_EN 1u
#define CTRL_RX_EN 2u
#define CTRL_RX_INT 8u
#define INT_RX 2u

/* NVIC: UART0 RX is external interrupt 0 on the AN385. */
#define NVIC_ISER0 (*(volatile uint32_t *)0xE000E100u)
#define UART0_RX_IRQ 0u

/* Power of two so the indices wrap by masking; one slot stays free to tell full from empty. */
#define RING_SIZE 128u
static uint8_t ring[RING_SIZE];
static volatile uint32_t head; /* written by the interrupt */
static volatile uint32_t tail; /* written by the main loop */

void uart_init(uint32_t pclk_hz, uint32_t baud) {
  uint32_t div = pclk_hz / baud;
  head = tail = 0;
  UART0->BAUDDIV = div < 16u ? 16u : div;
  UART0->CTRL = CTRL_TX_EN | CTRL_RX_EN | CTRL_RX_INT;
  NVIC_ISER0 = 1u << UART0_RX_IRQ;
}

void uart_write(const uint8_t *bytes, size_t n) {
  for (size_t i = 0; i < n; i++) {
    while (UART0->STATE & STATE_TX_FULL) {
    }
    UART0->DATA = bytes[i];
  }
}

void Uart0Rx_Handler(void);
void Uart0Rx_Handler(void) {
  UART0->INTSTATUS = INT_RX;
  while (UART0->STATE & STATE_RX_FULL) {
    uint32_t next = (head + 1u) & (RING_SIZE - 1u);
    if (next == tail) return; /* full: the byte waits in the UART for uart_read */
    ring[head] = (uint8_t)UART0->DATA;
    head = next;
  }
}

size_t uart_read(uint8_t *dst, size_t max) {
  size_t n = 0;
  port_irq_off(); /* the interrupt and this loop both read DATA: one at a time */
  while (n < max && tail != head) {
    dst[n++] = ring[tail];
    tail = (tail + 1u) & (RING_SIZE - 1u);
  }
  /* The ring is empty here unless dst is full: a byte the interrupt left behind is next. */
  while (n < max && (UART0->STATE & STATE_RX_FULL)) dst[n++] = (uint8_t)UART0->DATA;
  port_irq_on();
  return n;
}

int uart_rx_pending(void) { return tail != head || (UART0->STATE & STATE_RX_FULL) != 0; }
