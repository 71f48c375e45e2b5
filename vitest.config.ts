import { configDefaults, defineConfig } from 'vitest/config';

// `npm test` runs every test but the slow tier (test/slow: whole-command end-to-end runs
// such as `npm start`, each a minute or more); `npm run test:slow` runs that tier
// (SLOW_TIER=1), and .ci/run runs both.
const slowTier = !!process.env.SLOW_TIER;

export default defineConfig({
  test: {
    include: slowTier ? ['test/slow/**/*.test.ts'] : ['test/**/*.test.ts'],
    exclude: slowTier ? [...configDefaults.exclude] : [...configDefaults.exclude, 'test/slow/**'],
    // Both cores: vitest's default is one worker fewer than the cores (one here), and
    // most files wait on ptys, sockets and child processes rather than compute.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
