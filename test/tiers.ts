import { describe, it } from 'vitest';

/**
 * A test tier that needs system tools (socat, ser2net, ...). Never skipped silently:
 * when a tool is missing the tier is reported skipped by name with how to install it,
 * and under CI (CI set), where .ci/run installs every tool, a missing tool fails.
 * Returns whether the tier can run, for `describe.runIf(...)`.
 */
export function toolTier(tier: string, tools: readonly string[], available: boolean): boolean {
  if (!available) {
    const list = tools.join(' and ');
    describe(tier, () => {
      it.skipIf(!!process.env.CI)(`SKIPPED: ${list} not installed (apt-get install ${tools.join(' ')}; .ci/run installs them)`, () => {});
      it.runIf(!!process.env.CI)(`needs ${list} under CI`, () => {
        throw new Error(`${list} not installed: the ${tier} cannot run`);
      });
    });
  }
  return available;
}
