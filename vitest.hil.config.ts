import { defineConfig } from 'vitest/config';

/** HIL suites (npm run hil): one bench per suite file, run one file at a time (boards are shared hardware). */
export default defineConfig({
  test: {
    include: ['hil/suites/**/*.hil.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    fileParallelism: false,
  },
});
