import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useBench } from '../fixture.ts';
import { dryRun, flashConfig, verifyOnly } from '../flash/flasher.ts';
import { ConfigValidationError, configSchema, loadConfigText } from '../flash/schema.ts';

/**
 * Config flash and verify on the quantum-source board, as an engineer does before a
 * firmware change: flash the example config, read it back, and refuse a bad file
 * before any byte reaches the board. Same text on emulated and real boards.
 */
const ctx = useBench({ boards: ['qsrc'], suite: import.meta.filename });
const root = process.env.HIL_ROOT ?? process.cwd();
const example = join(root, 'boards/config/examples/qsrc.yaml');

describe('config flash', () => {
  it('flashes the example qsrc config into the inactive bank, verifies it and switches', async () => {
    const qsrc = ctx.bench.board('qsrc');
    const schema = configSchema('qsrc');
    const config = loadConfigText(readFileSync(example, 'utf8'), example, schema);
    const opts = { clock: ctx.bench.clock, baud: qsrc.def.serial.baud };
    const before = await qsrc.driver.activeBank();
    const r = await flashConfig(qsrc.driver, schema, config, opts);
    expect(r.newBank).toBe(before === 0 ? 1 : 0);
    expect(r.newGeneration).toBe((r.oldGeneration ?? 0) + 1);
    expect(await qsrc.driver.activeBank()).toBe(r.newBank);
    const v = await verifyOnly(qsrc.driver, schema, config, opts);
    expect(v.match).toBe(true);
    const d = await dryRun(qsrc.driver, schema, config, opts);
    expect(d.diff.changed).toBe(0);
  });

  it('refuses an out-of-range config naming the key path, before sending anything', async () => {
    const qsrc = ctx.bench.board('qsrc');
    const schema = configSchema('qsrc');
    const bad = readFileSync(join(root, 'boards/config/examples/qsrc-out-of-range.yaml'), 'utf8');
    const requests = qsrc.driver.stats.requests;
    let err: unknown;
    try {
      loadConfigText(bad, 'qsrc-out-of-range.yaml', schema);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigValidationError);
    expect((err as Error).message).toMatch(/parameters\.MU_SIGNAL: 2\.5 outside the allowed range 0\.\.2/);
    expect(qsrc.driver.stats.requests).toBe(requests);
  });
});
