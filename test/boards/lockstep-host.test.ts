import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SimClock } from '../../boards/clock.ts';
import { createEmulator } from '../../boards/emulator/index.ts';
import { LockstepError, LockstepHost, stepRequestIn } from '../../boards/emulator/lockstep-host.ts';
import { type BoardMessage, decodeBoardMessage, encodeRequest, frameMessage } from '../../protocols/board-link.ts';
import { decodeSerialFrame, DelimitedSplitter } from '../../protocols/serial-frame.ts';

/** A lockstep host around an apt emulator on its own SimClock; `out` collects every write to the pipe. */
function setup() {
  const emulator = createEmulator('apt', { clock: new SimClock(), seed: 3 });
  const writes: Uint8Array[] = [];
  const host = new LockstepHost(emulator, (b) => writes.push(b.slice()));
  const errors: LockstepError[] = [];
  host.onError((e) => errors.push(e));
  return { emulator, host, writes, errors };
}

const step = (seq: number, toMs: number) => frameMessage(encodeRequest(seq, { op: 'SIM', sim: { kind: 'STEP', toMs } }));
const identify = (seq: number) => frameMessage(encodeRequest(seq, { op: 'IDENTIFY' }));

function messages(writes: Uint8Array[]): BoardMessage[] {
  const split = new DelimitedSplitter();
  return writes.flatMap((w) => split.push(w)).filter((c) => c.length > 0).map((c) => decodeBoardMessage(decodeSerialFrame(c)));
}

const summary = (m: BoardMessage) => (m.kind === 'response' ? `${m.op}#${m.seq}${m.body?.op === 'SIM' && m.body.reachedMs !== undefined ? `@${m.body.reachedMs}` : ''}` : m.kind);

describe('lockstep host', () => {
  it('holds bench bytes until a STEP, then runs the board to that time', () => {
    const { emulator, host, writes } = setup();
    host.receive(identify(1));
    expect(emulator.stats.rxBytes).toBe(0);
    expect(writes).toEqual([]);
    expect(host.now()).toBe(0);
    host.receive(step(0, 5));
    expect(host.now()).toBe(5);
    expect(emulator.stats.requests).toBe(1);
    // One write per step: the board's output, then the STEP answer with the time reached.
    expect(writes).toHaveLength(1);
    expect(messages(writes).map(summary)).toEqual(['IDENTIFY#1', 'SIM#0@5']);
  });

  it('hands held bytes over at the previous grant: a request is answered within the next step', () => {
    const { host, writes } = setup();
    host.receive(step(0, 10));
    host.receive(identify(1));
    // 115200 baud: the request (about 10 bytes) is in by 1 ms, the answer (about 30 bytes) out by 4 ms.
    host.receive(step(1, 15));
    expect(messages(writes).map(summary)).toEqual(['SIM#0@10', 'IDENTIFY#1', 'SIM#1@15']);
  });

  it('writes an answer that has not left the board UART yet in a later step, in order', () => {
    const { host, writes } = setup();
    host.receive(identify(1));
    host.receive(step(0, 1)); // the request is still arriving at 115200 baud
    host.receive(step(1, 2));
    host.receive(step(2, 10));
    expect(messages(writes).map(summary)).toEqual(['SIM#0@1', 'SIM#1@2', 'IDENTIFY#1', 'SIM#2@10']);
  });

  it('bytes after a STEP in the same chunk wait for the next STEP', () => {
    const { emulator, host, writes } = setup();
    host.receive(Buffer.concat([step(0, 5), identify(9)]));
    expect(emulator.stats.requests).toBe(0);
    host.receive(step(1, 10));
    expect(emulator.stats.requests).toBe(1);
    expect(messages(writes).map(summary)).toEqual(['SIM#0@5', 'IDENTIFY#9', 'SIM#1@10']);
  });

  it('passes everything that is not a STEP on byte-exact (garbage reaches the board as garbage)', () => {
    const { emulator, host } = setup();
    host.receive(Uint8Array.of(0x05, 0x01, 0x02, 0x03, 0x04, 0x00));
    host.receive(step(0, 5));
    expect(emulator.stats.rxBytes).toBe(6);
    expect(emulator.stats.frameErrors).toBe(1);
  });

  it('refuses a STEP into the past with a typed error, keeps its time and says where it stands', () => {
    const { host, writes, errors } = setup();
    host.receive(step(0, 10));
    host.receive(step(1, 4));
    expect(host.now()).toBe(10);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(LockstepError);
    expect(errors[0].code).toBe('STEP_IN_PAST');
    expect(errors[0].message).toBe('board apt: STEP to 4 ms refused, its clock is at 10 ms');
    expect(messages(writes).map(summary)).toEqual(['SIM#0@10', 'SIM#1@10']);
    expect(host.stats).toMatchObject({ steps: 1, refused: 1 });
  });

  it('gives the same bytes however the bench stream is cut into chunks (seeded)', () => {
    const stream = Buffer.concat([identify(1), step(0, 3), frameMessage(encodeRequest(2, { op: 'READ_REGS', addresses: [0x0100, 0x0003] })), step(1, 4), step(2, 20)]);
    const whole = setup();
    whole.host.receive(stream);
    const reference = Buffer.concat(whole.writes).toString('hex');
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 12 }), (cuts) => {
        const s = setup();
        let from = 0;
        for (const c of [...cuts.sort((a, b) => a - b), stream.length]) {
          s.host.receive(stream.subarray(from, c));
          from = c;
        }
        expect(Buffer.concat(s.writes).toString('hex')).toBe(reference);
      }),
      { seed: 12, numRuns: 100 },
    );
  });

  it('recognises only whole STEP requests', () => {
    expect(stepRequestIn(step(7, 2.5).subarray(0, -1))).toEqual({ seq: 7, toMs: 2.5 });
    expect(stepRequestIn(identify(7).subarray(0, -1))).toBeNull();
    const bent = step(7, 2.5).slice(0, -1);
    bent[5] ^= 0x10;
    expect(stepRequestIn(bent)).toBeNull();
  });

  it('a board that is not in lockstep refuses STEP with NOT_SUPPORTED', () => {
    const clock = new SimClock();
    const emulator = createEmulator('apt', { clock, seed: 3 });
    const out: Uint8Array[] = [];
    emulator.onTransmit((b) => out.push(b));
    emulator.receive(step(4, 100));
    clock.runUntil(20);
    expect(messages(out)).toEqual([{ kind: 'response', seq: 4, op: 'SIM', status: 'NOT_SUPPORTED' }]);
  });

  it('needs the emulator on a SimClock of its own', () => {
    const emulator = createEmulator('apt', { clock: { kind: 'wall', now: () => 0, setTimeout: () => 0, clearTimeout: () => {}, hold: () => () => {} }, seed: 1 });
    expect(() => new LockstepHost(emulator, () => {})).toThrow(/own SimClock/);
  });
});
