import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { simTimeMissing } from '../../hil/fixture.ts';
import { RIG_BOARDS } from '../../hil/mission/rig.ts';

/** The 'sim-time' need (hil/fixture.ts): decided from the bench config when the tests are collected. */

const saved = { HIL_BENCH: process.env.HIL_BENCH, HIL_PORTS: process.env.HIL_PORTS };
afterEach(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});
const onBench = (file: string | undefined, ports?: string) => {
  if (file === undefined) delete process.env.HIL_BENCH;
  else process.env.HIL_BENCH = file;
  if (ports === undefined) delete process.env.HIL_PORTS;
  else process.env.HIL_PORTS = ports;
};

describe("tests that need simulated time ('sim-time')", () => {
  it('run on boards the bench emulates itself: in-process, lockstep hosts, emulator processes on ptys', () => {
    for (const file of [undefined, 'hil/benches/lockstep.json', 'hil/benches/pty.json']) {
      onBench(file);
      expect(simTimeMissing(RIG_BOARDS)).toBeNull();
    }
  });

  it('are told which boards are on lines the bench does not emulate (real ttys, TCP)', () => {
    onBench('hil/benches/devboards.json');
    expect(simTimeMissing(RIG_BOARDS)).toBe(
      'needs simulated time on boards the bench emulates itself (in-process or on a pty); bench devboards has qsrc on /dev/ttyUSB0, apt on /dev/ttyUSB1, lct on /dev/ttyUSB2, acs on /dev/ttyUSB3',
    );
    onBench('hil/benches/pty.json', 'apt=/dev/ttyUSB99,lct=tcp:127.0.0.1:7003');
    expect(simTimeMissing(RIG_BOARDS)).toBe('needs simulated time on boards the bench emulates itself (in-process or on a pty); bench pty has apt on /dev/ttyUSB99, lct on tcp:127.0.0.1:7003');
    expect(simTimeMissing(['qsrc', 'acs'])).toBeNull();
  });

  it('are told when the bench runs its emulators on the wall clock', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'sim-time-')), 'wall.json');
    writeFileSync(file, JSON.stringify({ name: 'wall-ptys', clock: 'wall', boards: { apt: { mode: 'pty' }, lct: { mode: 'emulated' } } }));
    onBench(file);
    expect(simTimeMissing(['apt', 'lct'])).toBe('needs simulated time; bench wall-ptys runs on the wall clock');
  });
});
