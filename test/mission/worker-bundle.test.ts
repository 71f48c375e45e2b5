/**
 * hil/worker-bundle.ts (how the pass's detection worker starts): a TypeScript entry
 * becomes one plain ESM file that Node runs without a loader, rebuilt when a file it
 * imports changes, reused when none did.
 */
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { WORKER_BUNDLE_DIR, workerBundle } from '../../hil/worker-bundle.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dir = join(root, 'test', `.worker-bundle-${process.pid}`);

/** What a worker started from the bundle posts. */
function runInWorker(url: URL): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const w = new Worker(url, { execArgv: [] });
    w.once('message', (m) => {
      resolve(m);
      void w.terminate();
    });
    w.once('error', reject);
  });
}

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  for (const f of readdirSync(WORKER_BUNDLE_DIR)) if (f.startsWith('entry-')) rmSync(join(WORKER_BUNDLE_DIR, f), { force: true });
});

describe('worker bundle', () => {
  it('runs a TypeScript entry in a plain worker, rebuilt when an imported file changes and reused when none did', async () => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'dep.ts'), 'export const rangeKm: number = 900;\n');
    writeFileSync(join(dir, 'entry.ts'), "import { parentPort } from 'node:worker_threads';\nimport { rangeKm } from './dep.ts';\nparentPort!.postMessage(rangeKm satisfies number);\n");
    const entry = pathToFileURL(join(dir, 'entry.ts'));
    const first = workerBundle(entry);
    expect(await runInWorker(first)).toBe(900);
    const builtMs = statSync(first).mtimeMs;
    // Nothing changed: the same file, not rebuilt.
    expect(workerBundle(entry).href).toBe(first.href);
    expect(statSync(first).mtimeMs).toBe(builtMs);
    // A dependency changed: rebuilt with it.
    writeFileSync(join(dir, 'dep.ts'), 'export const rangeKm: number = 1200;\n');
    expect(await runInWorker(workerBundle(entry))).toBe(1200);
  });
});
