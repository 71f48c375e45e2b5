import { encodeCommand } from '../../protocols/dictionary/index.ts';
import { hostPayload, type HostedPayload, type PayloadRigOptions } from '../mission/rig.ts';
import type { Bench } from './bench.ts';

/**
 * The states a strategy brings the payload rig to, in order (labgrid's strategies):
 *   off      no payload hosted
 *   powered  every board of the bench answered its identity check
 *   booted   the payload firmware hosted on the bench's boards, powered on, in STANDBY
 *   planned  a pass plan accepted (UPLOAD_PASS_PLAN completed)
 *   in-pass  the pass running: QKD mode, the source emitting
 */
export const RIG_STATES = ['off', 'powered', 'booted', 'planned', 'in-pass'] as const;
export type RigState = (typeof RIG_STATES)[number];

export interface StrategyOptions {
  /** How the payload is hosted (flashed parameters, config generation, ...). The seed is the bench's. */
  payload?: PayloadRigOptions;
  /** Called once a payload is hosted, before power-on (e.g. the in-process bench world); returns what stops it. */
  world?: (rig: HostedPayload) => (() => void) | void;
  /** Arguments of the UPLOAD_PASS_PLAN that 'planned' sends, built when it is sent. */
  plan?: (rig: HostedPayload) => Record<string, unknown>;
  /** Bench time after hosting before power-on, ms. Default 500. */
  powerOnDelayMs?: number;
  /** Longest wait for the source to emit once planned, ms. Default 30 000. */
  passStartLimitMs?: number;
}

/** A TC the strategy sends did not complete. */
export class StrategyError extends Error {
  override readonly name = 'StrategyError';
}

/** Sequence counts of the strategy's own TCs, high in the 14-bit range so they do not meet a suite's. */
const STRATEGY_SEQ0 = 0x3f00;

/**
 * Brings the payload rig on a bench to a wanted state, from wherever it is: forwards
 * through the states in order; backwards by stopping the payload ('off', 'powered') or
 * aborting the pass ('booted'). `fresh` starts again from a newly hosted payload on the
 * same boards. Suites ask the strategy for a state rather than building a rig.
 */
export class PayloadStrategy {
  private current: RigState = 'off';
  private hosted: HostedPayload | null = null;
  private stopWorld: (() => void) | null = null;
  private seq = STRATEGY_SEQ0;

  constructor(
    readonly bench: Bench,
    private readonly opts: StrategyOptions = {},
  ) {}

  get state(): RigState {
    return this.current;
  }

  /** The hosted payload (from 'booted' on). */
  get rig(): HostedPayload {
    if (!this.hosted) throw new Error(`no payload hosted (rig state ${this.current}): transition to 'booted' first`);
    return this.hosted;
  }

  /** Brings the rig to `to` and returns the hosted payload (null below 'booted'). */
  async transition(to: RigState, o: { fresh?: boolean } = {}): Promise<HostedPayload | null> {
    const want = RIG_STATES.indexOf(to);
    if (want < 0) throw new Error(`unknown rig state '${to}' (one of ${RIG_STATES.join(', ')})`);
    if (o.fresh) this.off();
    if (want < RIG_STATES.indexOf(this.current)) await this.back(to);
    while (RIG_STATES.indexOf(this.current) < want) await this.step(RIG_STATES[RIG_STATES.indexOf(this.current) + 1]);
    return this.hosted;
  }

  /** Stops the payload and its world; the boards stay as they are. */
  off(): void {
    this.stopWorld?.();
    this.stopWorld = null;
    this.hosted?.stop();
    this.hosted = null;
    if (this.current !== 'off') this.current = 'powered';
  }

  private async step(next: RigState): Promise<void> {
    if (next === 'powered') {
      for (const b of this.bench.boards) await b.driver.verifyIdentity();
    } else if (next === 'booted') {
      const rig = hostPayload(this.bench, this.opts.payload);
      this.hosted = rig;
      this.stopWorld = this.opts.world?.(rig) ?? null;
      await rig.advanceMs(this.opts.powerOnDelayMs ?? 500);
      await rig.boot();
      if (rig.payload.mode() !== 'STANDBY') throw new StrategyError(`payload booted into ${rig.payload.mode()}, not STANDBY`);
    } else if (next === 'planned') {
      if (!this.opts.plan) throw new StrategyError("no pass plan: give the strategy a 'plan' to reach 'planned'");
      await this.command('UPLOAD_PASS_PLAN', this.opts.plan(this.rig));
    } else if (next === 'in-pass') {
      const rig = this.rig;
      const ok = await rig.runUntilTrue(() => rig.payload.status.emitting, this.opts.passStartLimitMs ?? 30_000);
      if (!ok) throw new StrategyError(`the pass did not start: source not emitting (mode ${rig.payload.mode()})`);
    }
    this.current = next;
  }

  private async back(to: RigState): Promise<void> {
    if (to === 'off' || to === 'powered') {
      this.off();
      this.current = to;
      return;
    }
    // 'booted' from a plan or a pass: abort it (a plan not yet started stays loaded).
    if (this.rig.payload.mode() !== 'STANDBY') await this.command('ABORT_PASS', {});
    this.current = 'booted';
  }

  /** Sends a TC and waits (bench time) for its completion report; throws naming a failure. */
  private async command(name: string, args: Record<string, unknown>, limitMs = 2000): Promise<void> {
    const rig = this.rig;
    const seq = this.seq;
    this.seq = this.seq === 0x3fff ? STRATEGY_SEQ0 : this.seq + 1;
    const from = rig.tm.length;
    const report = () => rig.since(from).find((t) => t.packet?.name?.startsWith('VERIFY_') && t.packet.fields?.tcSeq === seq && (t.packet.name === 'VERIFY_COMPLETE_OK' || t.packet.name.endsWith('_FAIL')));
    rig.sendTc(encodeCommand(name, args, { seq }));
    if (!(await rig.runUntilTrue(() => report() !== undefined, limitMs, 5))) throw new StrategyError(`${name} (seq ${seq}): no completion report within ${limitMs} ms`);
    const r = report()!.packet!;
    if (r.name !== 'VERIFY_COMPLETE_OK') throw new StrategyError(`${name} (seq ${seq}) failed: ${r.name} ${String(r.fields?.failureCode)} ${String(r.fields?.detail ?? '')}`);
  }
}
