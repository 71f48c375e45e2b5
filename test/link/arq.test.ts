import { describe, expect, it } from 'vitest';
import { ReliableDownlinkSender } from '../../firmware/link/reliable-downlink.ts';
import { ReliableDownlinkReceiver } from '../../hil/link/reliable-downlink-receiver.ts';
import { decodeArqAck, encodeArqAck, withSequenceCount } from '../../protocols/link/arq.ts';
import { encodeOpaquePacket } from '../../protocols/link/opaque-packet.ts';
import { readPrimaryHeader, PRIMARY_HEADER_BYTES } from '../../protocols/space-packet.ts';

function packet(n: number): Uint8Array {
  return encodeOpaquePacket('TM', 0x0d0, 0, new Uint8Array(8).fill(n));
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
});
