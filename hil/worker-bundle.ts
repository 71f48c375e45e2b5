/**
 * A worker thread's TypeScript entry as one plain ESM file, bundled by esbuild (the
 * compiler tsx runs on) and cached under node_modules/.cache/worker-bundles, rebuilt
 * whenever a file it bundles changes. A worker started from it is running in about
 * 35 ms; registering tsx inside the worker and compiling its modules there takes about
 * 170 ms, a tenth of the 300 s pass's 2 s budget (issue 14). Packages stay imports
 * (resolved from the project's node_modules).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cacheDir = join(root, 'node_modules', '.cache', 'worker-bundles');

/** What a bundle was built from: its entry and inputs (paths relative to the project) and their digest. */
interface Manifest {
  entry: string;
  inputs: string[];
  digest: string;
}

type Esbuild = typeof import('esbuild');

/** esbuild, loaded only to build (a worker that runs a bundle never loads it). */
const esbuild = (): Esbuild => createRequire(import.meta.url)('esbuild') as Esbuild;

function digestOf(inputs: string[], version: string): string {
  const h = createHash('sha256').update(version);
  for (const f of inputs) h.update(f).update('\0').update(readFileSync(join(root, f))).update('\0');
  return h.digest('hex');
}

/** Written whole or not at all (several test processes may build the same bundle at once). */
function writeAtomically(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** Where bundles are kept (tests clean up theirs). */
export const WORKER_BUNDLE_DIR = cacheDir;

/** The bundle of `entry` (a .ts file of this project): its URL for `new Worker`. */
export function workerBundle(entry: URL): URL {
  const entryPath = fileURLToPath(entry);
  const relEntry = entryPath.slice(root.length + 1);
  const name = `${basename(entryPath).replace(/\.[cm]?ts$/, '')}-${createHash('sha256').update(relEntry).digest('hex').slice(0, 8)}`;
  const bundlePath = join(cacheDir, `${name}.mjs`);
  const manifestPath = join(cacheDir, `${name}.json`);
  try {
    const m = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
    // The digest covers esbuild's version too: read it from its package.json without loading it.
    const version = (JSON.parse(readFileSync(join(root, 'node_modules', 'esbuild', 'package.json'), 'utf8')) as { version: string }).version;
    if (m.entry === relEntry && m.digest === digestOf(m.inputs, version) && statSync(bundlePath).isFile()) return pathToFileURL(bundlePath);
  } catch {
    // No bundle yet, or an input is gone: build it.
  }
  const { buildSync, version } = esbuild();
  const r = buildSync({ entryPoints: [entryPath], absWorkingDir: root, bundle: true, format: 'esm', platform: 'node', target: 'node20', packages: 'external', write: false, metafile: true, outfile: bundlePath, logLevel: 'silent' });
  const inputs = Object.keys(r.metafile.inputs).sort();
  mkdirSync(cacheDir, { recursive: true });
  writeAtomically(bundlePath, r.outputFiles[0].text);
  writeAtomically(manifestPath, JSON.stringify({ entry: relEntry, inputs, digest: digestOf(inputs, version) } satisfies Manifest));
  return pathToFileURL(bundlePath);
}
