import type { BenchConfig } from '../../hil/bench/config.ts';
import { parseBenchConfig } from '../../hil/bench/config.ts';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const captureDir = mkdtempSync(join(tmpdir(), 'hil-test-captures-'));

export function config(boards: BenchConfig['boards'], extra: Partial<BenchConfig> = {}): BenchConfig {
  return parseBenchConfig({ name: 'test', boards, captureDir, ...extra }, 'test');
}
