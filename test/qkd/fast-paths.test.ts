/**
 * The speed-ups (table log in the sampler, inlined settings hash, chunked polynomial
 * hash, packed Cascade parities) against plain reference code:
 * they must give the same bits, not merely similar ones.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DETECTOR, DEFAULT_SOURCE, DetectionSampler, clickTables, clickThreshold } from '../../boards/sim/detection.ts';
import { LightTime } from '../../boards/sim/light-time.ts';
import { continuousSchedule } from '../../boards/sim/pulse-schedule.ts';
import { DEFAULT_TIME_TAGGER, GroundTimeTagger } from '../../boards/sim/time-tagger.ts';
import { pulseIndexOf } from '../../boards/sim/time-tags.ts';
import { packBits } from '../../qkd/bits.ts';
import { rangeParity } from '../../qkd/cascade.ts';
import { PassMap, SubsetMap } from '../../qkd/pass-order.ts';
import { fe61FromWords, polyHash61 } from '../../qkd/polyhash.ts';
import { polyReference } from './poly-reference.ts';
import { Rng } from '../../qkd/random.ts';
import { NOT_RECORDED, packedSettings, packedSettingsFrom, packedSettingsInto, settingsTable } from '../../qkd/settings.ts';
import { decodeQkdMessage, encodeQkdMessage } from '../../protocols/qkd-messages.ts';
import { isProtocolError } from '../../protocols/errors.ts';


describe('chunked polynomial hash', () => {
  it('equals the BigInt reference on long messages, aligned or not (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 200, maxLength: 3000 }), fc.nat(), fc.nat(), fc.nat({ max: 3 }), (raw, hi, lo, skip) => {
        const bytes = raw.subarray(Math.min(skip, raw.length)); // unaligned views too
        const key = fe61FromWords(hi, lo);
        const h = polyHash61(bytes, key);
        expect((BigInt(h.hi) << 32n) + BigInt(h.lo)).toBe(polyReference(bytes, (BigInt(key.hi) << 32n) + BigInt(key.lo)));
      }),
      { numRuns: 60 },
    );
  });

  it('equals the BigInt reference on 1e6-bit blocks, call after call (the verification hash size)', () => {
    const rng = new Rng(41, 3);
    const raw = new Uint8Array(125_003).map(() => rng.nextU32() & 0xff);
    // The same function first runs unoptimised, then compiled: every call must agree.
    for (const [i, bytes] of [raw.subarray(0, 125_000), raw.subarray(1), raw.subarray(0, 125_000).fill(255, 0, 4096), raw].entries()) {
      const key = i === 2 ? { hi: 2 ** 29 - 1, lo: 2 ** 32 - 2 } : fe61FromWords(rng.nextU32(), rng.nextU32());
      const h = polyHash61(bytes, key);
      expect((BigInt(h.hi) << 32n) + BigInt(h.lo)).toBe(polyReference(bytes, (BigInt(key.hi) << 32n) + BigInt(key.lo)));
    }
  });

  it('handles all-ones messages with keys next to the modulus', () => {
    const bytes = new Uint8Array(1000).fill(255);
    for (const key of [{ hi: 2 ** 29 - 1, lo: 2 ** 32 - 2 }, { hi: 2 ** 29 - 1, lo: 2 ** 32 - 1 }, { hi: 0, lo: 1 }]) {
      const h = polyHash61(bytes, key);
      expect((BigInt(h.hi) << 32n) + BigInt(h.lo)).toBe(polyReference(bytes, (BigInt(key.hi) << 32n) + BigInt(key.lo)));
    }
  });
});

describe('batched settings', () => {
  it('packedSettingsInto equals packedSettings pulse by pulse (property)', () => {
    fc.assert(
      fc.property(fc.nat({ max: 2 ** 40 }), fc.array(fc.nat({ max: 2 ** 52 }), { maxLength: 200 }), (seed, idx) => {
        const t = settingsTable(seed, { p: [0.5, 0.3, 0.2], pKeyBasis: 0.7 });
        const out = new Uint8Array(idx.length);
        packedSettingsInto(t, idx, out);
        expect(Array.from(out)).toEqual(idx.map((i) => packedSettings(t, i)));
      }),
      { numRuns: 100 },
    );
  });
});

/**
 * The sampler written plainly (Math.log, the shared settings hash, one draw at a time,
 * afterpulses in a list): per candidate the gap draw, then one draw u that decides
 * whether it clicks (u below the row's threshold), on which detector (the sub-range
 * of [0, threshold) u falls in, by cumulative share) and whether it arms an afterpulse
 * (u in the first apProb of that sub-range; its place there sets the delay).
 */
function referenceSample(seed: number, channelSeed: number, spans: [number, number, number][]) {
  const source = DEFAULT_SOURCE;
  const det = DEFAULT_DETECTOR;
  const table = settingsTable(seed, { p: source.p, pKeyBasis: source.pKeyBasis });
  const rng = new Rng(channelSeed, 0xc4a);
  const dead = Math.ceil(det.deadTimeNs * 1e-9 * source.rateHz);
  const apMean = det.afterpulseDelayNs * 1e-9 * source.rateHz;
  const apProb = det.afterpulseProb;
  const tags: [number, number][] = [];
  const liveFrom = [0, 0, 0, 0];
  const pending: (number | null)[] = [null, null, null, null];
  let candidates = 0;
  const flush = (until: number) => {
    for (;;) {
      const due = pending.map((at, d) => ({ at, d })).filter((x) => x.at !== null && x.at < until);
      if (due.length === 0) return;
      const { at, d } = due.reduce((x, y) => (y.at! < x.at! ? y : x));
      pending[d] = null;
      if (tags.length > 0 && tags[tags.length - 1][0] === at) continue;
      tags.push([at!, d]);
      liveFrom[d] = at! + dead + 1;
    }
  };
  for (const [p0, p1, eta] of spans) {
    const { yields, detectorShare } = clickTables(source.mu, eta, det, source.rateHz);
    const yMax = Math.max(...yields);
    const logQ = Math.log1p(-yMax);
    for (let d = 0; d < 4; d++) if (pending[d] !== null && pending[d]! < p0) pending[d] = null;
    let pos = p0;
    for (;;) {
      pos += Math.floor(Math.log((rng.nextU32() + 1) / 4294967296) / logQ);
      flush(Math.min(pos, p1));
      if (pos >= p1) break;
      candidates++;
      const s = packedSettings(table, pos);
      const row = (s >>> 2) * 4 + (s & 3);
      const u = rng.nextU32();
      // u * yMax / 2^32 < yields[row], as an integer threshold (clickThreshold's property test).
      const y = clickThreshold(yields[row], yMax / 4294967296);
      if (u < y) {
        const bounds = [0];
        let acc = 0;
        for (let d = 0; d < 3; d++) bounds.push(Math.min(y, Math.ceil((acc += detectorShare[row * 4 + d]) * y)));
        bounds.push(y);
        let d = 0;
        while (d < 3 && u >= bounds[d + 1]) d++;
        const w = u - bounds[d];
        const limit = apProb * (bounds[d + 1] - bounds[d]);
        if (pos >= liveFrom[d]) {
          tags.push([pos, d]);
          liveFrom[d] = pos + dead + 1;
          pending[d] = w < limit ? liveFrom[d] + Math.floor(-apMean * Math.log((w + 0.5) / limit)) : null;
        }
      }
      pos += 1;
    }
  }
  return { tags, candidates, next: rng.nextU32() };
}

describe('detection sampler fast path', () => {
  it('gives exactly the tags of the plain Math.log sampler, also when its buffer grows mid-span', () => {
    // Spans from dark (yield ~1e-7) to very bright (far more clicks than the initial
    // 16384-tag buffer holds in one call), at pulse indices beyond 2^32.
    const spans: [number, number, number][] = [
      [2 ** 33, 2 ** 33 + 5e7, 1e-9],
      [2 ** 33 + 5e7, 2 ** 33 + 1e8, 2e-4],
      [2 ** 33 + 1e8, 2 ** 33 + 4e8, 3e-3],
      [2 ** 34, 2 ** 34 + 6.25e6, 5e-5],
    ];
    const ref = referenceSample(42, 4242, spans);
    const s = new DetectionSampler(DEFAULT_SOURCE, DEFAULT_DETECTOR, 42, 4242);
    for (const [p0, p1, eta] of spans) s.sample(p0, p1, eta);
    const t = s.tags.take();
    expect(t.frameNumber.length).toBeGreaterThan(40_000);
    expect(t.frameNumber.length).toBe(ref.tags.length);
    for (let i = 0; i < ref.tags.length; i++) {
      const idx = pulseIndexOf(t.pulsesPerFrame, t.frameNumber[i], t.offsetInFrame[i]);
      if (idx !== ref.tags[i][0] || t.detector[i] !== ref.tags[i][1]) expect([i, idx, t.detector[i]]).toEqual([i, ...ref.tags[i]]);
    }
    expect(s.stats.candidates).toBe(ref.candidates);
    expect(s.stats.detections).toBe(ref.tags.length);
    // The spans exercise afterpulses and dead-detector drops too.
    expect(s.stats.afterpulses).toBeGreaterThan(50);
    expect(s.stats.deadDropped).toBeGreaterThan(0);
  });

  it('gives exactly the plain sampler\'s tags in spans that cross 2^32-pulse boundaries (the high word steps mid-span)', () => {
    const spans: [number, number, number][] = [
      [2 ** 32 - 2e7, 2 ** 32 + 2e7, 3e-4],
      [3 * 2 ** 32 - 5e6, 3 * 2 ** 32 + 5e6, 2e-3],
      [5 * 2 ** 32 - 1e3, 7 * 2 ** 32 + 1e3, 1e-9], // dark: gaps of ~2^31, across two boundaries
    ];
    const ref = referenceSample(7, 77, spans);
    const s = new DetectionSampler(DEFAULT_SOURCE, DEFAULT_DETECTOR, 7, 77);
    for (const [p0, p1, eta] of spans) s.sample(p0, p1, eta);
    const t = s.tags.take();
    const idx = Array.from(t.frameNumber, (f, i) => pulseIndexOf(t.pulsesPerFrame, f, t.offsetInFrame[i]));
    expect(idx.map((x, i) => [x, t.detector[i]])).toEqual(ref.tags);
    expect(s.stats.candidates).toBe(ref.candidates);
    // Tags on both sides of each boundary.
    for (const b of [2 ** 32, 3 * 2 ** 32]) {
      expect(idx.some((x) => x < b && x > b - 1e6)).toBe(true);
      expect(idx.some((x) => x >= b && x < b + 1e6)).toBe(true);
    }
  });
});

describe('packed Cascade parities', () => {
  it('rangeParity and gatherPacked agree with byte-wise code (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 700, min: 0, max: 1 }), fc.nat(), fc.nat({ max: 7 }), (bits, seed, pass) => {
        const words = packBits(bits);
        const map = new PassMap(bits.length, seed, pass);
        const gathered = map.gather(bits);
        expect(Array.from(map.gatherPacked(words))).toEqual(Array.from(packBits(gathered)));
        const rng = new Rng(seed, 3);
        for (let r = 0; r < 20; r++) {
          const a = rng.int(bits.length + 1);
          const b = a + rng.int(bits.length - a + 1);
          let par = 0;
          for (let i = a; i < b; i++) par ^= bits[i];
          expect(rangeParity(words, a, b)).toBe(par);
        }
      }),
      { numRuns: 100 },
    );
  });
});

describe('codec fast paths', () => {
  it('detections with 1- to 8-byte gaps round-trip; a truncated list is refused', () => {
    const gaps = [0, 1, 127, 128, 16383, 16384, 2 ** 21 - 1, 2 ** 21, 2 ** 28 - 1, 2 ** 28, 2 ** 40, 3];
    const idx = new Float64Array(gaps.length);
    let p = -1;
    gaps.forEach((g, i) => (idx[i] = p = p + 1 + g));
    const basis = Uint8Array.from(gaps, (_, i) => i & 1);
    const enc = encodeQkdMessage({ type: 'detections', batchId: 7, pulseIndex: idx, basis });
    const dec = decodeQkdMessage(enc);
    expect(dec.type).toBe('detections');
    if (dec.type === 'detections') expect(Array.from(dec.pulseIndex)).toEqual(Array.from(idx));
    for (let cut = 3; cut < enc.length - 2; cut++) {
      expect(() => decodeQkdMessage(enc.subarray(0, cut))).toThrow();
      try {
        decodeQkdMessage(enc.subarray(0, cut));
      } catch (e) {
        expect(isProtocolError(e)).toBe(true);
      }
    }
  });

  it('an intensity class 3 inside a whole byte is refused, naming the entry', () => {
    const enc = encodeQkdMessage({ type: 'sift', batchId: 1, basis: new Uint8Array(8), intensity: Uint8Array.of(0, 1, 2, 0, 1, 2, 0, 1) });
    // The intensity bytes are the last two; set entry 5 (byte 1, lane 1) to 3.
    enc[enc.length - 1] |= 3 << 2;
    expect(() => decodeQkdMessage(enc)).toThrow(/intensity\[5\] = 3/);
  });
});

describe('word-parallel Cascade packing and strided parities', () => {
  /** Bit i of word i >> 5, one bit at a time. */
  const plainPack = (bits: Uint8Array) => {
    const out = new Uint32Array((bits.length + 31) >>> 5);
    for (let i = 0; i < bits.length; i++) out[i >>> 5] |= bits[i] << (i & 31);
    return out;
  };

  it('packBits (four bytes per multiply) equals plain packing, on aligned and unaligned views (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 1000, min: 0, max: 1, size: 'max' }), fc.nat({ max: 5 }), (raw, skip) => {
        const bits = raw.subarray(Math.min(skip, raw.length));
        expect(Array.from(packBits(bits))).toEqual(Array.from(plainPack(bits)));
      }),
      { numRuns: 200, seed: 20261130 },
    );
  });

  it('PassMap.parityOf (no gathered copy) equals the parity of the gathered range (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 900, min: 0, max: 1, size: 'max' }), fc.nat(), fc.nat({ max: 9 }), fc.nat(), fc.nat(), (bits, seed, pass, r1, r2) => {
        const map = new PassMap(bits.length, seed, pass);
        const gathered = map.gather(bits);
        const a = r1 % (bits.length + 1);
        const b = a + (r2 % (bits.length - a + 1));
        let par = 0;
        for (let j = a; j < b; j++) par ^= gathered[j];
        expect(map.parityOf(plainPack(bits), a, b)).toBe(par);
      }),
      { numRuns: 200, seed: 20261130 },
    );
  });

  it('SubsetMap: word-wise range parities and the gathered copy equal a walk through at() (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 900, min: 0, max: 1, size: 'max' }), fc.nat(), fc.nat({ max: 20 }), fc.nat(), fc.nat(), (bits, seed, pass, r1, r2) => {
        const map = new SubsetMap(bits.length, seed, pass);
        const inOrder = Uint8Array.from(bits, (_, j) => bits[map.at(j)]);
        expect(Array.from(map.gatherPacked(plainPack(bits)))).toEqual(Array.from(plainPack(inOrder)));
        const a = r1 % (bits.length + 1);
        const b = a + (r2 % (bits.length - a + 1));
        let par = 0;
        for (let j = a; j < b; j++) par ^= inOrder[j];
        expect(map.parityOf(plainPack(bits), a, b)).toBe(par);
      }),
      { numRuns: 200, seed: 20261130 },
    );
  });

  it('SubsetMap: the subset is the plain one (Rng words, complemented below half) and its edge parities are right (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 900, min: 0, max: 1, size: 'max' }), fc.nat(), fc.nat({ max: 20 }), (bits, seed, pass) => {
        const n = bits.length;
        const rng = new Rng(seed, 0x5b5e7 + pass);
        const inS = new Uint8Array(n);
        for (let w = 0; w < (n + 31) >>> 5; w++) {
          const x = rng.nextU32();
          for (let b = 0; b < 32 && 32 * w + b < n; b++) inS[32 * w + b] = (x >>> b) & 1;
        }
        let count = inS.reduce((s, v) => s + v, 0);
        if (2 * count < n) {
          for (let i = 0; i < n; i++) inS[i] ^= 1;
          count = n - count;
        }
        const map = new SubsetMap(n, seed, pass);
        expect(map.m).toBe(count);
        for (let i = 0; i < n; i++) expect(map.pos(i) < map.m).toBe(inS[i] === 1);
        let pS = 0;
        let pAll = 0;
        for (let i = 0; i < n; i++) {
          pS ^= bits[i] & inS[i];
          pAll ^= bits[i];
        }
        const src = plainPack(bits);
        expect([map.parityOf(src, 0, map.m), map.parityOf(src, map.m, n), map.parityOf(src, 0, n), map.parityOf(src, 0, 0)]).toEqual([pS, pS ^ pAll, pAll, 0]);
      }),
      { numRuns: 200, seed: 20261130 },
    );
  });
});

describe('settings from the source record', () => {
  it('packedSettingsFrom equals packedSettingsInto whatever the record holds of the pulses (property)', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 2 ** 40 }),
        fc.uniqueArray(fc.nat({ max: 2 ** 45 }), { maxLength: 300 }),
        fc.uniqueArray(fc.nat({ max: 2 ** 45 }), { maxLength: 300 }),
        fc.array(fc.boolean(), { minLength: 600, maxLength: 600 }),
        (seed, asked, other, keep) => {
          const t = settingsTable(seed);
          const idx = asked.sort((a, b) => a - b);
          // The record: some of the asked pulses and others, ascending, a few not recorded.
          const recorded = [...new Set([...idx.filter((_, i) => keep[i]), ...other])].sort((a, b) => a - b);
          const record = {
            pulseIndex: Float64Array.from(recorded),
            settings: Uint8Array.from(recorded, (p, i) => (keep[299 + (i % 300)] ? packedSettings(t, p) : NOT_RECORDED)),
          };
          const want = new Uint8Array(idx.length);
          packedSettingsInto(t, idx, want);
          const got = new Uint8Array(idx.length);
          packedSettingsFrom(t, Float64Array.from(idx), got, record);
          expect(Array.from(got)).toEqual(Array.from(want));
        },
      ),
      { numRuns: 100, seed: 1414 },
    );
  });

  it("the sampler's record holds each tag's packed settings (NOT_RECORDED for afterpulses)", () => {
    const s = new DetectionSampler(DEFAULT_SOURCE, { ...DEFAULT_DETECTOR, afterpulseProb: 0.2 }, 77, 7);
    s.sample(2 ** 32 - 5e6, 2 ** 32 + 5e6, 3e-3);
    const rec = s.tags.settingsRecord();
    const t = settingsTable(77);
    let afterpulses = 0;
    for (let i = 0; i < rec.pulseIndex.length; i++) {
      if (rec.settings[i] === NOT_RECORDED) afterpulses++;
      else expect(rec.settings[i]).toBe(packedSettings(t, rec.pulseIndex[i]));
    }
    expect(rec.pulseIndex.length).toBeGreaterThan(1000);
    expect(afterpulses).toBe(s.stats.afterpulses);
  });
});

describe('branch-free thinning', () => {
  it('clickThreshold: u * yScale < y exactly for the draws below it (property)', () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-12, max: 0.9, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (yMax, frac) => {
        const yScale = yMax / 4294967296;
        const y = yMax * frac;
        const t = clickThreshold(y, yScale);
        if (t > 0) expect((t - 1) * yScale < y).toBe(true);
        if (t < 4294967296) expect(t * yScale < y).toBe(false);
      }),
      { numRuns: 300, seed: 1415 },
    );
  });

  it('the sampler gives exactly the plain sampler\'s tags for any seeds and transmittances (property)', () => {
    fc.assert(
      fc.property(fc.nat({ max: 2 ** 31 }), fc.nat({ max: 2 ** 31 }), fc.array(fc.double({ min: 1e-6, max: 5e-3, noNaN: true }), { minLength: 1, maxLength: 4 }), (seed, channelSeed, etas) => {
        const spans: [number, number, number][] = etas.map((eta, i) => [2 ** 32 - 2e6 + i * 2e6, 2 ** 32 + i * 2e6, eta]);
        const ref = referenceSample(seed, channelSeed, spans);
        const s = new DetectionSampler(DEFAULT_SOURCE, DEFAULT_DETECTOR, seed, channelSeed);
        for (const [p0, p1, eta] of spans) s.sample(p0, p1, eta);
        const t = s.tags.take();
        const got = Array.from(t.detector, (d, i) => [pulseIndexOf(t.pulsesPerFrame, t.frameNumber[i], t.offsetInFrame[i]), d]);
        expect(got).toEqual(ref.tags);
        expect(s.stats.candidates).toBe(ref.candidates);
      }),
      { numRuns: 20, seed: 1416 },
    );
  });
});

describe('time tagger jitter', () => {
  it('gaussians(out, n) gives the deviates of n gaussian() calls, in chunks of any size (property)', () => {
    fc.assert(
      fc.property(fc.nat(), fc.array(fc.nat({ max: 40 }), { maxLength: 12 }), (seed, chunks) => {
        const make = () => new GroundTimeTagger(DEFAULT_TIME_TAGGER, continuousSchedule(625e6), new LightTime(() => 800), seed);
        const bulk = make();
        const one = make();
        const got: number[] = [];
        for (const n of chunks) {
          const out = new Float64Array(n);
          bulk.gaussians(out, n);
          got.push(...out);
        }
        const want = got.map(() => one.gaussian());
        expect(got).toEqual(want);
        // And the generators end in the same state.
        expect(bulk.gaussian()).toBe(one.gaussian());
      }),
      { numRuns: 100, seed: 1417 },
    );
  });
});
