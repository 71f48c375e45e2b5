/**
 * npm run bench -- flash: a 64 KiB config image flashed at 921600 baud over a paced
 * pseudo-terminal to an emulator in its own process (`scripts/emulate.ts qsrc`), end
 * to end (identify, bank inspection, erase, write, whole-image CRC, switch, confirm),
 * against the raw wire time of the image (bytes x 10 bits / baud).
 *
 * The image: the example qsrc parameters plus a 6535-slot calibration pattern table
 * (boards/config/layouts/qsrc.yaml), 6551 records = 65,534 bytes, the nearest a
 * 10-byte-record image gets to 64 KiB. Every record is real content the board
 * validates, not padding. Both directions run at line rate: the emulator paces its
 * output, and this side paces what it writes (a pty alone would move bytes at memory
 * speed and beat the wire it stands for).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectBoard, startEmulatorProcess, stopProcess } from '../../hil/flash/connect.ts';
import { flashConfig } from '../../hil/flash/flasher.ts';
import { configSchema, loadConfigText } from '../../hil/flash/schema.ts';
import { socatAvailable } from '../../hil/pty.ts';
import type { Benchmark } from './types.ts';

const BAUD = 921_600;
const RUNS = 3;
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const bench: Benchmark = async (ctx) => {
  if (!socatAvailable()) throw new Error('flash benchmark needs socat for the pseudo-terminal pair (apt-get install socat)');
  const schema = configSchema('qsrc');
  const base = loadConfigText(readFileSync(join(root, 'boards/config/examples/qsrc.yaml'), 'utf8'), 'qsrc.yaml', schema);
  const states = ['signal', 'decoy', 'vacuum'];
  const slots = 6551 - Object.keys(base.parameters).length;
  // Roughly 70/20/10 like the example's probabilities, deterministic.
  const pattern = Array.from({ length: slots }, (_, i) => states[[0, 0, 0, 0, 0, 0, 0, 1, 1, 2][(i * 7919) % 10]]);
  const big = { ...base, tables: { pattern } };

  ctx.progress(`starting the qsrc emulator process at ${BAUD} baud`);
  const emu = await startEmulatorProcess('qsrc', { baud: BAUD });
  const conn = await connectBoard({ board: 'qsrc', port: emu.path, baud: BAUD, pace: true });
  try {
    await flashConfig(conn.driver, schema, base, { clock: conn.clock, baud: BAUD });
    const times: number[] = [];
    let imageBytes = 0;
    let retries = 0;
    for (let i = 0; i < RUNS; i++) {
      // Alternate big and small so every timed run writes the 64 KiB image over a running config.
      if (i > 0) await flashConfig(conn.driver, schema, base, { clock: conn.clock, baud: BAUD });
      const t0 = performance.now();
      const r = await flashConfig(conn.driver, schema, big, { clock: conn.clock, baud: BAUD });
      const ms = performance.now() - t0;
      times.push(ms);
      imageBytes = r.imageBytes;
      retries += r.blockRetries;
      ctx.progress(`run ${i + 1}/${RUNS}: ${r.imageBytes} bytes, generation ${r.oldGeneration} -> ${r.newGeneration}, ${ms.toFixed(0)} ms`);
    }
    times.sort((a, b) => a - b);
    const flashMs = times[Math.floor(times.length / 2)];
    const wireMs = (imageBytes * 10 * 1000) / BAUD;
    return [
      { key: 'flashImageBytes', label: 'image size', value: imageBytes, unit: 'bytes' },
      { key: 'flashWireMs', label: 'raw wire time of the image at 921600 baud', value: wireMs, unit: 'ms' },
      { key: 'flashMs', label: `flash time, median of ${RUNS} (identify to confirmed switch)`, value: flashMs, unit: 'ms' },
      { key: 'flashOverWireRatio', label: 'flash time / raw wire time', value: flashMs / wireMs, unit: 'x', target: '<= 1.3' },
      { key: 'flashBlockRetries', label: 'blocks retried', value: retries, unit: 'blocks' },
    ];
  } finally {
    await conn.close();
    await stopProcess(emu.child);
  }
};

export default bench;
