import { describe, expect, it } from 'vitest';
import { jsonLines, runScriptAsync, STACK_LINE } from './run.ts';

/**
 * Issue 16, the scriptable twins of the operator console as real processes on the
 * default emulated bench: `npm run cmd` and `npm run tlm`. The processes start together
 * (each costs about a second) and each test awaits its own. Usage errors (unknown
 * command, field or item, out-of-range values, hazardous without --yes) are rows of
 * bad-input.test.ts.
 */
const runs = {
  ping: runScriptAsync('cmd', ['PING']),
  safe: runScriptAsync('cmd', ['SET_MODE', 'mode=SAFE', '--json']),
  acquisition: runScriptAsync('cmd', ['SET_MODE', 'mode=ACQUISITION']),
  reset: runScriptAsync('cmd', ['RESET_BOARD', 'board=apt', '--yes', '--json']),
  follow: runScriptAsync('tlm', ['PAYLOAD_HK.mode', '--follow', '--count', '3', '--json']),
  value: runScriptAsync('tlm', ['PAYLOAD_HK.laserTempC']),
};

describe('npm run cmd', () => {
  it('PING prints the PONG and the three ST01 reports, exit 0', async () => {
    const r = await runs.ping;
    expect(r.code, r.stderr).toBe(0);
    const names = r.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/)[2]);
    expect(names).toEqual(['VERIFY_ACCEPT_OK', 'VERIFY_START_OK', 'PONG', 'VERIFY_COMPLETE_OK']);
    expect(r.stdout).toMatch(/PONG\s+reply to PING/);
    expect(`${r.stdout}${r.stderr}`).not.toMatch(STACK_LINE);
  });

  it('SET_MODE mode=SAFE: accepted, started, completed (JSON lines), exit 0', async () => {
    const r = await runs.safe;
    expect(r.code, r.stderr).toBe(0);
    const lines = jsonLines(r.stdout);
    expect(lines.map((l) => l.name)).toEqual(['VERIFY_ACCEPT_OK', 'VERIFY_START_OK', 'VERIFY_COMPLETE_OK']);
    for (const l of lines) expect(l).toMatchObject({ command: 'SET_MODE', kind: 'verification', seq: l.seq, fields: { tcSeq: l.seq, tcApid: 0x65 } });
  });

  it('SET_MODE mode=ACQUISITION on a fresh bench: refused at start (no pass plan), exit 1', async () => {
    const r = await runs.acquisition;
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/VERIFY_ACCEPT_OK/);
    expect(r.stdout).toMatch(/VERIFY_START_FAIL\s+SET_MODE seq \d+ EXECUTION_FAILED: STANDBY -> ACQUISITION not allowed: no pass plan uploaded/);
    expect(r.stdout).not.toMatch(/VERIFY_COMPLETE_OK/);
    expect(r.stderr).toMatch(/^error: SET_MODE \(seq \d+\) failed: VERIFY_START_FAIL EXECUTION_FAILED/m);
    expect(`${r.stdout}${r.stderr}`).not.toMatch(STACK_LINE);
  });

  it('a hazardous command with --yes is sent (RESET_BOARD board=apt), exit 0', async () => {
    const r = await runs.reset;
    expect(r.code, r.stderr).toBe(0);
    expect(jsonLines(r.stdout).map((l) => l.name)).toEqual(['VERIFY_ACCEPT_OK', 'VERIFY_START_OK', 'VERIFY_COMPLETE_OK']);
  });
});

describe('npm run tlm', () => {
  it('PAYLOAD_HK.mode --follow --count 3 --json: three JSON lines, one per packet, exit 0', async () => {
    const r = await runs.follow;
    expect(r.code, r.stderr).toBe(0);
    const lines = jsonLines(r.stdout);
    expect(lines).toHaveLength(3);
    for (const l of lines) expect(l).toMatchObject({ item: 'PAYLOAD_HK.mode', value: 'STANDBY' });
    const t = lines.map((l) => l.tMs as number);
    expect(t[1] - t[0]).toBeCloseTo(1000, 0);
    expect(t[2] - t[1]).toBeCloseTo(1000, 0);
  });

  it('PAYLOAD_HK.laserTempC: one value with its unit, exit 0', async () => {
    const r = await runs.value;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([expect.stringMatching(/^\s*\d+\.\d{3} ms {2}PAYLOAD_HK\.laserTempC = -?\d+(\.\d+)? degC$/)]);
  });
});
