import type { PassGeometry } from './geometry.ts';

/** The PUS epoch of this mission (2000-01-01T00:00:00Z). */
const PUS_EPOCH_MS = Date.UTC(2000, 0, 1);

/**
 * When things happen in a mission pass, on the mission clock (ms from power-on of the
 * boards): the lead-in, the QKD window of the pass geometry, and the drain after it
 * while the link stays up so the last distillation blocks settle.
 */
export interface PassTimeline {
  /** Power-on to the pass start, s. */
  leadS: number;
  passStartMs: number;
  passEndMs: number;
  /** Latest time the optical link stays up after the pass. */
  linkEndMs: number;
  /** Mission time (s since the PUS epoch) at clock 0. */
  epochOffsetS: number;
}

export function passTimeline(geo: Pick<PassGeometry, 'start' | 'durationS'>, leadS: number, drainS: number): PassTimeline {
  const passStartMs = leadS * 1000;
  const passEndMs = passStartMs + geo.durationS * 1000;
  return {
    leadS,
    passStartMs,
    passEndMs,
    linkEndMs: passEndMs + drainS * 1000,
    epochOffsetS: Math.floor((geo.start.getTime() - PUS_EPOCH_MS) / 1000) - leadS,
  };
}

/** A span of time [fromS, untilS) in some time base. */
export interface TimeWindow {
  fromS: number;
  untilS: number;
}

export function inWindow(w: TimeWindow | null | undefined, tS: number): boolean {
  return !!w && tS >= w.fromS && tS < w.untilS;
}
