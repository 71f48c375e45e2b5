import { describe, expect, it } from 'vitest';
import { TelemetryStore } from '../../hil/bench/store.ts';
import { GroupWatcher, groupsFromHistories } from '../../hil/console/group-watcher.ts';

/** The console's watcher of items stored together: every group stored and notified is taken once. */
describe('GroupWatcher', () => {
  const store = () => new TelemetryStore();
  const put = (s: TelemetryStore, group: string, t: number, a: number, b: number) => {
    s.add(`${group}.a`, t, a);
    s.add(`${group}.b`, t, b);
    s.notify();
  };
  const groups = (s: TelemetryStore) =>
    ['P', 'Q'].map((g) => ({ firstItem: `${g}.a`, build: (first: { t: number }) => ({ g, t: first.t, b: s.latest(`${g}.b`)?.value }) }));

  it('takes each group stored and notified once, in order, with its latest values; nothing already there before it started', () => {
    const s = store();
    put(s, 'P', 1, 10, 11);
    const w = new GroupWatcher(s, groups(s));
    expect(w.take()).toEqual([]);
    put(s, 'P', 2, 20, 21);
    put(s, 'Q', 3, 30, 31);
    put(s, 'P', 4, 40, 41);
    expect(w.take()).toEqual([
      { g: 'P', t: 2, b: 21 },
      { g: 'Q', t: 3, b: 31 },
      { g: 'P', t: 4, b: 41 },
    ]);
    expect(w.take()).toEqual([]);
    w.stop();
  });

  it('skips a group whose build gives null, and sees nothing after stop() until asked', () => {
    const s = store();
    const w = new GroupWatcher(s, [{ firstItem: 'P.a', build: (first) => (first.value === 0 ? null : first.t) }]);
    put(s, 'P', 1, 0, 0);
    put(s, 'P', 2, 5, 5);
    w.stop();
    put(s, 'P', 3, 6, 6);
    put(s, 'P', 4, 7, 7);
    // Stopped: no notification reached it; take() itself still looks once, at the newest.
    expect(w.take()).toEqual([2, 4]);
  });
});

describe('groupsFromHistories', () => {
  it('pairs the i-th from the end of each history (a group stored at once), the last max, oldest first', () => {
    // Item a has one sample more (stored before b existed): it is not part of a group.
    const a = [0, 1, 2, 3].map((t) => ({ t, value: `a${t}` }));
    const b = [1, 2, 3].map((t) => ({ t, value: `b${t}` }));
    expect(groupsFromHistories([a, b])).toEqual([
      { t: 1, values: ['a1', 'b1'] },
      { t: 2, values: ['a2', 'b2'] },
      { t: 3, values: ['a3', 'b3'] },
    ]);
    expect(groupsFromHistories([a, b], 2).map((g) => g.t)).toEqual([2, 3]);
    expect(groupsFromHistories([])).toEqual([]);
  });
});
