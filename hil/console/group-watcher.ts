import type { Sample, TelemetryStore } from '../bench/store.ts';

/** Items the bench stores together (a housekeeping packet, a board's telemetry frame): a new sample of the first is a new group. */
export interface ItemGroup<T> {
  firstItem: string;
  /** What the group is now, from the store's latest samples (`first`: its first item's newest sample); null to skip it. */
  build(first: Sample): T | null;
}

/**
 * Watches a store for new groups: on every notification, each group whose first item has
 * a new sample is built from the latest samples and kept until take(). The bench stores a
 * packet's or a frame's items at once and then notifies, so every one is seen.
 */
export class GroupWatcher<T> {
  private readonly lastSeen: (Sample | undefined)[];
  private found: T[] = [];
  private readonly unsub: () => void;

  constructor(
    private readonly store: TelemetryStore,
    private readonly groups: readonly ItemGroup<T>[],
  ) {
    this.lastSeen = groups.map((g) => store.latest(g.firstItem));
    this.unsub = store.subscribe(() => this.check());
  }

  private check(): void {
    for (let i = 0; i < this.groups.length; i++) {
      const s = this.store.latest(this.groups[i].firstItem);
      if (!s || s === this.lastSeen[i]) continue;
      this.lastSeen[i] = s;
      const v = this.groups[i].build(s);
      if (v !== null) this.found.push(v);
    }
  }

  /** The groups that arrived since the last take, oldest first per notification. */
  take(): T[] {
    this.check();
    const out = this.found;
    this.found = [];
    return out;
  }

  stop(): void {
    this.unsub();
  }
}

/**
 * The groups recorded in their items' histories (one history per item of the group; the
 * bench stores a group's items at once, so the i-th from the end of each belong
 * together): the last `max`, oldest first, each with its time and the items' values.
 */
export function groupsFromHistories(histories: readonly (readonly { t: number; value: unknown }[])[], max = Infinity): { t: number; values: unknown[] }[] {
  const n = histories.length === 0 ? 0 : Math.min(...histories.map((h) => h.length));
  const groups: { t: number; values: unknown[] }[] = [];
  for (let i = Math.max(0, n - max); i < n; i++) {
    groups.push({ t: histories[0][histories[0].length - n + i].t, values: histories.map((h) => h[h.length - n + i].value) });
  }
  return groups;
}
