// The detection stream's worker thread (detection-stream.ts), started from its bundle
// (hil/worker-bundle.ts): plain JavaScript, so the worker needs no TypeScript loader.
import { workerData } from 'node:worker_threads';
import { serveDetections } from './detection-stream.ts';

serveDetections(workerData.port, workerData.shared, workerData.slots);
