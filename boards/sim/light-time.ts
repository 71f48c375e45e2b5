/**
 * One-way light time from the satellite to the station over a pass, from the slant range
 * tabulated at whole seconds. A cubic Hermite (Catmull-Rom) through the samples keeps the
 * range rate continuous: linear interpolation would step the Doppler by ~1e-7 at every
 * second, a kink no real orbit has and that a time-sync tracker would chase.
 */

export const C_KM_PER_S = 299_792.458;
const PS_PER_KM = 1e12 / C_KM_PER_S;

/** The light time over one whole second of the table: a + u (b + u (c + u d)) ps, u the fraction of that second. */
export interface LightSegment {
  /** The table's second the cubic starts at: u = (tPs - originPs) * 1e-12 - second. */
  second: number;
  a: number;
  b: number;
  c: number;
  d: number;
}

export class LightTime {
  /** The whole second whose segment the coefficients below describe (NaN: none yet). */
  private segS = NaN;
  private a = 0;
  private b = 0;
  private c = 0;
  private d = 0;

  /**
   * @param rangeKmAtS slant range at whole second `tS` of the pass table
   * @param originPs satellite-clock time of the table's second 0, ps
   */
  constructor(
    private readonly rangeKmAtS: (tS: number) => number,
    readonly originPs = 0,
  ) {}

  /** Light time of a pulse sent at satellite time `tPs`, ps. */
  ps(tPs: number): number {
    const u = this.seek(tPs);
    return this.a + u * (this.b + u * (this.c + u * this.d));
  }

  /** d(light time)/dt at `tPs`: the range rate over c (the Doppler, up to ~2.5e-5 at LEO). */
  rate(tPs: number): number {
    const u = this.seek(tPs);
    return (this.b + u * (2 * this.c + u * 3 * this.d)) * 1e-12;
  }

  /**
   * The cubic ps() evaluates at `tPs` (the same coefficients, so the same values): loops
   * over many times in one second (the tagger's batches) evaluate it themselves.
   */
  segment(tPs: number): LightSegment {
    this.seek(tPs);
    return { second: this.segS, a: this.a, b: this.b, c: this.c, d: this.d };
  }

  /** Loads the segment holding `tPs`; returns the fraction of its second. */
  private seek(tPs: number): number {
    const tS = (tPs - this.originPs) * 1e-12;
    const i = Math.floor(tS);
    if (i !== this.segS) {
      const r = this.rangeKmAtS;
      const p0 = r(i) * PS_PER_KM;
      const p1 = r(i + 1) * PS_PER_KM;
      const m0 = (p1 - r(i - 1) * PS_PER_KM) / 2;
      const m1 = (r(i + 2) * PS_PER_KM - p0) / 2;
      this.a = p0;
      this.b = m0;
      this.c = 3 * (p1 - p0) - 2 * m0 - m1;
      this.d = 2 * (p0 - p1) + m0 + m1;
      this.segS = i;
    }
    return tS - i;
  }
}
