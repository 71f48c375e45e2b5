import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BOARD_NAMES, fromRaw, inWriteRange, loadBoardDefinition, type RegisterDef } from '../../boards/definitions.ts';
import { boardSource, GENERATED_DIR, generatedFiles, staleGeneratedFiles, writableRawRange } from '../../hil/agent/gen.ts';

/** What the emulator accepts for a write (boards/emulator/core.ts): the raw fits the width and its value is in range. */
function emulatorAccepts(r: RegisterDef, raw32: number): boolean {
  const v = r.signed ? raw32 | 0 : raw32 >>> 0;
  const fits = r.signed ? v >= -(2 ** (r.width - 1)) && v <= 2 ** (r.width - 1) - 1 : v <= 2 ** r.width - 1;
  return fits && inWriteRange(r, fromRaw(r, raw32));
}

/** The agent's check (boards/agent/src/agent.c reg_value_ok) with the generated bounds. */
function agentAccepts(r: RegisterDef, raw32: number): boolean {
  const v = r.signed ? raw32 | 0 : raw32 >>> 0;
  const fits = r.signed ? v >= -(2 ** (r.width - 1)) && v <= 2 ** (r.width - 1) - 1 : v <= 2 ** r.width - 1;
  const [min, max] = writableRawRange(r);
  return fits && v >= min && v <= max;
}

describe('agent generator (npm run agent -- gen)', () => {
  it('the committed boards/agent/generated/ files match the board definitions (run npm run agent -- gen when this fails)', () => {
    expect(staleGeneratedFiles()).toEqual([]);
  });

  it('a changed or missing file is reported stale by name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'agent-gen-'));
    for (const [name, text] of generatedFiles()) writeFileSync(join(dir, name), text);
    expect(staleGeneratedFiles(dir)).toEqual([]);
    writeFileSync(join(dir, 'apt.c'), readFileSync(join(dir, 'apt.c'), 'utf8').replace('0x5102u', '0x5109u'));
    expect(staleGeneratedFiles(dir)).toEqual(['apt.c']);
    expect(staleGeneratedFiles(join(dir, 'missing'))).toHaveLength(generatedFiles().size);
  });

  it('writes each board identity, register and memory region from its definition', () => {
    for (const name of BOARD_NAMES) {
      const def = loadBoardDefinition(name);
      const c = readFileSync(join(GENERATED_DIR, `${name}.c`), 'utf8');
      expect(c).toBe(boardSource(def));
      expect(c).toContain(`0x${def.identity.boardId.toString(16).toUpperCase()}u, /* board id */`);
      for (const r of def.registers) expect(c).toContain(`/* ${r.name} */`);
      expect(c).toContain('{0x00100000u, 0x00040000u, 256u, AGENT_MEM_FLASH, 2u}, /* config */');
    }
  });

  it("the agent's raw write range accepts exactly what the emulator accepts, every register of every board (property)", () => {
    const regs = BOARD_NAMES.flatMap((n) => loadBoardDefinition(n).registers.filter((r) => r.access !== 'r'));
    const edges = regs.flatMap((r) => writableRawRange(r).flatMap((e) => [e - 1, e, e + 1]).map((v) => [r, v >>> 0] as const));
    for (const [r, raw] of edges) expect(agentAccepts(r, raw), `${r.name} raw ${raw}`).toBe(emulatorAccepts(r, raw));
    fc.assert(
      fc.property(fc.constantFrom(...regs), fc.integer({ min: 0, max: 0xffffffff }), (r, raw) => agentAccepts(r, raw) === emulatorAccepts(r, raw)),
      { seed: 17, numRuns: 2000 },
    );
  });
});
