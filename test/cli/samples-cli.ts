/**
 * Writes docs/samples/ (the README's decode inputs) from test/cli/samples.ts.
 * Usage: npx tsx test/cli/samples-cli.ts [--help]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SAMPLES_DIR, sampleFiles } from './samples.ts';

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write('usage: npx tsx test/cli/samples-cli.ts\n  writes docs/samples/packets.bin and packets.cobs from our encoders\n');
  process.exit(0);
}
if (process.argv.length > 2) {
  process.stderr.write(`unknown argument ${process.argv[2]} (try --help)\n`);
  process.exit(2);
}
mkdirSync(SAMPLES_DIR, { recursive: true });
for (const [name, bytes] of Object.entries(sampleFiles())) {
  writeFileSync(join(SAMPLES_DIR, name), bytes);
  process.stdout.write(`wrote docs/samples/${name} (${bytes.length} bytes)\n`);
}
