import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, jsonLines, runScript } from './run.ts';
import { SAMPLES_DIR, samplePackets, sampleFiles } from './samples.ts';

/**
 * Issue 13: the README's `decode` examples have input: docs/samples/, built from our
 * encoders. The committed files match what the encoders make, and every README line
 * that decodes a sample runs as written.
 */
describe('docs/samples and the README decode examples', () => {
  it('the committed samples are what test/cli/samples.ts builds (regenerate: npx tsx test/cli/samples-cli.ts)', () => {
    for (const [name, bytes] of Object.entries(sampleFiles())) {
      expect(Buffer.from(readFileSync(join(SAMPLES_DIR, name))).equals(Buffer.from(bytes)), `docs/samples/${name} is stale`).toBe(true);
    }
  });

  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const commands = [...readme.matchAll(/`npm run decode -- ([^`]*docs\/samples\/[^`]*)`/g)].map((m) => m[1].split(/\s+/));

  it('the README has a decode example per sample file', () => {
    const files = commands.map((args) => args[args.length - 1]);
    expect(files.sort()).toEqual(Object.keys(sampleFiles()).map((n) => `docs/samples/${n}`).sort());
  });

  for (const args of commands) {
    it(`npm run decode -- ${args.join(' ')}: exit 0, every packet of the session decoded by name`, () => {
      const r = runScript('decode', args);
      expect(r.code, r.stderr).toBe(0);
      const records = jsonLines(r.stdout);
      expect(records.map((x) => x.name)).toEqual(['PING', 'VERIFY_ACCEPT_OK', 'SET_MODE', 'VERIFY_ACCEPT_OK', 'MODE_CHANGED', 'PAYLOAD_HK', 'PAYLOAD_HK']);
      expect(records.length).toBe(samplePackets().length);
      expect(r.stderr).toMatch(/summary: \{"packets":7,"valid":7,"invalid":0/);
    });
  }
});
