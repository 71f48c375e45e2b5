/*
 * Serial framing as protocols/serial-frame.ts: COBS(payload || CRC-32C big-endian) || 0x00.
 * Receive: bytes are gathered up to the next 0x00, then decoded in place; a frame that
 * fails is counted by its typed error and the stream resynchronises at the next 0x00.
 * Transmit: encoded block by block (254 bytes) straight to the UART.
 */
#include <string.h>
#include "agent_hal.h"
#include "agent_internal.h"

static uint8_t rx_buf[AGENT_MAX_ENCODED];
static size_t rx_len;
static uint8_t rx_overflow; /* more than AGENT_MAX_ENCODED bytes since the last 0x00 */

void agent_rx_reset(void) {
  rx_len = 0;
  rx_overflow = 0;
}

/* In-place COBS decode of rx_buf[0, n): returns the decoded length, or -1 when a code runs past the end. */
static long cobs_decode_in_place(size_t n) {
  size_t i = 0;
  size_t o = 0;
  while (i < n) {
    size_t code = rx_buf[i];
    size_t end = i + code;
    if (end > n) return -1;
    /* o <= i always holds, so a forward copy never overwrites bytes not yet read. */
    memmove(rx_buf + o, rx_buf + i + 1, code - 1);
    o += code - 1;
    i = end;
    if (code != 0xFFu && i < n) rx_buf[o++] = 0;
  }
  return (long)o;
}

static void frame_done(agent_frame_sink ok, agent_frame_error_sink bad) {
  size_t n = rx_len;
  uint8_t overflow = rx_overflow;
  agent_rx_reset();
  if (overflow) {
    bad(AGENT_ERR_TOO_LONG);
    return;
  }
  if (n == 0) return; /* back-to-back delimiters flush a line: not an error */
  long m = cobs_decode_in_place(n);
  if (m < 0) {
    bad(AGENT_ERR_COBS);
    return;
  }
  if (m < 4) {
    bad(AGENT_ERR_TOO_SHORT);
    return;
  }
  size_t p = (size_t)m - 4u;
  uint32_t got = ((uint32_t)rx_buf[p] << 24) | ((uint32_t)rx_buf[p + 1] << 16) | ((uint32_t)rx_buf[p + 2] << 8) | rx_buf[p + 3];
  if (got != agent_crc32c(rx_buf, p, 0)) {
    bad(AGENT_ERR_CRC);
    return;
  }
  ok(rx_buf, p, got);
}

void agent_rx_bytes(const uint8_t *bytes, size_t n, agent_frame_sink ok, agent_frame_error_sink bad) {
  for (size_t i = 0; i < n; i++) {
    uint8_t b = bytes[i];
    if (b == 0) {
      frame_done(ok, bad);
    } else if (rx_len < sizeof rx_buf) {
      rx_buf[rx_len++] = b;
    } else {
      rx_overflow = 1;
    }
  }
}

/* ------------------------------------------------------------------ transmit */

static uint8_t tx_block[255]; /* code byte + up to 254 data bytes */
static size_t tx_len;         /* data bytes in the block */
static uint8_t tx_after_full; /* the last block was a full 254-byte one (no implied zero) */
static uint32_t tx_crc;

static void tx_flush_block(void) {
  tx_block[0] = (uint8_t)(tx_len + 1u);
  hal_uart_write(tx_block, tx_len + 1u);
  tx_len = 0;
}

static void tx_byte(uint8_t b) {
  tx_after_full = 0;
  if (b == 0) {
    tx_flush_block();
    return;
  }
  tx_block[1 + tx_len++] = b;
  if (tx_len == 254u) {
    tx_flush_block();
    tx_after_full = 1;
  }
}

void agent_tx_begin(void) {
  tx_len = 0;
  tx_after_full = 0;
  tx_crc = 0;
}

void agent_tx_put(const uint8_t *bytes, size_t n) {
  tx_crc = agent_crc32c(bytes, n, tx_crc);
  for (size_t i = 0; i < n; i++) tx_byte(bytes[i]);
}

void agent_tx_end(void) {
  uint32_t c = tx_crc;
  tx_byte((uint8_t)(c >> 24));
  tx_byte((uint8_t)(c >> 16));
  tx_byte((uint8_t)(c >> 8));
  tx_byte((uint8_t)c);
  /* As cobsEncode: a final full block needs no closing block; otherwise close it. */
  if (!(tx_len == 0 && tx_after_full)) tx_flush_block();
  static const uint8_t delimiter = 0;
  hal_uart_write(&delimiter, 1);
}
