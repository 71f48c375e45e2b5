import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemorySaStateStore, type SaStateStore } from '../../firmware/link/sa-state.ts';
import { UplinkFrontEnd } from '../../firmware/link/uplink-frontend.ts';
import { recordingChannel } from '../../hil/link/channel-tap.ts';
import { OpticalLink } from '../../hil/link/optical-link.ts';
import { FileSaStateStore, SaStateFileError } from '../../hil/link/sa-state-file.ts';
import { FopDriver } from '../../hil/link/fop-driver.ts';
import { crc16 } from '../../protocols/crc.ts';
import { farmClcw, type FarmState } from '../../protocols/link/farm1.ts';
import { isProtocolError } from '../../protocols/errors.ts';
import { encodeSecuredTcFrame, peekSpi, type SecurityAssociation, SdlsSender, SdlsVerifier } from '../../protocols/link/sdls.ts';
import { TC_VC } from '../../protocols/link/mission.ts';
import { encodeCommand } from '../../protocols/dictionary/index.ts';
import { encodeControlCommand, encodeTcFrame, readTcHeader } from '../../protocols/link/tc-frame.ts';
import { encodeOpaquePacket } from '../../protocols/link/opaque-packet.ts';
const key = (b: number) => Uint8Array.from({ length: 32 }, (_, i) => (b * 17 + i * 5) & 0xff);
const HMAC: SecurityAssociation = { spi: 1, algorithm: 'HMAC-SHA256', key: key(1), windowSize: 16 };
const GMAC: SecurityAssociation = { spi: 2, algorithm: 'AES-GMAC', key: key(2), windowSize: 16 };
const SCID = 0x1a5;

function tcPacket(seq: number, n = 20): Uint8Array {
  return encodeOpaquePacket('TC', 0x65, seq, new Uint8Array(n).fill(seq & 0xff));
}

/** Data unit: segment header (unsegmented, MAP 0) + one packet. */
const unit = (seq: number) => Uint8Array.from([0xc0, ...tcPacket(seq)]);

/** Re-seals the FECF so a tampered frame gets past the CRC and reaches the security check. */
function refecf(f: Uint8Array): Uint8Array {
  const c = crc16(f, 0, f.length - 2);
  f[f.length - 2] = c >>> 8;
  f[f.length - 1] = c & 0xff;
  return f;
}

function board(window = 16, saStore: SaStateStore = new MemorySaStateStore()) {
  return new UplinkFrontEnd({
    saStore,
    scid: SCID,
    channels: [
      { vcid: 0, spis: [1] },
      { vcid: 1, spis: [2] },
    ],
    associations: [
      { ...HMAC, windowSize: window },
      { ...GMAC, windowSize: window },
    ],
  });
}

/** Snapshot of every piece of state a rejected frame must not change. */
const snapshot = (b: UplinkFrontEnd) => JSON.stringify({ f0: b.farmState(0), f1: b.farmState(1), a1: b.sdls.arsnOf(1), a2: b.sdls.arsnOf(2) });

for (const sa of [HMAC, GMAC]) {
  const vcid = sa.spi === 1 ? 0 : 1;
  const frame = (ns: number, arsn: number, data = unit(ns)) => encodeSecuredTcFrame({ bypass: false, controlCommand: false, scid: SCID, vcid, seq: ns }, data, sa, arsn);

  describe(`SDLS on TC frames (${sa.algorithm})`, () => {
    it('accepts authentic frames in sequence and hands their packets on', () => {
      const b = board();
      const r0 = b.receive(frame(0, 1));
      const r1 = b.receive(frame(1, 2));
      expect([...r0.packets, ...r1.packets].map((p) => p.bytes[2] * 256 + p.bytes[3] - 0xc000)).toEqual([0, 1]);
      expect(b.sdls.arsnOf(sa.spi)).toBe(2);
    });

    it('rejects a replayed frame, counts it, raises an event, and changes nothing', () => {
      const b = board();
      const f = frame(0, 1);
      b.receive(f);
      const before = snapshot(b);
      const r = b.receive(f);
      expect(r.packets).toEqual([]);
      expect(r.events).toEqual([expect.objectContaining({ kind: 'FRAME_REJECTED', stage: 'SECURITY', code: 'REPLAY' })]);
      expect(b.errors.REPLAY).toBe(1);
      expect(snapshot(b)).toBe(before);
    });

    it('a rebuilt front end (a reboot) over the same SA store refuses every frame accepted before it (issue 11)', () => {
      const store = new MemorySaStateStore();
      const before = board(16, store);
      const accepted = [frame(0, 1), frame(1, 2), frame(2, 3)];
      for (const f of accepted) expect(before.receive(f).packets).toHaveLength(1);
      const rebooted = board(16, store);
      expect(rebooted.sdls.arsnOf(sa.spi)).toBe(3);
      for (const f of accepted) {
        const r = rebooted.receive(f);
        expect(r.packets).toEqual([]);
        expect(r.events[0]).toMatchObject({ kind: 'FRAME_REJECTED', stage: 'SECURITY', code: 'REPLAY' });
      }
      // The ground carries on from its own last ARSN (FARM-1 restarts at V(R) = 0 after a reset).
      expect(rebooted.receive(frame(0, 4)).packets).toHaveLength(1);
    });

    it('rejects an older ARSN even with a fresh frame sequence number', () => {
      const b = board();
      b.receive(frame(0, 5));
      const r = b.receive(frame(1, 4));
      expect(r.events[0]).toMatchObject({ code: 'REPLAY' });
      expect(b.farmState(vcid)?.vr).toBe(1);
    });

    it('rejects a frame ahead of the anti-replay window', () => {
      const b = board(16);
      const before = snapshot(b);
      const r = b.receive(frame(0, 17));
      expect(r.events[0]).toMatchObject({ code: 'SEQUENCE_OUT_OF_WINDOW' });
      expect(snapshot(b)).toBe(before);
      expect(b.receive(frame(0, 16)).packets.length).toBe(1);
    });

    it('rejects a forgery (frame sealed with another key)', () => {
      const b = board();
      const forged = encodeSecuredTcFrame({ bypass: false, controlCommand: false, scid: SCID, vcid, seq: 0 }, unit(0), { ...sa, key: key(99) }, 1);
      const before = snapshot(b);
      const r = b.receive(forged);
      expect(r.events[0]).toMatchObject({ code: 'AUTH_FAILED' });
      expect(b.errors.AUTH_FAILED).toBe(1);
      expect(snapshot(b)).toBe(before);
    });

    it('every single-bit flip in header, security header, data and MAC is rejected (FECF resealed)', () => {
      const f = frame(0, 1);
      for (let bit = 0; bit < (f.length - 2) * 8; bit++) {
        const b = board();
        const before = snapshot(b);
        const g = f.slice();
        g[bit >>> 3] ^= 0x80 >>> (bit & 7);
        const r = b.receive(refecf(g));
        expect(r.packets).toEqual([]);
        expect(r.events.length).toBeGreaterThan(0);
        expect(r.events[0].kind).toBe('FRAME_REJECTED');
        expect(snapshot(b)).toBe(before);
      }
    });

    it('every truncation is rejected, resealed or not', () => {
      const f = frame(0, 1);
      for (let n = 0; n < f.length; n++) {
        for (const reseal of [false, true]) {
          const b = board();
          let g: Uint8Array = f.slice(0, n);
          if (reseal && n >= 7) {
            // Attacker fixes the length field and FECF of the shortened frame.
            g = f.slice(0, n);
            const len = n - 1;
            g[2] = (g[2] & 0xfc) | ((len >>> 8) & 3);
            g[3] = len & 0xff;
            g = refecf(g);
          }
          const r = b.receive(g);
          expect(r.packets).toEqual([]);
          expect(r.events[0]).toMatchObject({ kind: 'FRAME_REJECTED' });
          expect(b.farmState(vcid)?.vr).toBe(0);
        }
      }
    });

    it('random tampering never gets a packet accepted', () => {
      fc.assert(
        fc.property(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 6 }), (edits) => {
          const f = frame(0, 1);
          const g = f.slice();
          for (const [pos, x] of edits) g[pos % (g.length - 2)] ^= x;
          const r = board().receive(refecf(g));
          expect(r.packets).toEqual([]);
        }),
      );
    });
  });
}

describe('SDLS anti-replay sequence wrap', () => {
  it('accepts across the ARSN wrap and still rejects the pre-wrap numbers', () => {
    const sa: SecurityAssociation = { spi: 1, algorithm: 'HMAC-SHA256', key: key(1), arsnBytes: 1, windowSize: 8 };
    const v = new SdlsVerifier([sa], { 1: 250 });
    const tx = new SdlsSender(sa, 250);
    const seen: number[] = [];
    const frames: Uint8Array[] = [];
    for (let i = 0; i < 10; i++) {
      const f = tx.secure({ bypass: true, controlCommand: false, scid: SCID, vcid: 0, seq: 0 }, Uint8Array.of(0xc0, i));
      frames.push(f);
      seen.push(v.verify(f).arsn);
    }
    expect(seen).toEqual([251, 252, 253, 254, 255, 0, 1, 2, 3, 4]);
    for (const old of frames) {
      try {
        v.verify(old);
        expect.unreachable();
      } catch (e) {
        expect(isProtocolError(e) && e.code).toBe('REPLAY');
      }
    }
    expect(v.counters).toEqual({ accepted: 10, rejected: 10 });
  });

  it('unknown SPI and an SPI used on the wrong channel are refused', () => {
    const b = board();
    const f = encodeSecuredTcFrame({ bypass: false, controlCommand: false, scid: SCID, vcid: 0, seq: 0 }, unit(0), GMAC, 1);
    expect(b.receive(f).events[0]).toMatchObject({ code: 'UNKNOWN_SPI' });
    const g = encodeSecuredTcFrame({ bypass: false, controlCommand: false, scid: SCID, vcid: 0, seq: 0 }, unit(0), { ...HMAC, spi: 9 }, 1);
    expect(b.receive(g).events[0]).toMatchObject({ code: 'UNKNOWN_SPI' });
  });

  it('a control command needs authentication too: a forged Unlock changes nothing', () => {
    const b = board();
    // Lock out VC 0 with an authentic far-away frame.
    b.receive(encodeSecuredTcFrame({ bypass: false, controlCommand: false, scid: SCID, vcid: 0, seq: 100 }, unit(0), HMAC, 1));
    expect(b.farmState(0)?.lockout).toBe(true);
    const forged = encodeSecuredTcFrame({ bypass: true, controlCommand: true, scid: SCID, vcid: 0, seq: 0 }, encodeControlCommand({ kind: 'UNLOCK' }), { ...HMAC, key: key(5) }, 2);
    b.receive(forged);
    expect(b.farmState(0)?.lockout).toBe(true);
    const real = encodeSecuredTcFrame({ bypass: true, controlCommand: true, scid: SCID, vcid: 0, seq: 0 }, encodeControlCommand({ kind: 'UNLOCK' }), HMAC, 2);
    const r = b.receive(real);
    expect(r.events).toContainEqual(expect.objectContaining({ kind: 'CONTROL', verdict: 'CONTROL_EXECUTED' }));
    expect(b.farmState(0)?.lockout).toBe(false);
  });

  it('FOP driver frames pass the board; a retransmission is not taken for a replay', () => {
    const b = board(64);
    const fop = new FopDriver({ scid: SCID, vcid: 0, association: HMAC, maxFrameBytes: 256, fop: { windowK: 4, t1Ms: 100 } });
    const first = fop.submit([tcPacket(0), tcPacket(1)], 0);
    expect(first.length).toBe(1); // blocked into one frame
    // Lost on the way; the timer fires and the frame goes again with a new ARSN.
    const again = fop.tick(150);
    expect(again.length).toBe(1);
    const r = b.receive(again[0]);
    expect(r.packets.length).toBe(2);
    expect(b.errors).toEqual({});
    // A large packet is segmented and reassembled.
    const big = tcPacket(2, 700);
    let frames = fop.submit([big], 200);
    expect(frames.length).toBe(3); // window K = 4 with one frame still unacknowledged
    const out = [];
    for (let t = 300; frames.length > 0; t += 10) {
      out.push(...frames.flatMap((f) => b.receive(f).packets));
      frames = fop.onClcw(farmClcw(b.farmState(0) as FarmState), t);
    }
    expect(fop.idle).toBe(true);
    expect(out.map((p) => Buffer.from(p.bytes).toString('hex'))).toEqual([Buffer.from(big).toString('hex')]);
  });
});

describe('SDLS anti-replay state across resets (issue 11)', () => {
  const frame = (ns: number, arsn: number) => encodeSecuredTcFrame({ bypass: false, controlCommand: false, scid: SCID, vcid: 0, seq: ns }, unit(ns), HMAC, arsn);

  it('the ARSN is saved before the frame is used; a store that cannot save refuses the frame and changes nothing', () => {
    const saved: [number, number][] = [];
    const b = board(16, { load: () => ({}), save: (spi, arsn) => void saved.push([spi, arsn]) });
    b.receive(frame(0, 1));
    expect(saved).toEqual([[1, 1]]);
    // Rejected frames are never saved.
    b.receive(frame(0, 1));
    b.receive(encodeSecuredTcFrame({ bypass: false, controlCommand: false, scid: SCID, vcid: 0, seq: 1 }, unit(1), { ...HMAC, key: key(9) }, 2));
    expect(saved).toEqual([[1, 1]]);
    const broken = board(16, {
      load: () => ({}),
      save: () => {
        throw new Error('flash write failed');
      },
    });
    const snap = snapshot(broken);
    expect(() => broken.receive(frame(0, 1))).toThrow(/flash write failed/);
    expect(snapshot(broken)).toBe(snap);
    expect(broken.counters.packetsOut).toBe(0);
  });

  it('a file-backed store survives the process: a new store and front end over the same file refuse old frames', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sa-state-'));
    const path = join(dir, 'sa.json');
    const first = board(16, new FileSaStateStore(path));
    const f = frame(0, 7);
    expect(first.receive(f).packets).toHaveLength(1);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const again = board(16, new FileSaStateStore(path));
    expect(again.sdls.arsnOf(1)).toBe(7);
    expect(again.receive(f).events[0]).toMatchObject({ code: 'REPLAY' });
    // An unreadable state is an error, never a fresh start from 0.
    writeFileSync(path, '{"version":1,"lastArsn":{"1":');
    expect(() => new FileSaStateStore(path)).toThrowError(SaStateFileError);
    writeFileSync(path, '{"version":1,"lastArsn":{"1":-5}}');
    expect(() => new FileSaStateStore(path)).toThrowError(/SPI 1: -5/);
  });

  it('restored state outside the association`s ARSN range is refused', () => {
    expect(() => board(16, { load: () => ({ 1: 2 ** 32 }), save: () => {} })).toThrow(/restored ARSN 4294967296 of SPI 1/);
    expect(() => new SdlsVerifier([HMAC], { 1: 1.5 })).toThrow(/FIELD_OUT_OF_RANGE/);
  });

  it('the hosted link keeps the board`s state when given the same store: a recorded TC is a replay after the reboot', () => {
    const store = new MemorySaStateStore();
    const onAir: Uint8Array[] = [];
    const link = new OpticalLink({ seed: 4, elevationDeg: () => 60, saStore: store, decorateChannel: (ch, dir) => (dir === 'uplink' ? recordingChannel(ch, onAir) : ch) });
    link.sendTelecommand(encodeCommand('PING', {}, { seq: 1 }));
    link.advanceTo(1);
    const recorded = onAir.find((f) => ((f[2] >> 2) & 0x3f) === TC_VC.telecommand && f.length > 40)!;
    expect(recorded).toBeDefined();
    const rebooted = new OpticalLink({ seed: 4, elevationDeg: () => 60, saStore: store });
    const r = rebooted.board.receive(recorded);
    expect(r.packets).toEqual([]);
    expect(r.events[0]).toMatchObject({ code: 'REPLAY' });
    // Without the store (a new payload) the same frame would pass: the store is what remembers.
    expect(new OpticalLink({ seed: 4, elevationDeg: () => 60 }).board.receive(recorded).packets).toHaveLength(1);
  });
});

describe('SDLS security association checks (issue 11)', () => {
  it('AES-GMAC with an ARSN shorter than 4 octets is refused (its IV would repeat); 4 and more are accepted', () => {
    for (const arsnBytes of [1, 2, 3]) {
      const sa: SecurityAssociation = { ...GMAC, arsnBytes, windowSize: 8 };
      for (const make of [() => new SdlsVerifier([sa]), () => new SdlsSender(sa), () => encodeSecuredTcFrame({ bypass: true, controlCommand: false, scid: SCID, vcid: 1, seq: 0 }, unit(0), sa, 1)]) {
        try {
          make();
          expect.unreachable(`AES-GMAC with ${arsnBytes}-octet ARSN accepted`);
        } catch (e) {
          expect(isProtocolError(e) && e.code).toBe('FIELD_OUT_OF_RANGE');
          expect((e as Error).message).toMatch(new RegExp(`at least 4 octets.*got ${arsnBytes}`));
          expect(isProtocolError(e) && e.details).toMatchObject({ field: 'arsnBytes', value: arsnBytes });
        }
      }
    }
    for (const arsnBytes of [4, 6]) expect(() => new SdlsVerifier([{ ...GMAC, arsnBytes }])).not.toThrow();
    // HMAC does not derive an IV from the ARSN: a short counter stays allowed (the wrap test above).
    expect(() => new SdlsVerifier([{ ...HMAC, arsnBytes: 1, windowSize: 8 }])).not.toThrow();
  });
});

describe('SDLS SPI peek (hand-made vectors)', () => {
  const hex = (h: string) => Uint8Array.from(Buffer.from(h.replace(/ /g, ''), 'hex'));

  it('reads the SPI right after the primary header', () => {
    // 01 a5: version 00, type A, data, SCID 0x1a5 | 04 0d: VCID 1, length 14-1 | 07: N(S)
    // 0002: SPI 2 | 00000009: ARSN | 3c: data | ffff: FECF (not checked by the peek)
    const v = hex('01a5 040d 07 0002 00000009 3c ffff');
    expect(readTcHeader(v)).toMatchObject({ scid: 0x1a5, vcid: 1, frameLengthBytes: v.length, seq: 7 });
    expect(peekSpi(v)).toBe(2);
    // the smallest frame with room for an SPI: header, SPI 0xfffe, FECF
    expect(peekSpi(hex('01a5 0008 00 fffe ffff'))).toBe(0xfffe);
  });

  it('peeks no SPI where header and FECF leave no room for one', () => {
    expect(peekSpi(hex('01a5 0007 00 c0 ffff'))).toBeNull(); // 8 octets: one data octet
    expect(peekSpi(hex('01a5 0006 00 ffff'))).toBeNull(); // 7 octets: no data field
  });

  it('peeks the SPI every secured frame carries', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 0xffff }), fc.integer({ min: 0, max: 0xffff }), fc.uint8Array({ minLength: 0, maxLength: 40 }), (spi, arsn, data) => {
        const f = encodeSecuredTcFrame({ bypass: false, controlCommand: false, scid: SCID, vcid: 0, seq: 0 }, data, { ...HMAC, spi }, arsn);
        expect(peekSpi(f)).toBe(spi);
      }),
      { seed: 12, numRuns: 200 },
    );
  });

  it('the front end refuses a frame too short for a security header, changing nothing', () => {
    const b = board();
    const before = snapshot(b);
    const f = encodeTcFrame({ bypass: false, controlCommand: false, scid: SCID, vcid: 0, seq: 0 }, Uint8Array.of(0xc0));
    expect(f.length).toBe(8);
    expect(b.receive(f).events).toEqual([expect.objectContaining({ kind: 'FRAME_REJECTED', stage: 'SECURITY', code: 'FRAME_TOO_SHORT', vcid: 0 })]);
    expect(snapshot(b)).toBe(before);
    expect(b.sdls.counters).toEqual({ accepted: 0, rejected: 0 });
  });
});
