import { type RunInfo, readRunInfo } from '../runs/archive.ts';
import type { SuiteData } from './suite-data.ts';

/**
 * The run's identity for the report header and the JUnit <properties>, both made from
 * runProperties so the two always say the same thing. It comes from the run archive's
 * run.json (hil/runs/archive.ts); every field may be missing (older runs, no run.json).
 */
export type RunIdentity = Partial<RunInfo>;

/** run.json of the run in `reportDir`, or {} when it has none. */
export function runIdentity(reportDir: string): RunIdentity {
  return readRunInfo(reportDir) ?? {};
}

/** One board as the run met it: its line and what it said at its identity check. */
export interface BoardSeen {
  name: string;
  port: string;
  identity: NonNullable<SuiteData['boards'][number]['identity']> | null;
}

/** Each board of the run as the first suite that identified it met it (suites reopen the same boards). */
export function boardsSeen(suites: SuiteData[]): BoardSeen[] {
  const seen = new Map<string, BoardSeen>();
  for (const s of suites)
    for (const b of s.boards) {
      if (!b.identity) continue;
      if (!seen.has(b.name)) seen.set(b.name, { name: b.name, port: b.port, identity: b.identity });
    }
  return [...seen.values()];
}

/**
 * The run's identity as name/value pairs: run, commit, dirty, bench, ports, seed, start,
 * duration, command, then per board its id, hardware and firmware version, serial,
 * emulated and port. Missing run.json fields fall back to what the suites recorded.
 */
export function runProperties(info: RunIdentity, suites: SuiteData[]): [string, string][] {
  // A suite file's own bench (mission passes, "passes.hil.ts: nominal", name their own).
  const first = suites.find((s) => !s.suite.includes(':')) ?? suites[0];
  const out: [string, string][] = [
    ['run', info.name ?? ''],
    ['commit', info.commit ?? ''],
    ['dirty', info.dirty === undefined || info.dirty === null ? '' : String(info.dirty)],
    ['bench', info.bench ?? first?.bench ?? ''],
    ['ports', Object.entries(info.ports ?? {}).map(([b, p]) => `${b}=${p}`).join(',')],
    ['seed', String(info.seed ?? first?.seed ?? '')],
    ['clock', first ? (first.clock === 'sim' ? 'simulated' : 'wall') : ''],
    ['startedAt', info.startedAt ?? ''],
    ['durationS', info.durationS === undefined || info.durationS === null ? '' : info.durationS.toFixed(1)],
    ['command', info.command ?? ''],
  ];
  for (const b of boardsSeen(suites)) {
    const id = b.identity!;
    out.push(
      [`board.${b.name}.port`, b.port],
      [`board.${b.name}.boardId`, `0x${id.boardId.toString(16).padStart(4, '0')}`],
      [`board.${b.name}.hwVersion`, id.hwVersion],
      [`board.${b.name}.fwVersion`, id.fwVersion],
      [`board.${b.name}.serialNumber`, String(id.serialNumber)],
      [`board.${b.name}.emulated`, String(id.emulated)],
    );
  }
  return out.filter(([, v]) => v !== '');
}
