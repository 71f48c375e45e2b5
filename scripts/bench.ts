/**
 * npm run bench -- NAME [NAME...] [--json]
 * Each benchmark is scripts/benchmarks/NAME.ts with a default export `Benchmark`.
 * Prints one line per figure with its unit; with --json one JSON object whose keys are
 * the figures' keys (units are in the key names).
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Benchmark, Figure } from './benchmarks/types.ts';
import { parseCli } from './cli.ts';

const here = join(dirname(fileURLToPath(import.meta.url)), 'benchmarks');
const available = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'types.ts')
  .map((f) => f.slice(0, -3))
  .sort();

const usage = `usage: npm run bench -- NAME [NAME...] [--json]
benchmarks: ${available.join(', ')}
  --json   print one JSON object of all figures (keys carry their unit)
  CONSOLE_BENCH_SECONDS=S, CONSOLE_BENCH_RATE=N (environment): the console benchmark's
           length and packet rate (default 30 s at 1000 packets/s)`;

const args = parseCli({ json: { type: 'boolean' } }, usage, true);
const names = args.positionals.length > 0 ? args.positionals : available;
for (const n of names) {
  if (!available.includes(n)) {
    console.error(`unknown benchmark '${n}'\n${usage}`);
    process.exit(2);
  }
}

const all: Figure[] = [];
for (const name of names) {
  const mod = (await import(pathToFileURL(join(here, `${name}.ts`)).href)) as { default: Benchmark };
  const figures = await mod.default({ progress: (m) => process.stderr.write(`[${name}] ${m}\n`) });
  for (const f of figures) {
    all.push(f);
    if (!args.values.json) {
      const v = Number.isInteger(f.value) ? String(f.value) : f.value.toPrecision(4);
      console.log(`${name}: ${f.label}: ${v} ${f.unit}${f.target ? `  (target ${f.target})` : ''}`);
    }
  }
}
if (args.values.json) console.log(JSON.stringify(Object.fromEntries(all.map((f) => [f.key, f.value]))));
