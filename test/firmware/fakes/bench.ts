import { SimulatedClock } from 'xstate';
import { encodeConfigImage } from '../../../protocols/config-image.ts';
import { decodePacket, encodeCommand, type DecodedPacket } from '../../../protocols/dictionary/index.ts';
import { createPayload, type Payload } from '../../../firmware/payload.ts';
import { FakeWorld, type WorldOptions } from './world.ts';

/** A payload on in-memory fakes with a simulated clock, and its decoded TM history. */
export interface FakeRig {
  clock: SimulatedClock;
  world: FakeWorld;
  payload: Payload;
  tm: Uint8Array[];
  decoded(): DecodedPacket[];
  events(name?: string): DecodedPacket[];
  tc(name: string, args?: Record<string, unknown>): void;
  /** Advances until `pred` holds (checked every `stepMs`) or `limitMs` passes; returns the ms it took or -1. */
  runUntil(pred: () => boolean, limitMs: number, stepMs?: number): number;
}

export const DEFAULT_EPOCH_S = 800_000_000;

export function createRig(o: Partial<WorldOptions> & { seed?: number; image?: Uint8Array; params?: Record<number, number>; hkEnabled?: number[] } = {}): FakeRig {
  const clock = new SimulatedClock();
  const seed = o.seed ?? 1;
  const world = new FakeWorld({ clock, seed, ...o });
  const params = new Map<number, number>(Object.entries(o.params ?? {}).map(([k, v]) => [Number(k), v]));
  world.config.flash('A', o.image ?? encodeConfigImage({ boardId: 0x5100, configVersion: 1, generation: 7, params }));
  const payload = createPayload({ ports: world.ports(), clock, seed, epochOffsetS: DEFAULT_EPOCH_S, hkEnabled: o.hkEnabled });
  const tm: Uint8Array[] = [];
  payload.onTm((p) => tm.push(p));
  let seq = 0;
  const rig: FakeRig = {
    clock,
    world,
    payload,
    tm,
    decoded: () => tm.map((p) => decodePacket(p)),
    events: (name) => rig.decoded().filter((d) => d.kind === 'event' && (name === undefined || d.name === name)),
    tc: (name, args = {}) => payload.sendTc(encodeCommand(name, args, { seq: seq++ })),
    runUntil: (pred, limitMs, stepMs = 10) => {
      const t0 = clock.now();
      while (clock.now() - t0 < limitMs) {
        if (pred()) return clock.now() - t0;
        payload.advanceMs(stepMs);
      }
      return pred() ? clock.now() - t0 : -1;
    },
  };
  return rig;
}

/** A pass plan over Beijing, `startInS`..`endInS` seconds from now in mission time. */
export function planArgs(rig: FakeRig, startInS: number, endInS: number, minElevationDeg = 15) {
  const nowS = Math.floor(DEFAULT_EPOCH_S + rig.clock.now() / 1000);
  return {
    station: 'beijing',
    latDeg: 40.0,
    lonDeg: 116.4,
    altM: 50,
    startS: nowS + startInS,
    endS: nowS + endInS,
    minElevationDeg,
    tleLine1: '1 00000U 00000A   26326.50000000  .00000000  00000-0  00000-0 0  0000',
    tleLine2: '2 00000  97.4000 000.0000 0001000 000.0000 000.0000 15.20000000    00',
  };
}
