import { describe, expect, it } from 'vitest';
import { downlinkDirections } from '../../boards/sim/downlink-direction.ts';
import { EXAMPLE_TLE, Orbit, stationInertial } from '../../boards/sim/orbit.ts';
import { STATIONS } from '../../boards/sim/stations.ts';
import { LIGHT_SPEED_KM_S, PlanPointAhead, cameraAxes } from '../../firmware/point-ahead.ts';
import { passGeometry } from '../../hil/mission/geometry.ts';
import { PointAheadProfile } from '../../hil/mission/pointing.ts';
import { boot, createTestRig, DEFAULT_EPOCH_S, planArgs, type TestRig } from './helpers.ts';

const planOf = (name: keyof typeof STATIONS) => {
  const s = STATIONS[name];
  return { latDeg: s.latitudeDeg, lonDeg: s.longitudeDeg, altM: s.heightKm * 1000, tleLine1: EXAMPLE_TLE[0], tleLine2: EXAMPLE_TLE[1] };
};

describe('point-ahead (firmware/point-ahead.ts)', () => {
  it('is about 2 v_perp / c over a pass: 40-60 urad at the top, v_perp the satellite speed across the line of sight', () => {
    const st = STATIONS.beijing;
    const geo = passGeometry(st, { durationS: 300, minElevationDeg: 10 });
    const orbit = new Orbit(geo.tle);
    const pa = new PlanPointAhead(planOf('beijing'));
    let max = 0;
    for (let t = 0; t <= geo.durationS; t += 10) {
      const date = new Date(geo.start.getTime() + t * 1000);
      const p = pa.atDate(date)!;
      const mag = Math.hypot(p.xUrad, p.yUrad);
      // Independent: the satellite's speed across the line of sight (station motion ignored, ~5 % of it).
      const s = orbit.state(date);
      const g = stationInertial(st, date);
      const los = { x: g.x - s.positionKm.x, y: g.y - s.positionKm.y, z: g.z - s.positionKm.z };
      const n = Math.hypot(los.x, los.y, los.z);
      const v = s.velocityKmS;
      const along = (v.x * los.x + v.y * los.y + v.z * los.z) / n;
      const vPerp = Math.sqrt(v.x ** 2 + v.y ** 2 + v.z ** 2 - along ** 2);
      expect(mag / ((2 * vPerp) / LIGHT_SPEED_KM_S / 1e-6)).toBeGreaterThan(0.9);
      expect(mag / ((2 * vPerp) / LIGHT_SPEED_KM_S / 1e-6)).toBeLessThan(1.1);
      if (geo.at(t).elevationDeg > 45) {
        expect(mag).toBeGreaterThan(40);
        expect(mag).toBeLessThan(60);
      }
      max = Math.max(max, mag);
    }
    expect(max).toBeGreaterThan(45);
    // Mostly against the along-track axis (camera x = velocity across the line of sight).
    const top = pa.atDate(new Date(geo.start.getTime() + 150_000))!;
    expect(top.xUrad).toBeLessThan(-40);
    expect(Math.abs(top.yUrad)).toBeLessThan(5);
  });

  it('agrees with the light-time truth (boards/sim/downlink-direction.ts) within 1 urad over whole passes', () => {
    for (const name of ['beijing', 'stellenbosch', 'nanshan'] as const) {
      const st = STATIONS[name];
      const geo = passGeometry(st, { durationS: 300, minElevationDeg: 10 });
      const prof = new PointAheadProfile(geo.tle, st, geo.start, geo.durationS);
      for (let t = 0; t <= geo.durationS; t += 15) {
        const truth = prof.trueUrad(t);
        expect(Math.hypot(truth.x, truth.y)).toBeGreaterThan(20);
        expect(prof.biasUrad(t, true)).toBeLessThan(1);
        expect(prof.biasUrad(t, false)).toBeCloseTo(Math.hypot(truth.x, truth.y), 9);
      }
    }
  });

  it('the light-time truth: both light times are range / c, and the two directions differ by the point-ahead angle', () => {
    const orbit = new Orbit();
    const geo = passGeometry(STATIONS.hefei, { durationS: 60, minElevationDeg: 10 });
    const sat = orbit.state(geo.start);
    const g = stationInertial(STATIONS.hefei, geo.start);
    const d = downlinkDirections(sat, g);
    const rangeKm = Math.hypot(g.x - sat.positionKm.x, g.y - sat.positionKm.y, g.z - sat.positionKm.z);
    expect(d.tauUpS * LIGHT_SPEED_KM_S).toBeCloseTo(rangeKm, 0);
    expect(d.tauDownS * LIGHT_SPEED_KM_S).toBeCloseTo(rangeKm, 0);
    const angle = Math.acos(d.beaconFrom.x * d.downlinkTo.x + d.beaconFrom.y * d.downlinkTo.y + d.beaconFrom.z * d.downlinkTo.z);
    expect(angle * 1e6).toBeGreaterThan(15);
    expect(angle * 1e6).toBeLessThan(60);
    // The camera axes are orthonormal and z is the line of sight.
    const ax = cameraAxes({ x: g.x - sat.positionKm.x, y: g.y - sat.positionKm.y, z: g.z - sat.positionKm.z }, sat.velocityKmS);
    const dot = (a: typeof ax.x, b: typeof ax.x) => a.x * b.x + a.y * b.y + a.z * b.z;
    expect(dot(ax.x, ax.y)).toBeCloseTo(0, 12);
    expect(dot(ax.x, ax.z)).toBeCloseTo(0, 12);
    expect(dot(ax.y, ax.y)).toBeCloseTo(1, 12);
  });

  it('a plan whose orbit does not propagate gives no offset', () => {
    expect(new PlanPointAhead({ ...planOf('beijing'), tleLine1: 'l1', tleLine2: 'l2' }).atDate(new Date('2026-11-24T16:40:00Z'))).toBeNull();
  });
});

describe('the fine loop offsets the mirror by the point-ahead', () => {
  /** The beacon spot the apt camera reports, averaged over 1 s of locked tracking. */
  function lockedSpot(rig: TestRig): { x: number; y: number } {
    let x = 0;
    let y = 0;
    const n = 100;
    for (let i = 0; i < n; i++) {
      rig.advanceMs(10);
      x += rig.boards.apt.emu.readRegister('SPOT_X_URAD');
      y += rig.boards.apt.emu.readRegister('SPOT_Y_URAD');
    }
    return { x: x / n, y: y / n };
  }

  function run(enable: 0 | 1) {
    const rig = createTestRig({ beaconOnMs: 0, passStartMs: 2000, passEndMs: 100_000, params: { POINT_AHEAD_ENABLE: enable } });
    boot(rig);
    const plan = planArgs(rig, 1, 60);
    rig.tc('UPLOAD_PASS_PLAN', plan);
    if (rig.runUntil(() => rig.payload.mode() === 'QKD', 20_000) < 0) throw new Error(`no QKD (mode ${rig.payload.mode()})`);
    rig.advanceMs(2000);
    const spot = lockedSpot(rig);
    const pa = new PlanPointAhead(plan).at(DEFAULT_EPOCH_S + rig.clock.now() / 1000)!;
    return { spot, pa };
  }

  it('POINT_AHEAD_ENABLE 1: the spot sits at minus the point-ahead (mirror = beacon + point-ahead); 0: at the centre', () => {
    const on = run(1);
    expect(Math.hypot(on.pa.xUrad, on.pa.yUrad)).toBeGreaterThan(10);
    expect(Math.abs(on.spot.x + on.pa.xUrad)).toBeLessThan(1.5);
    expect(Math.abs(on.spot.y + on.pa.yUrad)).toBeLessThan(1.5);
    const off = run(0);
    expect(Math.hypot(off.spot.x, off.spot.y)).toBeLessThan(1.5);
  });
});
