import { encodeHousekeeping } from '../../protocols/dictionary/index.ts';
import type { PayloadEndpoint } from '../bench/payload.ts';

/**
 * A payload endpoint that emits dictionary-encoded PAYLOAD_HK packets at a fixed rate on
 * the wall clock, for the console benchmark: each packet's `frameNumber` is a counter
 * (firstFrame, firstFrame + 1, ...) that identifies it, and the wall time at which it was
 * handed to the bench (performance.timeOrigin + performance.now(), ms: the clock the page
 * measures with) is kept per packet. TCs are passed to `forwardTc` (the hosted payload),
 * so commands still work while it is attached.
 */

export interface PacedRun {
  /** Packets handed to the bench. */
  sent: number;
  /** frameNumber of the first packet; packet i carries firstFrame + i. */
  firstFrame: number;
  /** Wall time packet i entered the bench, ms since the Unix epoch (timeOrigin + now). */
  enteredAtMs: Float64Array;
  /** Wall time from the first packet to the last, s. */
  wallS: number;
}

/** Nominal STANDBY values; only frameNumber and uptimeS change from packet to packet. */
const NOMINAL = {
  mode: 'STANDBY',
  activeBank: 'A',
  configGeneration: 1,
  tcAccepted: 0,
  tcRejected: 0,
  faultsActive: 0,
  laserTempC: 25,
  pointingErrorMeanUrad: 0,
  pointingErrorRmsUrad: 0,
  pointingErrorMaxUrad: 0,
  fsmXUrad: 0,
  fsmYUrad: 0,
  fineLock: false,
  emitting: false,
  pulsesSent: 0,
  elevationDeg: 0,
};

/** Timer period of the pacing loop, ms: packets due since the last tick go out each tick. */
const TICK_MS = 1;

export class PacedHousekeeping implements PayloadEndpoint {
  readonly description: string;
  private readonly handlers = new Set<(p: Uint8Array) => void>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly o: { ratePerS: number; firstFrame: number; forwardTc?: (packet: Uint8Array) => void }) {
    if (!(o.ratePerS > 0)) throw new RangeError(`ratePerS must be positive, got ${o.ratePerS}`);
    this.description = `paced PAYLOAD_HK at ${o.ratePerS}/s`;
  }

  sendTc(packet: Uint8Array): void {
    this.o.forwardTc?.(packet);
  }

  onTm(cb: (packet: Uint8Array) => void): () => void {
    this.handlers.add(cb);
    return () => this.handlers.delete(cb);
  }

  /** Emits ratePerS x durationS packets, paced on the wall clock (late ticks catch up). */
  run(durationS: number): Promise<PacedRun> {
    if (this.timer) throw new Error('PacedHousekeeping: already running');
    const total = Math.round(this.o.ratePerS * durationS);
    const enteredAtMs = new Float64Array(total);
    const t0 = performance.now();
    let sent = 0;
    return new Promise((resolve) => {
      const tick = () => {
        const due = Math.min(total, Math.floor(((performance.now() - t0) * this.o.ratePerS) / 1000) + 1);
        for (; sent < due; sent++) {
          const frameNumber = this.o.firstFrame + sent;
          const packet = encodeHousekeeping('PAYLOAD_HK', { ...NOMINAL, frameNumber, uptimeS: Math.floor(sent / this.o.ratePerS) }, { seq: sent & 0x3fff, timeS: sent / this.o.ratePerS });
          enteredAtMs[sent] = performance.timeOrigin + performance.now();
          for (const h of this.handlers) h(packet);
        }
        if (sent >= total) {
          this.stop();
          resolve({ sent, firstFrame: this.o.firstFrame, enteredAtMs, wallS: (performance.now() - t0) / 1000 });
        }
      };
      this.timer = setInterval(tick, TICK_MS);
      tick();
    });
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  async close(): Promise<void> {
    this.stop();
  }
}
