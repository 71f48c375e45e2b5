import type { BeaconSpot, PointingPort } from '../../firmware/hal.ts';
import { BoundPort } from './ports-base.ts';

/** Mirror travel of the apt board's command registers (+/- urad). */
const FSM_CMD_LIMIT_URAD = 2000;

/**
 * PointingPort over the apt board: the beacon spot and mirror position come from the
 * board's telemetry stream (run at the fine-loop period), mirror commands are
 * coalesced WRITE_REGS of FSM_CMD_X/Y_URAD.
 */
export class AptPort extends BoundPort implements PointingPort {
  readonly board = 'apt' as const;
  commands = 0;

  protected startUp(): void {
    this.client.write({ FSM_ENABLE: 1, BEACON_LASER_ENABLE: 1 });
  }

  beaconSpot(): BeaconSpot {
    const c = this.client;
    if (c.value('SPOT_VALID') !== 1) return { visible: false, xUrad: 0, yUrad: 0 };
    return { visible: true, xUrad: c.value('SPOT_X_URAD'), yUrad: c.value('SPOT_Y_URAD') };
  }

  commandFsmUrad(xUrad: number, yUrad: number): void {
    this.commands++;
    const lim = (v: number) => Math.max(-FSM_CMD_LIMIT_URAD, Math.min(FSM_CMD_LIMIT_URAD, v));
    this.client.write({ FSM_CMD_X_URAD: lim(xUrad), FSM_CMD_Y_URAD: lim(yUrad) }, undefined, 'fsm');
  }

  fsmPositionUrad(): { xUrad: number; yUrad: number } {
    return { xUrad: this.client.value('FSM_POS_X_URAD'), yUrad: this.client.value('FSM_POS_Y_URAD') };
  }
}
