import type { BlockRecord } from '../../qkd/records.ts';

/** The key rate over a pass is reported in bins of this many seconds. */
export const KEY_RATE_BIN_S = 10;

export interface KeyRatePoint {
  /** Bin start, seconds after the pass start. */
  tS: number;
  /** Final key of the blocks delivered in [tS, tS + bin), per second. */
  keyBitsPerS: number;
}

/**
 * The key rate over a pass from the delivered blocks' settling times (the distillers'
 * clocks): one bin per `binS` from the pass start to the pass end or the last block,
 * whichever is later (the last blocks settle after the pass, on the link's drain).
 * `originS` is the pass start on that clock (0 for the physics-only pass; the lead-in
 * for the mission pass, whose clock starts at power-on). A block settled before the
 * pass start (none should) counts in the first bin.
 */
export function keyRate(blocks: readonly BlockRecord[], durationS: number, originS = 0, binS = KEY_RATE_BIN_S): KeyRatePoint[] {
  const delivered = blocks.filter((b) => b.status === 'delivered' && b.settledAtS !== null);
  const lastS = Math.max(durationS, ...delivered.map((b) => b.settledAtS! - originS));
  const bins = Math.max(1, Math.ceil(lastS / binS));
  const bits = new Array<number>(bins).fill(0);
  for (const b of delivered) bits[Math.min(bins - 1, Math.max(0, Math.floor((b.settledAtS! - originS) / binS)))] += b.lengthBits;
  return bits.map((v, i) => ({ tS: i * binS, keyBitsPerS: v / binS }));
}
