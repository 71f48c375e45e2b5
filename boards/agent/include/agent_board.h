/*
 * The board description the agent serves: generated from boards/definitions/<board>.yaml
 * into boards/agent/generated/<board>.h (`npm run agent -- gen`); never edit by hand.
 */
#ifndef AGENT_BOARD_H
#define AGENT_BOARD_H

#include <stdint.h>
#include "agent.h"

#define AGENT_ACCESS_R 1u
#define AGENT_ACCESS_W 2u
#define AGENT_ACCESS_RW 3u

/* Registers whose value the agent itself drives (others hold what was written). */
typedef enum {
  AGENT_ROLE_PLAIN = 0,
  AGENT_ROLE_UPTIME_MS,
  AGENT_ROLE_STATUS,
  AGENT_ROLE_RX_FRAME_ERRORS,
  AGENT_ROLE_RESET_COUNT,
  AGENT_ROLE_CFG_ACTIVE_BANK
} agent_reg_role;

typedef struct {
  uint16_t address;
  uint8_t width;     /* bits: 1..32 */
  uint8_t is_signed; /* two's complement of width */
  uint8_t access;    /* AGENT_ACCESS_* */
  uint8_t role;      /* agent_reg_role */
  uint32_t reset_raw;
  /* Writable raw range, inclusive: the definition's min/max (scaled) within the width. */
  int64_t min_raw;
  int64_t max_raw;
} agent_reg_def;

#define AGENT_MEM_FLASH 1u
#define AGENT_MEM_RAM 2u

typedef struct {
  uint32_t base;
  uint32_t size;
  uint32_t page_size; /* flash only */
  uint8_t kind;       /* AGENT_MEM_* */
  uint8_t banks;      /* flash: A/B banks (the config flash has 2) */
} agent_mem_def;

struct agent_board {
  const char *name; /* ASCII, at most 32 characters */
  uint16_t board_id;
  uint16_t hw_version; /* major << 8 | minor */
  uint32_t fw_version; /* major << 16 | minor << 8 | patch */
  uint32_t serial_number;
  uint32_t baud; /* the definition's line rate (the port sets up its UART) */
  const agent_reg_def *registers; /* sorted by address */
  uint16_t register_count;
  const agent_mem_def *memory;
  uint8_t memory_count;
  const uint16_t *telemetry; /* register addresses of the telemetry items, in order */
  uint8_t telemetry_count;
  uint32_t telemetry_period_ms; /* the definition's default period */
  /* Persistent state (active bank option byte, reset counter): two flash pages here. */
  uint32_t meta_base;
  uint32_t meta_page_size;
};

#endif
