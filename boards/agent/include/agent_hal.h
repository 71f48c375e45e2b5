/*
 * What a port implements for the agent (docs/agent.md "Porting"). All calls come from
 * the agent's single context. Return 0 for success, non-zero for a hardware failure
 * (the agent answers BAD_ADDRESS for it).
 */
#ifndef AGENT_HAL_H
#define AGENT_HAL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Sends bytes on the UART; may block until they are queued. */
void hal_uart_write(const uint8_t *bytes, size_t n);

/*
 * Flash at board addresses: the definition's flash regions (config banks at 0x00100000)
 * and the agent's persistent-state pages (board->meta_base, 2 x board->meta_page_size
 * bytes, outside every region of the definition). NOR semantics: erase sets whole pages
 * to 0xFF; write only clears bits (the agent never asks for a 0 -> 1 change). Lengths of
 * erases are whole pages; the agent calls these synchronously.
 */
int hal_flash_read(uint32_t addr, uint8_t *dst, uint32_t n);
int hal_flash_write(uint32_t addr, const uint8_t *src, uint32_t n);
int hal_flash_erase(uint32_t addr, uint32_t n);

/* RAM regions of the definition (sram at 0x20000000): where the port keeps them. */
int hal_ram_read(uint32_t addr, uint8_t *dst, uint32_t n);
int hal_ram_write(uint32_t addr, const uint8_t *src, uint32_t n);

/*
 * Register hooks into the hardware. hal_reg_read gets the raw value the agent holds
 * (last written, reset value, or the agent's own for UPTIME_MS, STATUS,
 * RX_FRAME_ERRORS, RESET_COUNT, CFG_ACTIVE_BANK) and returns the raw value to answer
 * (return `stored` for a plain register). hal_reg_write is called after the range
 * checks with the raw value being stored; non-zero refuses it (BAD_ADDRESS).
 */
uint32_t hal_reg_read(uint16_t address, uint32_t stored);
int hal_reg_write(uint16_t address, uint32_t value);

/* Resets the board (or re-initialises: agent_init again). Called from agent_poll once
 * the RESET answer has been written. Flash is kept. */
void hal_reset(void);

#ifdef __cplusplus
}
#endif

#endif
