import type { AttitudePort, AttitudeStatus, StationTarget } from '../../firmware/hal.ts';
import type { Clock } from '../../boards/clock.ts';
import type { RequestEngine } from '../request-engine.ts';
import { BoundPort } from './ports-base.ts';

/** Body pointing counts as settled within this error (the body jitter is ~20 urad RMS). */
export const SETTLED_ERROR_URAD = 100;

/** Elevation of a station seen from the spacecraft at a mission-clock time (the ACS's orbit propagation). */
export type ElevationSource = (target: StationTarget, nowMs: number) => number;

/**
 * AttitudePort over the acs board. Station pointing is POINT_MODE 2 with the target
 * offset (mrad registers) = the payload's requested body offset; "settled" needs a
 * telemetry sample taken after the last target write was acknowledged, showing no
 * slew and an error under SETTLED_ERROR_URAD. The acs board does not propagate orbits,
 * so the station elevation comes from the mission's SGP4 geometry (ElevationSource).
 */
export class AcsPort extends BoundPort implements AttitudePort {
  readonly board = 'acs' as const;
  private target: StationTarget | null = null;
  private offset = { x: 0, y: 0 };
  private ackAtMs = Infinity;

  constructor(
    client: RequestEngine,
    clock: Clock,
    streamPeriodMs: number,
    private readonly elevation: ElevationSource,
  ) {
    super(client, clock, streamPeriodMs);
  }

  protected startUp(): void {
    this.writeTarget();
  }

  private writeTarget(): void {
    const mode = this.target ? 2 : 0;
    this.ackAtMs = Infinity;
    this.client.write({ POINT_MODE: mode, TARGET_X_MRAD: this.offset.x / 1000, TARGET_Y_MRAD: this.offset.y / 1000 }, (r) => {
      if (r) this.ackAtMs = this.clock.now();
    }, 'target');
  }

  requestStationPointing(target: StationTarget): void {
    this.target = target;
    this.writeTarget();
  }

  setPointingOffsetUrad(xUrad: number, yUrad: number): void {
    this.offset = { x: xUrad, y: yUrad };
    this.writeTarget();
  }

  releasePointing(): void {
    this.target = null;
    this.writeTarget();
  }

  status(): AttitudeStatus {
    const c = this.client;
    const settled = this.target !== null && c.lastTelemetryMs > this.ackAtMs && c.value('SLEWING') === 0 && c.value('ATT_ERR_URAD', Infinity) < SETTLED_ERROR_URAD;
    return { settled, stationElevationDeg: this.target ? this.elevation(this.target, this.clock.now()) : 0 };
  }
}
