import { describe, expect, it } from 'vitest';
import { SimClock, sleep } from '../../boards/clock.ts';
import { FaultyTransport } from '../../hil/transport/faulty.ts';
import { MemoryTransport } from '../../hil/transport/memory.ts';

async function line(seed: number) {
  const clock = new SimClock();
  const inner = new MemoryTransport('test line', clock, 1_000_000);
  const far: number[] = [];
  const back = inner.attach((b) => far.push(...b));
  const t = new FaultyTransport(inner, clock, seed);
  await t.open();
  const near: number[] = [];
  t.onData((b) => near.push(...b));
  return { clock, t, far, near, back };
}

describe('transport fault injection', () => {
  it('drops and corrupts bytes at the configured rates, the same way for the same seed', async () => {
    const run = async (seed: number) => {
      const { clock, t, far } = await line(seed);
      t.inject({ dropRate: 0.05, corruptRate: 0.05, direction: 'tx' });
      const data = Uint8Array.from({ length: 4000 }, (_, i) => i & 0xff);
      t.write(data);
      await sleep(clock, 100);
      return { far, stats: { ...t.stats } };
    };
    const a = await run(1);
    expect(a.stats.droppedBytes).toBeGreaterThan(120);
    expect(a.stats.droppedBytes).toBeLessThan(300);
    expect(a.stats.corruptedBytes).toBeGreaterThan(120);
    expect(a.far.length).toBe(4000 - a.stats.droppedBytes);
    expect(await run(1)).toEqual(a);
    expect((await run(2)).far).not.toEqual(a.far);
  });

  it('applies only to the chosen direction, delays in bench time, and a disconnect loses bytes both ways', async () => {
    const { clock, t, far, near, back } = await line(1);
    t.inject({ corruptRate: 1, direction: 'rx', maxFaults: 3 });
    t.write(Uint8Array.of(1, 2, 3));
    back(Uint8Array.of(0, 0, 0, 0));
    await sleep(clock, 1);
    expect(far).toEqual([1, 2, 3]);
    expect(near.filter((b) => b !== 0).length).toBe(3);
    t.inject({ delayMs: 50 });
    const t0 = clock.now();
    let at = -1;
    t.onData(() => (at = clock.now()));
    back(Uint8Array.of(9));
    await sleep(clock, 100);
    expect(at - t0).toBeCloseTo(50, 6);
    t.clear();
    t.disconnect();
    t.write(Uint8Array.of(7));
    back(Uint8Array.of(7));
    await sleep(clock, 1);
    expect(far).toEqual([1, 2, 3]);
    expect(near[near.length - 1]).toBe(9);
    t.reconnect();
    t.write(Uint8Array.of(8));
    await sleep(clock, 1);
    expect(far).toEqual([1, 2, 3, 8]);
  });
});

describe('in-memory pair', () => {
  it('carries PUS packets in serial frames both ways, paced at the baud rate in simulated time', async () => {
    const { memoryPair } = await import('../../hil/transport/memory.ts');
    const { FramedPacketEndpoint } = await import('../../hil/bench/payload.ts');
    const { encodeSerialFrame } = await import('../../protocols/serial-frame.ts');
    const clock = new SimClock();
    const [a, b] = memoryPair(clock, 115_200);
    await a.open();
    await b.open();
    const bench = new FramedPacketEndpoint(a);
    const got: number[][] = [];
    bench.onTm((p) => got.push([...p]));
    const atB: number[] = [];
    b.onData((x) => atB.push(...x));
    bench.sendTc(Uint8Array.of(1, 2, 3));
    b.write(encodeSerialFrame(Uint8Array.of(9, 0, 9)));
    await sleep(clock, 5);
    expect(got).toEqual([[9, 0, 9]]);
    expect(atB).toEqual([...encodeSerialFrame(Uint8Array.of(1, 2, 3))]);
  });
});

describe('board-link decoders for npm run decode', () => {
  it('decodes an exported direction frame by frame, reporting bad frames and carrying on', async () => {
    const { Readable } = await import('node:stream');
    const { decodeBoardLinkStream } = await import('../../hil/capture-decode.ts');
    const { encodeRequest, frameMessage } = await import('../../protocols/board-link.ts');
    const good1 = frameMessage(encodeRequest(1, { op: 'IDENTIFY' }));
    const bad = frameMessage(encodeRequest(2, { op: 'READ_REGS', addresses: [1] }));
    bad[3] ^= 0x10;
    const good2 = frameMessage(encodeRequest(3, { op: 'STREAM_STOP' }));
    const recs: Record<string, unknown>[] = [];
    const r = await decodeBoardLinkStream(Readable.from([Buffer.concat([good1, bad, good2])]), (x) => recs.push(x));
    expect(r.valid).toBe(2);
    expect(r.invalid).toBe(1);
    expect(recs.map((x) => x.op ?? x.code)).toEqual(['IDENTIFY', expect.stringMatching(/CRC_MISMATCH|COBS_INVALID/), 'STREAM_STOP']);
  });
});
