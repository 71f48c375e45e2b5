import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_CHANNEL,
  atmosphericTransmittance,
  channelForStation,
  gaussianBeamTransmittance,
  geometricTransmittance,
  meanPointingTransmittance,
  pointingTransmittance,
} from '../../boards/sim/channel.ts';
import { Prng } from '../../boards/prng.ts';
import { STATIONS } from '../../boards/sim/stations.ts';

/**
 * Power of the far-field Gaussian beam (1/e^2 radius W at the ground) through a disc of
 * radius a whose centre is d off the axis, by integrating the intensity
 * 2 / (pi W^2) exp(-2 r^2 / W^2) over the disc on a polar grid: the beam itself, with no
 * formula of channel.ts in it.
 */
function integratedPower(apertureRadiusM: number, beamRadiusM: number, offsetM: number): number {
  const nr = 200;
  const nphi = 200;
  let sum = 0;
  for (let i = 0; i < nr; i++) {
    const r = ((i + 0.5) / nr) * apertureRadiusM;
    for (let j = 0; j < nphi; j++) {
      const phi = ((j + 0.5) / nphi) * 2 * Math.PI;
      const x = offsetM + r * Math.cos(phi);
      const y = r * Math.sin(phi);
      sum += ((2 / (Math.PI * beamRadiusM ** 2)) * Math.exp((-2 * (x * x + y * y)) / beamRadiusM ** 2)) * r;
    }
  }
  return sum * (apertureRadiusM / nr) * ((2 * Math.PI) / nphi);
}

describe('one Gaussian beam for the geometric and pointing terms', () => {
  const w = DEFAULT_CHANNEL.divergenceUrad / 2;
  const a = DEFAULT_CHANNEL.apertureM / 2;

  it('the on-axis and offset power into the aperture is the integral of the same beam (no 3 dB step)', () => {
    for (const rangeKm of [500, 800, 1500]) {
      const W = w * 1e-6 * rangeKm * 1000;
      for (const offsetUrad of [0, 2, 6]) {
        const exact = integratedPower(a, W, offsetUrad * 1e-6 * rangeKm * 1000);
        const model = gaussianBeamTransmittance(DEFAULT_CHANNEL, rangeKm, offsetUrad);
        expect(model / exact).toBeGreaterThan(0.98);
        expect(model / exact).toBeLessThan(1.02);
      }
      // The top-hat (a / W)^2 would be half of it: 3 dB.
      expect(geometricTransmittance(DEFAULT_CHANNEL, rangeKm) / (a / W) ** 2).toBeCloseTo(2, 1);
    }
  });

  it('geometric x pointing is the beam at that offset', () => {
    fc.assert(
      fc.property(fc.double({ min: 400, max: 2000, noNaN: true }), fc.double({ min: 0, max: 30, noNaN: true }), (rangeKm, offsetUrad) => {
        const both = geometricTransmittance(DEFAULT_CHANNEL, rangeKm) * pointingTransmittance(DEFAULT_CHANNEL, offsetUrad);
        expect(gaussianBeamTransmittance(DEFAULT_CHANNEL, rangeKm, offsetUrad)).toBeCloseTo(both, 14);
      }),
      { seed: 14, numRuns: 200 },
    );
  });

  it('the mean pointing term under two-axis jitter and a bias matches a Monte-Carlo average', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 6, noNaN: true }), fc.double({ min: 0, max: 8, noNaN: true }), fc.double({ min: 0, max: 2 * Math.PI, noNaN: true }), (sigma, bias, angle) => {
        const rng = new Prng(14, Math.round(sigma * 1000 + bias));
        const n = 40_000;
        let sum = 0;
        for (let i = 0; i < n; i++) {
          const ex = bias * Math.cos(angle) + sigma * rng.normal();
          const ey = bias * Math.sin(angle) + sigma * rng.normal();
          sum += pointingTransmittance(DEFAULT_CHANNEL, Math.hypot(ex, ey));
        }
        const mc = sum / n;
        const closed = meanPointingTransmittance(DEFAULT_CHANNEL, sigma, bias);
        expect(Math.abs(closed - mc)).toBeLessThan(0.01 + 0.03 * closed);
      }),
      { seed: 14, numRuns: 25 },
    );
    // Not the fixed-offset formula at sigma: 1 urad per axis on w = 6 urad costs 1/(1 + 4/36), not exp(-2/36).
    expect(meanPointingTransmittance(DEFAULT_CHANNEL, 1)).toBeCloseTo(36 / 40, 12);
    expect(meanPointingTransmittance(DEFAULT_CHANNEL, 0, 3)).toBeCloseTo(pointingTransmittance(DEFAULT_CHANNEL, 3), 14);
  });
});

describe('atmosphere per site', () => {
  it("Stellenbosch's dry sky transmits better than Beijing's at the same elevation; Nanshan (2 km) better still", () => {
    for (const el of [15, 30, 60, 90]) {
      const stellenbosch = atmosphericTransmittance(channelForStation(STATIONS.stellenbosch), el);
      const beijing = atmosphericTransmittance(channelForStation(STATIONS.beijing), el);
      const nanshan = atmosphericTransmittance(channelForStation(STATIONS.nanshan), el);
      expect(stellenbosch).toBeGreaterThan(beijing);
      expect(nanshan).toBeGreaterThan(stellenbosch);
    }
  });

  it('an explicit channel setting wins over the site', () => {
    expect(channelForStation(STATIONS.stellenbosch, { zenithOpticalDepth: 0.3 }).zenithOpticalDepth).toBe(0.3);
    expect(channelForStation({}).zenithOpticalDepth).toBe(DEFAULT_CHANNEL.zenithOpticalDepth);
  });
});
