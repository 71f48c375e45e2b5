import type { LimitsDef } from '../../boards/schema.ts';

/**
 * Limits monitoring, COSMOS/Yamcs style: each item with limits is checked as it
 * arrives; entering a worse state (yellow, red) and returning to normal are recorded
 * with time and value. Board telemetry limits come from the board definitions,
 * payload housekeeping limits from the dictionary.
 */
export type LimitState = 'green' | 'yellow' | 'red';

export interface LimitTransition {
  t: number;
  item: string;
  value: number;
  from: LimitState;
  to: LimitState;
  /** The bound crossed ("red high 70"), or "normal" on return. */
  detail: string;
}

export function limitState(limits: LimitsDef, v: number): { state: LimitState; detail: string } {
  for (const level of ['red', 'yellow'] as const) {
    const b = limits[level];
    if (!b) continue;
    if (b.low !== undefined && v < b.low) return { state: level, detail: `${level} low ${b.low}` };
    if (b.high !== undefined && v > b.high) return { state: level, detail: `${level} high ${b.high}` };
  }
  return { state: 'green', detail: 'normal' };
}

export class LimitMonitor {
  private readonly state = new Map<string, LimitState>();
  readonly transitions: LimitTransition[] = [];
  private readonly listeners = new Set<(t: LimitTransition) => void>();

  check(item: string, t: number, value: number, limits: LimitsDef): void {
    const { state, detail } = limitState(limits, value);
    this.record(item, t, value, state, detail);
  }

  /** Records a state already evaluated elsewhere (the dictionary's checkLimits). */
  record(item: string, t: number, value: number, state: LimitState, detail: string): void {
    const prev = this.state.get(item) ?? 'green';
    if (state === prev) return;
    this.state.set(item, state);
    const tr: LimitTransition = { t, item, value, from: prev, to: state, detail };
    this.transitions.push(tr);
    for (const l of this.listeners) l(tr);
  }

  /** Items currently out of limits. */
  current(): { item: string; state: LimitState }[] {
    return [...this.state].filter(([, s]) => s !== 'green').map(([item, state]) => ({ item, state }));
  }

  violations(since = -Infinity): LimitTransition[] {
    return this.transitions.filter((x) => x.t >= since && x.to !== 'green');
  }

  onTransition(cb: (t: LimitTransition) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }
}
