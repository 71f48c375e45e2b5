/**
 * Distillation over the authenticated classical channel, on short simulated passes
 * (small blocks so the tests stay quick).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runPass } from '../../hil/mission/physics-pass.ts';
import { assessBlock } from '../../qkd/block.ts';
import { memoryChannelPair } from '../../qkd/channel.ts';
import { DEFAULT_DISTILL_CONFIG } from '../../qkd/config.ts';
import { decodeAuthFrame, decodeQkdMessage, type QkdMessage } from '../../protocols/qkd-messages.ts';
import { pskPools } from './psk-pools.ts';

// Small blocks keep the tests quick; at that size the intensities' uncertainty would leave
// no key, so the mechanics are tested with exact intensities (keyrate.test.ts prices it).
const small = { blockBits: 300_000, minBlockBits: 50_000, muRelUncertainty: 0 };

const pools = (seed: number) => pskPools(seed, 1 << 18);

describe('real-time distillation', () => {
  it('delivers blocks during the pass, each verified equal at Alice and Bob', () => {
    const r = runPass({ station: 'beijing', seed: 11, durationS: 25, distill: small });
    const delivered = r.bobBlocks.filter((b) => b.status === 'delivered');
    expect(delivered.length).toBeGreaterThanOrEqual(2);
    for (const b of delivered) {
      const a = r.aliceBlocks.find((x) => x.blockId === b.blockId)!;
      expect(a.status).toBe('delivered');
      expect(b.lengthBits).toBeGreaterThan(0);
      expect(Array.from(a.key!)).toEqual(Array.from(b.key!));
      expect(b.ecEfficiency!).toBeGreaterThan(1);
      expect(b.ecEfficiency!).toBeLessThan(1.3);
      // Settled while the pass was still running (real time), not all at the end.
      expect(b.settledAtS!).toBeLessThanOrEqual(25);
    }
    expect(delivered[0].settledAtS!).toBeLessThan(20);
    expect(r.summary.keysEqual).toBe(true);
    expect(r.pools.alice.fingerprint()).toBe(r.pools.bob.fingerprint());
    // Pools hold the delivered keys under their ids.
    for (const b of delivered) expect(r.pools.bob.blocks.some((p) => p.keyId === b.keyId && p.lengthBits === b.lengthBits)).toBe(true);
  });

  it("Bob is never handed Alice's settings for pulses he did not detect", () => {
    const link = memoryChannelPair({ record: true });
    const r = runPass({ station: 'beijing', seed: 12, durationS: 8, distill: small, link, pools: pools(12) });
    const toAlice: QkdMessage[] = [];
    const toBob: QkdMessage[] = [];
    for (const f of link.recorded) {
      const m = decodeQkdMessage(decodeAuthFrame(f.frame).body);
      (f.direction === 0 ? toBob : toAlice).push(m);
    }
    const detected = new Map<number, Float64Array>();
    for (const m of toAlice) if (m.type === 'detections') detected.set(m.batchId, m.pulseIndex);
    let settingsSeen = 0;
    let detections = 0;
    for (const ix of detected.values()) detections += ix.length;
    for (const m of toBob) {
      // Only these message types cross from Alice to Bob.
      expect(['sift', 'blockStart', 'ecParities', 'blockResult', 'abort', 'checkpoint']).toContain(m.type);
      if (m.type === 'sift') {
        // One basis + intensity per pulse Bob reported, for no other pulse.
        expect(m.basis.length).toBe(detected.get(m.batchId)!.length);
        settingsSeen += m.basis.length;
      }
      if (m.type === 'blockStart') expect(m.testBits.length).toBeLessThanOrEqual(detections);
    }
    expect(settingsSeen).toBe(detections);
    // Bob reports every click the ground's time sync put in a slot: the sampler's clicks
    // less the few jitter moved onto an occupied slot or outside the window.
    expect(detections).toBe(r.timeSync.resolved);
    expect(r.timeSync.resolved + r.timeSync.sameSlot + r.timeSync.outsideWindow + r.timeSync.beforeSync).toBe(r.summary.detections);
    // Structurally: Bob's code cannot compute settings (no source seed, no settings module).
    for (const file of ['boards/ground/bob.ts', 'boards/ground/ground-station.ts']) {
      const src = readFileSync(file, 'utf8');
      expect(src).not.toMatch(/settings\.ts|packedSettings|pulseSettings|sourceSeed/);
    }
  });

  it('discards high-QBER blocks with a reason and delivers nothing', () => {
    const r = runPass({ station: 'beijing', seed: 13, durationS: 10, distill: small, detector: { misalignment: 0.09 } });
    expect(r.bobBlocks.length).toBeGreaterThan(0);
    for (const b of [...r.bobBlocks, ...r.aliceBlocks]) {
      expect(b.status).toBe('aborted');
      expect(b.reason).toBe('QBER_TOO_HIGH');
    }
    expect(r.summary.finalKeyBits).toBe(0);
    expect(r.summary.abortReasons.QBER_TOO_HIGH).toBe(r.bobBlocks.length);
  });

  it('abort rules: too few counts, phase error, no secure key', () => {
    const cfg = DEFAULT_DISTILL_CONFIG;
    const few = assessBlock(cfg, { keyN: [1000, 50, 1], testN: [1000, 50, 1], testM: [10, 1, 0] }, 0);
    expect(few.reason).toBe('TOO_FEW_COUNTS');
    const phase = assessBlock(cfg, { keyN: [900000, 50000, 60], testN: [900000, 50000, 60], testM: [40000, 6000, 30] }, 0);
    expect(phase.reason).toBe('PHASE_ERROR_TOO_HIGH');
    const leak = assessBlock(cfg, { keyN: [900000, 50000, 60], testN: [900000, 50000, 60], testM: [9000, 550, 30] }, 900000);
    expect(leak.reason).toBe('NO_SECURE_KEY');
    const ok = assessBlock(cfg, { keyN: [900000, 50000, 60], testN: [900000, 50000, 60], testM: [9000, 550, 30] }, 80000);
    expect(ok.reason).toBe('NONE');
    expect(ok.rate.length).toBeGreaterThan(0);
  });

  it('a forged or altered message is rejected, aborts only its block, and leaves the pools equal', () => {
    let parities = 0;
    let tampered = false;
    const link = memoryChannelPair({
      tamper: (frame, direction) => {
        if (direction !== 0 || frame[7] !== 7) return frame; // Alice → Bob ecParities (type code 7 after the 7-byte header)
        parities++;
        if (parities !== 40) return frame;
        tampered = true;
        const f = frame.slice();
        f[f.length - 1] ^= 0x01; // flip one parity bit in the body (an untagged frame ends with it)
        return f;
      },
    });
    const r = runPass({ station: 'beijing', seed: 14, durationS: 25, distill: small, link, pools: pools(14) });
    expect(tampered).toBe(true);
    expect(r.summary.authRejectedFrames).toBeGreaterThanOrEqual(1);
    // Exactly one block aborted by the forgery (a block may also end NO_SECURE_KEY on its own).
    const aborted = r.bobBlocks.filter((b) => b.status === 'aborted' && b.reason === 'AUTH_FAILED');
    expect(aborted.length).toBe(1);
    const a = r.aliceBlocks.find((b) => b.blockId === aborted[0].blockId)!;
    expect(a.status).toBe('aborted');
    expect(a.reason).toBe('AUTH_FAILED');
    const delivered = r.bobBlocks.filter((b) => b.status === 'delivered');
    expect(delivered.length).toBeGreaterThanOrEqual(1);
    for (const b of delivered) {
      const ab = r.aliceBlocks.find((x) => x.blockId === b.blockId)!;
      expect(Array.from(ab.key!)).toEqual(Array.from(b.key!));
    }
    // No key of the attacked block in either pool, and the pools are still identical.
    expect(r.pools.alice.blocks.some((p) => p.keyId.endsWith(`/b${aborted[0].blockId}`))).toBe(false);
    expect(r.pools.alice.fingerprint()).toBe(r.pools.bob.fingerprint());
    expect(r.summary.keysEqual).toBe(true);
  });

  it('an injected frame (replayed) is rejected without desynchronising the channel', () => {
    let first: Uint8Array | undefined;
    let injected = false;
    const link = memoryChannelPair({
      tamper: (frame, direction, index) => {
        if (direction === 1 && !first) first = frame.slice();
        if (index === 30 && first && !injected) {
          injected = true;
          return first; // replace a frame by a replay of Bob's first one
        }
        return frame;
      },
    });
    const r = runPass({ station: 'beijing', seed: 15, durationS: 20, distill: small, link, pools: pools(15) });
    expect(injected).toBe(true);
    expect(r.summary.authRejectedFrames).toBeGreaterThanOrEqual(1);
    expect(r.bobBlocks.filter((b) => b.status === 'delivered').length).toBeGreaterThanOrEqual(1);
    expect(r.summary.keysEqual).toBe(true);
    expect(r.pools.alice.fingerprint()).toBe(r.pools.bob.fingerprint());
  });
});
