/*
 * Board agent: the board side of the board link (docs/board-link.md, docs/agent.md).
 * Portable C99, no dynamic allocation, no libc beyond string.h/stdint.h/stddef.h.
 * Single-threaded: call agent_rx and agent_poll from one context (main loop or one ISR
 * priority). The port supplies the HAL in agent_hal.h.
 */
#ifndef AGENT_H
#define AGENT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A board's identity, registers, memories and telemetry: agent_board.h, generated per
 * board into boards/agent/generated/<board>.h (`npm run agent -- gen`). */
typedef struct agent_board agent_board;

/* Frame errors, as protocols/serial-frame.ts types them. */
typedef enum {
  AGENT_ERR_COBS = 0,       /* COBS_INVALID: a code byte points past the frame, or a zero inside */
  AGENT_ERR_TOO_SHORT = 1,  /* FRAME_TOO_SHORT: fewer bytes than a CRC */
  AGENT_ERR_TOO_LONG = 2,   /* FRAME_TOO_LONG: longer than the largest frame (resynchronised at the next 0x00) */
  AGENT_ERR_CRC = 3,        /* CRC_MISMATCH */
  AGENT_ERR_MESSAGE = 4,    /* framed fine but not a decodable request (answered BAD_REQUEST when its header names one) */
  AGENT_ERR_COUNT = 5
} agent_frame_error;

typedef struct {
  uint32_t rx_bytes;
  uint32_t frames_ok;                     /* frames whose COBS and CRC were good */
  uint32_t frame_errors[AGENT_ERR_COUNT]; /* bad frames by error */
  uint32_t requests;                      /* requests executed or answered from the duplicate cache */
  uint32_t duplicates;                    /* repeats of the last request answered from the cache */
  uint32_t telemetry_frames;
} agent_stats;

/* Boots the agent for `board` (call again after hal_reset to re-initialise). Reads the
 * persistent state (active bank, reset counter) through the flash HAL. */
void agent_init(const agent_board *board, uint32_t now_ms);

/* Bytes from the UART, in any chunking (one byte from an ISR is fine). */
void agent_rx(const uint8_t *bytes, size_t n, uint32_t now_ms);

/* Call often: sends due telemetry, performs a reset whose answer has been written. */
void agent_poll(uint32_t now_ms);

/* Counters since agent_init. */
const agent_stats *agent_get_stats(void);

/* Milliseconds until agent_poll has work (0: now, UINT32_MAX: nothing scheduled). Lets a
 * port sleep; optional. */
uint32_t agent_idle_ms(uint32_t now_ms);

#ifdef __cplusplus
}
#endif

#endif
