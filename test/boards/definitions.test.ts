import { describe, expect, it } from 'vitest';
import { BOARD_NAMES, configFlash, fromRaw, loadBoardDefinition, parseBoardDefinition, register, toRaw } from '../../boards/definitions.ts';

const minimal = `
name: demo
title: Demo board
identity: { boardId: 1, hwVersion: "1.0", fwVersion: "1.0.0" }
serial: { baud: 115200 }
link: { timeoutMs: 100, retries: 1 }
registers:
  - { name: X_URAD, address: 0x0100, width: 16, signed: true, access: rw, scale: 0.1, description: x }
telemetry: { periodMs: 100, items: [X_URAD] }
faults: []
`;

describe('board definitions', () => {
  it('all four boards load and validate, with A/B config flash', () => {
    for (const name of BOARD_NAMES) {
      const d = loadBoardDefinition(name);
      expect(d.name).toBe(name);
      const f = configFlash(d);
      expect(f.banks).toBe(2);
      expect(f.bankBase(1) - f.bankBase(0)).toBe(f.size / 2);
      expect(f.bankSize % f.pageSize).toBe(0);
      for (const item of d.telemetry.items) expect(register(d, item).access).not.toBe('w');
    }
    const ids = BOARD_NAMES.map((n) => loadBoardDefinition(n).identity.boardId);
    expect(new Set(ids).size).toBe(4);
  });

  it('rejects a bad definition naming every problem with its path', () => {
    const bad = minimal
      .replace('items: [X_URAD]', 'items: [X_URAD, NOPE]')
      .replace('  - { name: X_URAD, address: 0x0100', '  - { name: Y, address: 0x0100, width: 8, access: r, description: dup }\n  - { name: X_URAD, address: 0x0100');
    let msg = '';
    try {
      parseBoardDefinition(bad, 'demo.yaml');
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toMatch(/demo.yaml/);
    expect(msg).toMatch(/duplicate register address 0x100/);
    expect(msg).toMatch(/telemetry.items.1: telemetry item NOPE is not a register/);
    expect(() => parseBoardDefinition(minimal.replace('width: 16', 'width: 12'), 'w.yaml')).toThrow(/registers.*width/);
    expect(() => parseBoardDefinition('memory: [', 'broken.yaml')).toThrow(/not valid YAML/);
  });

  it('converts engineering values to raw and back, clamped to the width', () => {
    const d = parseBoardDefinition(minimal, 'demo.yaml');
    const r = register(d, 'X_URAD');
    expect(toRaw(r, -12.3)).toBe(-123);
    expect(fromRaw(r, toRaw(r, -12.3) >>> 0)).toBe(-12.3);
    expect(toRaw(r, 1e9)).toBe(32767);
    const apt = loadBoardDefinition('apt');
    const spot = register(apt, 'SPOT_X_URAD');
    expect(fromRaw(spot, toRaw(spot, -1234.56) >>> 0)).toBe(-1234.56);
  });
});
