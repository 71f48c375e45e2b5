/**
 * Histories of everything the bench received, keyed by item name:
 *   board telemetry  "apt.SPOT_X_URAD"   (engineering units)
 *   payload TM       "PAYLOAD_HK.mode"   (dictionary packet.field)
 * plus events and verification reports. A mark is a bench time; histories "since a
 * mark" are what a suite asserts on (F Prime's history API in spirit).
 */
export type Value = number | string | boolean;

export interface Sample {
  t: number;
  value: Value;
}

export interface EventRecord {
  t: number;
  /** Dictionary event name, or "board:<name>:<what>" for bench-side events. */
  name: string;
  severity?: string;
  fields: Record<string, unknown>;
}

export class TelemetryStore {
  private readonly items = new Map<string, Sample[]>();
  readonly events: EventRecord[] = [];
  private readonly listeners = new Set<() => void>();
  /** Bound on samples kept per item (oldest dropped): long runs stay in memory bounds. */
  constructor(readonly maxSamplesPerItem = 200_000) {}

  add(name: string, t: number, value: Value): void {
    let h = this.items.get(name);
    if (!h) {
      h = [];
      this.items.set(name, h);
    }
    h.push({ t, value });
    if (h.length > this.maxSamplesPerItem) h.splice(0, h.length - this.maxSamplesPerItem);
  }

  addEvent(e: EventRecord): void {
    this.events.push(e);
  }

  /** Tells waiters that new data arrived (after a batch of add()). */
  notify(): void {
    for (const l of [...this.listeners]) l();
  }

  subscribe(cb: () => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  names(): string[] {
    return [...this.items.keys()].sort();
  }

  history(name: string, since = -Infinity): Sample[] {
    const h = this.items.get(name) ?? [];
    return h.filter((s) => s.t >= since);
  }

  latest(name: string): Sample | undefined {
    const h = this.items.get(name);
    return h?.[h.length - 1];
  }

  eventsSince(since = -Infinity, name?: string): EventRecord[] {
    return this.events.filter((e) => e.t >= since && (name === undefined || e.name === name));
  }
}
