import { describe, expect, it } from 'vitest';
import { EXAMPLE_TLE } from '../../boards/sim/orbit.ts';
import type { SourceFrameRecord } from '../../firmware/actor-kit.ts';
import { framePeriodMs } from '../../firmware/source.ts';
import { Bench } from '../../hil/bench/bench.ts';
import { attachBenchWorld, createPayloadRig, hostPayload, inProcessBenchConfig, inProcessRig, type PayloadRig } from '../../hil/mission/rig.ts';
import { encodeCommand } from '../../protocols/dictionary/index.ts';

/**
 * The source's frames against line latency: each frame is armed ahead of its sync
 * boundary and the board opens the gate at the boundary, so a slow qsrc line or a
 * lockstep bench (each round trip up to two 1 ms quanta longer) still gives one full
 * frame every 430 ms period, on the grid, as on the fast in-process line. (With the gate
 * opening at the acknowledgement, any round trip above 0.5 ms made every other frame skip.)
 */
const EMIT_MS = 6000;

/** Boot, a pass plan on the bench world, EMIT_MS of emission; the frames as the firmware accounted them. */
function emit(rig: PayloadRig): SourceFrameRecord[] {
  const records: SourceFrameRecord[] = [];
  rig.payload.onSourceFrame((f) => records.push(f));
  attachBenchWorld(rig);
  rig.advanceMs(500);
  rig.boot();
  const start = Math.floor(rig.clock.now() / 1000) + 1;
  rig.sendTc(encodeCommand('UPLOAD_PASS_PLAN', { station: 'beijing', latDeg: 40, lonDeg: 116.3, altM: 50, startS: start, endS: start + 60, minElevationDeg: 15, tleLine1: EXAMPLE_TLE[0], tleLine2: EXAMPLE_TLE[1] }, { seq: 1 }));
  expect(rig.runUntilTrue(() => rig.payload.status.emitting, 20_000)).toBe(true);
  rig.advanceMs(EMIT_MS);
  return records;
}

/** Every accounted frame full and COMPLETED, numbers contiguous, one frame per sync period with none skipped, gates opened on the boundaries. */
function expectFrameEveryPeriod(rig: PayloadRig, records: SourceFrameRecord[]) {
  const periodMs = framePeriodMs(rig.params);
  expect(periodMs).toBe(430);
  expect(records.length).toBe(Math.floor(EMIT_MS / periodMs));
  expect(records.map((r) => r.frameNumber)).toEqual(records.map((_, i) => i));
  for (const r of records) expect([r.reason, r.pulseCount]).toEqual(['COMPLETED', rig.params.PULSES_PER_FRAME]);
  const epochMs = rig.ports.lct.timeSync().epochMs;
  for (let i = 1; i < records.length; i++) expect(records[i].startMs - records[i - 1].startMs).toBeCloseTo(periodMs, 6);
  // The board's gate (what the channel samples) opened exactly on each frame's boundary.
  const gate = rig.ports.qsrc.emitted.slice(0, records.length);
  for (const [i, f] of gate.entries()) {
    expect(f.frameNumber).toBe(records[i].frameNumber);
    expect(f.startMs).toBe(records[i].startMs);
    expect(Math.abs((f.startMs - epochMs) / periodMs - Math.round((f.startMs - epochMs) / periodMs))).toBeLessThan(1e-6);
  }
  rig.stop();
}

describe('source frames on slow and lockstep lines (one frame every 430 ms period)', () => {
  it('on the in-process rig lines', () => {
    const rig = createPayloadRig({ seed: 5 });
    expectFrameEveryPeriod(rig, emit(rig));
  });

  it('on a slow qsrc line (115 200 baud instead of 921 600: several ms a command round trip)', () => {
    const rig = createPayloadRig({ seed: 5, baud: { qsrc: 115_200 } });
    expectFrameEveryPeriod(rig, emit(rig));
  });

  it('on a lockstep bench (every board behind a lockstep host, 2 ms quanta)', () => {
    const bench = Bench.openInProcess({ ...inProcessBenchConfig(), lockstep: 'always', lockstepQuantumMs: 2 }, { seed: 5, boards: ['qsrc', 'apt', 'lct', 'acs'], runName: 'frame-schedule-lockstep', capture: false });
    expect(bench.lockstepQuantumMs).toBe(2);
    const rig = inProcessRig(hostPayload(bench, { seed: 5 }));
    expectFrameEveryPeriod(rig, emit(rig));
  });
});
