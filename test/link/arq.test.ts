import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../boards/link-sim/prng.ts';
import { ArqOutbox } from '../../protocols/link/arq-outbox.ts';
import { ReliableDownlinkSender } from '../../firmware/link/reliable-downlink.ts';
import { ReliableDownlinkReceiver } from '../../hil/link/reliable-downlink-receiver.ts';
import { decodeArqAck, encodeArqAck, withSequenceCount } from '../../protocols/link/arq.ts';
import { encodeOpaquePacket } from '../../protocols/link/opaque-packet.ts';
import { readPrimaryHeader, PRIMARY_HEADER_BYTES } from '../../protocols/space-packet.ts';

function packet(n: number): Uint8Array {
  return encodeOpaquePacket('TM', 0x0d0, 0, new Uint8Array(8).fill(n));
}

/**
 * The reliable downlink alone over a serial line of `bitRate` with seeded random bit
 * errors both ways (a unit with any error is lost). `line` says how the sender's output
 * reaches the line: 'fifo' appends every (re)transmission to a FIFO, 'outbox' goes through
 * an ArqOutbox the line pulls from when it is free. Returns what the ground delivered.
 */
function runLossyLine(line: 'fifo' | 'outbox', o: { seed: number; units: number; unitBytes: number; ber: number; untilMs: number }) {
  const bitRate = 1e6;
  const ackDelayMs = 10;
  const rng = new SeededRandom(o.seed);
  const survives = (bytes: number) => rng.nextUnit() < (1 - o.ber) ** (8 * bytes);
  const tx = new ReliableDownlinkSender(1, { windowK: 32, t1Ms: 200, transmissionLimit: 1000 });
  const rx = new ReliableDownlinkReceiver(1, 0x0d1, 64, 10);
  const fifo: Uint8Array[] = [];
  const outbox = new ArqOutbox();
  const release = (ps: Uint8Array[]) => (line === 'fifo' ? fifo.push(...ps) : outbox.put(ps));
  const acks: { atMs: number; ack: Uint8Array }[] = [];
  const delivered: number[] = [];
  let lineFreeMs = 0;
  let onLine: { doneMs: number; p: Uint8Array } | null = null;
  for (let i = 0; i < o.units; i++) release(tx.offer(encodeOpaquePacket('TM', 0x0d0, 0, new Uint8Array(o.unitBytes - PRIMARY_HEADER_BYTES).fill(i & 0xff)), 0));
  let now = 0;
  for (; now < o.untilMs && !tx.idle; now++) {
    if (onLine && onLine.doneMs <= now) {
      if (survives(onLine.p.length) && rx.accept(onLine.p)) delivered.push(onLine.p[PRIMARY_HEADER_BYTES]);
      onLine = null;
    }
    if (!onLine && lineFreeMs <= now) {
      const p = line === 'fifo' ? fifo.shift() : outbox.take();
      if (p) onLine = { doneMs: now + (p.length * 8 * 1000) / bitRate, p };
    }
    const ack = rx.ackDue(now);
    if (ack && survives(ack.length)) acks.push({ atMs: now + ackDelayMs, ack });
    while (acks.length > 0 && acks[0].atMs <= now) {
      const clcw = decodeArqAck((acks.shift() as { ack: Uint8Array }).ack, 0x0d1);
      release(tx.onAck(clcw, now));
      outbox.acknowledge(clcw.reportValue);
    }
    release(tx.tick(now));
  }
  return { delivered, idle: tx.idle, endMs: now, retransmissions: tx.counters.retransmissions, duplicates: rx.counters.duplicates, fifoLength: fifo.length };
}

describe('reliable downlink (COP-1 over packets)', () => {
  it('acknowledgement packets carry a CLCW and are checked', () => {
    const c = { statusField: 0, copInEffect: 1, vcid: 1, noRfAvailable: false, noBitLock: false, lockout: false, wait: false, retransmit: true, farmBCounter: 0, reportValue: 77 };
    const a = encodeArqAck(0x0d1, 5, c);
    // TC, APID 0x0D1, unsegmented, count 5, length field 3 | CLCW: COP 01, VC 1, retransmit, N(R) 0x4D
    expect(Buffer.from(a).toString('hex')).toBe('10d1c0050003' + '0104084d');
    expect(decodeArqAck(a, 0x0d1)).toEqual(c);
    expect(() => decodeArqAck(a, 0x0d2)).toThrowError(/HEADER_INVALID/);
    expect(() => decodeArqAck(a.subarray(0, 9), 0x0d1)).toThrowError(/LENGTH_MISMATCH/);
    expect(readPrimaryHeader(withSequenceCount(packet(1), 0x3fff)).seq).toBe(0x3fff);
  });

  it('delivers every packet exactly once and in order over a lossy, duplicating path', () => {
    const tx = new ReliableDownlinkSender(1, { windowK: 8, t1Ms: 50, transmissionLimit: 1000 });
    const rx = new ReliableDownlinkReceiver(1, 0x0d1, 16, 5);
    const delivered: number[] = [];
    let wire: Uint8Array[] = [];
    let x = 12345;
    const lose = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 16) % 100 < 30; // 30 % loss
    for (let i = 0; i < 100; i++) wire.push(...tx.offer(packet(i), 0));
    for (let now = 1; now < 20_000 && !tx.idle; now += 5) {
      for (const p of wire) {
        if (lose()) continue;
        if (rx.accept(p)) delivered.push(p[PRIMARY_HEADER_BYTES]);
        if (!lose()) rx.accept(p); // a duplicate now and then
      }
      wire = [];
      const ack = rx.ackDue(now);
      if (ack && !lose()) wire.push(...tx.onAck(decodeArqAck(ack, 0x0d1), now));
      wire.push(...tx.tick(now));
    }
    expect(tx.idle).toBe(true);
    expect(delivered).toEqual([...Array(100).keys()]);
    expect(tx.counters.retransmissions).toBeGreaterThan(0);
    expect(rx.counters.duplicates).toBeGreaterThan(0);
  });

  // A full window of 4 KB units takes about 1 s on the line, five times T1: the repeats T1
  // asks for must not queue behind stale copies (the 'injected link errors' pass stalled so).
  const lossy = { seed: 7, units: 300, unitBytes: 4015, ber: 2e-6, untilMs: 120_000 };

  it('a FIFO fed with every repeat livelocks when a window drains slower than T1', () => {
    const r = runLossyLine('fifo', lossy);
    expect(r.idle).toBe(false);
    expect(r.delivered.length).toBeLessThan(lossy.units);
    expect(r.fifoLength).toBeGreaterThan(1000); // stale copies pile up
  });

  it('through the outbox, every unit arrives exactly once and in order over the same line', () => {
    const r = runLossyLine('outbox', lossy);
    expect(r.idle).toBe(true);
    expect(r.delivered).toEqual([...Array(lossy.units).keys()].map((i) => i & 0xff));
    expect(r.retransmissions).toBeGreaterThan(0);
    // a clean run needs 300 x 32 ms = 9.6 s; losses of ~6 % cost a few round trips each
    expect(r.endMs).toBeLessThan(20_000);
  });

  it('the outbox keeps one copy of each N(S) in go-back-N order and withdraws acknowledged ones', () => {
    const ob = new ArqOutbox();
    const n = (ns: number) => withSequenceCount(packet(ns), ns);
    ob.put([n(254), n(255), n(0), n(1)]);
    ob.take(); // 254 went out
    ob.put([n(254), n(255), n(0), n(1), n(2)]); // go back to 254
    expect(ob.size).toBe(5);
    ob.acknowledge(0); // 254 and 255 done, across the wrap
    const order: number[] = [];
    for (let p = ob.take(); p; p = ob.take()) order.push(p[3]);
    expect(order).toEqual([0, 1, 2]);
    expect(ob.bytes).toBe(0);
  });
});
