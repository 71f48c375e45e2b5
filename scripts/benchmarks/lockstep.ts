/**
 * npm run bench -- lockstep
 * What lockstep costs: emulator processes (`npm run emulate -- BOARD --lockstep`) on
 * pseudo-terminals follow a bench SimClock granted in quanta of 1 ms, for 10 s of
 * simulated time with apt streaming telemetry at 200 Hz (the other boards at their
 * definition's period): wall time per grant and wall time over simulated time, for one
 * board (apt) and four boards granted in parallel; the in-process host and TCP for
 * comparison, and four boards at 5 ms quanta (a fifth of the round trips).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SimClock, sleep } from '../../boards/clock.ts';
import { BOARD_NAMES, loadBoardDefinition } from '../../boards/definitions.ts';
import { BoardDriver } from '../../hil/driver.ts';
import { lockstepInProcess, spawnEmulatorProcess, stopChild } from '../../hil/emulator-host.ts';
import { FrameLink } from '../../hil/framing.ts';
import { socatAvailable } from '../../hil/pty.ts';
import { installLockstep, LockstepLine } from '../../hil/transport/lockstep.ts';
import { SerialTransport } from '../../hil/transport/serial.ts';
import { TcpTransport } from '../../hil/transport/tcp.ts';
import type { ByteTransport } from '../../hil/transport/types.ts';
import type { Benchmark } from './types.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SIM_S = 10;
const APT_PERIOD_MS = 5;

interface Run {
  grants: number;
  wallS: number;
  telemetryFrames: number;
}

type Opener = (board: string) => Promise<{ t: ByteTransport; stop: () => Promise<void> }>;

async function measure(boards: readonly string[], line: Opener, quantumMs = 1): Promise<Run> {
  const clock = new SimClock();
  const opened = await Promise.all(boards.map(line));
  try {
    const lines = opened.map((o) => new LockstepLine(o.t, clock));
    for (const l of lines) await l.open();
    installLockstep(clock, lines, quantumMs);
    const drivers = boards.map((b, i) => {
      const def = loadBoardDefinition(b);
      return new BoardDriver(def, new FrameLink(lines[i], clock, null), { clock, timeoutMs: 250, retries: 2, baud: def.serial.baud });
    });
    for (const d of drivers) {
      await d.verifyIdentity();
      await d.startStream(d.board === 'apt' ? APT_PERIOD_MS : d.def.telemetry.periodMs);
    }
    const grants0 = lines[0].stats.grants;
    const t0 = performance.now();
    await sleep(clock, SIM_S * 1000);
    const wallS = (performance.now() - t0) / 1000;
    for (const l of lines) if (l.failure) throw l.failure;
    return { grants: lines[0].stats.grants - grants0, wallS, telemetryFrames: drivers.reduce((n, d) => n + d.stats.telemetryFrames, 0) };
  } finally {
    for (const o of opened) await o.stop();
  }
}

async function ptyLine(board: string): ReturnType<Opener> {
  const { address, child } = await spawnEmulatorProcess(root, board, { seed: 1, lockstep: true });
  const t = new SerialTransport({ path: address, baudRate: loadBoardDefinition(board).serial.baud });
  return {
    t,
    stop: async () => {
      await t.close();
      await stopChild(child);
    },
  };
}

async function tcpLine(board: string): ReturnType<Opener> {
  const { address, child } = await spawnEmulatorProcess(root, board, { seed: 1, lockstep: true, tcpPort: 0 });
  const [, host, port] = address.split(':'); // tcp:HOST:PORT
  const t = new TcpTransport(host, Number(port));
  return {
    t,
    stop: async () => {
      await t.close();
      await stopChild(child);
    },
  };
}

async function inProcessLine(board: string): ReturnType<Opener> {
  return { t: lockstepInProcess(board, { seed: 1 }).transport, stop: async () => {} };
}

const bench: Benchmark = async (ctx) => {
  if (!socatAvailable()) throw new Error('lockstep benchmark needs socat (it creates the pseudo-terminals): apt-get install socat');
  const report = (what: string, r: Run) =>
    ctx.progress(`${what}: ${r.grants} grants in ${r.wallS.toFixed(2)} s wall, ${((r.wallS / r.grants) * 1e6).toFixed(0)} us a grant, ${r.telemetryFrames} telemetry frames`);
  const inProc = await measure(['apt'], inProcessLine);
  report('in-process, apt', inProc);
  const one = await measure(['apt'], ptyLine);
  report('pty, apt', one);
  const four = await measure(BOARD_NAMES, ptyLine);
  report(`pty, ${BOARD_NAMES.join('+')}`, four);
  const tcp = await measure(['apt'], tcpLine);
  report('tcp, apt', tcp);
  const four5 = await measure(BOARD_NAMES, ptyLine, 5);
  report(`pty, ${BOARD_NAMES.join('+')}, 5 ms quanta`, four5);
  const us = (r: Run) => (r.wallS / r.grants) * 1e6;
  return [
    { key: 'lockstepGrantUsInProcess', label: `wall time per 1 ms grant, in-process host (apt, ${1000 / APT_PERIOD_MS} Hz telemetry)`, value: us(inProc), unit: 'us' },
    { key: 'lockstepGrantUsPty1', label: 'wall time per 1 ms grant, one board on a pty', value: us(one), unit: 'us' },
    { key: 'lockstepGrantUsPty4', label: 'wall time per 1 ms grant, four boards on ptys granted in parallel', value: us(four), unit: 'us' },
    { key: 'lockstepGrantUsTcp1', label: 'wall time per 1 ms grant, one board on TCP', value: us(tcp), unit: 'us' },
    { key: 'lockstepRealTimeRatioPty1', label: 'wall / simulated time, one board on a pty', value: one.wallS / SIM_S, unit: 'ratio', target: '<= 0.5' },
    { key: 'lockstepRealTimeRatioPty4', label: 'wall / simulated time, four boards on ptys', value: four.wallS / SIM_S, unit: 'ratio', target: '<= 0.5' },
    { key: 'lockstepRealTimeRatioPty4Q5', label: 'wall / simulated time, four boards on ptys, 5 ms quanta', value: four5.wallS / SIM_S, unit: 'ratio', target: '<= 0.5' },
  ];
};
export default bench;
