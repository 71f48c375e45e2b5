import { pointingTransmittance, type ChannelConfig } from '../../boards/sim/channel.ts';
import { downlinkDirections } from '../../boards/sim/downlink-direction.ts';
import { Orbit, stationInertial } from '../../boards/sim/orbit.ts';
import type { Station } from '../../boards/sim/stations.ts';
import { PlanPointAhead, cameraAxes, inCameraUrad } from '../../firmware/point-ahead.ts';
import type { AttitudeMrad } from './board-environment.ts';
import { tableStep } from './geometry.ts';

/** A small angle in the camera axes (firmware/point-ahead.ts), urad. */
export interface AngleUrad {
  x: number;
  y: number;
}

/**
 * The point-ahead over a pass, tabulated every second from the window start and
 * interpolated: the TRUE one (light-time geometry, boards/sim/downlink-direction.ts: the
 * downlink direction that meets the station minus the direction the beacon arrives
 * from) and the payload's own first-order estimate from the same TLE and station
 * (firmware/point-ahead.ts), both in the camera axes.
 */
export class PointAheadProfile {
  private readonly truth: AngleUrad[] = [];
  private readonly payload: AngleUrad[] = [];

  constructor(tle: [string, string], station: Station, start: Date, durationS: number) {
    const orbit = new Orbit(tle);
    const plan = new PlanPointAhead({ latDeg: station.latitudeDeg, lonDeg: station.longitudeDeg, altM: station.heightKm * 1000, tleLine1: tle[0], tleLine2: tle[1] });
    for (let t = 0; t <= durationS + 1; t++) {
      const date = new Date(start.getTime() + t * 1000);
      const sat = orbit.state(date);
      const g = stationInertial(station, date);
      const s = sat.positionKm;
      const axes = cameraAxes({ x: g.x - s.x, y: g.y - s.y, z: g.z - s.z }, sat.velocityKmS);
      const d = downlinkDirections(sat, g);
      const to = inCameraUrad(axes, d.downlinkTo);
      const from = inCameraUrad(axes, d.beaconFrom);
      this.truth.push({ x: to.xUrad - from.xUrad, y: to.yUrad - from.yUrad });
      const p = plan.atDate(date) ?? { xUrad: 0, yUrad: 0 };
      this.payload.push({ x: p.xUrad, y: p.yUrad });
    }
  }

  /** The true point-ahead `tS` seconds after the window start (clamped to the table). */
  trueUrad(tS: number): AngleUrad {
    return lerp(this.truth, tS);
  }

  /** The payload's estimate at `tS`. */
  payloadUrad(tS: number): AngleUrad {
    return lerp(this.payload, tS);
  }

  /**
   * How far an otherwise ideal payload's downlink is off the true direction at `tS`,
   * urad: the estimate's error when it applies the point-ahead, else the whole of it.
   */
  biasUrad(tS: number, applied: boolean): number {
    const t = this.trueUrad(tS);
    if (!applied) return Math.hypot(t.x, t.y);
    const p = this.payloadUrad(tS);
    return Math.hypot(t.x - p.x, t.y - p.y);
  }
}

function lerp(table: readonly AngleUrad[], tS: number): AngleUrad {
  const { i, j, f } = tableStep(table.length, tS);
  const a = table[i];
  const b = table[j];
  return { x: a.x + f * (b.x - a.x), y: a.y + f * (b.y - a.y) };
}

/** The body line of sight at one sample: the ACS's commanded target and the isolated error about it, urad. */
export interface BodyPointingUrad {
  targetX: number;
  targetY: number;
  jitterX: number;
  jitterY: number;
}

/**
 * The payload's view of the body attitude through its vibration isolation mounts: the
 * ACS's commanded target passes as is, its error about the target (jitter, slew lag) is
 * low-pass filtered with time constant `tauS`, sampled every `periodMs`.
 */
export class IsolatedBody {
  private jitX = 0;
  private jitY = 0;
  private readonly a: number;

  constructor(periodMs: number, tauS: number) {
    this.a = 1 - Math.exp(-periodMs / 1000 / tauS);
  }

  step(att: AttitudeMrad): BodyPointingUrad {
    const tx = att.targetX * 1000;
    const ty = att.targetY * 1000;
    this.jitX += (att.x * 1000 - tx - this.jitX) * this.a;
    this.jitY += (att.y * 1000 - ty - this.jitY) * this.a;
    return { targetX: tx, targetY: ty, jitterX: this.jitX, jitterY: this.jitY };
  }
}

/**
 * The true line-of-sight residual (beacon + true point-ahead − mirror: the downlink
 * shares the mirror) sampled at the fine-loop period while the source emits: per slice,
 * the mean of its samples' pointing transmittances (the one Gaussian beam's offset
 * factor, boards/sim/channel.ts; a true average over the samples); over the pass, the
 * RMS residual.
 */
export class PointingResidual {
  private sliceSq = 0;
  private sliceEta = 0;
  private sliceN = 0;
  private totalSq = 0;
  private totalN = 0;
  /** Mean pointing transmittance of the last slice with samples (1 urad before the first). */
  meanEta: number;

  constructor(private readonly channel: ChannelConfig) {
    this.meanEta = pointingTransmittance(channel, 1);
  }

  add(exUrad: number, eyUrad: number): void {
    const e2 = exUrad * exUrad + eyUrad * eyUrad;
    this.sliceSq += e2;
    this.sliceEta += pointingTransmittance(this.channel, Math.sqrt(e2));
    this.sliceN++;
  }

  /** Closes a slice; returns its mean pointing transmittance (the previous one when it had no samples). */
  endSlice(): number {
    if (this.sliceN > 0) {
      this.meanEta = this.sliceEta / this.sliceN;
      this.totalSq += this.sliceSq;
      this.totalN += this.sliceN;
    }
    this.sliceSq = 0;
    this.sliceEta = 0;
    this.sliceN = 0;
    return this.meanEta;
  }

  /** RMS residual over every closed slice, urad (0 before any sample). */
  get rmsUrad(): number {
    return this.totalN > 0 ? Math.sqrt(this.totalSq / this.totalN) : 0;
  }
}
