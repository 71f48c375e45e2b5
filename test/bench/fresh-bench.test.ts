import { afterEach, describe, expect, it } from 'vitest';
import { Bench } from '../../hil/bench/bench.ts';
import { withFreshBench } from '../../hil/bench/fresh-bench.ts';
import { config } from './helpers.ts';

/** A fresh bench like another (hil/bench/fresh-bench.ts): what a run planned from power-on starts on. */

const open: Bench[] = [];
afterEach(async () => {
  for (const b of open.splice(0)) await b.close();
});
const keep = (b: Bench) => (open.push(b), b);
const emulated = config({ apt: { mode: 'emulated' }, lct: { mode: 'emulated' } });

describe('a fresh bench like a used one', () => {
  it('has the same config, seed and boards, new emulators and its clock back near 0', async () => {
    const like = keep(await Bench.open(emulated, { seed: 9, boards: ['apt', 'lct'], runName: 'used', capture: false }));
    await like.sleep(5000);
    const seen = await withFreshBench(like, 'again', async (b) => ({
      config: b.config,
      seed: b.seed,
      boards: b.boards.map((x) => x.name),
      nowMs: b.now(),
      runName: b.runName,
      newEmulator: b.board('apt').emulator !== like.board('apt').emulator,
      identified: b.boards.every((x) => x.identity?.emulated === true),
    }));
    expect(like.now()).toBeGreaterThanOrEqual(5000);
    expect(seen).toMatchObject({ config: emulated, seed: 9, boards: ['apt', 'lct'], runName: 'used-again', newEmulator: true, identified: true });
    // Only the identity checks of Bench.open have run on the new clock.
    expect(seen.nowMs).toBeLessThan(100);
  });

  it('writes no capture files for an all-in-process bench unless asked, and closes the bench when `use` throws', async () => {
    const like = keep(await Bench.open(emulated, { boards: ['apt'], runName: 'cap', capture: false }));
    expect(await withFreshBench(like, 'a', async (b) => b.captures.length)).toBe(0);
    expect(await withFreshBench(like, 'b', async (b) => b.captures.map((p) => p.replace(/.*\//, '')), { capture: true })).toEqual(['cap-b.apt.cap.jsonl']);
    let used: Bench | null = null;
    await expect(
      withFreshBench(like, 'c', async (b) => {
        used = b;
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    // Closed: the emulator was shut down, so the board no longer answers.
    await expect(used!.board('apt').driver.verifyIdentity()).rejects.toThrow();
  });

  it('refuses a bench whose lines it cannot open a second time, naming the boards and lines', async () => {
    const cfg = config({ apt: { mode: 'emulated' }, lct: { mode: 'tcp', host: '127.0.0.1', port: 7003 }, acs: { mode: 'port', path: '/dev/ttyUSB3' } });
    // Not opened (nothing listens there): a bench with those boards, as withFreshBench sees it.
    const like = { config: cfg, seed: 1, runName: 'x', inProcess: false, boards: [{ name: 'apt' }, { name: 'lct' }, { name: 'acs' }] } as unknown as Bench;
    await expect(withFreshBench(like, 'y', async () => 0)).rejects.toThrow(
      "no fresh bench like 'test': lct on tcp:127.0.0.1:7003, acs on /dev/ttyUSB3 cannot be opened a second time (only boards the bench emulates itself, in-process or on a pty, start anew)",
    );
  });
});
