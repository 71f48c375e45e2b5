import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The layer arrows of the design, checked on the import statements of every source
 * file: scripts -> hil -> {boards, firmware} -> qkd -> protocols. Siblings (boards and
 * firmware) never import each other, and nothing imports upwards or imports tests.
 */

const ROOT = join(import.meta.dirname, '..');

/** For each layer, the layers (its own included) it may import. */
const MAY_IMPORT: Record<string, readonly string[]> = {
  protocols: ['protocols'],
  qkd: ['qkd', 'protocols'],
  firmware: ['firmware', 'qkd', 'protocols'],
  boards: ['boards', 'qkd', 'protocols'],
  hil: ['hil', 'boards', 'firmware', 'qkd', 'protocols'],
  scripts: ['scripts', 'hil', 'boards', 'firmware', 'qkd', 'protocols'],
};

/** Relative module specifiers of static imports, re-exports and dynamic imports with a literal path. */
export function importSpecifiers(source: string): string[] {
  const out: string[] = [];
  const patterns = [/\b(?:import|export)\s[^;'"]*?\bfrom\s*['"]([^'"]+)['"]/g, /\bimport\s*['"]([^'"]+)['"]/g, /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g];
  for (const re of patterns) for (const m of source.matchAll(re)) if (m[1].startsWith('.')) out.push(m[1]);
  return out;
}

/** The top-level folder a repository path lies in ('' for a file at the root). */
const layerOf = (repoPath: string): string => (repoPath.includes('/') ? repoPath.split('/')[0] : '');

/** Every import of `file` (a repository path) that points where its layer may not. */
export function wrongArrows(file: string, source: string): string[] {
  const from = layerOf(file);
  return importSpecifiers(source)
    .map((spec) => ({ spec, target: normalize(join(dirname(file), spec)).split(sep).join('/') }))
    .filter(({ target }) => !(MAY_IMPORT[from] ?? []).includes(layerOf(target)))
    .map(({ target }) => `${file} -> ${target}`);
}

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)).split(sep).join('/'));
}

describe('layers', () => {
  it('finds static, re-exported and dynamic relative imports', () => {
    const src = [
      "import { a } from './a.ts';",
      "import type {\n  B,\n} from '../b.ts';",
      "export * from '../../c.ts';",
      "import './side-effect.ts';",
      "const d = await import('../d.ts');",
      "import { createActor } from 'xstate';",
    ].join('\n');
    expect(importSpecifiers(src)).toEqual(['./a.ts', '../b.ts', '../../c.ts', './side-effect.ts', '../d.ts']);
  });

  it('flags sideways and upward arrows', () => {
    expect(wrongArrows('boards/sim/detection.ts', "import { x } from '../../firmware/qkd/alice.ts';")).toHaveLength(1);
    expect(wrongArrows('firmware/payload.ts', "import { x } from '../hil/driver.ts';")).toHaveLength(1);
    expect(wrongArrows('protocols/pus.ts', "import { x } from '../qkd/bits.ts';")).toHaveLength(1);
    expect(wrongArrows('qkd/block.ts', "import { x } from '../firmware/params.ts';")).toHaveLength(1);
    expect(wrongArrows('hil/driver.ts', "import { x } from '../test/helpers.ts';")).toHaveLength(1);
    expect(wrongArrows('hil/mission/run.ts', "import { x } from '../../boards/sim/orbit.ts';\nimport { y } from '../../firmware/payload.ts';")).toEqual([]);
    expect(wrongArrows('firmware/tc-handler.ts', "import { x } from '../qkd/decoy-conditions.ts';\nimport { y } from '../protocols/crc.ts';")).toEqual([]);
  });

  it('every import under protocols/, qkd/, firmware/, boards/, hil/ and scripts/ points down', () => {
    const wrong = Object.keys(MAY_IMPORT)
      .flatMap(sourceFiles)
      .flatMap((f) => wrongArrows(f, readFileSync(join(ROOT, f), 'utf8')));
    // Each entry reads `file -> target`; the layer may import only MAY_IMPORT[its folder].
    expect(wrong).toEqual([]);
  });
});
