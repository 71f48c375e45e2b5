import { SeededRandom } from './prng.ts';

/**
 * Optical link channel model for one direction of a pass.
 * - Random bit errors at a BER that depends on elevation through the airmass
 *   m = 1/sin(elevation): BER = berZenith · 10^(decadesPerAirmass · (m − 1)), capped at 0.5.
 *   Low passes look through more atmosphere (scintillation, beam wander), so errors rise.
 * - Error bursts (fades): Poisson in time, exponential length in bits, each bit inside
 *   flipped with probability 1/2.
 * - Drop-outs (deep fades, pointing loss): Poisson in time, exponential duration; octets
 *   sent during a drop-out never arrive. Below minElevationDeg the link is down.
 * Bit errors are placed by sampling the gaps between them (geometric), so the cost grows
 * with errors, not with bits. Same seed, same calls -> same output, bit for bit.
 */
export interface LinkChannelConfig {
  bitRate: number;
  berZenith: number;
  berDecadesPerAirmass?: number;
  minElevationDeg?: number;
  burstRatePerS?: number;
  burstMeanBits?: number;
  dropoutRatePerS?: number;
  dropoutMeanS?: number;
}

export interface LinkChannelCounters {
  bitsIn: number;
  bitErrors: number;
  bursts: number;
  dropouts: number;
  bytesDropped: number;
}

export type ElevationProfile = (tS: number) => number;

/**
 * One direction of the optical link as the link's ends use it. LinkChannel is the
 * physical model; decorators (injected drop-outs, hil/mission/channel-faults.ts) wrap
 * one and implement the same interface, so nothing patches a channel in place.
 */
export interface OctetChannel {
  readonly counters: LinkChannelCounters;
  /** Seconds on the wire for n octets. */
  durationS(bytes: number): number;
  /** Sends `bytes` from time tS (calls in time order); returns what the receiver gets. */
  transmit(bytes: Uint8Array, tS: number): Uint8Array;
}

export function berAtElevation(elevationDeg: number, cfg: Pick<LinkChannelConfig, 'berZenith' | 'berDecadesPerAirmass'>): number {
  if (cfg.berZenith <= 0) return 0;
  const e = Math.max(0.5, Math.min(90, elevationDeg));
  const airmass = 1 / Math.sin((e * Math.PI) / 180);
  return Math.min(0.5, cfg.berZenith * 10 ** ((cfg.berDecadesPerAirmass ?? 1) * (airmass - 1)));
}

/** A simple symmetric pass: elevation rises from minDeg to maxDeg at mid-pass and sets again. */
export function symmetricPass(durationS: number, maxDeg: number, minDeg = 10): ElevationProfile {
  return (tS) => {
    const x = Math.min(1, Math.max(0, tS / durationS));
    return minDeg + (maxDeg - minDeg) * Math.sin(Math.PI * x);
  };
}

export class LinkChannel implements OctetChannel {
  readonly counters: LinkChannelCounters = { bitsIn: 0, bitErrors: 0, bursts: 0, dropouts: 0, bytesDropped: 0 };
  private readonly rng: SeededRandom;
  private nextBurstS: number;
  private nextDropoutS: number;
  private dropoutEndS = -1;
  private readonly cfg: Required<LinkChannelConfig>;

  constructor(
    cfg: LinkChannelConfig,
    readonly elevationDeg: ElevationProfile,
    seed: number,
  ) {
    if (!(cfg.bitRate > 0)) throw new RangeError('bitRate must be > 0');
    if (!(cfg.berZenith >= 0 && cfg.berZenith <= 0.5)) throw new RangeError(`berZenith ${cfg.berZenith} outside 0..0.5`);
    this.cfg = {
      berDecadesPerAirmass: 1,
      minElevationDeg: 0,
      burstRatePerS: 0,
      burstMeanBits: 64,
      dropoutRatePerS: 0,
      dropoutMeanS: 0.05,
      ...cfg,
    };
    this.rng = new SeededRandom(seed);
    this.nextBurstS = this.cfg.burstRatePerS > 0 ? this.rng.exponential(1 / this.cfg.burstRatePerS) : Infinity;
    this.nextDropoutS = this.cfg.dropoutRatePerS > 0 ? this.rng.exponential(1 / this.cfg.dropoutRatePerS) : Infinity;
  }

  /** Seconds on the wire for n octets. */
  durationS(bytes: number): number {
    return (bytes * 8) / this.cfg.bitRate;
  }

  /**
   * Sends `bytes` starting at time tS (calls must come in time order). Returns what the
   * receiver gets: a copy with bit errors, shorter by the octets lost in drop-outs.
   */
  transmit(bytes: Uint8Array, tS: number): Uint8Array {
    const c = this.counters;
    const n = bytes.length;
    c.bitsIn += n * 8;
    const out = bytes.slice();
    const secPerByte = 8 / this.cfg.bitRate;
    const endS = tS + n * secPerByte;
    // Bursts starting within this span.
    while (this.nextBurstS < endS) {
      const startBit = Math.max(0, Math.floor((this.nextBurstS - tS) / (secPerByte / 8)));
      const lenBits = Math.max(1, Math.round(this.rng.exponential(this.cfg.burstMeanBits)));
      c.bursts++;
      for (let b = startBit; b < Math.min(n * 8, startBit + lenBits); b++) {
        if (this.rng.nextU32() & 1) {
          out[b >>> 3] ^= 0x80 >>> (b & 7);
          c.bitErrors++;
        }
      }
      this.nextBurstS += this.rng.exponential(1 / this.cfg.burstRatePerS);
    }
    // Random errors at the BER of the elevation at mid-span.
    const ber = berAtElevation(this.elevationDeg((tS + endS) / 2), this.cfg);
    if (ber > 0) {
      const logq = Math.log1p(-ber);
      const totalBits = n * 8;
      let pos = Math.floor(Math.log(this.rng.nextUnit()) / logq);
      while (pos < totalBits) {
        out[pos >>> 3] ^= 0x80 >>> (pos & 7);
        c.bitErrors++;
        pos += 1 + Math.floor(Math.log(this.rng.nextUnit()) / logq);
      }
    }
    // Drop-outs and link below the minimum elevation: those octets are lost.
    const lowLink = this.elevationDeg(tS) < this.cfg.minElevationDeg;
    if (this.nextDropoutS >= endS && this.dropoutEndS <= tS && !lowLink) return out;
    const keep = new Uint8Array(n);
    let any = false;
    for (let i = 0; i < n; i++) {
      const t = tS + i * secPerByte;
      while (t >= this.nextDropoutS) {
        this.dropoutEndS = Math.max(this.dropoutEndS, this.nextDropoutS + this.rng.exponential(this.cfg.dropoutMeanS));
        c.dropouts++;
        this.nextDropoutS += this.rng.exponential(1 / this.cfg.dropoutRatePerS);
      }
      if (t < this.dropoutEndS) {
        any = true;
        continue;
      }
      keep[i] = 1;
    }
    if (!any && !lowLink) return out;
    if (lowLink) {
      c.bytesDropped += n;
      return new Uint8Array(0);
    }
    const kept: number[] = [];
    for (let i = 0; i < n; i++) if (keep[i]) kept.push(out[i]);
    c.bytesDropped += n - kept.length;
    return Uint8Array.from(kept);
  }
}
