import { describe, expect, it } from 'vitest';
import { SimClock } from '../../boards/clock.ts';
import { loadBoardDefinition } from '../../boards/definitions.ts';
import { BoardDriver } from '../../hil/driver.ts';
import { BoardError } from '../../hil/errors.ts';
import { FrameLink } from '../../hil/framing.ts';
import { exchangeWireMs, RequestEngine } from '../../hil/request-engine.ts';
import { memoryPair } from '../../hil/transport/memory.ts';
import { type BoardRequest, encodeResponse, encodeTelemetry, type ResponseBody, type ResponseMessage, type Status } from '../../protocols/board-link.ts';

/**
 * The request engine's two faces on an in-memory line, against a scripted board: the
 * script sees every request (seq and body) and answers, or drops it, 1 ms later.
 */
const BAUD = 115_200;
const lct = loadBoardDefinition('lct');
const RESET_COUNT_ADDR = 0x0005;

type Answer = { status?: Status; body?: ResponseBody } | 'drop';

function setup(script: (req: BoardRequest, seq: number) => Answer, o: { timeoutMs?: number; retries?: number; baud?: number } = {}) {
  const clock = new SimClock();
  const [rigSide, boardSide] = memoryPair(clock, BAUD, ['rig', 'board']);
  void rigSide.open();
  void boardSide.open();
  const board = new FrameLink(boardSide, clock, null);
  const seen: { seq: number; req: BoardRequest }[] = [];
  board.onMessage((m) => {
    if (m.kind !== 'request') return;
    seen.push({ seq: m.seq, req: m.request });
    const a = script(m.request, m.seq);
    if (a === 'drop') return;
    const op = m.request.op;
    clock.setTimeout(() => board.send(encodeResponse(m.seq, op, a.status ?? 'OK', a.status && a.status !== 'OK' ? undefined : (a.body ?? ({ op } as ResponseBody)))), 1);
  });
  const link = new FrameLink(rigSide, clock, null);
  const engine = new RequestEngine(lct, link, { clock, timeoutMs: o.timeoutMs ?? 50, retries: o.retries ?? 2, baud: o.baud });
  return { clock, board, engine, seen, link };
}

/** A board with a reset counter: RESET adds one (`dropResetAnswer` loses the answer; `ignoreFirstReset` loses the request). */
function resettingBoard(o: { dropResetAnswer?: boolean; ignoreFirstReset?: boolean }) {
  let count = 5;
  let resets = 0;
  const script = (req: BoardRequest): Answer => {
    if (req.op === 'READ_REGS') return { body: { op: 'READ_REGS', values: req.addresses.map((address) => ({ address, value: address === RESET_COUNT_ADDR ? count : 0 })) } };
    if (req.op === 'RESET') {
      resets++;
      if (o.ignoreFirstReset && resets === 1) return 'drop';
      count++;
      return o.dropResetAnswer ? 'drop' : {};
    }
    return {};
  };
  return { script, executed: () => count - 5 };
}

function run(engine: RequestEngine, clock: SimClock, req: BoardRequest, key?: string) {
  const out: { r?: ResponseMessage | null; err?: BoardError } = {};
  engine.request(req, (r, err) => Object.assign(out, { r, err }), key);
  clock.runUntilTrue(() => 'r' in out, 5000, 1);
  return out;
}

describe('request engine, callback face', () => {
  it('resends a lost request with the same seq and counts the retry and the timeout', () => {
    let dropped = false;
    const { clock, engine, seen } = setup((_req, seq) => (seq === 1 && !dropped ? ((dropped = true), 'drop') : {}));
    expect(run(engine, clock, { op: 'STREAM_STOP' }).r?.status).toBe('OK');
    const out = run(engine, clock, { op: 'STREAM_STOP' });
    expect(out.err).toBeUndefined();
    expect(out.r?.status).toBe('OK');
    expect(seen.map((s) => s.seq)).toEqual([0, 1, 1]);
    expect(engine.stats).toMatchObject({ requests: 2, retries: 1, timeouts: 1, failed: 0 });
  });

  it('times each attempt out after the board time plus the wire time of request and longest answer at the line rate', () => {
    const { clock, engine } = setup(() => 'drop', { timeoutMs: 50, retries: 0, baud: BAUD });
    const req: BoardRequest = { op: 'IDENTIFY' };
    const out = run(engine, clock, req);
    expect(out.err?.code).toBe('NO_RESPONSE');
    expect(out.err?.message).toMatch(/no response to IDENTIFY \(seq 0\) after 1 attempt\(s\) of 50 ms/);
    // IDENTIFY is 4 bytes (header) framed to at most 11; its longest answer carries a 32-character name.
    expect(exchangeWireMs(req, BAUD)).toBeGreaterThan(4);
    expect(clock.now()).toBeGreaterThanOrEqual(50 + exchangeWireMs(req, BAUD));
    expect(clock.now()).toBeLessThan(50 + exchangeWireMs(req, BAUD) + 1);
  });

  it('coalesces queued writes with the same key: only the newest value goes out', () => {
    const { clock, engine, seen } = setup((req) => (req.op === 'WRITE_REGS' ? { body: { op: 'WRITE_REGS', values: req.writes } } : {}));
    const done: number[] = [];
    for (const v of [1, 2, 3, 4]) engine.write({ UPLINK_RATE_KBPS: v }, () => done.push(v), 'rate');
    clock.runUntil(100);
    const sent = seen.map((s) => (s.req.op === 'WRITE_REGS' ? s.req.writes[0].value : -1));
    // 1 went out at once; 2 and 3 were replaced in the queue by 4.
    expect(sent).toEqual([1, 4]);
    expect(done).toEqual([1, 4]);
    expect(engine.stats.coalesced).toBe(2);
  });

  it('a RESET whose answer is lost is confirmed by the reset counter, never sent twice', () => {
    const b = resettingBoard({ dropResetAnswer: true });
    const { clock, engine, seen } = setup(b.script);
    const out = run(engine, clock, { op: 'RESET', mode: 0 });
    expect(out.err).toBeUndefined();
    expect(out.r?.status).toBe('OK');
    expect(seen.filter((s) => s.req.op === 'RESET')).toHaveLength(1);
    expect(b.executed()).toBe(1);
    expect(engine.stats.confirmedByState).toBe(1);
  });

  it('a RESET that never arrived (counter unchanged) is sent again, once', () => {
    const b = resettingBoard({ ignoreFirstReset: true });
    const { clock, engine, seen } = setup(b.script);
    const out = run(engine, clock, { op: 'RESET', mode: 0 });
    expect(out.r?.status).toBe('OK');
    expect(seen.filter((s) => s.req.op === 'RESET')).toHaveLength(2);
    expect(b.executed()).toBe(1);
    expect(engine.stats.confirmedByState).toBe(0);
  });

  it('an armed power loss (after N bytes) is sent once and fails when its answer is lost', () => {
    const { clock, engine, seen } = setup((req) => (req.op === 'SIM' ? 'drop' : {}));
    const out = run(engine, clock, { op: 'SIM', sim: { kind: 'POWER_LOSS', offMs: 100, afterRxBytes: 10 } });
    expect(out.err?.code).toBe('NO_RESPONSE');
    expect(out.err?.message).toMatch(/not resent/);
    expect(seen).toHaveLength(1);
  });

  it('decodes telemetry into engineering values and counts lost frames (a counter back at 0 is a reset, not a loss)', () => {
    const { clock, board, engine } = setup(() => ({}));
    const samples: number[] = [];
    engine.onTelemetry((s) => samples.push(s.seq));
    // lct items: UPLINK_LOCK, DOWNLINK_LOCK, RX_POWER_DBM (s16, 0.01), UPLINK_BIT_ERRORS, UPLINK_KBITS, BER_LOG10 (s16, 0.01), BOARD_TEMP_C (s16, 0.01), SUPPLY_V (0.001), FAULT_FLAGS
    const raw = [1, 0, 0xf060, 7, 9, 0xfa24, 2512, 4980, 0];
    for (const [k, seq] of [10, 11, 14, 0, 1].entries()) clock.setTimeout(() => board.send(encodeTelemetry(seq, 1000 + k, raw)), 1 + k);
    clock.runUntil(100);
    expect(samples).toEqual([10, 11, 14, 0, 1]);
    expect(engine.stats).toMatchObject({ telemetryFrames: 5, telemetryGaps: 1, telemetryLost: 2 });
    expect(engine.value('UPLINK_LOCK')).toBe(1);
    expect(engine.value('RX_POWER_DBM')).toBeCloseTo(-40, 9); // 0xf060 = -4000
    expect(engine.value('BER_LOG10')).toBeCloseTo(-15, 9); // 0xfa24 = -1500
    expect(engine.value('BOARD_TEMP_C')).toBeCloseTo(25.12, 9);
    expect(engine.value('SUPPLY_V')).toBeCloseTo(4.98, 9);
    expect(engine.lastTelemetryMs).toBeGreaterThan(0);
  });
});

describe('request engine, promise face (BoardDriver) over the same engine', () => {
  const identity = { boardId: 0x5103, hwVersion: 0x0100, fwVersion: 0x030100, serialNumber: 1, emulated: true, name: 'lct' };

  it('runs promise and callback requests in one queue, in submission order', async () => {
    const { clock, link, seen } = setup(() => ({}));
    const driver = new BoardDriver(lct, link, { clock, timeoutMs: 50, retries: 0 });
    const order: string[] = [];
    const before = seen.length;
    driver.engine.request({ op: 'STREAM_STOP' }, () => order.push('callback 1'));
    const p = driver.request({ op: 'STREAM_STOP' }).then(() => order.push('promise'));
    driver.engine.request({ op: 'STREAM_STOP' }, () => order.push('callback 2'));
    await p;
    await clock.advanceTo(clock.now() + 50);
    expect(order).toEqual(['callback 1', 'promise', 'callback 2']);
    expect(seen.slice(before).map((s) => s.seq)).toEqual([0, 1, 2]);
    expect(driver.stats.requests).toBe(3);
  });

  it('checks identity once for both faces: the same WRONG_IDENTITY from verifyIdentity()', async () => {
    const wrong = { ...identity, fwVersion: 0x030200 };
    const { clock, link } = setup((req) => (req.op === 'IDENTIFY' ? { body: { op: 'IDENTIFY', identity: wrong } } : {}));
    const driver = new BoardDriver(lct, link, { clock, timeoutMs: 50, retries: 0 });
    const err = await driver.verifyIdentity().catch((e: unknown) => e as BoardError);
    expect(err).toBeInstanceOf(BoardError);
    expect((err as BoardError).code).toBe('WRONG_IDENTITY');
    expect((err as BoardError).message).toMatch(/firmware 3\.2\.0 where 3\.1\.0 is expected/);
    let cbErr: BoardError | undefined;
    driver.engine.verifyIdentity((_id, e) => (cbErr = e));
    clock.runUntilTrue(() => cbErr !== undefined, 1000, 1);
    expect(cbErr?.message).toBe((err as BoardError).message);
  });

  it('resolves with the OK body and rejects a refusal with its status', async () => {
    const { clock, link } = setup((req) => (req.op === 'IDENTIFY' ? { body: { op: 'IDENTIFY', identity } } : { status: 'OUT_OF_RANGE' }));
    const driver = new BoardDriver(lct, link, { clock, timeoutMs: 50, retries: 0 });
    expect((await driver.verifyIdentity()).boardId).toBe(0x5103);
    await expect(driver.write({ UPLINK_RATE_KBPS: 5 })).rejects.toThrow(/WRITE_REGS refused with OUT_OF_RANGE/);
    expect(driver.stats.refused).toBe(1);
  });
});
