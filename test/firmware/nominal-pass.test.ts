import { describe, expect, it } from 'vitest';
import type { SourceFrameRecord } from '../../firmware/actor-kit.ts';
import { accounted, bootAndPlan, createTestRig, frames, modeChanges, NOMINAL, tmTimeS, type TestRig } from './helpers.ts';

/** A whole pass in simulated time on the assembled payload (firmware on the four emulated boards, bench world). */
function nominalPass(seed: number): TestRig {
  const rig = createTestRig({ ...NOMINAL, seed });
  const records: SourceFrameRecord[] = [];
  rig.payload.onSourceFrame((f) => records.push(f));
  frameRecords.set(rig, records);
  bootAndPlan(rig);
  rig.advanceMs(rig.passEndMs + 2000 - rig.clock.now());
  return rig;
}

const frameRecords = new Map<object, SourceFrameRecord[]>();
const bytesOf = (rig: TestRig) => Buffer.concat(rig.tm.map((t) => t.bytes));
const reg = (rig: TestRig, name: string) => rig.boards.qsrc.emu.readRegister(name);

describe('nominal pass (simulated time, assembled payload on the emulated boards)', () => {
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
    const p = rig.payload.params();
    expect([p.SOURCE_REP_RATE_MHZ, p.P_SIGNAL, p.P_DECOY, p.P_VACUUM, p.P_KEY_BASIS]).toEqual([625, 0.5, 0.25, 0.25, 0.5]);
    expect(reg(rig, 'REP_RATE_MHZ')).toBe(625);
    // The modulator drive: one scale on all three levels, to the board's resolution (1e-3 photons).
    const signal = reg(rig, 'IM_SIGNAL_MU');
    expect(Math.abs(reg(rig, 'IM_DECOY_MU') - (signal * 0.1) / 0.8)).toBeLessThanOrEqual(0.001);
    expect(reg(rig, 'IM_VACUUM_MU')).toBe(0);
    expect(rig.ports.qsrc.monitorSignalMu()).toBeCloseTo(0.8, 1);
    expect(rig.payload.diagnostics().tmPackets).toBe(rig.tm.length);
  });

  it('reaches QKD within 2 s of the beacon appearing', () => {
    const qkd = rig.events('MODE_CHANGED').find((e) => e.fields!.to === 'QKD')!;
    const beaconOnS = rig.beaconOnMs / 1000;
    const latencyS = tmTimeS(qkd) - beaconOnS;
    expect(latencyS).toBeGreaterThanOrEqual(0);
    expect(latencyS).toBeLessThan(2);
  });

  it('accounts for every source frame: contiguous numbers, pulses sum to what the source let out', () => {
    const f = frames(rig);
    expect(f.length).toBeGreaterThan(50);
    expect(f.map((x) => x.frameNumber)).toEqual(f.map((_, i) => i));
    const emitted = rig.ports.qsrc.pulsesEmittedTotal();
    expect(accounted(rig)).toBe(emitted);
    expect(rig.payload.status.pulsesSent).toBe(emitted);
    expect(rig.ports.qsrc.emitted.map((x) => x.frameNumber)).toEqual(f.map((x) => x.frameNumber));
    // Full frames carry exactly PULSES_PER_FRAME; only the last one (elevation or pass end) is partial.
    const full = rig.payload.params().PULSES_PER_FRAME;
    for (const x of f.slice(0, -1)) expect(x).toEqual({ frameNumber: x.frameNumber, pulseCount: full, reason: 'COMPLETED' });
    expect(['PAUSED_ELEVATION', 'STOPPED']).toContain(f.at(-1)!.reason);
    // In-process consumers see the same accounting, with start times on the 430 ms sync grid.
    const rec = frameRecords.get(rig)!;
    expect(rec.map(({ frameNumber, pulseCount, reason }) => ({ frameNumber, pulseCount, reason }))).toEqual(f);
    // (The bench clock counts float ms; its 1 ms ticks accumulate rounding of order 1e-5 ms over a pass.)
    for (const r of rec) expect(Math.abs(r.startMs - Math.round(r.startMs / 430) * 430)).toBeLessThan(1e-3);
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
    expect(bytesOf(again).equals(bytesOf(rig))).toBe(true);
    const other = nominalPass(43);
    expect(bytesOf(other).equals(bytesOf(rig))).toBe(false);
  });
});
