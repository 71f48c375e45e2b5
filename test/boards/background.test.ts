import { describe, expect, it } from 'vitest';
import { DARK_ZENITH_COUNTS_PER_S, backgroundCountsPerS, backgroundProfile, moonAt, moonTrack, moonBrightness, separationDeg, vanRhijn } from '../../boards/sim/background.ts';
import { STATIONS } from '../../boards/sim/stations.ts';

/** The Moon is below the horizon at every Chinese station then (a day before new Moon). */
const MOONLESS = new Date('2026-12-09T18:00:00Z');
/** Full Moon high over Beijing (the nominal pass's night). */
const FULL_MOON = new Date('2026-11-24T16:40:00Z');

describe('sky background', () => {
  it('rises toward the horizon (van Rhijn), from the zenith value', () => {
    expect(vanRhijn(0)).toBe(1);
    let last = 0;
    for (const el of [90, 60, 40, 25, 15, 10]) {
      const bg = backgroundCountsPerS(STATIONS.beijing, MOONLESS, { elevationDeg: el, azimuthDeg: 0 });
      expect(bg).toBeGreaterThan(last);
      last = bg;
    }
    expect(moonAt(STATIONS.beijing, MOONLESS).altitudeDeg).toBeLessThan(0);
    expect(backgroundCountsPerS(STATIONS.beijing, MOONLESS, { elevationDeg: 90, azimuthDeg: 0 })).toBeCloseTo(DARK_ZENITH_COUNTS_PER_S * STATIONS.beijing.skyBrightness!, 9);
    expect(backgroundCountsPerS(STATIONS.beijing, MOONLESS, { elevationDeg: 15, azimuthDeg: 0 }) / backgroundCountsPerS(STATIONS.beijing, MOONLESS, { elevationDeg: 90, azimuthDeg: 0 })).toBeGreaterThan(2);
  });

  it('an urban sky is brighter than the dark Nanshan site', () => {
    for (const city of ['shanghai', 'wuhan', 'beijing'] as const) {
      for (const el of [20, 45, 80]) {
        const look = { elevationDeg: el, azimuthDeg: 90 };
        expect(backgroundCountsPerS(STATIONS[city], MOONLESS, look)).toBeGreaterThan(1.5 * backgroundCountsPerS(STATIONS.nanshan, MOONLESS, look));
      }
    }
  });

  it('a full Moon near the look direction brightens the sky many times; away from it less; below the horizon not at all', () => {
    const m = moonAt(STATIONS.beijing, FULL_MOON);
    expect(m.altitudeDeg).toBeGreaterThan(60);
    expect(m.phaseAngleDeg).toBeLessThan(10);
    const el = 45;
    const near = backgroundCountsPerS(STATIONS.beijing, FULL_MOON, { elevationDeg: el, azimuthDeg: m.azimuthDeg });
    const far = backgroundCountsPerS(STATIONS.beijing, FULL_MOON, { elevationDeg: el, azimuthDeg: m.azimuthDeg + 180 });
    const dark = backgroundCountsPerS(STATIONS.beijing, MOONLESS, { elevationDeg: el, azimuthDeg: 0 });
    expect(separationDeg(el, m.azimuthDeg, m.altitudeDeg, m.azimuthDeg)).toBeCloseTo(m.altitudeDeg - el, 9);
    expect(near).toBeGreaterThan(3 * dark);
    expect(near).toBeGreaterThan(1.5 * far);
    expect(far).toBeGreaterThan(dark);
    // A new Moon (phase angle near 180 deg) adds almost nothing; a Moon below the horizon nothing.
    const full = moonBrightness({ altitudeDeg: 50, phaseAngleDeg: 0, separationDeg: 20 }, 30, 0.12);
    expect(moonBrightness({ altitudeDeg: 50, phaseAngleDeg: 170, separationDeg: 20 }, 30, 0.12)).toBeLessThan(full / 100);
    expect(moonBrightness({ altitudeDeg: -1, phaseAngleDeg: 0, separationDeg: 20 }, 30, 0.12)).toBe(0);
  });

  it('the pass profile interpolates the Moon between places 30 s apart: within 1e-3 deg and 1e-4 of the background computed each second', () => {
    // Over a pass with the Moon up (and one across north, where azimuth wraps).
    for (const [station, start] of [[STATIONS.beijing, FULL_MOON], [STATIONS.stellenbosch, new Date('2026-11-25T22:00:00Z')]] as const) {
      const track = moonTrack(station, start, 600);
      const samples = Array.from({ length: 601 }, (_, tS) => ({ tS, elevationDeg: 20 + tS / 10, azimuthDeg: (350 + tS / 5) % 360 }));
      const profile = backgroundProfile(station, start, samples);
      for (const tS of [0, 7, 29.5, 30, 311, 599, 600]) {
        const exact = moonAt(station, new Date(start.getTime() + tS * 1000));
        const m = track(tS);
        expect(Math.abs(m.altitudeDeg - exact.altitudeDeg)).toBeLessThan(1e-3);
        expect(Math.abs(((m.azimuthDeg - exact.azimuthDeg + 540) % 360) - 180)).toBeLessThan(1e-3);
        expect(Math.abs(m.phaseAngleDeg - exact.phaseAngleDeg)).toBeLessThan(1e-3);
        const s = samples[Math.floor(tS)];
        const want = backgroundCountsPerS(station, new Date(start.getTime() + s.tS * 1000), s);
        expect(Math.abs(profile(tS) / want - 1)).toBeLessThan(1e-4);
      }
    }
  });
});

