/*
 * The agent's HAL on QEMU's mps2-an385.
 *
 * Flash: QEMU models no persistent flash on this board, so the config banks and the
 * agent's persistent-state pages live in PSRAM (0x21000000, outside the image), with NOR
 * semantics (erase sets 0xFF, programming only clears bits). PSRAM keeps its contents
 * across a system reset (SYSRESETREQ), so flash, the active bank and the reset counter
 * survive RESET as on a real board; they are lost when QEMU exits (a fresh process is a
 * board with blank flash). A power-loss test therefore runs on the native agent only.
 * RAM regions of the definition (the scratch sram) also live in PSRAM, zeroed at boot.
 */
#include <string.h>
#include "agent_hal.h"
#include "cmsdk_uart.h"
#include "port.h"

extern uint8_t __sim_flash_start[];
extern uint8_t __sim_flash_size[];

/* A board address window and where its bytes are in PSRAM. */
typedef struct {
  uint32_t base;
  uint32_t size;
  uint32_t page_size; /* 0 for RAM */
  uint8_t *bytes;
} window;

#define MAX_WINDOWS 4u
static window flash[MAX_WINDOWS];
static uint32_t flash_count;
static window ram[MAX_WINDOWS];
static uint32_t ram_count;

/* Written after the flash was first erased: its absence after a reset means a cold boot. */
#define FORMATTED_MAGIC 0x464c5348u /* "FLSH" */

static uint8_t *psram_take(uint8_t **next, uint32_t size) {
  uint8_t *p = *next;
  *next += (size + 3u) & ~3u;
  return p;
}

void port_hal_init(const agent_board *board) {
  uint8_t *next = __sim_flash_start;
  flash_count = ram_count = 0;
  /* A region beyond the windows stays unmapped: the agent answers BAD_ADDRESS for it. */
  for (uint32_t i = 0; i < board->memory_count; i++) {
    const agent_mem_def *m = &board->memory[i];
    window w = {m->base, m->size, m->kind == AGENT_MEM_FLASH ? m->page_size : 0u, psram_take(&next, m->size)};
    if (m->kind == AGENT_MEM_FLASH && flash_count < MAX_WINDOWS - 1u) flash[flash_count++] = w;
    else if (m->kind == AGENT_MEM_RAM && ram_count < MAX_WINDOWS) ram[ram_count++] = w;
  }
  window meta = {board->meta_base, 2u * board->meta_page_size, board->meta_page_size, psram_take(&next, 2u * board->meta_page_size)};
  flash[flash_count++] = meta;
  volatile uint32_t *magic = (volatile uint32_t *)(void *)psram_take(&next, 4u);
  /* Everything must fit in PSRAM (256 KiB of its 16 MiB here); if not, nothing is mapped. */
  if ((uintptr_t)next - (uintptr_t)__sim_flash_start > (uintptr_t)__sim_flash_size) {
    flash_count = ram_count = 0;
    return;
  }
  if (*magic != FORMATTED_MAGIC) {
    for (uint32_t i = 0; i < flash_count; i++) memset(flash[i].bytes, 0xff, flash[i].size);
    *magic = FORMATTED_MAGIC;
  }
  /* Volatile memory: power-up contents are zero, as the emulator's. */
  for (uint32_t i = 0; i < ram_count; i++) memset(ram[i].bytes, 0, ram[i].size);
}

/* The window holding [addr, addr + n), or NULL. */
static window *find(window *ws, uint32_t count, uint32_t addr, uint32_t n) {
  for (uint32_t i = 0; i < count; i++) {
    if (addr >= ws[i].base && n <= ws[i].size && addr - ws[i].base <= ws[i].size - n) return &ws[i];
  }
  return NULL;
}

int hal_flash_read(uint32_t addr, uint8_t *dst, uint32_t n) {
  window *w = find(flash, flash_count, addr, n);
  if (!w) return -1;
  memcpy(dst, w->bytes + (addr - w->base), n);
  return 0;
}

int hal_flash_write(uint32_t addr, const uint8_t *src, uint32_t n) {
  window *w = find(flash, flash_count, addr, n);
  if (!w) return -1;
  /* NOR programming: bits only go from 1 to 0. */
  uint8_t *p = w->bytes + (addr - w->base);
  for (uint32_t i = 0; i < n; i++) p[i] &= src[i];
  return 0;
}

int hal_flash_erase(uint32_t addr, uint32_t n) {
  window *w = find(flash, flash_count, addr, n);
  if (!w || w->page_size == 0 || (addr - w->base) % w->page_size != 0 || n % w->page_size != 0) return -1;
  memset(w->bytes + (addr - w->base), 0xff, n);
  return 0;
}

int hal_ram_read(uint32_t addr, uint8_t *dst, uint32_t n) {
  window *w = find(ram, ram_count, addr, n);
  if (!w) return -1;
  memcpy(dst, w->bytes + (addr - w->base), n);
  return 0;
}

int hal_ram_write(uint32_t addr, const uint8_t *src, uint32_t n) {
  window *w = find(ram, ram_count, addr, n);
  if (!w) return -1;
  memcpy(w->bytes + (addr - w->base), src, n);
  return 0;
}

/* No hardware behind the registers here: they hold what was written. */
uint32_t hal_reg_read(uint16_t address, uint32_t stored) {
  (void)address;
  return stored;
}

int hal_reg_write(uint16_t address, uint32_t value) {
  (void)address;
  (void)value;
  return 0;
}

void hal_uart_write(const uint8_t *bytes, size_t n) { uart_write(bytes, n); }

/* A system reset through the NVIC, as firmware on the real part does: QEMU resets the
 * core and its devices and reloads the image; PSRAM (the flash) keeps its contents. */
#define SCB_AIRCR (*(volatile uint32_t *)0xE000ED0Cu)
#define AIRCR_VECTKEY 0x05FA0000u
#define AIRCR_SYSRESETREQ 0x4u

void hal_reset(void) {
  __asm volatile("dsb" ::: "memory");
  SCB_AIRCR = AIRCR_VECTKEY | AIRCR_SYSRESETREQ;
  __asm volatile("dsb" ::: "memory");
  for (;;) {
  }
}
