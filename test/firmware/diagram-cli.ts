/**
 * Regenerates docs/mode-manager.md from the mode manager machine.
 * Usage: npx tsx test/firmware/diagram-cli.ts [--check] [--help]
 * Exit codes: 0 written (or up to date with --check), 1 out of date (--check), 2 usage.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { modeManagerDoc } from '../../firmware/diagram.ts';
import { createModeMachine } from '../../firmware/modes.ts';

export const DOC_PATH = fileURLToPath(new URL('../../docs/mode-manager.md', import.meta.url));

function main(argv: string[]): number {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write('usage: npx tsx test/firmware/diagram-cli.ts [--check]\n  writes docs/mode-manager.md from firmware/modes.ts; --check only compares (exit 1 when stale)\n');
    return 0;
  }
  const unknown = argv.filter((a) => a !== '--check');
  if (unknown.length) {
    process.stderr.write(`unknown argument ${unknown[0]} (try --help)\n`);
    return 2;
  }
  const text = modeManagerDoc(createModeMachine());
  if (argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(DOC_PATH, 'utf8');
    } catch {
      /* missing counts as stale */
    }
    if (current !== text) {
      process.stderr.write(`${DOC_PATH} is out of date; run npx tsx test/firmware/diagram-cli.ts\n`);
      return 1;
    }
    process.stderr.write('docs/mode-manager.md is up to date\n');
    return 0;
  }
  writeFileSync(DOC_PATH, text);
  process.stderr.write(`wrote ${DOC_PATH}\n`);
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exit(main(process.argv.slice(2)));
