import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadConfigLayout } from '../../boards/config/layout.ts';
import { BOARD_NAMES } from '../../boards/definitions.ts';
import { decodeConfigImage, decodeImageHeader, encodeConfigImage, selectBootImage } from '../../protocols/config-image.ts';
import { crc32c } from '../../protocols/crc.ts';
import { configToImage, configToYaml, ImageContentError, imageToConfig } from '../../hil/flash/image.ts';
import { type BoardConfig, ConfigValidationError, configSchema, loadConfigText, MAX_YAML_ALIASES, parseConfigText, validateConfig } from '../../hil/flash/schema.ts';
import { runScript } from '../cli/run.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const qsrc = configSchema('qsrc');

function issuesOf(text: string, board = 'qsrc') {
  const { doc, issues } = parseConfigText(text);
  if (issues.length) return issues;
  return validateConfig(doc, configSchema(board)).issues;
}

describe('config files: schema derived from the dictionary, the layout and the board definition', () => {
  it('every example config validates for its board (except the deliberately wrong one)', () => {
    const dir = join(ROOT, 'boards/config/examples');
    const files = readdirSync(dir).filter((f) => !f.includes('out-of-range'));
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const f of files) {
      const board = f.split(/[.-]/)[0];
      const cfg = loadConfigText(readFileSync(join(dir, f), 'utf8'), f, configSchema(board));
      expect(cfg.board).toBe(board);
    }
  });

  it('reports every problem at once, each with its key path and what is allowed', () => {
    const issues = issuesOf(readFileSync(join(ROOT, 'boards/config/examples/qsrc-out-of-range.yaml'), 'utf8'));
    const byPath = Object.fromEntries(issues.map((i) => [i.path, i.message]));
    expect(byPath['parameters.MU_SIGNAL']).toMatch(/2\.5 outside the allowed range 0\.\.2/);
    expect(byPath['parameters.PULSES_PER_FRAME']).toMatch(/not an integer.*1024\.\.4294967295/);
    expect(byPath['parameters.SOURCE_REP_RATE_MHZ']).toMatch(/unit 'kHz'.*'MHz'.*1\.\.1000 MHz/);
    expect(byPath['parameters.MU_SINGAL']).toMatch(/did you mean MU_SIGNAL/);
    expect(byPath['tables.pattern[2]']).toMatch(/'strong' is not one of signal, decoy, vacuum/);
    expect(issues).toHaveLength(5);
  });

  it('refuses a config for another board, unknown root keys, wrong types and broken cross-checks', () => {
    expect(issuesOf('board: apt\nparameters: {}\n')).toEqual([expect.objectContaining({ path: 'board', message: expect.stringMatching(/'apt'.*'qsrc'.*0x5101/) })]);
    const many = issuesOf('board: qsrc\nparamters: {}\nparameters:\n  P_SIGNAL: 0.9\n  MU_DECOY: "fast"\ntables:\n  pattern: 3\n');
    const paths = many.map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['paramters', 'parameters.MU_DECOY', 'tables.pattern', 'parameters.{P_SIGNAL,P_DECOY,P_VACUUM}']));
    expect(many.find((i) => i.path === 'parameters.{P_SIGNAL,P_DECOY,P_VACUUM}')!.message).toMatch(/add up to 1\.4/);
    expect(issuesOf('board: qsrc\nparameters:\n  MU_SIGNAL: 0.05\n')[0]).toMatchObject({ path: 'parameters.{MU_SIGNAL,MU_DECOY,MU_VACUUM}', message: expect.stringMatching(/strictly decreasing/) });
    expect(issuesOf('board: qsrc\nparameters: [1, 2\n')[0].message).toMatch(/not valid YAML/);
  });

  it('refuses a config breaking the decoy-state conditions, naming the values (issue 11)', () => {
    // Strictly decreasing (the layout check passes) but mu1 < mu2 + mu3: the bound does not hold.
    const mu = issuesOf('board: qsrc\nparameters:\n  MU_SIGNAL: 0.3\n  MU_DECOY: 0.25\n  MU_VACUUM: 0.1\n');
    expect(mu).toEqual([
      { path: 'parameters.{MU_SIGNAL,MU_DECOY,MU_VACUUM}', message: expect.stringMatching(/MU_SIGNAL > MU_DECOY \+ MU_VACUUM.*MU_SIGNAL=0\.3, MU_DECOY=0\.25, MU_VACUUM=0\.1/) },
    ]);
    // A zero probability adds up to 1 but leaves an intensity never sent; defaults are said to be defaults.
    const p = issuesOf('board: qsrc\nparameters:\n  P_SIGNAL: 0.75\n  P_DECOY: 0\n');
    expect(p).toEqual([{ path: 'parameters.{P_SIGNAL,P_DECOY,P_VACUUM}', message: expect.stringMatching(/P_SIGNAL=0\.75, P_DECOY=0, P_VACUUM=0\.25 \(P_VACUUM at the dictionary default\)/) }]);
    // One problem, one line: a group a layout check already refused is not reported twice.
    expect(issuesOf('board: qsrc\nparameters:\n  MU_SIGNAL: 0.05\n')).toHaveLength(1);
    expect(() => loadConfigText('board: qsrc\nparameters: {MU_SIGNAL: 0.3, MU_DECOY: 0.25, MU_VACUUM: 0.1}\n', 'bad.yaml', qsrc)).toThrow(/bad\.yaml: 1 problem.*\n.*MU_SIGNAL=0\.3/);
  });

  it('the flash CLI refuses such a file before it opens the port (exit 2, nothing sent)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'decoy-flash-'));
    const file = join(dir, 'decoy.yaml');
    writeFileSync(file, 'board: qsrc\nparameters:\n  MU_SIGNAL: 0.3\n  MU_DECOY: 0.25\n  MU_VACUUM: 0.1\n');
    // A port that does not exist: had the flasher tried to open it, it would exit 1 saying so.
    const r = runScript('flash', ['--board', 'qsrc', '--port', join(dir, 'no-such-tty'), '--config', file, '--yes']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/nothing sent/);
    expect(r.stderr).toMatch(/MU_SIGNAL=0\.3, MU_DECOY=0\.25, MU_VACUUM=0\.1/);
  });

  it('refuses a table too large for the board definition\'s config bank', () => {
    const t = loadConfigLayout('qsrc').tables[0];
    expect(t.maxLength * 10).toBeLessThan(qsrc.bankBytes);
    const big = { board: 'qsrc', tables: { pattern: Array(t.maxLength + 1).fill('signal') } };
    const issues = validateConfig(big, qsrc).issues;
    expect(issues.map((i) => i.message).join()).toMatch(/at most 12000 allowed/);
  });

  it('accepts a value with its own unit and JSON as well as YAML', () => {
    const cfg = loadConfigText('{"board":"qsrc","parameters":{"SOURCE_REP_RATE_MHZ":"500 MHz","LASER_TEMP_SETPOINT_C":"24.5 degC"}}', 'x.json', qsrc);
    expect(cfg.parameters).toEqual({ SOURCE_REP_RATE_MHZ: 500, LASER_TEMP_SETPOINT_C: 24.5 });
    expect(() => loadConfigText('board: qsrc\nparameters: {MU_SIGNAL: 9}\n', 'bad.yaml', qsrc)).toThrow(ConfigValidationError);
  });

  it('every layout names only dictionary parameters, with disjoint record ids', () => {
    for (const b of BOARD_NAMES) {
      const l = loadConfigLayout(b);
      expect(l.parameters.length).toBeGreaterThan(0);
      const ids = [...l.parameters.map((p) => p.id), ...l.tables.flatMap((t) => [t.idBase, t.idBase + t.maxLength - 1])];
      expect(new Set(ids).size).toBe(ids.length);
    }
  });
});

/** Arbitrary valid qsrc configs: any subset of parameters at any in-range value, any pattern. */
const arbConfig: fc.Arbitrary<BoardConfig> = fc
  .record({
    params: fc.subarray(qsrc.layout.parameters.filter((p) => !['P_SIGNAL', 'P_DECOY', 'P_VACUUM', 'MU_SIGNAL', 'MU_DECOY', 'MU_VACUUM', 'TEMP_HIGH_LIMIT_C', 'LASER_TEMP_SETPOINT_C', 'TEMP_LOW_LIMIT_C'].includes(p.name))),
    values: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 16, maxLength: 16 }),
    pattern: fc.array(fc.constantFrom('signal', 'decoy', 'vacuum'), { maxLength: 300 }),
  })
  .map(({ params, values, pattern }): BoardConfig => {
    const parameters: Record<string, number> = {};
    params.forEach((p, i) => {
      let v = p.range[0] + values[i] * (p.range[1] - p.range[0]);
      if (p.integer) v = Math.round(v);
      parameters[p.name] = v;
    });
    const tables: BoardConfig['tables'] = pattern.length ? { pattern } : {};
    return { board: 'qsrc', configVersion: qsrc.configVersion, parameters, tables };
  });

describe('YAML aliases in config files', () => {
  // The limit is ours, not the library's default: the anchor plus MAX_YAML_ALIASES - 1
  // aliases parse, one alias more is refused.
  const withAliases = (n: number) => `board: qsrc\nx: &x [1, 2]\ny: [${Array(n).fill('*x').join(', ')}]\n`;

  it(`an anchored node may appear MAX_YAML_ALIASES (${MAX_YAML_ALIASES}) times in all; once more is refused naming aliases`, () => {
    expect(MAX_YAML_ALIASES).toBeGreaterThan(1);
    expect((parseConfigText(withAliases(MAX_YAML_ALIASES - 1)).doc as { y: unknown[] }).y).toHaveLength(MAX_YAML_ALIASES - 1);
    expect(() => parseConfigText(withAliases(MAX_YAML_ALIASES))).toThrow(/alias/i);
  });
});

describe('config <-> image is lossless', () => {
  it('config -> image -> config gives the same config; image -> config -> image the same bytes', () => {
    fc.assert(
      fc.property(arbConfig, fc.integer({ min: 0, max: 0xffffffff }), (cfg, gen) => {
        expect(validateConfig(cfg, qsrc).issues).toEqual([]);
        const img = configToImage(cfg, qsrc, gen);
        const decoded = decodeConfigImage(img);
        expect(decoded.generation).toBe(gen);
        const back = imageToConfig(decoded, qsrc);
        expect(back).toEqual(cfg);
        expect(configToImage(back, qsrc, gen)).toEqual(img);
        // Through the file text too.
        expect(loadConfigText(configToYaml(back, qsrc), 'rt.yaml', qsrc)).toEqual(cfg);
      }),
      { numRuns: 200 },
    );
  });

  it('an image with records the layout cannot hold is named, not guessed', () => {
    const foreign = decodeConfigImage(encodeConfigImage({ boardId: qsrc.boardId, configVersion: 1, generation: 1, params: new Map([[20, 3]]) }));
    expect(() => imageToConfig(foreign, qsrc)).toThrow(/record id 20 .*FINE_LOCK_THRESHOLD_URAD/);
    const gap = decodeConfigImage(encodeConfigImage({ boardId: qsrc.boardId, configVersion: 1, generation: 1, params: new Map([[0x1000, 0], [0x1002, 1]]) }));
    expect(() => imageToConfig(gap, qsrc)).toThrow(ImageContentError);
    const other = decodeConfigImage(encodeConfigImage({ boardId: 0x5102, configVersion: 1, generation: 1, params: new Map() }));
    expect(() => imageToConfig(other, qsrc)).toThrow(/0x5102/);
  });
});

describe('the boot rule (selectBootImage)', () => {
  const BANK = 4096;
  const bank = (img?: Uint8Array) => {
    const b = new Uint8Array(BANK).fill(0xff);
    if (img) b.set(img);
    return b;
  };
  const img = (gen: number) => encodeConfigImage({ boardId: 0x5101, configVersion: 1, generation: gen, params: new Map([[2, 0.5 + gen / 100]]) });

  it('active if valid, else the other, else defaults, with the reason', () => {
    expect(selectBootImage(bank(img(3)), bank(img(4)), 0)).toMatchObject({ source: 'active', bank: 0, header: { generation: 3 } });
    expect(selectBootImage(bank(img(3)), bank(img(4)), 1)).toMatchObject({ source: 'active', bank: 1, header: { generation: 4 } });
    const fb = selectBootImage(bank(), bank(img(4)), 0);
    expect(fb).toMatchObject({ source: 'fallback', bank: 1 });
    expect(fb.reason).toMatch(/active bank A invalid: .*magic/);
    expect(selectBootImage(bank(), bank(), 1)).toMatchObject({ source: 'defaults', bank: null, image: null });
    expect(selectBootImage(bank(img(3)), bank(), 1, { boardId: 0x5102 }).source).toBe('defaults');
    expect(selectBootImage(bank(img(3)), bank(img(5)), 0, { accept: (i) => (i.generation === 3 ? 'refused' : null) })).toMatchObject({ source: 'fallback', bank: 1 });
  });

  it('any corruption of a bank (torn write, flipped bit) is never booted', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: img(9).length - 1 }), fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: img(9).length }), (pos, bit, torn) => {
        const good = img(9);
        const flipped = good.slice();
        flipped[pos] ^= 1 << bit;
        const tornBank = bank(good.subarray(0, torn));
        for (const bad of [bank(flipped), tornBank]) {
          const sel = selectBootImage(bad, bank(img(8)), 0);
          const isGood = torn === good.length && bad === tornBank;
          expect(sel.header!.generation).toBe(isGood ? 9 : 8);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('the header alone gives the length and generation; a bad header is IMAGE_INVALID', () => {
    const i = img(12);
    expect(decodeImageHeader(i)).toEqual({ boardId: 0x5101, configVersion: 1, generation: 12, recordCount: 1, length: i.length });
    expect(new DataView(i.buffer).getUint32(i.length - 4)).toBe(crc32c(i, 0, i.length - 4));
    expect(() => decodeImageHeader(new Uint8Array(20).fill(0xff))).toThrow(/IMAGE_INVALID: bad magic/);
  });
});
