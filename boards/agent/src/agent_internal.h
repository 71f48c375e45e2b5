/* Internal interfaces between the agent's source files (not part of the port API). */
#ifndef AGENT_INTERNAL_H
#define AGENT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "agent.h"

/* Largest request payload: MEM_WRITE of 2048 bytes (header 4 + address 4 + length 2 + 1 spare). */
#define AGENT_MAX_PAYLOAD 2059u
/* Largest encoded frame without its delimiter: COBS(payload || CRC-32C) (protocols/serial-frame.ts). */
#define AGENT_MAX_ENCODED (AGENT_MAX_PAYLOAD + 4u + (AGENT_MAX_PAYLOAD + 4u + 253u) / 254u + 1u)

/* CRC-32C (Castagnoli), init/xorout 0xFFFFFFFF; pass a previous result to continue. */
uint32_t agent_crc32c(const uint8_t *bytes, size_t n, uint32_t prev);

/* Receive side: bytes in, whole frames (COBS-decoded, CRC-checked payload) out. */
typedef void (*agent_frame_sink)(const uint8_t *payload, size_t n, uint32_t frame_crc);
typedef void (*agent_frame_error_sink)(agent_frame_error err);
void agent_rx_reset(void);
void agent_rx_bytes(const uint8_t *bytes, size_t n, agent_frame_sink ok, agent_frame_error_sink bad);

/* Transmit side: one frame at a time, COBS-encoded on the fly (no frame-sized buffer). */
void agent_tx_begin(void);
void agent_tx_put(const uint8_t *bytes, size_t n);
void agent_tx_end(void);

#endif
