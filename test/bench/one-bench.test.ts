import { afterEach, describe, expect, it } from 'vitest';
import { SimClock } from '../../boards/clock.ts';
import { EXAMPLE_TLE } from '../../boards/sim/orbit.ts';
import { Bench } from '../../hil/bench/bench.ts';
import { boardSeed, seedOf } from '../../hil/bench/seeds.ts';
import { PayloadStrategy, RIG_STATES, StrategyError } from '../../hil/bench/strategy.ts';
import { emulatorMissing, simMissing } from '../../hil/fixture.ts';
import { attachBenchWorld, createPayloadRig, hostPayload, inProcessBenchConfig, inProcessRig, RIG_BOARDS } from '../../hil/mission/rig.ts';
import { BoardError } from '../../hil/errors.ts';
import { config } from './helpers.ts';

/** One bench: one factory for board drivers, the payload hosted by the bench, the strategy. */

const open: Bench[] = [];
afterEach(async () => {
  for (const b of open.splice(0)) await b.close();
});
const keep = (b: Bench) => (open.push(b), b);

describe('the bench factory', () => {
  it('opens an all-in-process bench synchronously: the same drivers as open(), on one SimClock, no identify yet', () => {
    const bench = keep(Bench.openInProcess(inProcessBenchConfig(), { seed: 5, boards: [...RIG_BOARDS], capture: false }));
    expect(bench.clock).toBeInstanceOf(SimClock);
    expect(bench.inProcess).toBe(true);
    expect(bench.boards.map((b) => b.name)).toEqual(['qsrc', 'apt', 'lct', 'acs']);
    for (const b of bench.boards) {
      expect(b.emulator).toBeDefined();
      expect(b.driver.engine.clock).toBe(bench.clock);
      expect(b.capture).toBeNull();
      // Nothing was said on the line yet: the strategy's 'powered' (or the payload's self-test) identifies.
      expect(b.driver.stats.requests).toBe(0);
    }
    expect(bench.board('apt').driver.baud).toBe(2_000_000);
  });

  it('refuses the synchronous path for a bench with a line in another process, naming the board', () => {
    expect(() => Bench.openInProcess(config({ apt: { mode: 'emulated' }, lct: { mode: 'port', path: '/dev/ttyUSB99' } }, { clock: 'sim' }))).toThrow(BoardError);
    expect(() => Bench.openInProcess(config({ apt: { mode: 'emulated' }, lct: { mode: 'port', path: '/dev/ttyUSB99' } }))).toThrow(/wall clock/);
  });

  it('seeds each board the same way on every kind of line (the rig salts 10.. in board order)', async () => {
    expect(RIG_BOARDS.map((n) => boardSeed(7, n))).toEqual([10, 11, 12, 13].map((salt) => seedOf(7, salt)));
    const a = keep(await Bench.open(config({ apt: { mode: 'emulated' } }), { seed: 7, runName: 'seed-a' }));
    const b = keep(Bench.openInProcess(config({ apt: { mode: 'emulated' } }), { seed: 7, capture: false }));
    expect(a.board('apt').emulator!.serialNumber).toBe(b.board('apt').emulator!.serialNumber);
    expect((await a.board('apt').driver.identify()).serialNumber).toBe(b.board('apt').emulator!.serialNumber);
  });

  it('a port that cannot be opened fails naming the board, the port and the cause', async () => {
    await expect(Bench.open(config({ apt: { mode: 'emulated' }, lct: { mode: 'port', path: '/dev/ttyUSB99' } }), { runName: 'no-port' })).rejects.toThrow(
      /^board lct on port \/dev\/ttyUSB99: serial port \/dev\/ttyUSB99 does not exist$/,
    );
  });
});

describe('the payload hosted by the bench', () => {
  it('createPayloadRig is the payload on an in-process bench: its boards are the bench drivers', () => {
    const rig = createPayloadRig({ seed: 2 });
    for (const n of RIG_BOARDS) {
      expect(rig.boards[n].driver).toBe(rig.bench.board(n).driver);
      expect(rig.boards[n].client).toBe(rig.bench.board(n).driver.engine);
      expect(rig.boards[n].emu).toBe(rig.bench.board(n).emulator);
    }
    expect(rig.clock).toBe(rig.bench.clock);
    rig.advanceMs(500);
    rig.boot();
    expect(rig.payload.mode()).toBe('STANDBY');
    rig.stop();
  });

  it('needs the four boards on the bench, and a synchronous face only in-process', async () => {
    const bench = keep(await Bench.open(config({ apt: { mode: 'emulated' } }), { runName: 'one-board' }));
    expect(() => hostPayload(bench)).toThrow(/lacks qsrc, lct, acs/);
    const wall = keep(await Bench.open(config(Object.fromEntries(RIG_BOARDS.map((n) => [n, { mode: 'emulated' }])), { clock: 'wall', stream: false }), { runName: 'wall' }));
    const hosted = hostPayload(wall);
    expect(() => inProcessRig(hosted)).toThrow(/no synchronous face/);
    hosted.stop();
  });
});

describe('the payload strategy', () => {
  const planFor = (rigNowMs: number) => {
    const start = Math.floor(rigNowMs / 1000) + 1;
    return { station: 'beijing', latDeg: 40, lonDeg: 116.3, altM: 50, startS: start, endS: start + 600, minElevationDeg: 15, tleLine1: EXAMPLE_TLE[0], tleLine2: EXAMPLE_TLE[1] };
  };

  it('brings the rig through powered, booted, planned and in-pass, and back to booted by aborting', async () => {
    const bench = keep(Bench.openInProcess(inProcessBenchConfig(), { seed: 3, boards: [...RIG_BOARDS], capture: false }));
    const s = new PayloadStrategy(bench, {
      world: (rig) => attachBenchWorld(inProcessRig(rig)).stop,
      plan: (rig) => planFor(rig.clock.now()),
    });
    expect(s.state).toBe('off');
    expect(await s.transition('powered')).toBeNull();
    for (const b of bench.boards) expect(b.driver.stats.requests).toBe(1); // IDENTIFY, answered
    const rig = (await s.transition('booted'))!;
    expect(rig.payload.mode()).toBe('STANDBY');
    await s.transition('planned');
    expect(rig.payload.snapshot().context.plan).not.toBeNull();
    await s.transition('in-pass');
    expect(rig.payload.mode()).toBe('QKD');
    expect(rig.payload.status.emitting).toBe(true);
    await s.transition('booted');
    expect(s.state).toBe('booted');
    expect(rig.payload.mode()).toBe('STANDBY');
    // fresh: a newly hosted payload on the same boards.
    const again = await s.transition('booted', { fresh: true });
    expect(again).not.toBe(rig);
    expect(again!.payload.mode()).toBe('STANDBY');
    s.off();
    expect(s.state).toBe('powered');
  });

  it('says why a state cannot be reached', async () => {
    const bench = keep(Bench.openInProcess(inProcessBenchConfig(), { seed: 3, boards: [...RIG_BOARDS], capture: false }));
    const s = new PayloadStrategy(bench);
    expect(RIG_STATES).toEqual(['off', 'powered', 'booted', 'planned', 'in-pass']);
    await expect(s.transition('nowhere' as never)).rejects.toThrow(/unknown rig state 'nowhere'/);
    expect(() => s.rig).toThrow(/no payload hosted/);
    await expect(s.transition('planned')).rejects.toThrow(StrategyError);
    expect(s.state).toBe('booted');
    s.off();
  });
});

describe('tests that need emulators', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env.HIL_BENCH = saved.HIL_BENCH;
    process.env.HIL_PORTS = saved.HIL_PORTS;
    if (saved.HIL_BENCH === undefined) delete process.env.HIL_BENCH;
    if (saved.HIL_PORTS === undefined) delete process.env.HIL_PORTS;
  });

  it('are told why the bench cannot give emulator control: the boards and their lines', () => {
    delete process.env.HIL_BENCH;
    delete process.env.HIL_PORTS;
    expect(emulatorMissing(RIG_BOARDS)).toBeNull();
    process.env.HIL_PORTS = 'apt=/dev/ttyUSB99,lct=tcp:127.0.0.1:7003';
    expect(emulatorMissing(RIG_BOARDS)).toBe('needs in-process emulators; bench emulated has apt on /dev/ttyUSB99, lct on tcp:127.0.0.1:7003');
    expect(emulatorMissing(['qsrc'])).toBeNull();
    process.env.HIL_BENCH = 'hil/benches/pty.json';
    delete process.env.HIL_PORTS;
    expect(emulatorMissing(['acs'])).toBe('needs in-process emulators; bench pty has acs on a pty');
  });

  it('simulation control is decided by each board\'s identity: a real board is named with its port', async () => {
    const bench = keep(await Bench.open(config({ apt: { mode: 'emulated' }, lct: { mode: 'emulated' } }), { runName: 'sim-need' }));
    expect(await simMissing(bench, ['apt', 'lct'])).toBeNull();
    bench.board('lct').identity = { ...bench.board('lct').identity!, emulated: false };
    expect(await simMissing(bench, ['apt', 'lct'])).toBe('needs emulated boards (simulation control); real hardware: lct on in-memory emulator lct');
  });
});
