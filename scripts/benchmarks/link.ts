/**
 * npm run bench -- link
 * On a paced pseudo-terminal (an emulator process behind socat, opened with serialport):
 *  - telemetry throughput at line rate as a fraction of the line rate, at 115200 and 921600 baud,
 *    with frames lost (stream counter gaps + rejected frames);
 *  - round trip of a one-register read, median and p99, against the wire time of request + response.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WallClock } from '../../boards/clock.ts';
import { loadBoardDefinition } from '../../boards/definitions.ts';
import { encodeRequest, encodeResponse, frameMessage, wireTimeMs } from '../../protocols/board-link.ts';
import { spawnEmulatorProcess, stopChild } from '../../hil/emulator-host.ts';
import { BoardDriver } from '../../hil/driver.ts';
import { FrameLink } from '../../hil/framing.ts';
import { socatAvailable } from '../../hil/pty.ts';
import { SerialTransport } from '../../hil/transport/serial.ts';
import type { Benchmark, Figure } from './types.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const STREAM_S = 3;
const RTT_SAMPLES = 400;

interface Run {
  utilisation: number;
  framesLost: number;
  frames: number;
  rtt: number[];
  wireMs: number;
}

async function measure(baud: number, progress: (m: string) => void): Promise<Run> {
  const def = loadBoardDefinition('apt');
  const { address: path, child } = await spawnEmulatorProcess(root, 'apt', { seed: 1, baud });
  const clock = new WallClock();
  const t = new SerialTransport({ path, baudRate: baud });
  try {
    await t.open();
    const link = new FrameLink(t, clock);
    const d = new BoardDriver(def, link, { clock, timeoutMs: 500, retries: 0 });
    await d.verifyIdentity();
    // Throughput: the emulator streams telemetry back to back (period 0 = line rate).
    let first = -1;
    let last = 0;
    let bytes = 0;
    let firstChunk = 0;
    const unsub = t.onData((b) => {
      const now = performance.now();
      if (first < 0) {
        first = now;
        firstChunk = b.length;
      }
      last = now;
      bytes += b.length;
    });
    progress(`${baud} baud: streaming ${STREAM_S} s at line rate on ${path}`);
    await d.startStream(0);
    await new Promise((r) => setTimeout(r, STREAM_S * 1000));
    unsub();
    await d.request({ op: 'STREAM_STOP' }, { timeoutMs: 2000, retries: 2 });
    await new Promise((r) => setTimeout(r, 100));
    const utilisation = ((bytes - firstChunk) * 10) / baud / ((last - first) / 1000);
    const framesLost = d.stats.telemetryLost + link.rejected;
    const frames = d.stats.telemetryFrames;
    progress(`${baud} baud: ${frames} telemetry frames, ${framesLost} lost, utilisation ${utilisation.toFixed(4)}`);
    // Round trip of a one-register read on an otherwise idle line.
    const reg = def.registers.find((r) => r.name === 'UPTIME_MS')!;
    for (let i = 0; i < 20; i++) await d.read('UPTIME_MS');
    const rtt: number[] = [];
    for (let i = 0; i < RTT_SAMPLES; i++) {
      const t0 = performance.now();
      await d.read('UPTIME_MS');
      rtt.push(performance.now() - t0);
    }
    const req = frameMessage(encodeRequest(1, { op: 'READ_REGS', addresses: [reg.address] })).length;
    const resp = frameMessage(encodeResponse(1, 'READ_REGS', 'OK', { op: 'READ_REGS', values: [{ address: reg.address, value: 0x01020304 }] })).length;
    return { utilisation, framesLost, frames, rtt: rtt.sort((a, b) => a - b), wireMs: wireTimeMs(req + resp, baud) };
  } finally {
    await t.close();
    await stopChild(child);
  }
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

const bench: Benchmark = async (ctx) => {
  if (!socatAvailable()) throw new Error('link benchmark needs socat (it creates the pseudo-terminals): apt-get install socat');
  const slow = await measure(115_200, ctx.progress);
  const fast = await measure(921_600, ctx.progress);
  const figures: Figure[] = [
    { key: 'utilisation115200', label: 'telemetry throughput / line rate at 115200 baud', value: slow.utilisation, unit: 'fraction', target: '>= 0.95' },
    { key: 'utilisation921600', label: 'telemetry throughput / line rate at 921600 baud', value: fast.utilisation, unit: 'fraction', target: '>= 0.95' },
    { key: 'framesLost', label: `telemetry frames lost (of ${slow.frames + fast.frames})`, value: slow.framesLost + fast.framesLost, unit: 'frames', target: '0' },
    { key: 'rttP50Ms', label: 'register read round trip, median, 115200 baud', value: pct(slow.rtt, 0.5), unit: 'ms' },
    { key: 'rttP99Ms', label: 'register read round trip, p99, 115200 baud', value: pct(slow.rtt, 0.99), unit: 'ms', target: `< ${(2 * slow.wireMs + 1).toFixed(3)} (2x wire + 1 ms)` },
    { key: 'wireTimeMs', label: 'wire time of request + response, 115200 baud', value: slow.wireMs, unit: 'ms' },
    { key: 'rttP50Ms921600', label: 'register read round trip, median, 921600 baud', value: pct(fast.rtt, 0.5), unit: 'ms' },
    { key: 'rttP99Ms921600', label: 'register read round trip, p99, 921600 baud', value: pct(fast.rtt, 0.99), unit: 'ms', target: `< ${(2 * fast.wireMs + 1).toFixed(3)} (2x wire + 1 ms)` },
    { key: 'wireTimeMs921600', label: 'wire time of request + response, 921600 baud', value: fast.wireMs, unit: 'ms' },
  ];
  return figures;
};
export default bench;
