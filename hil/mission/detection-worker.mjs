// The detection stream's worker thread (detection-stream.ts): worker threads do not
// inherit the main thread's tsx loader hooks (and under vitest there are none), so the
// worker registers tsx itself before loading the TypeScript.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { serveDetections } = await import('./detection-stream.ts');
serveDetections(workerData.port, workerData.shared);
