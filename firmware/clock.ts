import type { PayloadClock } from './hal.ts';

/**
 * The wall clock, for runs against real boards: xstate's default timers plus a
 * monotonic `now()` in ms since creation. Simulated runs use xstate's SimulatedClock
 * (which has `now()` already) instead.
 */
export function createWallClock(): PayloadClock {
  const t0 = performance.now();
  return {
    setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
    clearTimeout: (id) => globalThis.clearTimeout(id as ReturnType<typeof globalThis.setTimeout>),
    now: () => performance.now() - t0,
  };
}
