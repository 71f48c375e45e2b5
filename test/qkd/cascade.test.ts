import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CascadeOracle, cascadeBlockSizes, cascadeBob, cascadeLocal, ecEfficiency } from '../../qkd/cascade.ts';
import { PassMap, SubsetMap } from '../../qkd/pass-order.ts';
import { Rng } from '../../qkd/random.ts';

function pair(n: number, q: number, seed: number) {
  const rng = new Rng(seed, 1);
  const alice = new Uint8Array(n);
  for (let i = 0; i < n; i++) alice[i] = rng.nextU32() & 1;
  const bob = alice.slice();
  let errors = 0;
  for (let i = 0; i < n; i++) {
    if (rng.next() < q) {
      bob[i] ^= 1;
      errors++;
    }
  }
  return { alice, bob, errors };
}

describe('Cascade error correction', () => {
  // Cascade leaves an undetected even number of errors with a small probability (about
  // 1 in 3000 keys of a few thousand bits at 5 % QBER); error verification catches those
  // in the pipeline. The property run is seeded so the test is deterministic.
  it('corrects random errors (property: sizes, QBER, seeds)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 20000 }), fc.double({ min: 0, max: 0.05, noNaN: true }), fc.integer({ min: 0, max: 1e6 }), (n, q, seed) => {
        const { alice, bob, errors } = pair(n, q, seed);
        const r = cascadeLocal(alice, bob, { blockSizes: cascadeBlockSizes(Math.max(q, 0.005), n), seed });
        expect(Array.from(bob)).toEqual(Array.from(alice));
        expect(r.corrected).toBe(errors);
        expect(r.leakedBits).toBe(r.oracleLeak);
      }),
      { numRuns: 60, seed: 20261122 },
    );
  });

  it('reports f = disclosed / (n h(Q)) close to the Shannon limit on 2e5 bits', () => {
    for (const q of [0.01, 0.03]) {
      const n = 200_000;
      const { alice, bob, errors } = pair(n, q, 42);
      const r = cascadeLocal(alice, bob, { blockSizes: cascadeBlockSizes(q, n), seed: 3 });
      expect(Array.from(bob)).toEqual(Array.from(alice));
      const f = ecEfficiency(r.leakedBits, n, errors);
      expect(f).toBeGreaterThan(1);
      expect(f).toBeLessThan(1.15);
    }
  });

  it('pass permutations are bijections and invert', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 0, max: 1e9 }), fc.integer({ min: 0, max: 20 }), (n, seed, pass) => {
        const m = new PassMap(n, seed, pass);
        const seen = new Uint8Array(n);
        let inverseOk = true;
        for (let j = 0; j < n; j++) {
          const i = m.at(j);
          if (m.pos(i) !== j) inverseOk = false;
          seen[i]++;
        }
        expect(inverseOk).toBe(true);
        expect(seen.every((c) => c === 1)).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('the oracle refuses ranges outside the key and passes not started', () => {
    const o = new CascadeOracle(new Uint8Array(100));
    expect(() => o.answer({ kind: 'ranges', passes: Uint8Array.of(0), starts: Int32Array.of(0), ends: Int32Array.of(5) })).toThrow(/not started/);
    o.answer({ kind: 'top', pass: 0, blockSize: 10, permSeed: 1 });
    expect(() => o.answer({ kind: 'ranges', passes: Uint8Array.of(0), starts: Int32Array.of(90), ends: Int32Array.of(101) })).toThrow(/bad range/);
  });
});

/** Drive Bob against Alice's oracle, counting every parity bit that crosses and what was asked. */
function runCounted(alice: Uint8Array, bob: Uint8Array, blockSizes: number[], seed: number) {
  const oracle = new CascadeOracle(alice);
  const gen = cascadeBob(bob, { blockSizes, seed });
  let sent = 0;
  let askedKnown = 0;
  // Per pass: points x where Alice's prefix parity of the pass order is known to Bob.
  const known: Set<number>[] = [];
  let step = gen.next();
  while (!step.done) {
    const req = step.value;
    const reply = oracle.answer(req);
    sent += reply.length;
    if (req.kind === 'top') {
      const pts = new Set<number>([0]);
      for (let b = 1; b <= reply.length; b++) pts.add(Math.min(alice.length, b * req.blockSize));
      known[req.pass] = pts;
    } else {
      for (let i = 0; i < req.starts.length; i++) {
        const pts = known[req.passes[i]];
        if (pts.has(req.starts[i]) && pts.has(req.ends[i])) askedKnown++;
        pts.add(req.starts[i]).add(req.ends[i]);
      }
    }
    step = gen.next(reply);
  }
  return { out: step.value, sent, askedKnown, oracleLeak: oracle.leakedBits };
}

describe('Cascade at the QBER of a pass (1-3 %)', () => {
  it('corrects every error, and its leakage is exactly the parity bits Alice sent (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 20_000, max: 120_000 }), fc.double({ min: 0.01, max: 0.03, noNaN: true }), fc.integer({ min: 0, max: 1e6 }), (n, q, seed) => {
        const { alice, bob, errors } = pair(n, q, seed);
        const wrong = bob.map((b, i) => b ^ alice[i]);
        const r = runCounted(alice, bob, cascadeBlockSizes(q, n), seed);
        expect(Array.from(bob)).toEqual(Array.from(alice));
        expect(r.out.corrected).toBe(errors);
        expect(Array.from(r.out.flipped)).toEqual(Array.from(wrong.keys()).filter((i) => wrong[i] === 1));
        expect(r.out.leakedBits).toBe(r.sent);
        expect(r.out.leakedBits).toBe(r.oracleLeak);
      }),
      { numRuns: 12, seed: 20261130 },
    );
  });

  it('never asks a parity Bob can work out from parities already disclosed', () => {
    for (const q of [0.01, 0.02, 0.03]) {
      const n = 100_000;
      const { alice, bob } = pair(n, q, 7);
      const r = runCounted(alice, bob, cascadeBlockSizes(q, n), 11);
      expect(Array.from(bob)).toEqual(Array.from(alice));
      expect(r.askedKnown).toBe(0);
    }
  });

  it('stays within 5 % of the Shannon limit on 2e5-bit keys (every disclosed parity counted)', () => {
    for (const q of [0.01, 0.02, 0.03]) {
      const n = 200_000;
      const { alice, bob, errors } = pair(n, q, 42);
      const r = runCounted(alice, bob, cascadeBlockSizes(q, n), 3);
      expect(Array.from(bob)).toEqual(Array.from(alice));
      expect(ecEfficiency(r.sent, n, errors)).toBeLessThan(1.05);
    }
  });

  it('block sizes: powers of two from about 0.8/Q, then halves of the key, never the whole key', () => {
    expect(cascadeBlockSizes(0.01, 1_000_000)).toEqual([64, 512, 4096, ...new Array(9).fill(500_000)]);
    expect(cascadeBlockSizes(0.02, 1_000_000)).toEqual([32, 256, 2048, ...new Array(9).fill(500_000)]);
    expect(cascadeBlockSizes(0.03, 1_000_000)).toEqual([32, 128, 2048, ...new Array(9).fill(500_000)]);
    for (const n of [2, 3, 100, 5001]) for (const k of cascadeBlockSizes(0.02, n)) expect(k).toBeLessThanOrEqual(Math.ceil(n / 2));
  });
});

describe('subset passes (the late passes over halves of the key)', () => {
  it('a subset order is a bijection with its inverse, S (at least half the key) first (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3000 }), fc.integer({ min: 0, max: 1e9 }), fc.integer({ min: 0, max: 30 }), (n, seed, pass) => {
        const m = new SubsetMap(n, seed, pass);
        expect(2 * m.m).toBeGreaterThanOrEqual(n);
        const seen = new Uint8Array(n);
        for (let j = 0; j < n; j++) {
          const i = m.at(j);
          expect(m.pos(i)).toBe(j);
          seen[i]++;
          // Ascending inside each block.
          if (j > 0 && j !== m.m) expect(i).toBeGreaterThan(m.at(j - 1));
        }
        expect(seen.every((c) => c === 1)).toBe(true);
      }),
      { numRuns: 60, seed: 20261130 },
    );
  });

  it('Alice refuses a subset pass whose first block is not the subset', () => {
    const n = 1000;
    const o = new CascadeOracle(new Uint8Array(n));
    const m = new SubsetMap(n, 5, 4);
    expect(o.answer({ kind: 'top', pass: 4, blockSize: m.m, permSeed: 5 })).toHaveLength(m.m < n ? 2 : 1);
    expect(() => o.answer({ kind: 'top', pass: 5, blockSize: n / 2 + 100, permSeed: 5 })).toThrow(/subset pass/);
  });

  it('nine subset passes leave no error on the small keys where three left some', () => {
    // 2e4-bit keys at 1-3 %: k3 is a fifth of the key, so pairs of errors the small
    // blocks could not split are left to the late passes. These are the keys (of 900
    // seeded ones) where three late passes left errors; with nine none of the 900 does.
    for (const s of [174, 189, 393, 403, 405, 492, 574, 683, 704, 750, 797]) {
      const q = [0.01, 0.02, 0.03][s % 3];
      const n = 20_000;
      const sizes = cascadeBlockSizes(q, n);
      expect(sizes).toHaveLength(12);
      const a = pair(n, q, 1000 + s);
      cascadeLocal(a.alice, a.bob, { blockSizes: sizes.slice(0, 6), seed: s });
      expect(a.bob.some((x, i) => x !== a.alice[i])).toBe(true);
      const b = pair(n, q, 1000 + s);
      cascadeLocal(b.alice, b.bob, { blockSizes: sizes, seed: s });
      expect(Array.from(b.bob)).toEqual(Array.from(b.alice));
    }
  });
});
