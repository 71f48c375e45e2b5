import { describe, expect, it } from 'vitest';
import { sleep } from '../../boards/clock.ts';
import { loadBoardDefinition } from '../../boards/definitions.ts';
import { decodePacket, encodeEvent, encodeHousekeeping, encodeReport, PAYLOAD_MODES } from '../../protocols/dictionary/index.ts';
import { Bench, BenchTimeout } from '../../hil/bench/bench.ts';
import { applyPortOverrides, parseBenchConfig } from '../../hil/bench/config.ts';
import { inMemoryEndpoint } from '../../hil/bench/payload.ts';
import { decodeCapture, readCapture, rejectedFrames } from '../../hil/capture.ts';
import { BoardDriver } from '../../hil/driver.ts';
import { FrameLink } from '../../hil/framing.ts';
import { ReplayTransport } from '../../hil/transport/replay.ts';
import { SimClock } from '../../boards/clock.ts';
import { config } from './helpers.ts';

/**
 * A stand-in payload controller speaking the dictionary: verifies every TC (SET_MODE
 * to QKD from STANDBY is refused), reports MODE_CHANGED, and sends PAYLOAD_HK every
 * 100 ms with a laser temperature that leaves its yellow limit and comes back.
 */
function fakePayload(bench: Bench) {
  const { endpoint, payloadSide } = inMemoryEndpoint('fake payload');
  let seq = 0;
  let mode = 'STANDBY';
  let tempC = 25;
  const opts = () => ({ seq: seq++ & 0x3fff, timeS: bench.now() / 1000 });
  payloadSide.onTc((p) => {
    const d = decodePacket(p);
    const rid = { tcVersion: 0, tcType: 1, tcSecHeader: 1, tcApid: d.header.apid, tcSeqFlags: 3, tcSeq: d.header.seq };
    payloadSide.sendTm(encodeReport('VERIFY_ACCEPT_OK', rid, opts()));
    if (d.name === 'SET_MODE') {
      const to = String(d.fields!.mode);
      if (to === 'QKD') {
        payloadSide.sendTm(encodeReport('VERIFY_COMPLETE_FAIL', { ...rid, failureCode: 'TRANSITION_NOT_ALLOWED', detail: 'STANDBY -> QKD not allowed' }, opts()));
        return;
      }
      payloadSide.sendTm(encodeEvent('MODE_CHANGED', { from: mode, to }, opts()));
      mode = to;
    }
    payloadSide.sendTm(encodeReport('VERIFY_COMPLETE_OK', rid, opts()));
  });
  let n = 0;
  const hk = () => {
    n++;
    tempC = n > 10 && n < 20 ? 31.5 : 25; // yellow high is 30
    payloadSide.sendTm(
      encodeHousekeeping(
        'PAYLOAD_HK',
        { mode, activeBank: 'A', configGeneration: 1, uptimeS: n, tcAccepted: 0, tcRejected: 0, faultsActive: 0, laserTempC: tempC, pointingErrorMeanUrad: 0, pointingErrorRmsUrad: 1, pointingErrorMaxUrad: 2, fsmXUrad: 0, fsmYUrad: 0, fineLock: false, emitting: false, frameNumber: 0, pulsesSent: 0, elevationDeg: 20 },
        opts(),
      ),
    );
    bench.clock.setTimeout(hk, 100);
  };
  bench.clock.setTimeout(hk, 100);
  return endpoint;
}

describe('bench, in-memory tier (simulated time)', () => {
  it('opens emulated boards in simulated time, streams telemetry into histories, waits in bench time', async () => {
    const bench = await Bench.open(config({ apt: { mode: 'emulated' }, qsrc: { mode: 'emulated' } }), { seed: 3, runName: 'mem-basic' });
    try {
      expect(bench.clock.kind).toBe('sim');
      const apt = bench.board('apt');
      await apt.beacon(80, 40);
      await apt.linkLoss(30);
      const m = bench.mark();
      const s = await bench.waitTlm('apt.SPOT_VALID', (v) => v === 1, { timeoutMs: 1000 });
      expect(s.t).toBeGreaterThanOrEqual(m);
      await bench.sleep(10_000); // ten seconds of bench time, in well under a second of wall time
      expect(bench.now()).toBeGreaterThan(10_000);
      expect(bench.history('apt.SPOT_X_URAD', m).length).toBeGreaterThan(150);
      expect(bench.history('qsrc.LASER_TEMP_C').length).toBeGreaterThan(90);
      await expect(bench.waitTlm('apt.SPOT_VALID', (v) => v === 5, { timeoutMs: 300 })).rejects.toThrow(BenchTimeout);
      await expect(bench.waitTlm('apt.SPOT_VALID', (v) => v === 5, { timeoutMs: 300 })).rejects.toThrow(/300 ms of bench time waiting for apt.SPOT_VALID/);
    } finally {
      await bench.close();
    }
  });

  it('sends telecommands by dictionary name, waits for verification, asserts events, monitors limits', async () => {
    const cfg = config({ apt: { mode: 'emulated' } });
    const bench = await Bench.open(cfg, { seed: 1, runName: 'mem-tc' });
    try {
      bench.attachPayload(fakePayload(bench));
      const m = bench.mark();
      const seq = await bench.cmd('SET_MODE', { mode: 'ACQUISITION' }, { await: 'completion' });
      const ev = await bench.assertEvent('MODE_CHANGED', { since: m, timeoutMs: 500, where: (f) => f.to === 'ACQUISITION' });
      expect(ev.fields.from).toBe('STANDBY');
      expect(bench.events(m, 'VERIFY_ACCEPT_OK').some((e) => e.fields.tcSeq === seq)).toBe(true);
      await expect(bench.cmd('SET_MODE', { mode: 'QKD' }, { await: 'completion' })).rejects.toThrow(/VERIFY_COMPLETE_FAIL TRANSITION_NOT_ALLOWED STANDBY -> QKD/);
      // Range-checked before anything is sent, naming the field.
      const sent = bench.tcLog.length;
      await expect(bench.cmd('SET_MODE', { mode: 'WARP' })).rejects.toThrow(/mode/);
      expect(bench.tcLog.length).toBe(sent);
      // Housekeeping lands in histories by packet.field; limits: yellow, then back to green.
      await bench.waitTlm('PAYLOAD_HK.mode', (v) => v === 'ACQUISITION', { timeoutMs: 500, since: m });
      await bench.waitFor(() => bench.limits.transitions.find((t) => t.item === 'PAYLOAD_HK.laserTempC' && t.to === 'green'), { timeoutMs: 5000, what: 'laser temperature back in limits' });
      const tr = bench.limits.transitions.filter((t) => t.item === 'PAYLOAD_HK.laserTempC');
      expect(tr.map((t) => t.to)).toEqual(['yellow', 'green']);
      expect(tr[0].value).toBeCloseTo(31.5, 2);
      expect(tr[0].detail).toBe('yellow high 30');
      expect(PAYLOAD_MODES).toContain(bench.latest('PAYLOAD_HK.mode'));
      await bench.assertEvent('limit:PAYLOAD_HK.laserTempC', { since: m, timeoutMs: 10 });
    } finally {
      await bench.close();
    }
  });

  it('board telemetry limits from the board definition are monitored too', async () => {
    const bench = await Bench.open(config({ qsrc: { mode: 'emulated' } }), { seed: 1, runName: 'mem-limits' });
    try {
      const q = bench.board('qsrc');
      await q.write({ TEC_ENABLE: 0, LASER_ENABLE: 1 });
      await q.ambient(60); // the laser drifts with the ambient, past its red high limit of 45 degC
      const v = await bench.waitFor(() => bench.limits.violations().find((t) => t.item === 'qsrc.LASER_TEMP_C' && t.to === 'red'), { timeoutMs: 120_000, what: 'red laser temperature' });
      expect(v.value).toBeGreaterThan(45);
      expect(bench.limits.violations().some((t) => t.item === 'qsrc.LASER_TEMP_C' && t.to === 'yellow')).toBe(true);
    } finally {
      await bench.close();
    }
  });

  it('is deterministic: the same seed and suite give identical histories', async () => {
    const run = async () => {
      const bench = await Bench.open(config({ apt: { mode: 'emulated' }, lct: { mode: 'emulated' } }), { seed: 11, runName: 'mem-det' });
      try {
        await bench.board('apt').beacon(10, 20);
        await bench.board('lct').write({ LINK_ENABLE: 1 });
        await bench.sleep(2000);
        return JSON.stringify([bench.history('apt.SPOT_X_URAD'), bench.history('lct.UPLINK_BIT_ERRORS'), bench.history('lct.RX_POWER_DBM')]);
      } finally {
        await bench.close();
      }
    };
    expect(await run()).toBe(await run());
  });

  it('a board that stops answering gives NO_RESPONSE naming board and port within the timeout, then recovers', async () => {
    const bench = await Bench.open(config({ acs: { mode: 'emulated' } }), { seed: 1, runName: 'mem-dead' });
    try {
      const acs = bench.board('acs');
      acs.emulator!.cutPower(-1);
      const t0 = bench.now();
      await expect(acs.read('POINT_MODE')).rejects.toThrow(/^board acs on in-memory emulator acs: no response to READ_REGS \(seq \d+\) after 3 attempt\(s\) of 250 ms$/);
      expect(bench.now() - t0).toBeLessThan(1000);
      acs.emulator!.powerOn();
      expect(await acs.read('POINT_MODE')).toEqual({ POINT_MODE: 0 });
      expect(bench.events().some((e) => e.name.startsWith('board:'))).toBe(false);
    } finally {
      await bench.close();
    }
  });

  it('power loss over the board link: the board reboots keeping its flash and active bank', async () => {
    const bench = await Bench.open(config({ qsrc: { mode: 'emulated' } }), { seed: 1, runName: 'mem-power' });
    try {
      const q = bench.board('qsrc');
      const g = q.driver.flashGeometry;
      await q.driver.memErase(g.bankBase(0), g.pageSize);
      await q.driver.memWrite(g.bankBase(0), Uint8Array.of(1, 2, 3));
      await q.driver.setActiveBank(1);
      await q.powerLoss(50);
      await bench.sleep(100);
      expect([...(await q.driver.memRead(g.bankBase(0), 3))]).toEqual([1, 2, 3]);
      expect(await q.driver.activeBank()).toBe(1);
      expect(await q.driver.readReg('RESET_COUNT')).toBe(1);
    } finally {
      await bench.close();
    }
  });

  it('captures every byte each way with rejected frames, and a capture replays into the same telemetry', async () => {
    const bench = await Bench.open(config({ apt: { mode: 'emulated' } }), { seed: 5, runName: 'mem-capture' });
    const apt = bench.board('apt');
    await apt.beacon(33, -12);
    apt.injectBytes({ corruptRate: 0.01, direction: 'rx' });
    await bench.sleep(1000);
    apt.clearFaults();
    await bench.sleep(200);
    await bench.close();
    const history = bench.history('apt.SPOT_X_URAD');
    const rejected = apt.rejectedFrames;
    const cap = readCapture(apt.capture!.path);
    expect(cap.header.board).toBe('apt');
    expect(rejectedFrames(cap).length).toBe(rejected);
    expect(rejected).toBeGreaterThan(0);
    const frames = decodeCapture(cap);
    expect(frames.filter((f) => f.error).length).toBe(rejected);
    expect(frames.some((f) => f.dir === 'tx' && f.op === 'SIM')).toBe(true);
    // Replay the received bytes through framing and driver: same telemetry values.
    const clock = new SimClock();
    const replay = new ReplayTransport(cap, clock);
    const d = new BoardDriver(loadBoardDefinition('apt'), new FrameLink(replay, clock), { clock, timeoutMs: 100, retries: 0 });
    const values: number[] = [];
    d.onTelemetrySample((s) => values.push(s.values.SPOT_X_URAD));
    await replay.open();
    const release = clock.hold();
    await replay.finished;
    release();
    expect(values).toEqual(history.map((h) => h.value));
  });

  it('bench configs: every file in hil/benches validates; port overrides and bad configs are clear', async () => {
    const { readdirSync } = await import('node:fs');
    const { loadBenchConfig } = await import('../../hil/bench/config.ts');
    for (const f of readdirSync('hil/benches')) expect(loadBenchConfig(`hil/benches/${f}`).name).toBeTruthy();
    const c = applyPortOverrides(config({ apt: { mode: 'emulated' } }), 'apt=/dev/pts/7,qsrc=tcp:10.0.0.2:7001');
    expect(c.boards.apt).toEqual({ mode: 'port', path: '/dev/pts/7' });
    expect(c.boards.qsrc).toEqual({ mode: 'tcp', host: '10.0.0.2', port: 7001 });
    expect(() => applyPortOverrides(c, 'xyz=/dev/x')).toThrow(/BOARD one of qsrc, apt, lct, acs/);
    expect(() => parseBenchConfig({ name: 'x', boards: { apt: { mode: 'port' } } }, 'x.json')).toThrow(/x.json: invalid bench config/);
    await expect(Bench.open(config({ apt: { mode: 'emulated' } }), { boards: ['lct'] })).rejects.toThrow(/board lct.*has no board lct/);
  });
});

// keep the sleep import used for readers who step a SimClock by hand
void sleep;
