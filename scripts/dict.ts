/**
 * npm run dict -- --export json|markdown|xtce [--out FILE]
 * Writes the command/telemetry dictionary, derived from protocols/dictionary/.
 */
import { writeFileSync } from 'node:fs';
import { dictionaryJson, dictionaryMarkdown } from '../protocols/dictionary/export.ts';
import { dictionaryXtce } from '../protocols/dictionary/export-xtce.ts';
import { outputPath, parseCli, usageError } from './cli.ts';

const USAGE = `usage: npm run dict -- --export json|markdown|xtce [--out FILE]

  --export json       the dictionary as JSON (commands, telemetryPackets, telemetryChannels,
                      reports, events, parameters, with types, units, ranges, enums, limits,
                      bit offsets, the headers, time format and PEC: enough to encode and
                      decode every packet)
  --export markdown   the human reference (what docs/dictionary.md holds)
  --export xtce       XTCE 1.2 (OMG/CCSDS 660.0-B-2) for Yamcs and other XTCE tools (docs/xtce.md)
  --out FILE          write to FILE instead of standard output (its folder is created)

examples:
  npm run dict -- --export json --out out/dictionary.json
  npm run dict -- --export markdown --out docs/dictionary.md
  npm run dict -- --export xtce --out dictionary.xml`;

const EXPORTS = {
  json: () => `${JSON.stringify(dictionaryJson(), null, 2)}\n`,
  markdown: dictionaryMarkdown,
  xtce: dictionaryXtce,
} as const;

const { values } = parseCli({ export: { type: 'string' }, out: { type: 'string' } }, USAGE, false);
const kind = values.export as string | undefined;
if (kind === undefined) usageError('--export is required', USAGE);
if (!Object.hasOwn(EXPORTS, kind)) usageError(`unknown export '${kind}' (one of ${Object.keys(EXPORTS).join(', ')})`, USAGE);
const text = EXPORTS[kind as keyof typeof EXPORTS]();
if (values.out) {
  writeFileSync(outputPath('out', values.out as string), text);
  console.error(`wrote ${values.out} (${Buffer.byteLength(text)} bytes)`);
} else {
  process.stdout.write(text);
}
