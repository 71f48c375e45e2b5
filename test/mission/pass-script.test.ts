import { describe, expect, it } from 'vitest';
import { SimClock } from '../../boards/clock.ts';
import { EXAMPLE_TLE } from '../../boards/sim/orbit.ts';
import { STATIONS } from '../../boards/sim/stations.ts';
import { decodePacket } from '../../protocols/dictionary/index.ts';
import { passPlanArgs, runPassScript, runPassScriptHeld, type HeldScriptClock, type ScriptPayload, type ScriptSteps } from '../../hil/mission/pass-script.ts';
import type { PassTimeline } from '../../hil/mission/timeline.ts';

const TIMELINE: PassTimeline = { leadS: 20, passStartMs: 20_000, passEndMs: 80_000, linkEndMs: 140_000, epochOffsetS: 846_000_000 };
const GEO = { durationS: 60, tle: EXAMPLE_TLE };

/** A payload that boots to STANDBY `bootMs` after power-on (never, if null), and a log of everything done, with times. */
function fakes(bootMs: number | null, settleAtMs: number) {
  const clock = new SimClock();
  const log: string[] = [];
  let mode = 'OFF';
  const tcs: Uint8Array[] = [];
  const payload: ScriptPayload = {
    powerOn() {
      log.push(`${clock.now()} powerOn`);
      mode = 'BOOT';
      if (bootMs !== null) clock.setTimeout(() => (mode = 'STANDBY'), bootMs);
    },
    mode: () => mode,
    sendTc(bytes) {
      tcs.push(bytes);
      log.push(`${clock.now()} tc ${decodePacket(bytes).name}`);
    },
    stop: () => log.push(`${clock.now()} stop`),
  };
  const steps: ScriptSteps = {
    flushTimeTags: () => log.push(`${clock.now()} flushTimeTags`),
    endOfPass: () => log.push(`${clock.now()} endOfPass`),
    settled: () => clock.now() >= settleAtMs,
  };
  return { clock, log, payload, steps, tcs };
}

describe('the pass script', () => {
  it('powers on, uploads the plan in STANDBY, flushes the tags, ends the pass, drains until settled', () => {
    const f = fakes(30, 95_000);
    const plan = passPlanArgs('beijing', STATIONS.beijing, GEO, TIMELINE, 15);
    const endMs = runPassScript(f.clock, f.payload, TIMELINE, plan, f.steps);
    expect(f.log).toEqual(['500 powerOn', '530 tc UPLOAD_PASS_PLAN', '82000 flushTimeTags', '84000 endOfPass', '95000 stop']);
    expect(endMs).toBe(95_000);
    const tc = decodePacket(f.tcs[0]);
    expect(tc.fields).toMatchObject({ station: 'beijing', startS: 846_000_020, endS: 846_000_080, minElevationDeg: 15, tleLine1: EXAMPLE_TLE[0], tleLine2: EXAMPLE_TLE[1] });
  });

  it('stops at the end of the link window when distillation never settles', () => {
    const f = fakes(30, Infinity);
    const endMs = runPassScript(f.clock, f.payload, TIMELINE, passPlanArgs('beijing', STATIONS.beijing, GEO, TIMELINE, 15), f.steps);
    expect(endMs).toBe(TIMELINE.linkEndMs);
    expect(f.log.at(-1)).toBe('140000 stop');
  });

  it('fails when the payload does not boot, naming its mode', () => {
    const f = fakes(null, 0);
    expect(() => runPassScript(f.clock, f.payload, TIMELINE, passPlanArgs('beijing', STATIONS.beijing, GEO, TIMELINE, 15), f.steps)).toThrow(/did not reach STANDBY.*mode BOOT/);
  });

  it('fails when the lead-in is too short for the plan to start after boot', () => {
    const short: PassTimeline = { ...TIMELINE, leadS: 0.5, passStartMs: 500, epochOffsetS: TIMELINE.epochOffsetS + 19.5 };
    const f = fakes(30, 0);
    expect(() => runPassScript(f.clock, f.payload, short, passPlanArgs('beijing', STATIONS.beijing, GEO, short, 15), f.steps)).toThrow(/lead-in of 0.5 s is too short/);
    expect(f.tcs).toEqual([]);
  });
});

describe('the pass script awaited (a held clock, as on a lockstep bench)', () => {
  it('does the same things at the same times as the synchronous run', async () => {
    const sync = fakes(30, 95_000);
    const plan = passPlanArgs('beijing', STATIONS.beijing, GEO, TIMELINE, 15);
    const syncEnd = runPassScript(sync.clock, sync.payload, TIMELINE, plan, sync.steps);
    const held = fakes(30, 95_000);
    const c = held.clock;
    const heldClock: HeldScriptClock = {
      now: () => c.now(),
      runUntil: (tMs) => c.advanceTo(tMs),
      async runUntilTrue(pred, limitMs, stepMs = 10) {
        const end = c.now() + limitMs;
        while (c.now() < end) {
          if (pred()) return true;
          await c.advanceTo(Math.min(end, c.now() + stepMs));
        }
        return pred();
      },
    };
    const heldEnd = await runPassScriptHeld(heldClock, held.payload, TIMELINE, plan, held.steps);
    expect(held.log).toEqual(sync.log);
    expect(heldEnd).toBe(syncEnd);
  });

  it('fails the same way when the payload does not boot', async () => {
    const f = fakes(null, 0);
    const c = f.clock;
    const heldClock: HeldScriptClock = { now: () => c.now(), runUntil: (tMs) => c.advanceTo(tMs), runUntilTrue: async (pred, limitMs) => (await c.advanceTo(c.now() + limitMs), pred()) };
    await expect(runPassScriptHeld(heldClock, f.payload, TIMELINE, passPlanArgs('beijing', STATIONS.beijing, GEO, TIMELINE, 15), f.steps)).rejects.toThrow(/did not reach STANDBY.*mode BOOT/);
  });
});
