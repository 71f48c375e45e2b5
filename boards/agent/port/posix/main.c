/*
 * The board agent as a host process (docs/agent.md "Native"): the agent on a tty/pty
 * (--tty PATH) or stdin/stdout, its flash in a file (--flash FILE, kept across runs
 * and resets), registers and RAM in memory, the millisecond tick from CLOCK_MONOTONIC.
 *
 *   agent --board NAME [--tty PATH] [--flash FILE] [--cut-after-rx-bytes N]
 *
 * --cut-after-rx-bytes N simulates a power cut: the process ends (exit 3) the moment
 * it has received N bytes, with the flash as it stands (tests restart it on the file).
 * SIGUSR1 prints the agent's counters on stderr; they are printed at exit too.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "agent_board.h"
#include "agent_hal.h"
#include "boards.h"

static const agent_board *board;
static int in_fd = 0;
static int out_fd = 1;
static uint8_t *flash;      /* [flash_base, flash_base + flash_size): flash regions and the meta pages */
static uint32_t flash_base;
static uint32_t flash_size;
static uint8_t *ram;        /* the RAM regions back to back */
static volatile sig_atomic_t stop_signal;
static volatile sig_atomic_t stats_wanted;

#define FILE_MAGIC "AGF1"
#define FILE_HEADER 16u

static uint32_t now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint32_t)((uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u);
}

static void die(int code, const char *what, const char *detail) {
  fprintf(stderr, "agent: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
  exit(code);
}

static void print_stats(void) {
  const agent_stats *s = agent_get_stats();
  fprintf(stderr,
          "agent-stats {\"board\":\"%s\",\"rxBytes\":%lu,\"framesOk\":%lu,\"frameErrors\":{\"COBS_INVALID\":%lu,\"FRAME_TOO_SHORT\":%lu,\"FRAME_TOO_LONG\":%lu,\"CRC_MISMATCH\":%lu,\"BAD_MESSAGE\":%lu},\"requests\":%lu,\"duplicates\":%lu,\"telemetryFrames\":%lu}\n",
          board->name, (unsigned long)s->rx_bytes, (unsigned long)s->frames_ok, (unsigned long)s->frame_errors[AGENT_ERR_COBS],
          (unsigned long)s->frame_errors[AGENT_ERR_TOO_SHORT], (unsigned long)s->frame_errors[AGENT_ERR_TOO_LONG],
          (unsigned long)s->frame_errors[AGENT_ERR_CRC], (unsigned long)s->frame_errors[AGENT_ERR_MESSAGE], (unsigned long)s->requests,
          (unsigned long)s->duplicates, (unsigned long)s->telemetry_frames);
  fflush(stderr);
}

/* ------------------------------------------------------------------ HAL */

void hal_uart_write(const uint8_t *bytes, size_t n) {
  while (n > 0) {
    ssize_t k = write(out_fd, bytes, n);
    if (k < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        struct pollfd p = {out_fd, POLLOUT, 0};
        (void)poll(&p, 1, 100);
        continue;
      }
      return; /* the line is gone: bytes are lost, as on a cut cable */
    }
    bytes += k;
    n -= (size_t)k;
  }
}

static int flash_span(uint32_t addr, uint32_t n) {
  return addr >= flash_base && (uint64_t)addr + n <= (uint64_t)flash_base + flash_size;
}

int hal_flash_read(uint32_t addr, uint8_t *dst, uint32_t n) {
  if (!flash_span(addr, n)) return -1;
  memcpy(dst, flash + (addr - flash_base), n);
  return 0;
}

int hal_flash_write(uint32_t addr, const uint8_t *src, uint32_t n) {
  if (!flash_span(addr, n)) return -1;
  uint8_t *p = flash + (addr - flash_base);
  for (uint32_t i = 0; i < n; i++) p[i] &= src[i]; /* NOR: programming clears bits only */
  return 0;
}

int hal_flash_erase(uint32_t addr, uint32_t n) {
  if (!flash_span(addr, n)) return -1;
  memset(flash + (addr - flash_base), 0xFF, n);
  return 0;
}

/* RAM regions are kept back to back in `ram`, in definition order. */
static uint8_t *ram_at(uint32_t addr, uint32_t n) {
  uint32_t off = 0;
  for (uint32_t i = 0; i < board->memory_count; i++) {
    const agent_mem_def *m = &board->memory[i];
    if (m->kind != AGENT_MEM_RAM) continue;
    if (addr >= m->base && (uint64_t)addr + n <= (uint64_t)m->base + m->size) return ram + off + (addr - m->base);
    off += m->size;
  }
  return NULL;
}

int hal_ram_read(uint32_t addr, uint8_t *dst, uint32_t n) {
  uint8_t *p = ram_at(addr, n);
  if (!p) return -1;
  memcpy(dst, p, n);
  return 0;
}

int hal_ram_write(uint32_t addr, const uint8_t *src, uint32_t n) {
  uint8_t *p = ram_at(addr, n);
  if (!p) return -1;
  memcpy(p, src, n);
  return 0;
}

uint32_t hal_reg_read(uint16_t address, uint32_t stored) {
  (void)address;
  return stored; /* no hardware behind the registers: they hold what was written */
}

int hal_reg_write(uint16_t address, uint32_t value) {
  (void)address;
  (void)value;
  return 0;
}

void hal_reset(void) {
  if (isatty(out_fd)) (void)tcdrain(out_fd);
  /* RAM is volatile: a reset clears it; flash stays. */
  uint32_t ram_size = 0;
  for (uint32_t i = 0; i < board->memory_count; i++)
    if (board->memory[i].kind == AGENT_MEM_RAM) ram_size += board->memory[i].size;
  memset(ram, 0, ram_size);
  agent_init(board, now_ms());
}

/* ------------------------------------------------------------------ setup */

static void setup_flash(const char *path) {
  uint32_t lo = UINT32_MAX;
  uint32_t hi = board->meta_base + 2u * board->meta_page_size;
  for (uint32_t i = 0; i < board->memory_count; i++)
    if (board->memory[i].kind == AGENT_MEM_FLASH && board->memory[i].base < lo) lo = board->memory[i].base;
  if (lo > board->meta_base) lo = board->meta_base;
  flash_base = lo;
  flash_size = hi - lo;
  size_t total = FILE_HEADER + flash_size;
  uint8_t *map;
  if (!path) {
    map = malloc(total);
    if (!map) die(1, "cannot allocate flash", NULL);
    memset(map + FILE_HEADER, 0xFF, flash_size);
  } else {
    int fd = open(path, O_RDWR | O_CREAT, 0644);
    if (fd < 0) die(1, "cannot open the flash file", strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) die(1, "cannot stat the flash file", strerror(errno));
    int fresh = st.st_size == 0;
    if (!fresh && (size_t)st.st_size != total) die(1, "not this board's agent flash file (size differs)", path);
    if (fresh && ftruncate(fd, (off_t)total) != 0) die(1, "cannot size the flash file", strerror(errno));
    /* MAP_SHARED: every program/erase is in the file the moment it is done, so a killed process keeps it. */
    map = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) die(1, "cannot map the flash file", strerror(errno));
    close(fd);
    if (fresh) {
      memcpy(map, FILE_MAGIC, 4);
      map[4] = (uint8_t)(flash_base >> 24); map[5] = (uint8_t)(flash_base >> 16); map[6] = (uint8_t)(flash_base >> 8); map[7] = (uint8_t)flash_base;
      map[8] = (uint8_t)(flash_size >> 24); map[9] = (uint8_t)(flash_size >> 16); map[10] = (uint8_t)(flash_size >> 8); map[11] = (uint8_t)flash_size;
      map[12] = (uint8_t)(board->board_id >> 8); map[13] = (uint8_t)board->board_id; map[14] = 0; map[15] = 0;
      memset(map + FILE_HEADER, 0xFF, flash_size);
    } else if (memcmp(map, FILE_MAGIC, 4) != 0 || map[12] != (uint8_t)(board->board_id >> 8) || map[13] != (uint8_t)board->board_id) {
      die(1, "not this board's agent flash file (magic or board id differs)", path);
    }
  }
  flash = map + FILE_HEADER;
}

static void setup_tty(const char *path) {
  int fd = open(path, O_RDWR | O_NOCTTY);
  if (fd < 0) die(1, "cannot open the tty", strerror(errno));
  struct termios t;
  if (tcgetattr(fd, &t) == 0) {
    /* Raw 8N1, no echo, no line discipline (what cfmakeraw does, spelled out for POSIX). */
    t.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON | IXOFF);
    t.c_oflag &= ~(tcflag_t)OPOST;
    t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
    t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB | CSTOPB);
    t.c_cflag |= CS8 | CREAD | CLOCAL;
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    (void)tcsetattr(fd, TCSANOW, &t);
  }
  in_fd = fd;
  out_fd = fd;
}

static void on_signal(int sig) {
  if (sig == SIGUSR1) stats_wanted = 1;
  else stop_signal = sig;
}

static const char usage[] =
    "usage: agent --board NAME [--tty PATH] [--flash FILE] [--cut-after-rx-bytes N]\n"
    "  --board NAME   the board definition to serve (generated into the build)\n"
    "  --tty PATH     serve on this tty or pty (default: stdin/stdout)\n"
    "  --flash FILE   keep the flash in FILE across runs (created; default: in memory)\n"
    "  --cut-after-rx-bytes N  simulate a power cut after N received bytes (exit 3)\n";

int main(int argc, char **argv) {
  const char *name = NULL, *tty = NULL, *flash_path = NULL;
  long long cut = -1;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      fputs(usage, stdout);
      return 0;
    }
    if (i + 1 >= argc) {
      fprintf(stderr, "agent: %s needs a value\n%s", argv[i], usage);
      return 2;
    }
    if (strcmp(argv[i], "--board") == 0) name = argv[++i];
    else if (strcmp(argv[i], "--tty") == 0) tty = argv[++i];
    else if (strcmp(argv[i], "--flash") == 0) flash_path = argv[++i];
    else if (strcmp(argv[i], "--cut-after-rx-bytes") == 0) {
      char *end;
      cut = strtoll(argv[++i], &end, 10);
      if (*end != 0 || cut < 0) {
        fprintf(stderr, "agent: --cut-after-rx-bytes must be a whole number >= 0\n%s", usage);
        return 2;
      }
    } else {
      fprintf(stderr, "agent: unknown option %s\n%s", argv[i], usage);
      return 2;
    }
  }
  for (uint32_t i = 0; name && i < AGENT_BOARD_COUNT; i++)
    if (strcmp(agent_boards[i]->name, name) == 0) board = agent_boards[i];
  if (!board) {
    fprintf(stderr, "agent: %s board%s%s (known:", name ? "unknown" : "missing", name ? " " : "", name ? name : "");
    for (uint32_t i = 0; i < AGENT_BOARD_COUNT; i++) fprintf(stderr, " %s", agent_boards[i]->name);
    fprintf(stderr, ")\n%s", usage);
    return 2;
  }
  setup_flash(flash_path);
  uint32_t ram_size = 0;
  for (uint32_t i = 0; i < board->memory_count; i++)
    if (board->memory[i].kind == AGENT_MEM_RAM) ram_size += board->memory[i].size;
  ram = calloc(ram_size ? ram_size : 1, 1);
  if (!ram) die(1, "out of memory", NULL);
  if (tty) setup_tty(tty);

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGUSR1, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  agent_init(board, now_ms());
  if (cut == 0) return 3;
  long long received = 0;
  uint8_t buf[4096];
  int code = 0;
  while (!stop_signal) {
    if (stats_wanted) {
      stats_wanted = 0;
      print_stats();
    }
    uint32_t idle = agent_idle_ms(now_ms());
    struct pollfd p = {in_fd, POLLIN, 0};
    int r = poll(&p, 1, idle > 50u ? 50 : (int)idle);
    if (r < 0 && errno != EINTR) break;
    if (r > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t k = read(in_fd, buf, sizeof buf);
      if (k < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (k <= 0) break; /* end of input or the line is gone */
      if (cut >= 0 && received + k >= cut) {
        agent_rx(buf, (size_t)(cut - received), now_ms());
        code = 3; /* power cut: no further work, the flash stays as it is */
        break;
      }
      received += k;
      agent_rx(buf, (size_t)k, now_ms());
    }
    agent_poll(now_ms());
  }
  print_stats();
  return code;
}
