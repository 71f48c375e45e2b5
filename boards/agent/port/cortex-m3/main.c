/*
 * The agent's main loop on the Cortex-M3: received bytes go to agent_rx, agent_poll
 * runs every pass, and the core sleeps (WFI) until the next interrupt (a byte, or the
 * 1 ms SysTick) when nothing is waiting. AGENT_BOARD names the generated board
 * description (boards/agent/generated/<board>.h), set by the build (-DAGENT_BOARD=...).
 */
#include "agent.h"
#include "agent_hal.h"
#include "cmsdk_uart.h"
#include "port.h"
#include AGENT_BOARD_HEADER

int main(void) {
  const agent_board *board = &AGENT_BOARD;
  port_hal_init(board);
  uart_init(PORT_CORE_CLOCK_HZ, board->baud);
  port_tick_start();
  agent_init(board, port_now_ms());
  for (;;) {
    uint8_t buf[64];
    size_t n = uart_read(buf, sizeof buf);
    if (n > 0) agent_rx(buf, n, port_now_ms());
    agent_poll(port_now_ms());
    /* Sleep only with nothing received and nothing due; masked, so a byte arriving
     * between the check and WFI still wakes it. */
    port_irq_off();
    if (!uart_rx_pending() && agent_idle_ms(port_now_ms()) > 0) port_wait_for_interrupt();
    port_irq_on();
  }
}
