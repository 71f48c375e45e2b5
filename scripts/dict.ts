/**
 * npm run dict -- --export json|markdown [--out FILE]
 * Writes the command/telemetry dictionary, derived from protocols/dictionary/.
 */
import { writeFileSync } from 'node:fs';
import { dictionaryJson, dictionaryMarkdown } from '../protocols/dictionary/export.ts';
import { outputPath, parseCli, usageError } from './cli.ts';

const USAGE = `usage: npm run dict -- --export json|markdown [--out FILE]

  --export json       the dictionary as JSON (commands, telemetryPackets, telemetryChannels,
                      reports, events, parameters, with types, units, ranges, enums, limits)
  --export markdown   the human reference (what docs/dictionary.md holds)
  --out FILE          write to FILE instead of standard output (its folder is created)

examples:
  npm run dict -- --export json --out out/dictionary.json
  npm run dict -- --export markdown --out docs/dictionary.md`;

const { values, positionals } = parseCli({ export: { type: 'string' }, out: { type: 'string' } }, USAGE, false);
void positionals;
const kind = values.export as string | undefined;
if (kind !== 'json' && kind !== 'markdown') usageError(kind === undefined ? '--export is required' : `unknown export '${kind}'`, USAGE);
const text = kind === 'json' ? `${JSON.stringify(dictionaryJson(), null, 2)}\n` : dictionaryMarkdown();
if (values.out) {
  writeFileSync(outputPath('out', values.out as string), text);
  console.error(`wrote ${values.out} (${text.length} bytes)`);
} else {
  process.stdout.write(text);
}
