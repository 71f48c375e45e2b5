import { describe, expect, it } from 'vitest';
import type { SourceFrameRecord } from '../../firmware/actor-kit.ts';
import { createRig } from './fakes/bench.ts';
import { accounted, bootAndPlan, frames, modeChanges, NOMINAL, tmTimeS } from './helpers.ts';

/** A whole pass in simulated time against the in-memory fakes. */
function nominalPass(seed: number) {
  const rig = createRig({ ...NOMINAL, seed });
  const records: SourceFrameRecord[] = [];
  rig.payload.onSourceFrame((f) => records.push(f));
  frameRecords.set(rig, records);
  bootAndPlan(rig);
  rig.payload.advanceMs(rig.world.passEndMs + 2000 - rig.clock.now());
  return rig;
}

const frameRecords = new Map<object, SourceFrameRecord[]>();

describe('nominal pass (simulated time, in-memory fakes)', () => {
  const rig = nominalPass(42);

  it('goes OFF -> BOOT -> STANDBY -> ACQUISITION -> FINE_POINTING -> QKD -> STANDBY', () => {
    expect(modeChanges(rig)).toEqual(['OFF->BOOT', 'BOOT->STANDBY', 'STANDBY->ACQUISITION', 'ACQUISITION->FINE_POINTING', 'FINE_POINTING->QKD', 'QKD->STANDBY']);
    expect(rig.payload.mode()).toBe('STANDBY');
    const names = rig.events().map((e) => e.name);
    for (const n of ['SELF_TEST_PASSED', 'CONFIG_LOADED', 'PASS_PLAN_ACCEPTED', 'ACQUISITION_STARTED', 'BEACON_ACQUIRED', 'FINE_LOCK_ACQUIRED', 'SOURCE_CALIBRATED']) {
      expect(names).toContain(n);
    }
    expect(names.some((n) => n?.startsWith('FAULT_'))).toBe(false);
    expect(rig.payload.diagnostics().tmEncodeErrors).toEqual([]);
    // The source runs on the dictionary defaults: 625 MHz, mu 0.8/0.1/0, p 0.5/0.25/0.25.
    expect(rig.world.qsrc.pattern).toEqual({ repRateMhz: 625, pSignal: 0.5, pDecoy: 0.25, pVacuum: 0.25, pKeyBasis: 0.5 });
    const drive = rig.world.qsrc.levels;
    expect(drive.decoyMu / drive.signalMu).toBeCloseTo(0.1 / 0.8, 12);
    expect(drive.vacuumMu).toBe(0);
    expect(rig.world.qsrc.monitorSignalMu()).toBeCloseTo(0.8, 1);
    expect(rig.payload.diagnostics().tmPackets).toBe(rig.tm.length);
  });

  it('reaches QKD within 2 s of the beacon appearing', () => {
    const qkd = rig.events('MODE_CHANGED').find((e) => e.fields!.to === 'QKD')!;
    const beaconOnS = rig.world.beaconOnMs / 1000;
    const latencyS = tmTimeS(qkd) - beaconOnS;
    expect(latencyS).toBeGreaterThanOrEqual(0);
    expect(latencyS).toBeLessThan(2);
  });

  it('accounts for every source frame: contiguous numbers, pulses sum to what the board emitted', () => {
    const f = frames(rig);
    expect(f.length).toBeGreaterThan(50);
    expect(f.map((x) => x.frameNumber)).toEqual(f.map((_, i) => i));
    const emitted = rig.world.qsrc.pulsesEmittedTotal();
    expect(accounted(rig)).toBe(emitted);
    expect(rig.payload.status.pulsesSent).toBe(emitted);
    expect(rig.world.qsrc.framesStarted).toEqual(f.map((x) => x.frameNumber));
    // Full frames carry exactly PULSES_PER_FRAME; only the last one (elevation or pass end) is partial.
    const full = rig.payload.params().PULSES_PER_FRAME;
    for (const x of f.slice(0, -1)) expect(x).toEqual({ frameNumber: x.frameNumber, pulseCount: full, reason: 'COMPLETED' });
    expect(['PAUSED_ELEVATION', 'STOPPED']).toContain(f.at(-1)!.reason);
    // In-process consumers see the same accounting, with start times on the 430 ms sync grid.
    const rec = frameRecords.get(rig)!;
    expect(rec.map(({ frameNumber, pulseCount, reason }) => ({ frameNumber, pulseCount, reason }))).toEqual(f);
    for (const r of rec) expect(r.startMs % 430).toBe(0);
    // Housekeeping saw the same total.
    const lastHk = rig.decoded().filter((d) => d.name === 'PAYLOAD_HK').at(-1)!;
    expect(lastHk.fields!.pulsesSent).toBe(emitted);
  });

  it('reports tracking statistics in housekeeping while locked', () => {
    const hk = rig.decoded().filter((d) => d.name === 'PAYLOAD_HK' && d.fields!.mode === 'QKD' && d.fields!.fineLock === true);
    expect(hk.length).toBeGreaterThan(20);
    for (const h of hk.slice(2)) {
      const f = h.fields as Record<string, number>;
      expect(f.pointingErrorRmsUrad).toBeGreaterThan(0);
      expect(f.pointingErrorRmsUrad).toBeLessThan(3);
      expect(f.pointingErrorMeanUrad).toBeLessThanOrEqual(f.pointingErrorRmsUrad + 1e-6);
      expect(f.pointingErrorMaxUrad).toBeGreaterThanOrEqual(f.pointingErrorRmsUrad - 1e-6);
    }
  });

  it('is deterministic: the same seed gives a byte-identical TM stream, another seed does not', () => {
    const again = nominalPass(42);
    expect(again.tm.length).toBe(rig.tm.length);
    expect(Buffer.concat(again.tm).equals(Buffer.concat(rig.tm))).toBe(true);
    const other = nominalPass(43);
    expect(Buffer.concat(other.tm).equals(Buffer.concat(rig.tm))).toBe(false);
  });
});
