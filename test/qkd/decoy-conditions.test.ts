import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runPass } from '../../hil/mission/physics-pass.ts';
import { AliceDistiller } from '../../firmware/qkd/alice.ts';
import { BobDistiller } from '../../boards/ground/bob.ts';
import { memoryChannelPair } from '../../qkd/channel.ts';
import { DEFAULT_DISTILL_CONFIG } from '../../qkd/config.ts';
import { DecoyConditionError, assertDecoyConditions, decoyViolation, type DecoyTriple } from '../../qkd/decoy-conditions.ts';
import { keyLength, vacuumAndSinglePhoton, type Triple } from '../../qkd/keyrate.ts';
import { KeyPool } from '../../qkd/pool.ts';

/** The counter-example: mu1 = 0.3 < mu2 + mu3 = 0.35. */
const BAD_MU: Triple = [0.3, 0.25, 0.1];
const P: Triple = [0.5, 0.25, 0.25];
const SEED = { seed: 0x11d3c0 };

/** The conditions written out independently of the module under test. */
const holds = (mu: DecoyTriple, p: DecoyTriple) =>
  mu[0] > mu[1] + mu[2] && mu[1] > mu[2] && mu[2] >= 0 && p.every((x) => x > 0 && x <= 1) && Math.abs(p[0] + p[1] + p[2] - 1) <= 1e-9;

const small = fc.double({ min: -0.2, max: 1.5, noNaN: true });

describe('decoy-state conditions (the one shared check)', () => {
  it('accepts exactly the (mu, p) satisfying mu1 > mu2 + mu3, mu2 > mu3 >= 0, p_k > 0, sum p = 1 (property)', () => {
    const probs = fc.tuple(fc.double({ min: 0.01, max: 1, noNaN: true }), fc.double({ min: 0.01, max: 1, noNaN: true }), fc.double({ min: 0.01, max: 1, noNaN: true }));
    // Half the probability triples normalised (sum 1), half left as drawn.
    const p = fc.tuple(probs, fc.boolean()).map(([t, norm]) => (norm ? (t.map((x) => x / (t[0] + t[1] + t[2])) as unknown as DecoyTriple) : t));
    fc.assert(
      fc.property(fc.tuple(small, small, small), p, (mu, pp) => {
        expect(decoyViolation(mu, pp) === null).toBe(holds(mu, pp));
      }),
      { ...SEED, numRuns: 2000 },
    );
  });

  it('refuses non-finite values', () => {
    expect(decoyViolation([NaN, 0.1, 0], P)?.field).toBe('mu');
    expect(decoyViolation([0.8, 0.1, 0], [Infinity, 0.25, 0.25])?.field).toBe('p');
  });

  it('the refusal is typed and names the condition and the values, in the caller`s names', () => {
    expect(() => assertDecoyConditions(BAD_MU, P)).toThrowError(DecoyConditionError);
    try {
      assertDecoyConditions(BAD_MU, P, { mu: ['MU_SIGNAL', 'MU_DECOY', 'MU_VACUUM'], p: ['P_SIGNAL', 'P_DECOY', 'P_VACUUM'] });
    } catch (e) {
      const d = e as DecoyConditionError;
      expect(d.field).toBe('mu');
      expect(d.mu).toEqual(BAD_MU);
      expect(d.message).toContain('MU_SIGNAL > MU_DECOY + MU_VACUUM');
      expect(d.message).toContain('MU_SIGNAL=0.3, MU_DECOY=0.25, MU_VACUUM=0.1');
    }
    expect(decoyViolation([0.8, 0.1, 0], [0.5, 0.3, 0.3])?.message).toMatch(/p1 \+ p2 \+ p3 = 1 \(sum 1\.1.*p1=0\.5, p2=0\.3, p3=0\.3/);
    expect(decoyViolation([0.8, 0.1, 0.1], P)?.message).toMatch(/mu2 > mu3.*mu2=0\.1, mu3=0\.1/);
    expect(decoyViolation([0.8, 0.1, -0.01], P)?.message).toMatch(/mu3 >= 0/);
  });
});

describe('the finite-key bound enforces them', () => {
  const counts = { n: [1700000, 93000, 150] as Triple, m: [17500, 1050, 75] as Triple };
  it('keyLength refuses intensities that break the conditions (it never computes a bound outside them)', () => {
    expect(() => keyLength({ mu: BAD_MU, p: P, eps_sec: 1e-10, eps_cor: 1e-15, key: counts, test: counts, lambda_ec: 0 })).toThrowError(
      /mu1 > mu2 \+ mu3.*mu1=0\.3, mu2=0\.25, mu3=0\.1/,
    );
    expect(() => keyLength({ mu: [0.8, 0.1, 0], p: [0.5, 0.25, 0.3], eps_sec: 1e-10, eps_cor: 1e-15, key: counts, test: counts, lambda_ec: 0 })).toThrowError(
      DecoyConditionError,
    );
  });

  it('s0 + s1 never exceed the detections they are estimated from, and the key never exceeds the key-basis detections (property)', () => {
    // Valid intensities and probabilities, arbitrary (even inconsistent) counts: counts come off an attacker's channel.
    const valid = fc
      .tuple(fc.double({ min: 0.05, max: 0.5, noNaN: true }), fc.double({ min: 0, max: 0.5, noNaN: true }), fc.double({ min: 0.02, max: 1.5, noNaN: true }))
      .map(([mu2, mu3frac, extra]) => {
        const mu3 = mu2 * mu3frac;
        return [mu2 + mu3 + extra, mu2, mu3] as Triple;
      });
    const probs = fc.tuple(fc.integer({ min: 1, max: 98 }), fc.integer({ min: 1, max: 98 })).filter(([a, b]) => a + b < 100).map(([a, b]) => [a / 100, b / 100, (100 - a - b) / 100] as Triple);
    const n = fc.tuple(fc.nat(5_000_000), fc.nat(5_000_000), fc.nat(5_000_000)) as fc.Arbitrary<Triple>;
    fc.assert(
      fc.property(valid, probs, n, (mu, p, key) => {
        const total = key[0] + key[1] + key[2];
        const { s0, s1 } = vacuumAndSinglePhoton(key, mu, p, 1e-10);
        expect(s0 + s1).toBeLessThanOrEqual(total);
        const r = keyLength({ mu, p, eps_sec: 1e-10, eps_cor: 1e-15, key: { n: key, m: [0, 0, 0] }, test: { n: key, m: [0, 0, 0] }, lambda_ec: 0 });
        expect(r.length).toBeLessThanOrEqual(total);
      }),
      { ...SEED, numRuns: 3000 },
    );
  });
});

describe('the distiller configuration enforces them', () => {
  const parts = () => {
    const ch = memoryChannelPair();
    const pool = new KeyPool('x');
    pool.add('psk-0', new Uint32Array(256).fill(0x5a5a5a5a), 256 * 32, 'psk');
    return { ch, pool };
  };
  it('Alice and Bob refuse to start distilling with broken intensities or probabilities, naming the values', () => {
    for (const bad of [{ mu: BAD_MU }, { p: [0.5, 0.25, 0.3] as Triple }, { mu: [0.8, 0, 0] as Triple }]) {
      const config = { ...DEFAULT_DISTILL_CONFIG, ...bad };
      const a = parts();
      expect(() => new AliceDistiller({ config, sourceSeed: 1, channel: a.ch.alice, pool: a.pool, sessionId: 's', rngSeed: 2 })).toThrowError(DecoyConditionError);
      const b = parts();
      expect(() => new BobDistiller({ config, channel: b.ch.bob, pool: b.pool, sessionId: 's', rngSeed: 3 })).toThrowError(DecoyConditionError);
    }
    const ok = parts();
    expect(() => new AliceDistiller({ config: DEFAULT_DISTILL_CONFIG, sourceSeed: 1, channel: ok.ch.alice, pool: ok.pool, sessionId: 's', rngSeed: 2 })).not.toThrow();
  });

  it('the issue`s 100 s pass at mu [0.3, 0.25, 0.1] makes no key: it is refused before any detection', () => {
    expect(() => runPass({ station: 'beijing', seed: 1, durationS: 100, source: { mu: BAD_MU } })).toThrowError(/mu1 > mu2 \+ mu3.*mu1=0\.3, mu2=0\.25, mu3=0\.1/);
  });

  it('a valid pass never claims more single-photon events or key than its sifted bits', () => {
    // 2e5-bit blocks: with detector jitter's spill-over and afterpulses, 1e5-bit blocks are too small for a secure key.
    const r = runPass({ station: 'beijing', seed: 3, durationS: 20, distill: { blockBits: 200_000, minBlockBits: 50_000, muRelUncertainty: 0 } });
    expect(r.summary.blocksDelivered).toBeGreaterThan(0);
    for (const b of r.bobBlocks.filter((x) => x.status === 'delivered')) {
      expect(b.s0 + b.s1).toBeLessThanOrEqual(b.keyBits);
      expect(b.lengthBits).toBeLessThan(b.keyBits);
    }
  });
});
