/*
 * The board side of the board link (docs/board-link.md): request dispatch, registers,
 * memories, the persistent state and telemetry. Behaviour follows the TypeScript
 * emulator (boards/emulator/core.ts) minus its physics and the emulator-only SIM.
 */
#include <string.h>
#include "agent_board.h"
#include "agent_hal.h"
#include "agent_internal.h"

#define KIND_REQUEST 0x11u
#define KIND_RESPONSE 0x12u
#define KIND_TELEMETRY 0x13u

enum {
  OP_IDENTIFY = 0x01, OP_READ_REGS = 0x02, OP_WRITE_REGS = 0x03,
  OP_MEM_READ = 0x10, OP_MEM_WRITE = 0x11, OP_MEM_ERASE = 0x12, OP_MEM_CRC = 0x13,
  OP_RESET = 0x20, OP_STREAM_START = 0x30, OP_STREAM_STOP = 0x31, OP_SIM = 0x40, OP_TLM = 0x80
};

enum {
  ST_OK = 0, ST_UNKNOWN_OPCODE = 1, ST_BAD_REQUEST = 2, ST_BAD_ADDRESS = 3, ST_READ_ONLY = 4,
  ST_OUT_OF_RANGE = 5, ST_FLASH_NOT_ERASED = 6, ST_ALIGNMENT = 7, ST_NOT_SUPPORTED = 8
};

#define MAX_REGS_PER_REQUEST 64u
#define MAX_MEM_CHUNK 2048u
#define MAX_BOARD_NAME 32u
/* Largest answer kept for a repeated request: READ_REGS/WRITE_REGS of 64 registers. */
#define CACHE_BYTES (5u + 1u + 6u * MAX_REGS_PER_REQUEST)
/* Chunk for streaming memory through the HAL (stack, not static). */
#define MEM_STEP 64u

#ifndef AGENT_MAX_REGISTERS
#define AGENT_MAX_REGISTERS 64u
#endif

/* Persistent-state record in the meta pages: a log, the highest valid generation wins. */
#define META_MAGIC 0x41474D31u /* "AGM1" */
#define META_RECORD 16u

static const agent_board *board;
static agent_stats stats;
static uint32_t reg_raw[AGENT_MAX_REGISTERS];
static uint32_t boot_ms;
static uint32_t now;

/* Persistent state and where its next record goes. */
static uint8_t active_bank;
static uint16_t reset_count;
static uint32_t meta_gen;
static uint8_t meta_page;
static uint32_t meta_slot; /* next free slot in meta_page, or slots-per-page when full */

/* Telemetry. */
static uint8_t streaming;
static uint32_t stream_period_ms;
static uint32_t stream_next_ms;
static uint16_t stream_seq;

static uint8_t reset_pending;

/* The last request and its answer (duplicate handling). */
static uint8_t last_valid;
static uint16_t last_seq;
static uint32_t last_len;
static uint32_t last_crc;
static uint8_t cache[CACHE_BYTES];
static uint32_t cache_len;
static uint8_t cache_ok; /* the answer fit the cache; else the request is read-only and runs again */
static uint8_t caching;

/* ------------------------------------------------------------------ bytes */

static uint16_t be16(const uint8_t *p) { return (uint16_t)(((uint16_t)p[0] << 8) | p[1]); }
static uint32_t be32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static void put16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

/* ------------------------------------------------------------------ answers */

static void out(const uint8_t *b, size_t n) {
  agent_tx_put(b, n);
  if (!caching) return;
  if (cache_len + n <= sizeof cache) {
    memcpy(cache + cache_len, b, n);
    cache_len += (uint32_t)n;
  } else {
    cache_ok = 0;
  }
}
static void out8(uint32_t v) { uint8_t b = (uint8_t)v; out(&b, 1); }
static void out16(uint32_t v) { uint8_t b[2]; put16(b, v); out(b, 2); }
static void out32(uint32_t v) { uint8_t b[4]; put32(b, v); out(b, 4); }

static void begin_answer(uint16_t seq, uint8_t op, uint8_t status) {
  agent_tx_begin();
  caching = 1;
  cache_len = 0;
  cache_ok = 1;
  uint8_t h[5] = {KIND_RESPONSE, (uint8_t)(seq >> 8), (uint8_t)seq, op, status};
  out(h, 5);
}
static void end_answer(void) {
  agent_tx_end();
  caching = 0;
}
static void answer_status(uint16_t seq, uint8_t op, uint8_t status) {
  begin_answer(seq, op, status);
  end_answer();
}

/* ------------------------------------------------------------------ persistent state */

static uint32_t meta_slots(void) { return board->meta_page_size / META_RECORD; }
static uint32_t meta_addr(uint8_t page, uint32_t slot) {
  return board->meta_base + (uint32_t)page * board->meta_page_size + slot * META_RECORD;
}

static int meta_blank(const uint8_t *r) {
  for (uint32_t i = 0; i < META_RECORD; i++)
    if (r[i] != 0xFFu) return 0;
  return 1;
}

static int meta_valid(const uint8_t *r) {
  return be32(r) == META_MAGIC && be32(r + 12) == agent_crc32c(r, 12, 0) && r[8] <= 1u;
}

/* Finds the newest record; an empty log is bank A, no resets. */
static void meta_load(void) {
  uint8_t r[META_RECORD];
  int found = 0;
  active_bank = 0;
  reset_count = 0;
  meta_gen = 0;
  meta_page = 0;
  meta_slot = meta_slots(); /* forces an erase before the first record */
  for (uint8_t p = 0; p < 2; p++) {
    for (uint32_t s = 0; s < meta_slots(); s++) {
      if (hal_flash_read(meta_addr(p, s), r, META_RECORD) != 0 || !meta_valid(r)) continue;
      uint32_t gen = be32(r + 4);
      if (!found || gen > meta_gen) {
        found = 1;
        meta_gen = gen;
        meta_page = p;
        active_bank = r[8];
        reset_count = be16(r + 10);
        meta_slot = s + 1u;
      }
    }
  }
  /* The next record goes after the newest one only when that slot was never touched. */
  if (found && meta_slot < meta_slots()) {
    if (hal_flash_read(meta_addr(meta_page, meta_slot), r, META_RECORD) != 0 || !meta_blank(r)) meta_slot = meta_slots();
  }
}

/*
 * Appends a record with the current state. Power-loss safe: a torn record fails its
 * CRC and the previous one still stands; the other page is erased only while the
 * current page holds the newest valid record.
 */
static int meta_save(void) {
  uint8_t r[META_RECORD];
  uint32_t gen = meta_gen + 1u;
  put32(r, META_MAGIC);
  put32(r + 4, gen);
  r[8] = active_bank;
  r[9] = 0xFFu;
  put16(r + 10, reset_count);
  put32(r + 12, agent_crc32c(r, 12, 0));
  if (meta_slot >= meta_slots()) {
    uint8_t other = (uint8_t)(meta_gen == 0 ? 0 : meta_page ^ 1u);
    if (hal_flash_erase(meta_addr(other, 0), board->meta_page_size) != 0) return -1;
    meta_page = other;
    meta_slot = 0;
  }
  uint32_t at = meta_addr(meta_page, meta_slot);
  meta_slot++;
  if (hal_flash_write(at, r, META_RECORD) != 0) return -1;
  meta_gen = gen;
  return 0;
}

/* ------------------------------------------------------------------ registers */

static const agent_reg_def *reg_at(uint16_t address, uint32_t *index) {
  for (uint32_t i = 0; i < board->register_count; i++) {
    if (board->registers[i].address == address) {
      *index = i;
      return &board->registers[i];
    }
  }
  return 0;
}

static uint32_t frame_errors_total(void) {
  uint32_t t = 0;
  for (int i = 0; i < AGENT_ERR_COUNT; i++) t += stats.frame_errors[i];
  return t;
}

static uint32_t reg_read(const agent_reg_def *r, uint32_t index) {
  uint32_t v;
  switch (r->role) {
    case AGENT_ROLE_UPTIME_MS: v = now - boot_ms; break;
    case AGENT_ROLE_STATUS: v = streaming ? 2u : 0u; break;
    case AGENT_ROLE_RX_FRAME_ERRORS: v = frame_errors_total() & 0xFFFFu; break;
    case AGENT_ROLE_RESET_COUNT: v = reset_count; break;
    case AGENT_ROLE_CFG_ACTIVE_BANK: v = active_bank; break;
    default: v = reg_raw[index]; break;
  }
  return hal_reg_read(r->address, v);
}

/* Does the raw 32-bit value fit the register's width and its writable range? */
static int reg_value_ok(const agent_reg_def *r, uint32_t raw) {
  int64_t v;
  if (r->is_signed) {
    v = (int64_t)(int32_t)raw;
    if (r->width < 32u) {
      int64_t half = (int64_t)1 << (r->width - 1u);
      if (v < -half || v > half - 1) return 0;
    }
  } else {
    v = (int64_t)raw;
    if (r->width < 32u && v > (((int64_t)1 << r->width) - 1)) return 0;
  }
  return v >= r->min_raw && v <= r->max_raw;
}

static void do_read_regs(uint16_t seq, const uint8_t *b, uint32_t n) {
  uint32_t idx;
  for (uint32_t i = 0; i < n; i++) {
    const agent_reg_def *r = reg_at(be16(b + 2u * i), &idx);
    if (!r) { answer_status(seq, OP_READ_REGS, ST_BAD_ADDRESS); return; }
    if (!(r->access & AGENT_ACCESS_R)) { answer_status(seq, OP_READ_REGS, ST_READ_ONLY); return; }
  }
  begin_answer(seq, OP_READ_REGS, ST_OK);
  out8(n);
  for (uint32_t i = 0; i < n; i++) {
    const agent_reg_def *r = reg_at(be16(b + 2u * i), &idx);
    out16(r->address);
    out32(reg_read(r, idx));
  }
  end_answer();
}

static void do_write_regs(uint16_t seq, const uint8_t *b, uint32_t n) {
  uint32_t idx;
  /* All checks before any write: a refused request changes nothing. */
  for (uint32_t i = 0; i < n; i++) {
    const agent_reg_def *r = reg_at(be16(b + 6u * i), &idx);
    if (!r) { answer_status(seq, OP_WRITE_REGS, ST_BAD_ADDRESS); return; }
    if (!(r->access & AGENT_ACCESS_W)) { answer_status(seq, OP_WRITE_REGS, ST_READ_ONLY); return; }
    if (!reg_value_ok(r, be32(b + 6u * i + 2u))) { answer_status(seq, OP_WRITE_REGS, ST_OUT_OF_RANGE); return; }
  }
  for (uint32_t i = 0; i < n; i++) {
    const agent_reg_def *r = reg_at(be16(b + 6u * i), &idx);
    uint32_t v = be32(b + 6u * i + 2u);
    if (r->role == AGENT_ROLE_CFG_ACTIVE_BANK) {
      /* The atomic bank switch: one log record (docs/agent.md "Persistent state"). */
      if (v != active_bank) {
        uint8_t old = active_bank;
        active_bank = (uint8_t)v;
        if (meta_save() != 0) {
          active_bank = old;
          { answer_status(seq, OP_WRITE_REGS, ST_BAD_ADDRESS); return; }
        }
      }
    } else {
      if (hal_reg_write(r->address, v) != 0) { answer_status(seq, OP_WRITE_REGS, ST_BAD_ADDRESS); return; }
      reg_raw[idx] = v;
    }
  }
  begin_answer(seq, OP_WRITE_REGS, ST_OK);
  out8(n);
  for (uint32_t i = 0; i < n; i++) {
    const agent_reg_def *r = reg_at(be16(b + 6u * i), &idx);
    out16(r->address);
    out32(reg_read(r, idx));
  }
  end_answer();
}

/* ------------------------------------------------------------------ memory */

/* The region holding all of [address, address + length), or null. */
static const agent_mem_def *region_of(uint32_t address, uint32_t length, uint8_t kind) {
  for (uint32_t i = 0; i < board->memory_count; i++) {
    const agent_mem_def *m = &board->memory[i];
    if (m->kind != kind) continue;
    if (address >= m->base && (uint64_t)address + length <= (uint64_t)m->base + m->size) return m;
  }
  return 0;
}

static int mem_read(const agent_mem_def *m, uint32_t a, uint8_t *dst, uint32_t n) {
  return m->kind == AGENT_MEM_RAM ? hal_ram_read(a, dst, n) : hal_flash_read(a, dst, n);
}

static int mem_crc(const agent_mem_def *m, uint32_t a, uint32_t n, uint32_t *crc) {
  uint8_t buf[MEM_STEP];
  uint32_t c = 0;
  while (n > 0) {
    uint32_t k = n < MEM_STEP ? n : MEM_STEP;
    if (mem_read(m, a, buf, k) != 0) return -1;
    c = agent_crc32c(buf, k, c);
    a += k;
    n -= k;
  }
  *crc = c;
  return 0;
}

static const agent_mem_def *any_region(uint32_t a, uint32_t n) {
  const agent_mem_def *m = region_of(a, n, AGENT_MEM_FLASH);
  return m ? m : region_of(a, n, AGENT_MEM_RAM);
}

static void do_mem_read(uint16_t seq, uint32_t a, uint32_t n) {
  const agent_mem_def *m = any_region(a, n);
  uint8_t buf[MEM_STEP];
  if (!m) { answer_status(seq, OP_MEM_READ, ST_BAD_ADDRESS); return; }
  /* Read the first chunk before answering, so a failing HAL still gets a clean refusal. */
  uint32_t k = n < MEM_STEP ? n : MEM_STEP;
  if (mem_read(m, a, buf, k) != 0) { answer_status(seq, OP_MEM_READ, ST_BAD_ADDRESS); return; }
  begin_answer(seq, OP_MEM_READ, ST_OK);
  out32(a);
  out16(n);
  for (uint32_t done = 0; done < n;) {
    out(buf, k);
    done += k;
    k = n - done < MEM_STEP ? n - done : MEM_STEP;
    if (k > 0 && mem_read(m, a + done, buf, k) != 0) memset(buf, 0, k); /* too late to refuse: the frame's data is zero */
  }
  end_answer();
}

static void do_mem_crc(uint16_t seq, uint32_t a, uint32_t n) {
  const agent_mem_def *m = any_region(a, n);
  uint32_t crc;
  if (!m || mem_crc(m, a, n, &crc) != 0) { answer_status(seq, OP_MEM_CRC, ST_BAD_ADDRESS); return; }
  begin_answer(seq, OP_MEM_CRC, ST_OK);
  out32(a);
  out32(n);
  out32(crc);
  end_answer();
}

static void do_mem_write(uint16_t seq, uint32_t a, const uint8_t *data, uint32_t n) {
  const agent_mem_def *m = region_of(a, n, AGENT_MEM_RAM);
  uint32_t crc;
  if (m) {
    if (hal_ram_write(a, data, n) != 0) { answer_status(seq, OP_MEM_WRITE, ST_BAD_ADDRESS); return; }
    crc = agent_crc32c(data, n, 0);
  } else {
    uint8_t buf[MEM_STEP];
    m = region_of(a, n, AGENT_MEM_FLASH);
    if (!m) { answer_status(seq, OP_MEM_WRITE, ST_BAD_ADDRESS); return; }
    /* NOR flash only clears bits: refuse (changing nothing) where a bit would go 0 -> 1. */
    for (uint32_t done = 0; done < n;) {
      uint32_t k = n - done < MEM_STEP ? n - done : MEM_STEP;
      if (hal_flash_read(a + done, buf, k) != 0) { answer_status(seq, OP_MEM_WRITE, ST_BAD_ADDRESS); return; }
      for (uint32_t i = 0; i < k; i++)
        if ((buf[i] & data[done + i]) != data[done + i]) { answer_status(seq, OP_MEM_WRITE, ST_FLASH_NOT_ERASED); return; }
      done += k;
    }
    if (hal_flash_write(a, data, n) != 0 || mem_crc(m, a, n, &crc) != 0) { answer_status(seq, OP_MEM_WRITE, ST_BAD_ADDRESS); return; }
  }
  begin_answer(seq, OP_MEM_WRITE, ST_OK);
  out32(a);
  out16(n);
  out32(crc);
  end_answer();
}

static void do_mem_erase(uint16_t seq, uint32_t a, uint32_t n) {
  if (region_of(a, n, AGENT_MEM_RAM)) { answer_status(seq, OP_MEM_ERASE, ST_NOT_SUPPORTED); return; }
  const agent_mem_def *m = region_of(a, n, AGENT_MEM_FLASH);
  if (!m) { answer_status(seq, OP_MEM_ERASE, ST_BAD_ADDRESS); return; }
  if ((a - m->base) % m->page_size != 0 || n % m->page_size != 0) { answer_status(seq, OP_MEM_ERASE, ST_ALIGNMENT); return; }
  if (hal_flash_erase(a, n) != 0) { answer_status(seq, OP_MEM_ERASE, ST_BAD_ADDRESS); return; }
  begin_answer(seq, OP_MEM_ERASE, ST_OK);
  out32(a);
  out32(n);
  end_answer();
}

/* ------------------------------------------------------------------ telemetry */

static void send_telemetry(void) {
  uint8_t h[9];
  uint32_t idx;
  h[0] = KIND_TELEMETRY;
  put16(h + 1, stream_seq);
  h[3] = OP_TLM;
  put32(h + 4, now - boot_ms);
  h[8] = board->telemetry_count;
  agent_tx_begin();
  agent_tx_put(h, sizeof h);
  for (uint32_t i = 0; i < board->telemetry_count; i++) {
    uint8_t v[4];
    const agent_reg_def *r = reg_at(board->telemetry[i], &idx);
    put32(v, r ? reg_read(r, idx) : 0u);
    agent_tx_put(v, 4);
  }
  agent_tx_end();
  stream_seq++;
  stats.telemetry_frames++;
}

/* ------------------------------------------------------------------ requests */

/* An IEEE 754 binary64 (big-endian) that is finite; with non_negative also not below zero (-0 is fine). */
static int f64_ok(const uint8_t *p, int non_negative) {
  if (((p[0] & 0x7Fu) == 0x7Fu) && ((p[1] & 0xF0u) == 0xF0u)) return 0;
  if (non_negative && (p[0] & 0x80u)) {
    if ((p[0] & 0x7Fu) != 0) return 0;
    for (int i = 1; i < 8; i++)
      if (p[i] != 0) return 0;
  }
  return 1;
}

/* SIM bodies decode as on an emulator (a bad one is BAD_REQUEST); a good one is NOT_SUPPORTED here. */
static int sim_body_ok(const uint8_t *b, uint32_t n) {
  if (n < 1) return 0;
  switch (b[0]) {
    case 0x01: return n == 18 && f64_ok(b + 1, 0) && f64_ok(b + 9, 0) && b[17] <= 1u;
    case 0x02: return n == 10 && f64_ok(b + 1, 0) && b[9] <= 1u;
    case 0x03: return n == 9 && f64_ok(b + 1, 0);
    case 0x04: return n == 3 && b[2] <= 1u;
    case 0x05: return n == 9;
    case 0x06: return n == 9 && f64_ok(b + 1, 1);
    default: return 0;
  }
}

static int known_request_op(uint8_t op) {
  switch (op) {
    case OP_IDENTIFY: case OP_READ_REGS: case OP_WRITE_REGS: case OP_MEM_READ: case OP_MEM_WRITE:
    case OP_MEM_ERASE: case OP_MEM_CRC: case OP_RESET: case OP_STREAM_START: case OP_STREAM_STOP: case OP_SIM:
      return 1;
    default:
      return 0;
  }
}

/* Is the body of a request with this opcode well formed (as decodeBoardMessage decides)? */
static int body_ok(uint8_t op, const uint8_t *b, uint32_t n) {
  switch (op) {
    case OP_IDENTIFY:
    case OP_STREAM_STOP: return n == 0;
    case OP_READ_REGS: return n >= 1 && b[0] >= 1 && b[0] <= MAX_REGS_PER_REQUEST && n == 1u + 2u * b[0];
    case OP_WRITE_REGS: return n >= 1 && b[0] >= 1 && b[0] <= MAX_REGS_PER_REQUEST && n == 1u + 6u * b[0];
    case OP_MEM_READ: return n == 6 && be16(b + 4) >= 1 && be16(b + 4) <= MAX_MEM_CHUNK;
    case OP_MEM_WRITE: return n >= 6 && be16(b + 4) >= 1 && be16(b + 4) <= MAX_MEM_CHUNK && n == 6u + be16(b + 4);
    case OP_MEM_ERASE:
    case OP_MEM_CRC: return n == 8 && be32(b + 4) >= 1;
    case OP_RESET: return n == 1;
    case OP_STREAM_START: return n == 2;
    case OP_SIM: return sim_body_ok(b, n);
    default: return 0;
  }
}

static void execute(uint16_t seq, uint8_t op, const uint8_t *b) {
  switch (op) {
    case OP_IDENTIFY: {
      uint32_t len = 0;
      while (len < MAX_BOARD_NAME && board->name[len] != 0) len++;
      begin_answer(seq, op, ST_OK);
      out16(board->board_id);
      out16(board->hw_version);
      out32(board->fw_version);
      out32(board->serial_number);
      out8(0); /* emulated: no, a real board */
      out8(len);
      out((const uint8_t *)board->name, len);
      { end_answer(); return; }
    }
    case OP_READ_REGS: { do_read_regs(seq, b + 1, b[0]); return; }
    case OP_WRITE_REGS: { do_write_regs(seq, b + 1, b[0]); return; }
    case OP_MEM_READ: { do_mem_read(seq, be32(b), be16(b + 4)); return; }
    case OP_MEM_WRITE: { do_mem_write(seq, be32(b), b + 6, be16(b + 4)); return; }
    case OP_MEM_ERASE: { do_mem_erase(seq, be32(b), be32(b + 4)); return; }
    case OP_MEM_CRC: { do_mem_crc(seq, be32(b), be32(b + 4)); return; }
    case OP_RESET:
      streaming = 0;
      answer_status(seq, op, ST_OK);
      reset_pending = 1; /* in agent_poll, once this answer has been handed to the UART */
      return;
    case OP_STREAM_START:
      streaming = 1;
      stream_period_ms = be16(b);
      stream_next_ms = now + stream_period_ms;
      stream_seq = 0;
      begin_answer(seq, op, ST_OK);
      out8(board->telemetry_count);
      { end_answer(); return; }
    case OP_STREAM_STOP:
      streaming = 0;
      { answer_status(seq, op, ST_OK); return; }
    case OP_SIM:
    default:
      { answer_status(seq, op, ST_NOT_SUPPORTED); return; } /* environment control is emulator-only */
  }
}

static void on_bad_frame(agent_frame_error err) { stats.frame_errors[err]++; }

static void on_frame(const uint8_t *p, size_t n, uint32_t frame_crc) {
  stats.frames_ok++;
  if (n < 4 || p[0] != KIND_REQUEST || !known_request_op(p[3])) {
    /* Not a request we can name: nothing to answer. */
    on_bad_frame(AGENT_ERR_MESSAGE);
    return;
  }
  uint16_t seq = be16(p + 1);
  uint8_t op = p[3];
  const uint8_t *body = p + 4;
  uint32_t len = (uint32_t)n - 4u;
  if (!body_ok(op, body, len)) {
    on_bad_frame(AGENT_ERR_MESSAGE);
    last_valid = 0;
    answer_status(seq, op, ST_BAD_REQUEST);
    return;
  }
  stats.requests++;
  /* A retry of the request just answered (same seq, same bytes): the same answer, not a second execution. */
  if (last_valid && seq == last_seq && n == last_len && frame_crc == last_crc) {
    stats.duplicates++;
    if (cache_ok) {
      agent_tx_begin();
      agent_tx_put(cache, cache_len);
      agent_tx_end();
      return;
    }
    /* Only a read too long to cache (MEM_READ) gets here: reading again changes nothing. */
    execute(seq, op, body);
    return;
  }
  last_valid = 1;
  last_seq = seq;
  last_len = (uint32_t)n;
  last_crc = frame_crc;
  execute(seq, op, body);
}

/* ------------------------------------------------------------------ API */

void agent_init(const agent_board *b, uint32_t now_ms) {
  board = b;
  now = now_ms;
  boot_ms = now_ms;
  memset(&stats, 0, sizeof stats);
  for (uint32_t i = 0; i < b->register_count && i < AGENT_MAX_REGISTERS; i++) reg_raw[i] = b->registers[i].reset_raw;
  streaming = 0;
  stream_seq = 0;
  reset_pending = 0;
  last_valid = 0;
  cache_ok = 0;
  caching = 0;
  agent_rx_reset();
  meta_load();
  /* Every boot after the first counts (resets and power cycles): RESET_COUNT. */
  if (meta_gen != 0) reset_count++;
  (void)meta_save();
}

void agent_rx(const uint8_t *bytes, size_t n, uint32_t now_ms) {
  if (!board) return;
  now = now_ms;
  stats.rx_bytes += (uint32_t)n;
  /* After RESET the board is going down: bytes that arrive before hal_reset are lost, as on a real board. */
  if (reset_pending) return;
  agent_rx_bytes(bytes, n, on_frame, on_bad_frame);
}

void agent_poll(uint32_t now_ms) {
  if (!board) return;
  now = now_ms;
  if (reset_pending) {
    reset_pending = 0;
    hal_reset();
    return;
  }
  if (!streaming) return;
  if (stream_period_ms == 0) {
    send_telemetry(); /* as fast as the line allows: hal_uart_write paces */
    return;
  }
  if ((int32_t)(now - stream_next_ms) >= 0) {
    send_telemetry();
    stream_next_ms += stream_period_ms;
    /* Behind by more than a period (a slow line): skip, the stream counter shows no gap. */
    if ((int32_t)(now - stream_next_ms) >= 0) stream_next_ms = now + stream_period_ms;
  }
}

uint32_t agent_idle_ms(uint32_t now_ms) {
  if (!board) return UINT32_MAX;
  if (reset_pending) return 0;
  if (!streaming) return UINT32_MAX;
  if (stream_period_ms == 0) return 0;
  int32_t d = (int32_t)(stream_next_ms - now_ms);
  return d <= 0 ? 0u : (uint32_t)d;
}

const agent_stats *agent_get_stats(void) { return &stats; }
