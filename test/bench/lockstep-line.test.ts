import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SimClock, sleep } from '../../boards/clock.ts';
import { loadBoardDefinition } from '../../boards/definitions.ts';
import { stepRequestIn } from '../../boards/emulator/lockstep-host.ts';
import { BoardDriver } from '../../hil/driver.ts';
import { lockstepInProcess } from '../../hil/emulator-host.ts';
import { FrameLink } from '../../hil/framing.ts';
import { installLockstep, LockstepLine, lockstepHook } from '../../hil/transport/lockstep.ts';
import { MemoryTransport } from '../../hil/transport/memory.ts';
import type { ByteTransport } from '../../hil/transport/types.ts';
import { RequestEngine } from '../../hil/request-engine.ts';
import { DelimitedSplitter } from '../../protocols/serial-frame.ts';
import { type BoardRequest, encodeRequest, encodeResponse, encodeTelemetry, frameMessage } from '../../protocols/board-link.ts';

/**
 * The bench's end of lockstep against a scripted far end: `board(toMs, seq)` says what
 * the far end writes back for each STEP (null: nothing), synchronously or later.
 */
function scripted(board: (toMs: number, seq: number) => Uint8Array[] | null, o: { later?: boolean; answerTimeoutMs?: number } = {}) {
  const clock = new SimClock();
  const pipe = MemoryTransport.unpaced('scripted board');
  const split = new DelimitedSplitter();
  const benchWrites: string[] = [];
  let back: (b: Uint8Array) => void = () => {};
  back = pipe.attach((bytes) => {
    for (const c of split.push(bytes)) {
      const s = stepRequestIn(c);
      if (!s) {
        benchWrites.push(Buffer.from(c).toString('hex'));
        continue;
      }
      const out = board(s.toMs, s.seq);
      if (!out) continue;
      if (o.later) for (const b of out) setImmediate(() => back(b));
      else for (const b of out) back(b);
    }
  });
  const line = new LockstepLine(pipe, clock, { answerTimeoutMs: o.answerTimeoutMs ?? 2000 });
  void line.open();
  const got: { t: number; hex: string }[] = [];
  line.onData((b) => got.push({ t: clock.now(), hex: Buffer.from(b).toString('hex') }));
  const closed: string[] = [];
  line.onClose((r) => closed.push(r));
  return { clock, line, got, closed, benchWrites };
}

/** A STEP answer; by default the board has an event right at the time reached (never quiet). */
const answer = (seq: number, reachedMs: number, quietUntilMs = reachedMs) => frameMessage(encodeResponse(seq, 'SIM', 'OK', { op: 'SIM', reachedMs, quietUntilMs }));
const tlm = (n: number) => frameMessage(encodeTelemetry(n, n, [n]));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('lockstep line', () => {
  it('filters STEP answers out and delivers what came before them at exactly toMs (synchronous far end)', () => {
    const s = scripted((toMs, seq) => (toMs === 2 ? [tlm(1), tlm(2), answer(seq, toMs)] : [answer(seq, toMs)]));
    expect(s.line.grant(1)).toBeUndefined();
    expect(s.line.grant(2)).toBeUndefined();
    expect(s.got).toEqual([]); // held until bench time reaches the grant
    s.clock.runUntil(5);
    expect(s.got).toEqual([{ t: 2, hex: hex(tlm(1)) + hex(tlm(2)) }]);
    expect(s.line.stats).toEqual({ grants: 2, catchUps: 0, quietQuanta: 0, deliveredBytes: tlm(1).length + tlm(2).length });
  });

  it('delivers the same single chunk at toMs however another process cut the bytes', async () => {
    const bytes = Buffer.concat([tlm(7), answer(0, 3, 3.5)]);
    const s = scripted(() => [bytes.subarray(0, 5), bytes.subarray(5, 31), bytes.subarray(31)], { later: true });
    const w = s.line.grant(3);
    expect(w).toBeInstanceOf(Promise);
    await w;
    s.clock.runUntil(3);
    expect(s.got).toEqual([{ t: 3, hex: hex(tlm(7)) }]);
  });

  it('passes bench writes through unchanged, each STEP after them', () => {
    const s = scripted((toMs, seq) => [answer(seq, toMs)]);
    s.line.write(Uint8Array.of(0x02, 0x11, 0x00));
    s.line.grant(1);
    expect(s.benchWrites).toEqual(['0211']);
  });

  it('follows the SimClock: one grant per quantum, empty ones included, in a synchronous run', () => {
    const seen: number[] = [];
    const s = scripted((toMs, seq) => (seen.push(toMs), [answer(seq, toMs)]));
    installLockstep(s.clock, [s.line], 2);
    s.clock.runUntil(7);
    expect(seen).toEqual([2, 4, 6, 8]);
  });

  it('leaves a quiet board ungranted until its next event, then brings it there in one STEP', () => {
    const seen: number[] = [];
    // Its one event is at 10 ms; after it, nothing is scheduled.
    const s = scripted((toMs, seq) => (seen.push(toMs), [answer(seq, toMs, toMs < 10 ? 10 : Infinity)]));
    installLockstep(s.clock, [s.line], 1);
    s.clock.runUntil(7);
    expect(seen).toEqual([1]); // after its first answer the board said: nothing before 10 ms
    s.clock.runUntil(12);
    expect(seen).toEqual([1, 10]); // the quantum ending at 10 holds its event: granted, from 1 ms in one STEP
    expect(s.line.stats).toMatchObject({ grants: 2, quietQuanta: 10, catchUps: 0 });
  });

  it('a write to a quiet board left behind sends a catch-up STEP to the last boundary first, then the quantum after it is granted', () => {
    const log: string[] = [];
    const clock = new SimClock();
    const pipe = MemoryTransport.unpaced('quiet board');
    const split = new DelimitedSplitter();
    let back: (b: Uint8Array) => void = () => {};
    back = pipe.attach((bytes) => {
      for (const c of split.push(bytes)) {
        const st = stepRequestIn(c);
        log.push(st ? `step ${st.toMs}` : `write ${hex(c)}`);
        if (st) back(answer(st.seq, st.toMs, Infinity));
      }
    });
    const line = new LockstepLine(pipe, clock);
    void line.open();
    installLockstep(clock, [line], 1);
    clock.runUntil(5);
    line.write(Uint8Array.of(0x02, 0x11, 0x00));
    clock.runUntil(9);
    // The bytes reach the board at 5 ms, as when every quantum is granted; the board is then granted 6 and, quiet again, left.
    expect(log).toEqual(['step 1', 'step 5', 'write 0211', 'step 6']);
    expect(line.stats).toMatchObject({ grants: 2, catchUps: 1 });
  });

  it('output from a board that said it was quiet closes the line with NOT_QUIET', () => {
    const s = scripted((toMs, seq) => (toMs === 1 ? [answer(seq, toMs, Infinity)] : [tlm(3), answer(seq, toMs, Infinity)]));
    installLockstep(s.clock, [s.line], 1);
    s.clock.runUntil(4);
    s.line.write(Uint8Array.of(0x02, 0x11, 0x00));
    expect(s.line.failure?.code).toBe('NOT_QUIET');
    expect(s.closed[0]).toBe(`scripted board: the board sent ${tlm(3).length} bytes by 4 ms although it had said it was quiet until Infinity ms`);
  });

  it('grants several lines in parallel: every STEP is written before any answer is awaited', async () => {
    const order: string[] = [];
    const a = scripted((toMs, seq) => (order.push(`a${toMs}`), [answer(seq, toMs)]), { later: true });
    const b = scripted((toMs, seq) => (order.push(`b${toMs}`), [answer(seq, toMs)]), { later: true });
    await lockstepHook([a.line, b.line])(1);
    expect(order).toEqual(['a1', 'b1']);
    expect(a.line.isOpen && b.line.isOpen).toBe(true);
  });

  it('an answer for another time closes the line with STEP_IN_PAST; later grants do nothing', () => {
    const s = scripted((_toMs, seq) => [answer(seq, 10)]);
    expect(s.line.grant(4)).toBeUndefined();
    expect(s.line.failure?.code).toBe('STEP_IN_PAST');
    expect(s.closed).toEqual(['scripted board: STEP to 4 ms answered with the board at 10 ms']);
    expect(s.line.isOpen).toBe(false);
    expect(s.line.grant(5)).toBeUndefined();
    expect(s.line.stats.grants).toBe(1);
  });

  it('no answer: NO_STEP_ANSWER within the wall timeout, naming a board that refused STEP', async () => {
    const s = scripted((_toMs, seq) => [frameMessage(encodeResponse(seq, 'SIM', 'NOT_SUPPORTED'))], { answerTimeoutMs: 30 });
    await s.line.grant(1);
    expect(s.line.failure?.code).toBe('NO_STEP_ANSWER');
    expect(s.closed[0]).toMatch(/^scripted board: no answer to STEP to 1 ms within 30 ms \(the board answered SIM NOT_SUPPORTED: is it an emulator in lockstep/);
    // The refusal was not a STEP answer: it goes on to the consumer.
    s.clock.runUntil(1);
    expect(s.got).toEqual([]);
  });

  it('a line that goes away while a grant is out ends the grant and reports the cause', async () => {
    let pulled: (reason: string) => void = () => {};
    const cable: ByteTransport = {
      description: 'cable',
      isOpen: true,
      open: async () => {},
      close: async () => {},
      write: () => {},
      onData: () => () => {},
      onClose: (cb) => ((pulled = cb), () => {}),
    };
    const line = new LockstepLine(cable, new SimClock());
    const closed: string[] = [];
    line.onClose((r) => closed.push(r));
    const w = line.grant(1);
    pulled('cable pulled');
    await w;
    expect(line.failure?.code).toBe('LINE_CLOSED');
    expect(line.isOpen).toBe(false);
    expect(closed).toEqual(['cable pulled']);
  });

  it('drives an in-process lockstep host through the request engine on a synchronous run', () => {
    const clock = new SimClock();
    const { transport, host } = lockstepInProcess('apt', { seed: 5 });
    const line = new LockstepLine(transport, clock);
    void line.open();
    installLockstep(clock, [line], 1);
    const engine = new RequestEngine(loadBoardDefinition('apt'), new FrameLink(line, clock, null), { clock, timeoutMs: 100, retries: 0, baud: 115_200 });
    let name = '';
    engine.verifyIdentity((id) => (name = id?.name ?? 'none'));
    expect(clock.runUntilTrue(() => name !== '', 50, 1)).toBe(true);
    expect(name).toBe('apt');
    // The board answered at the boundary after the request; idle since, it was left where its last event put it.
    expect(host.now()).toBeLessThanOrEqual(clock.now());
    expect(line.stats.grants).toBeGreaterThan(0);
  });

  it('drives an in-process lockstep host through the promise face on the held clock', async () => {
    const clock = new SimClock();
    const { transport, host } = lockstepInProcess('apt', { seed: 5 });
    const line = new LockstepLine(transport, clock);
    await line.open();
    installLockstep(clock, [line], 1);
    const link = new FrameLink(line, clock, null);
    const driver = new BoardDriver(loadBoardDefinition('apt'), link, { clock, timeoutMs: 100, retries: 0, baud: 115_200 });
    expect((await driver.verifyIdentity()).name).toBe('apt');
    // The board's clock is the bench's, to the quantum.
    expect(host.now()).toBe(Math.ceil(clock.now()));
    // Idle, the board is not granted the 20 ms; a request brings it to the bench's time first.
    const before = host.now();
    await sleep(clock, 20);
    expect(host.now()).toBeLessThan(clock.now());
    expect((await driver.verifyIdentity()).name).toBe('apt');
    expect(host.now()).toBe(Math.ceil(clock.now()));
    expect(host.now()).toBeGreaterThanOrEqual(before + 20);
    expect(link.messagesOk).toBe(2); // the STEP answers never reached the framing
  });
});

describe('lockstep line: quiet boards left ungranted', () => {
  const request = fc.constantFrom<BoardRequest>(
    { op: 'IDENTIFY' },
    { op: 'READ_REGS', addresses: [0x0102, 0x0103] },
    { op: 'WRITE_REGS', writes: [{ address: 0x0100, value: 12_345 }] },
    { op: 'STREAM_START', periodMs: 5 },
    { op: 'STREAM_START', periodMs: 17 },
    { op: 'STREAM_STOP' },
  );

  /** What the bench receives from an in-process apt host (bench time, bytes) for requests written at the given times. */
  function run(schedule: { atMs: number; req: BoardRequest }[], skipQuiet: boolean) {
    const clock = new SimClock();
    const { transport, host } = lockstepInProcess('apt', { seed: 3 });
    const line = new LockstepLine(transport, clock, { skipQuiet });
    void line.open();
    installLockstep(clock, [line], 1);
    const got: string[] = [];
    line.onData((b) => got.push(`${clock.now()} ${hex(b)}`));
    schedule.forEach(({ atMs, req }, seq) => clock.setTimeout(() => line.write(frameMessage(encodeRequest(seq, req))), atMs));
    clock.runUntil(200);
    return { got, boardMs: host.now(), stats: line.stats };
  }

  it('the board gets the same bytes at the same times and sends the same bytes back at the same times as with a STEP every quantum', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ atMs: fc.double({ min: 0, max: 150, noNaN: true }), req: request }), { maxLength: 12 }), (schedule) => {
        const quiet = run(schedule, true);
        const every = run(schedule, false);
        expect(quiet.got).toEqual(every.got);
        expect(every.stats.grants).toBe(200);
        expect(quiet.stats.grants + quiet.stats.quietQuanta).toBe(200);
      }),
      { seed: 12, numRuns: 40 },
    );
  });

  it('an idle board costs one STEP, a streaming one a STEP per frame', () => {
    expect(run([], true).stats).toMatchObject({ grants: 1, quietQuanta: 199 });
    const streaming = run([{ atMs: 0, req: { op: 'STREAM_START', periodMs: 20 } }], true);
    expect(streaming.got.length).toBeGreaterThanOrEqual(9); // the response and a frame every 20 ms
    expect(streaming.stats.grants).toBeLessThan(200 / 2);
  });
});
