import { describe, expect, it } from 'vitest';
import { DEFAULT_CHANNEL, channelTransmittance, lossDb, pointingTransmittance } from '../../boards/sim/channel.ts';
import { DEFAULT_DETECTOR } from '../../boards/sim/detection.ts';
import type { AttitudeMrad, BoardEnvironment } from '../../hil/mission/board-environment.ts';
import { EmittedPulses } from '../../hil/mission/emitted-pulses.ts';
import { IsolatedBody, PointingResidual } from '../../hil/mission/pointing.ts';
import type { EmittedFrame } from '../../hil/mission/ports-qsrc.ts';
import type { PassTimeline } from '../../hil/mission/timeline.ts';
import { MissionWorld, sliceLoss, type MissionWorldOptions } from '../../hil/mission/world.ts';
import { worldDefaults } from './world-defaults.ts';

/** A fixed look: the same range and elevation at every time. */
const LOOK = { rangeKm: 800, elevationDeg: 60 };
const TIMELINE: PassTimeline = { leadS: 1, passStartMs: 1000, passEndMs: 11_000, linkEndMs: 13_000, epochOffsetS: 0 };

/** A board environment that answers fixed readings and records what the world sets. */
class FakeEnv implements BoardEnvironment {
  attitude: AttitudeMrad = { targetX: 0.2, targetY: -0.1, x: 0.2, y: -0.1 };
  fsm = { x: 0, y: 0 };
  beacons: Array<{ xUrad: number; yUrad: number; visible: boolean }> = [];
  beaconLossDb: number[] = [];
  links: Array<{ lossDb: number; dropout: boolean }> = [];
  fsmReads = 0;
  attitudeMrad(): AttitudeMrad {
    return { ...this.attitude };
  }
  fsmPositionUrad() {
    this.fsmReads++;
    return { ...this.fsm };
  }
  setBeacon(xUrad: number, yUrad: number, visible: boolean): void {
    this.beacons.push({ xUrad, yUrad, visible });
  }
  setBeaconLossDb(lossDb: number): void {
    this.beaconLossDb.push(lossDb);
  }
  setLinkLoss(lossDb: number, dropout: boolean): void {
    this.links.push({ lossDb, dropout });
  }
}

function world(env: BoardEnvironment, o: Partial<MissionWorldOptions> & { emittingNow?: () => boolean } = {}): MissionWorld {
  return new MissionWorld({
    env,
    timeline: TIMELINE,
    geo: { at: () => LOOK },
    ...worldDefaults(),
    beaconBiasUrad: { x: 700, y: -450 },
    emitting: o.emittingNow ?? (() => true),
    emitted: [],
    ...o,
  });
}

describe('sliceLoss on a fixed geometry', () => {
  it('is the channel at range and elevation times the pointing transmittance, with the detector efficiency', () => {
    const etaPointing = pointingTransmittance(DEFAULT_CHANNEL, 2);
    const l = sliceLoss(DEFAULT_CHANNEL, DEFAULT_DETECTOR, LOOK, etaPointing, 10);
    const aligned = channelTransmittance(DEFAULT_CHANNEL, 800, 60, 0);
    expect(l.eta).toBeCloseTo(aligned * etaPointing, 15);
    expect(l.lossDb).toBeCloseTo(lossDb(aligned * etaPointing * DEFAULT_DETECTOR.efficiency), 12);
    // The beacon's budget: no downlink pointing loss, and the margin off.
    expect(l.beaconLossDb).toBeCloseTo(lossDb(aligned * DEFAULT_DETECTOR.efficiency) - 10, 12);
    // 2 urad off a 12 urad beam (w = 6 urad): exp(-2 (2/6)^2) = 0.80 -> 0.97 dB more than aligned.
    expect(l.lossDb - (l.beaconLossDb + 10)).toBeCloseTo(-10 * Math.log10(Math.exp(-2 / 9)), 9);
  });
});

describe('PointingResidual', () => {
  it('averages the pointing transmittance per slice and the RMS over the pass', () => {
    const r = new PointingResidual(DEFAULT_CHANNEL);
    expect(r.meanEta).toBe(pointingTransmittance(DEFAULT_CHANNEL, 1));
    r.add(3, 4); // 5 urad
    r.add(0, 0);
    expect(r.endSlice()).toBeCloseTo((pointingTransmittance(DEFAULT_CHANNEL, 5) + 1) / 2, 15);
    // A slice without samples keeps the last mean.
    expect(r.endSlice()).toBeCloseTo((pointingTransmittance(DEFAULT_CHANNEL, 5) + 1) / 2, 15);
    r.add(0, 1);
    r.endSlice();
    expect(r.rmsUrad).toBeCloseTo(Math.sqrt((25 + 0 + 1) / 3), 12);
  });

  it('reports 0 RMS before any sample', () => {
    expect(new PointingResidual(DEFAULT_CHANNEL).rmsUrad).toBe(0);
  });
});

describe('IsolatedBody', () => {
  it('passes the target and low-passes the error about it', () => {
    const body = new IsolatedBody(10, 0.3);
    const a = 1 - Math.exp(-0.01 / 0.3);
    const first = body.step({ targetX: 1, targetY: 2, x: 1.01, y: 2 });
    expect(first.targetX).toBe(1000);
    expect(first.targetY).toBe(2000);
    expect(first.jitterX).toBeCloseTo(10 * a, 9);
    expect(first.jitterY).toBe(0);
    // A step of 10 urad settles with the time constant: after 3 tau, within 5 %.
    let last = first;
    for (let i = 1; i < 90; i++) last = body.step({ targetX: 1, targetY: 2, x: 1.01, y: 2 });
    expect(last.jitterX).toBeGreaterThan(9.5);
    expect(last.jitterX).toBeLessThan(10);
  });
});

describe('EmittedPulses', () => {
  const frame = (frameNumber: number, startMs: number, stopMs: number | null, ended: boolean): EmittedFrame => ({ frameNumber, startMs, stopMs, pulsesPlanned: 1000, ratePerMs: 100, ended });

  it('samples exactly the pulses each frame emitted in each slice, at their pulse indices', () => {
    const calls: Array<[number, number, number]> = [];
    const frames = [frame(0, 0, 10, true), frame(1, 12, null, false)];
    const p = new EmittedPulses(frames, 1000, (a, b, eta) => calls.push([a, b, eta]));
    expect(p.sampleUntil(5, 0.5)).toBe(true);
    expect(calls).toEqual([[0, 500, 0.5]]);
    expect(p.sampleUntil(15, 0.25)).toBe(true);
    expect(calls.slice(1)).toEqual([
      [500, 1000, 0.25],
      [1000, 1300, 0.25],
    ]);
    frames[1].stopMs = 16;
    frames[1].ended = true;
    p.sampleUntil(30, 0.1);
    expect(calls.slice(3)).toEqual([[1300, 1400, 0.1]]);
    expect(p.sampled).toBe(1400);
    expect(p.sampleUntil(40, 0.1)).toBe(false);
  });

  it('stops at a frame whose gate has not opened yet', () => {
    const calls: number[][] = [];
    const p = new EmittedPulses([frame(0, Infinity, null, false), frame(1, 0, null, false)], 1000, (a, b) => calls.push([a, b]));
    expect(p.sampleUntil(10, 1)).toBe(false);
    expect(calls).toEqual([]);
  });
});

describe('MissionWorld on a fake board environment', () => {
  it('puts the beacon at its bias minus the body line of sight, visible only in the pass', () => {
    const env = new FakeEnv();
    const w = world(env);
    w.pointingStep(500);
    w.pointingStep(1000);
    w.pointingStep(11_000);
    // No ACS error about the target: body = target = (200, -100) urad.
    expect(env.beacons).toEqual([
      { xUrad: 500, yUrad: -350, visible: false },
      { xUrad: 500, yUrad: -350, visible: true },
      { xUrad: 500, yUrad: -350, visible: false },
    ]);
  });

  it('hides the beacon or kicks the spot in the lock-loss window', () => {
    const hidden = new FakeEnv();
    const wh = world(hidden, { lockLoss: { atS: 2, durationS: 1 } });
    for (const t of [2999, 3000, 3999, 4000]) wh.pointingStep(t);
    expect(hidden.beacons.map((b) => b.visible)).toEqual([true, false, false, true]);
    const kicked = new FakeEnv();
    const wk = world(kicked, { lockLoss: { atS: 2, durationS: 1, kind: 'kick', kickUrad: 60 } });
    for (const t of [2999, 3000, 4000]) wk.pointingStep(t);
    expect(kicked.beacons.map((b) => [b.xUrad, b.visible])).toEqual([
      [500, true],
      [560, true],
      [500, true],
    ]);
  });

  it('samples the residual beacon - mirror only while emitting, and the slice loss carries it', () => {
    const env = new FakeEnv();
    let emitting = false;
    const w = world(env, { emittingNow: () => emitting });
    env.fsm = { x: 497, y: -346 }; // residual (3, -4): 5 urad
    w.pointingStep(1005);
    expect(env.fsmReads).toBe(0);
    emitting = true;
    w.pointingStep(1010);
    w.pointingStep(1015);
    w.slice(1020);
    expect(w.pointingRmsUrad).toBeCloseTo(5, 12);
    const expected = sliceLoss(DEFAULT_CHANNEL, DEFAULT_DETECTOR, LOOK, pointingTransmittance(DEFAULT_CHANNEL, 5), 10);
    expect(w.lossNowDb).toBeCloseTo(expected.lossDb, 12);
    expect(w.timeS).toBe(1.02);
    // Nothing was emitted: no extremes of the loss yet.
    expect(w.lossMinDb).toBe(Infinity);
  });

  it('sets the lct link and the apt beacon loss every 100 ms, cut outside the link window and in a drop-out', () => {
    const env = new FakeEnv();
    const w = world(env, { linkDropout: { fromS: 2, untilS: 3 } });
    for (const t of [900, 1000, 1010, 2900, 3000, 4000, 13_000]) w.slice(t);
    expect(env.links.map((l) => l.dropout)).toEqual([true, false, false, true, false, true]);
    const inView = sliceLoss(DEFAULT_CHANNEL, DEFAULT_DETECTOR, LOOK, pointingTransmittance(DEFAULT_CHANNEL, 1), 10);
    expect(env.beaconLossDb[0]).toBe(60);
    expect(env.beaconLossDb[1]).toBeCloseTo(inView.beaconLossDb, 12);
    expect(env.links[1].lossDb).toBeCloseTo(Math.max(20, inView.lossDb - 5), 12);
    expect(env.beaconLossDb.at(-1)).toBe(60);
  });
});

describe('MissionWorld scores the downlink against the true point-ahead', () => {
  it('a mirror exactly on the beacon is off by the true point-ahead; a mirror at beacon + point-ahead is not', () => {
    // The beacon on the camera: bias (700, -450) minus the body target (200, -100) urad.
    const beacon = { x: 500, y: -350 };
    const pa = { x: -48, y: -2 };
    const onBeacon = new FakeEnv();
    onBeacon.fsm = { ...beacon };
    const w1 = world(onBeacon, { truePointAheadUrad: () => pa });
    const ahead = new FakeEnv();
    ahead.fsm = { x: beacon.x + pa.x, y: beacon.y + pa.y };
    const w2 = world(ahead, { truePointAheadUrad: () => pa });
    for (let t = 1000; t < 1100; t += 5) {
      w1.pointingStep(t);
      w2.pointingStep(t);
    }
    w1.residual.endSlice();
    w2.residual.endSlice();
    expect(w1.pointingRmsUrad).toBeCloseTo(Math.hypot(pa.x, pa.y), 9);
    expect(w1.residual.meanEta).toBeLessThan(1e-30);
    expect(w2.pointingRmsUrad).toBeCloseTo(0, 9);
    expect(w2.residual.meanEta).toBeCloseTo(1, 12);
  });
});
