import { describe, expect, it } from 'vitest';
import { register, loadBoardDefinition, toRaw } from '../../boards/definitions.ts';
import { type Capture, decodeCapture, formatFrameLine, rejectedFrames } from '../../hil/capture.ts';
import { encodeRequest, encodeResponse, encodeTelemetry, frameMessage } from '../../protocols/board-link.ts';

/**
 * Issue 13: `--show-capture --frames` (and `decode --format capture`, `emulate --verbose`)
 * show registers by name with engineering values, not addresses, and times with units.
 */
const apt = loadBoardDefinition('apt');
const reg = (n: string) => register(apt, n);
const hex = (b: Uint8Array) => Buffer.from(frameMessage(b)).toString('hex');
const header = { type: 'header', format: 'qkd-hil-capture', version: 1, board: 'apt', port: 'mem', clock: 'sim', baud: 115200, seed: 1, startedAt: '2026-01-01T00:00:00Z' } as const;

describe('capture frames by register name', () => {
  const cap: Capture = {
    header,
    records: [
      { t: 1.5, dir: 'tx', hex: hex(encodeRequest(7, { op: 'WRITE_REGS', writes: [{ address: reg('FSM_CMD_X_URAD').address, value: toRaw(reg('FSM_CMD_X_URAD'), 12.5) }] })) },
      { t: 2.25, dir: 'rx', hex: hex(encodeResponse(7, 'WRITE_REGS', 'OK', { op: 'WRITE_REGS', values: [{ address: reg('FSM_CMD_X_URAD').address, value: toRaw(reg('FSM_CMD_X_URAD'), 12.5) }] })) },
      { t: 3, dir: 'tx', hex: hex(encodeRequest(8, { op: 'READ_REGS', addresses: [reg('SPOT_X_URAD').address, 0x7777] })) },
      { t: 4, dir: 'tx', hex: hex(encodeRequest(9, { op: 'MEM_CRC', address: 0x10000, length: 256 })) },
      { t: 5, dir: 'rx', hex: hex(encodeTelemetry(3, 5, apt.telemetry.items.map(() => 0))) },
      { t: 6, dir: 'rx', reject: 'CRC_MISMATCH', message: 'bad crc', hex: '0102' },
    ],
  };

  it('requests and replies name registers and carry engineering values; times are tMs', () => {
    const frames = decodeCapture(cap);
    expect(frames[0]).toEqual({ tMs: 1.5, dir: 'tx', kind: 'request', seq: 7, op: 'WRITE_REGS', request: { writes: { FSM_CMD_X_URAD: 12.5 } } });
    expect(frames[1]).toEqual({ tMs: 2.25, dir: 'rx', kind: 'response', seq: 7, op: 'WRITE_REGS', status: 'OK', body: { values: { FSM_CMD_X_URAD: 12.5 } } });
    // An address the definition does not know stays as hex; memory addresses are hex.
    expect(frames[2].request).toEqual({ registers: ['SPOT_X_URAD', '0x7777'] });
    expect(frames[3].request).toEqual({ address: '0x00010000', length: 256 });
    expect(Object.keys(frames[4].values as object)).toEqual(apt.telemetry.items);
    expect(frames.every((f) => !('t' in f))).toBe(true);
    expect(rejectedFrames(cap)).toEqual([{ tMs: 6, dir: 'rx', reject: 'CRC_MISMATCH', message: 'bad crc', hex: '0102' }]);
  });

  it('one text line per frame: the time with its unit, who sent it, the message', () => {
    const [w, r] = decodeCapture(cap).map((f) => formatFrameLine(f, 'apt'));
    expect(w).toBe('       1.500 ms  bench -> apt   request #7 WRITE_REGS {"writes":{"FSM_CMD_X_URAD":12.5}}');
    expect(r).toBe('       2.250 ms  apt -> bench   response #7 WRITE_REGS OK {"values":{"FSM_CMD_X_URAD":12.5}}');
  });
});
