import { setTimeout as wallSleep } from 'node:timers/promises';
import { SimClock } from '../../boards/clock.ts';
import { DICTIONARY } from '../../protocols/dictionary/index.ts';
import { Bench } from '../bench/bench.ts';
import type { BenchConfig } from '../bench/config.ts';
import { inMemoryEndpoint } from '../bench/payload.ts';
import type { EventRecord, Sample } from '../bench/store.ts';
import { PayloadStrategy } from '../bench/strategy.ts';
import { attachBenchWorld, type BenchWorld, type HostedPayload, RIG_BOARDS } from '../mission/rig.ts';
import type { ParsedCommand, TelemetryItem } from './command-line.ts';

/**
 * The operator's operations on the one bench, shared by the console and its scriptable
 * twins (`npm run cmd`, `npm run tlm`): open the bench with the payload firmware hosted
 * and booted (the strategy's 'booted'), its PUS stream bound as the bench's payload
 * endpoint, so commands go through `bench.cmd` and telemetry lands in the bench's
 * histories; send a parsed command and collect its ST01 reports and direct reply;
 * follow a telemetry item. Time is bench time: on a simulated clock these calls run it.
 */

export interface ConsoleBench {
  bench: Bench;
  /** The payload firmware hosted on the bench's boards. */
  rig: HostedPayload;
  /** The beacon and laser link always there (the payload suite's bench world), on a simulated-time bench; null on the wall clock. */
  world: BenchWorld | null;
  close(): Promise<void>;
}

/** Opens `config` (every payload board on it), hosts the payload and boots it to STANDBY; TM from then on goes to the bench's histories. */
export async function openConsoleBench(config: BenchConfig, o: { seed?: number; root?: string; runName?: string } = {}): Promise<ConsoleBench> {
  const seed = o.seed ?? 1;
  const inProcess = Object.values(config.boards).every((b) => b?.mode === 'emulated');
  // Captures only when a board is on a line of its own (as withFreshBench): an in-process run would only fill reports/captures.
  const bench = await Bench.open(config, { seed, boards: [...RIG_BOARDS], runName: o.runName ?? `console-${config.name}-seed${seed}`, root: o.root, capture: !inProcess });
  let world: BenchWorld | null = null;
  // A beacon and a link, so a pass can run (scenario controls); real boards on the wall clock have none to give.
  const strategy = new PayloadStrategy(bench, {
    world: (rig) => {
      if (rig.bench.clock.kind !== 'sim') return;
      world = attachBenchWorld(rig);
      return () => world!.stop();
    },
  });
  try {
    const rig = (await strategy.transition('booted'))!;
    const { endpoint, payloadSide } = inMemoryEndpoint('hosted payload firmware');
    payloadSide.onTc((p) => rig.sendTc(p));
    rig.payload.onTm((p) => payloadSide.sendTm(p));
    bench.attachPayload(endpoint);
    return {
      bench,
      rig,
      world,
      async close() {
        strategy.off();
        await bench.close();
      },
    };
  } catch (e) {
    strategy.off();
    await bench.close();
    throw e;
  }
}

/** One report or reply a command drew, at bench time `t` (ms). */
export interface CommandReport {
  t: number;
  /** VERIFY_ACCEPT_OK, ..., or the reply's dictionary name (PONG, PARAM_VALUE, ...). */
  name: string;
  kind: 'verification' | 'reply';
  fields: Record<string, unknown>;
}

export interface CommandOutcome {
  command: string;
  args: Record<string, unknown>;
  seq: number;
  /** ST01 reports and replies, in arrival order. */
  reports: CommandReport[];
  /** completed: VERIFY_COMPLETE_OK came; failed: a _FAIL report came; timeout: neither within the limit. */
  status: 'completed' | 'failed' | 'timeout';
  /** The failure report's code and detail, when status is failed. */
  failure: { stage: string; code: string; detail: string } | null;
}

/** The TM reports a command answers with directly, by command name (ST17, ST20, ST06). */
const REPLIES: Record<string, readonly string[]> = { PING: ['PONG'], GET_PARAM: ['PARAM_VALUE'], DUMP_MEMORY: ['MEMORY_DUMP'], CHECK_MEMORY: ['MEMORY_CHECK'] };

/** The housekeeping packet a HK_ONE_SHOT asks for (its reply), by SID. */
const hkName = (sid: unknown) => DICTIONARY.housekeeping.find((h) => h.sid === sid)?.name;

/**
 * Sends a parsed command through the bench (`bench.cmd`) and collects, in bench time, its
 * ST01 reports (those carrying its sequence count) and its direct reply, until it
 * completes or fails and the reply came, or `timeoutMs` of bench time passes. A
 * hazardous command is the caller's to confirm before calling this.
 */
export async function sendCommand(cb: ConsoleBench, cmd: ParsedCommand, o: { timeoutMs?: number; settleMs?: number } = {}): Promise<CommandOutcome> {
  const { bench } = cb;
  const since = bench.mark();
  const replyNames = cmd.name === 'HK_ONE_SHOT' ? [hkName(cmd.args.sid)].filter((n): n is string => n !== undefined) : (REPLIES[cmd.name] ?? []);
  const seq = await bench.cmd(cmd.name, cmd.args, { await: 'none' });
  const mine = (e: EventRecord) => e.name.startsWith('VERIFY_') && e.fields.tcSeq === seq;
  const reports = (): CommandReport[] =>
    bench.events(since).flatMap((e): CommandReport[] =>
      mine(e) ? [{ t: e.t, name: e.name, kind: 'verification', fields: e.fields }] : replyNames.includes(e.name) ? [{ t: e.t, name: e.name, kind: 'reply', fields: e.fields }] : [],
    );
  // A HK_ONE_SHOT's reply is a housekeeping packet: histories, not events.
  const hkReply = (): CommandReport[] => {
    if (cmd.name !== 'HK_ONE_SHOT' || replyNames.length === 0) return [];
    const def = DICTIONARY.housekeeping.find((h) => h.name === replyNames[0])!;
    const first = bench.history(`${def.name}.${def.fields[0].name}`, since)[0];
    if (!first) return [];
    const fields = Object.fromEntries(def.fields.map((f) => [f.name, bench.history(`${def.name}.${f.name}`, since)[0]?.value]));
    return [{ t: first.t, name: def.name, kind: 'reply', fields }];
  };
  const all = () => [...reports(), ...hkReply()].sort((a, b) => a.t - b.t);
  const finished = () => {
    const r = all();
    const done = r.some((x) => x.kind === 'verification' && (x.name === 'VERIFY_COMPLETE_OK' || x.name.endsWith('_FAIL')));
    const failed = r.some((x) => x.name.endsWith('_FAIL'));
    const replied = replyNames.length === 0 || failed || r.some((x) => x.kind === 'reply');
    return done && replied;
  };
  let status: CommandOutcome['status'] = 'completed';
  try {
    await bench.waitFor(finished, { timeoutMs: o.timeoutMs ?? 5000, what: `the reports of ${cmd.name} (seq ${seq})` });
  } catch {
    status = 'timeout';
  }
  const r = all();
  const fail = r.find((x) => x.name.endsWith('_FAIL'));
  if (fail) status = 'failed';
  return {
    command: cmd.name,
    args: cmd.args,
    seq,
    reports: r,
    status,
    failure: fail ? { stage: fail.name, code: String(fail.fields.failureCode), detail: String(fail.fields.detail ?? '') } : null,
  };
}

/** One update of a telemetry item: bench time, the engineering value and its unit. */
export interface TelemetryUpdate {
  item: string;
  t: number;
  value: Sample['value'];
  unit?: string;
}

export interface FollowOptions {
  /**
   * On a simulated clock, how fast bench time runs against the wall clock: 1 = live pace
   * (what a person watching wants), null = as fast as the simulation goes. Ignored on the
   * wall clock (real boards set the pace).
   */
  pace?: number | null;
  /** Stops the generator (Ctrl-C). */
  signal?: AbortSignal;
  /** Longest bench time to wait for an update before giving up (throws FollowTimeout). Default: no limit. */
  timeoutMs?: number;
}

export class FollowTimeout extends Error {
  override readonly name = 'FollowTimeout';
}

/** Bench time run per step while following on a simulated clock, ms. */
const STEP_MS = 50;

/**
 * Every new value of a telemetry item from now on (the bench's histories), as it arrives.
 * On a simulated clock the generator runs bench time while it waits (paced to the wall
 * clock by `pace`); on the wall clock it waits for the boards.
 */
export async function* followTelemetry(cb: ConsoleBench, item: TelemetryItem, o: FollowOptions = {}): AsyncGenerator<TelemetryUpdate> {
  const { bench } = cb;
  const queue: Sample[] = [];
  let last = bench.store.latest(item.item);
  const unsub = bench.store.subscribe(() => {
    const s = bench.store.latest(item.item);
    if (s && s !== last) {
      // One packet per notify: at most one new sample of a housekeeping item.
      queue.push(s);
      last = s;
    }
  });
  const sim = bench.clock instanceof SimClock;
  const pace = sim ? (o.pace === undefined ? 1 : o.pace) : null;
  const wall0 = performance.now();
  const bench0 = bench.now();
  let waitedFrom = bench.now();
  try {
    while (!o.signal?.aborted) {
      const s = queue.shift();
      if (s) {
        waitedFrom = bench.now();
        yield { item: item.item, t: s.t, value: s.value, ...(item.field.unit ? { unit: item.field.unit } : {}) };
        continue;
      }
      if (o.timeoutMs !== undefined && bench.now() - waitedFrom >= o.timeoutMs) {
        throw new FollowTimeout(`no ${item.packet.name} packet within ${o.timeoutMs} ms of bench time`);
      }
      if (pace) {
        // Live pace: bench time catches up with the wall clock, never runs ahead of it.
        const target = bench0 + (performance.now() - wall0) * pace;
        if (target <= bench.now()) await wallSleep(Math.min(STEP_MS, (bench.now() - target) / pace + 1), undefined, { signal: o.signal }).catch(() => undefined);
        else await bench.sleep(Math.min(STEP_MS, target - bench.now()));
      } else {
        await bench.sleep(STEP_MS);
      }
    }
  } finally {
    unsub();
  }
}
