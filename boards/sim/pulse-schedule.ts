/**
 * When each pulse left the satellite, on the satellite's clock (ps), and back: which
 * pulse left nearest a given satellite time. The source's pulse indices are
 * frameNumber * pulsesPerFrame + offsetInFrame; frames start when the gate opens, so
 * the mapping is linear inside a frame and jumps between frames. The ground knows the
 * schedule because the payload announces each frame's number and start time.
 */

export interface PulseSchedule {
  /** Pulse spacing, ps (1600 at 625 MHz). */
  readonly periodPs: number;
  /** Satellite-clock emission time of pulse `index`, ps; NaN when that pulse was never emitted. */
  emitPs(index: number): number;
  /**
   * Index of the emitted pulse nearest satellite time `tPs`: -1 when it is more than half
   * a slot outside every frame, unless `clamp` (then the nearest frame's edge; -1 only
   * when nothing was emitted).
   */
  nearestPulse(tPs: number, clamp?: boolean): number;
  /** Set when pulse i leaves at i * periodPs for every i >= 0 (a continuous source): hot loops may inline the two mappings. */
  readonly uniform?: boolean;
}

/** A source that emits continuously from pulse 0 at satellite time 0 (the physics-only pass). */
export function continuousSchedule(rateHz: number): PulseSchedule {
  if (!(rateHz > 0)) throw new RangeError(`rateHz must be positive, got ${rateHz}`);
  const periodPs = 1e12 / rateHz;
  return {
    periodPs,
    uniform: true,
    emitPs: (index) => (index >= 0 ? index * periodPs : NaN),
    nearestPulse: (tPs, clamp = false) => (clamp || tPs > -periodPs / 2 ? Math.max(0, Math.round(tPs / periodPs)) : -1),
  };
}

/** One frame the source's gate let out (the mission's qsrc.emitted entries have this shape). */
export interface ScheduledFrame {
  frameNumber: number;
  /** Satellite-clock ms the gate opened (Infinity while armed) and closed (null while open). */
  startMs: number;
  stopMs: number | null;
  pulsesPlanned: number;
  ratePerMs: number;
}

/**
 * The schedule of gated frames, read live (the list grows during the pass). Queries are
 * expected in roughly ascending time, so a cursor makes each one O(1) amortised.
 */
export function gatedSchedule(frames: readonly ScheduledFrame[], pulsesPerFrame: number, rateHz: number): PulseSchedule {
  const periodPs = 1e12 / rateHz;
  let cursor = 0;
  const pulsesOf = (f: ScheduledFrame) => (f.stopMs === null ? f.pulsesPlanned : Math.min(f.pulsesPlanned, Math.floor((f.stopMs - f.startMs) * f.ratePerMs + 1e-6)));
  /** Index in `frames` of the frame with this number, or -1. */
  const byNumber = (n: number): number => {
    if (cursor >= frames.length) cursor = Math.max(0, frames.length - 1);
    while (cursor > 0 && frames[cursor].frameNumber > n) cursor--;
    while (cursor < frames.length - 1 && frames[cursor].frameNumber < n) cursor++;
    return frames[cursor]?.frameNumber === n ? cursor : -1;
  };
  return {
    periodPs,
    emitPs(index) {
      const n = Math.floor(index / pulsesPerFrame);
      const i = byNumber(n);
      if (i < 0) return NaN;
      const f = frames[i];
      const offset = index - n * pulsesPerFrame;
      if (f.startMs === Infinity || offset >= pulsesOf(f)) return NaN;
      return f.startMs * 1e9 + (offset * 1e9) / f.ratePerMs;
    },
    nearestPulse(tPs, clamp = false) {
      if (frames.length === 0) return -1;
      if (cursor >= frames.length) cursor = frames.length - 1;
      const startPs = (k: number) => frames[k].startMs * 1e9;
      // A frame's own time begins half a slot before its first pulse.
      const edgePs = (k: number) => frames[k].startMs * 1e9 - 0.5e9 / frames[k].ratePerMs;
      while (cursor > 0 && edgePs(cursor) > tPs) cursor--;
      while (cursor < frames.length - 1 && frames[cursor + 1].startMs !== Infinity && edgePs(cursor + 1) <= tPs) cursor++;
      const f = frames[cursor];
      if (f.startMs === Infinity) return -1;
      const n = pulsesOf(f);
      const slotPs = 1e9 / f.ratePerMs;
      const o = Math.round((tPs - startPs(cursor)) / slotPs);
      if (o >= 0 && o < n) return f.frameNumber * pulsesPerFrame + o;
      // Beyond half a slot before its first or after its last pulse: no pulse near ...
      if (!clamp || n === 0) return -1;
      // ... but the nearest edge: this frame's first or last pulse, or the next frame's first.
      if (o < 0) return f.frameNumber * pulsesPerFrame;
      const next = frames[cursor + 1];
      const lastPs = startPs(cursor) + (n - 1) * slotPs;
      if (next && next.startMs !== Infinity && next.startMs * 1e9 - tPs < tPs - lastPs) return next.frameNumber * pulsesPerFrame;
      return f.frameNumber * pulsesPerFrame + n - 1;
    },
  };
}
