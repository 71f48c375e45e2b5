/**
 * npm run flash -- --board BOARD (--port PATH | --bench FILE) --config FILE [--dry-run | --verify-only] [--yes] [--baud N]
 * Flashes a configuration image to a dev board (or an emulated one) over the board
 * link: identity first, inactive bank, verified, then one atomic bank switch.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { BOARD_NAMES, isBoardName } from '../boards/definitions.ts';
import { BANK_LETTERS } from '../protocols/config-image.ts';
import { parseLineSpec } from '../hil/bench/config.ts';
import { type BoardConnection, connectBoard } from '../hil/flash/connect.ts';
import { formatDiff } from '../hil/flash/diff.ts';
import { dryRun, FlashError, flashConfig, type FlashOptions, verifyOnly } from '../hil/flash/flasher.ts';
import { progressReporter } from '../hil/flash/progress.ts';
import { type BoardConfig, ConfigValidationError, configSchema, loadConfigText } from '../hil/flash/schema.ts';
import { intOption, parseCli, usageError } from './cli.ts';

const usage = `usage: npm run flash -- --board BOARD (--port PATH | --bench FILE) --config FILE [options]

Flashes a configuration file to a board's config flash over the board link:
checks the board's identity, writes the bank the board does not boot (page-aligned
blocks, each acknowledged with its CRC-32C, bounded retries), checks the CRC-32C of
the whole image on the board, and only then switches the active bank (one atomic
register write). Reports the old and the new generation.

  --board BOARD      ${BOARD_NAMES.join(', ')}
  --port PATH        serial device of the board: /dev/ttyUSB0, an emulator's pty
                     (/dev/pts/N from \`npm run emulate -- BOARD\`), or tcp:HOST:PORT
  --bench FILE       or a bench config (hil/benches/*.json): the board's entry says how;
                     a pty board keeps its flash in reports/flash/<bench>/<board>.flash
                     across runs, so a flash and a later --verify-only see the same board
  --config FILE      the configuration, YAML or JSON (examples in boards/config/examples/)
  --dry-run          validate, build the image and show what would change against what
                     the board runs now; sends no write
  --verify-only      check that the board boots exactly the file's values; writes nothing
  --yes              do not ask before writing (needed when stdin is not a terminal)
  --baud N           line rate (default: the board definition's)
  --timeout MS       per-request timeout (default: the board definition's)
  --retries N        resends per request (default: the board definition's)

The file is validated before anything is sent: every problem is listed with its key
path and the allowed range.

Exit codes:
  0  done (flashed and confirmed; dry run shown; --verify-only matched)
  1  flash failed with the board still on its previous config (wrong board, no answer,
     write or verify error), or --verify-only found a difference, or the config file
     cannot be read as data (e.g. YAML aliases past the parser's limit)
  2  usage or validation error (nothing was sent)
  3  not confirmed: the board stopped answering at the bank switch or before the
     read-back that confirms it; what is known (image written and verified, switch
     acknowledged or not) is printed; run --verify-only`;

const { values } = parseCli(
  {
    board: { type: 'string' },
    port: { type: 'string' },
    bench: { type: 'string' },
    config: { type: 'string' },
    'dry-run': { type: 'boolean' },
    'verify-only': { type: 'boolean' },
    yes: { type: 'boolean', short: 'y' },
    baud: { type: 'string' },
    timeout: { type: 'string' },
    retries: { type: 'string' },
  },
  usage,
  false,
);

const board = values.board;
if (!board) usageError('--board is required', usage);
if (!isBoardName(board)) usageError(`unknown board '${board}' (known: ${BOARD_NAMES.join(', ')})`, usage);
if (!values.config) usageError('--config FILE is required', usage);
if (!values.port && !values.bench) usageError('give --port PATH (or tcp:HOST:PORT) or --bench FILE', usage);
if (values.port && values.bench) usageError('give --port or --bench, not both', usage);
if (values['dry-run'] && values['verify-only']) usageError('--dry-run and --verify-only exclude each other', usage);
if (values.port) {
  try {
    parseLineSpec(values.port);
  } catch (e) {
    usageError(`--port ${(e as Error).message}`, usage);
  }
}
const baud = intOption('baud', values.baud, usage, 50, 20_000_000);
const timeoutMs = intOption('timeout', values.timeout, usage, 1, 600_000);
const retries = intOption('retries', values.retries, usage, 0, 10);

// Validate everything before opening the line.
const schema = configSchema(board);
let text: string;
try {
  text = readFileSync(values.config, 'utf8');
} catch (e) {
  console.error(`flash: cannot read config ${values.config}: ${(e as Error).message}`);
  process.exit(2);
}
let config: BoardConfig;
try {
  config = loadConfigText(text, values.config, schema);
} catch (e) {
  if (e instanceof ConfigValidationError) {
    console.error(`flash: refused, nothing sent to the board.\n${e.message}`);
    process.exit(2);
  }
  // Anything else the YAML library throws is bad data, said in one line: e.g. a
  // billion-laughs file, stopped by the library's alias limit (maxAliasCount) before it expands.
  console.error(`flash: refused ${values.config}, nothing sent to the board: ${(e as Error).message}`);
  process.exit(1);
}

const mode = values['dry-run'] ? 'dry-run' : values['verify-only'] ? 'verify-only' : 'flash';
if (mode === 'flash' && !values.yes && !process.stdin.isTTY) {
  console.error('flash: stdin is not a terminal, so there is no one to confirm: pass --yes to flash from a script');
  process.exit(2);
}

let conn: BoardConnection;
try {
  conn = await connectBoard({ board, port: values.port, bench: values.bench, baud, timeoutMs, retries });
} catch (e) {
  console.error(`flash: ${(e as Error).message}; nothing was written`);
  process.exit(1);
}
const bar = progressReporter(process.stderr);
const opts: FlashOptions = { clock: conn.clock, baud: conn.baud, onProgress: (p) => bar.update(p) };
const gen = (g: number | null | undefined) => (g === null || g === undefined ? 'none' : String(g));

async function run(): Promise<number> {
  if (mode === 'dry-run') {
    const d = await dryRun(conn.driver, schema, config, opts);
    bar.end();
    for (const w of d.warnings) console.log(`warning: ${w}`);
    console.log(`${board} on ${conn.where} boots ${d.current.boot.reason}`);
    if (d.currentError) console.log(`(its image cannot be shown as a ${board} config: ${d.currentError}; compared against defaults)`);
    console.log(`dry run: ${values.config} would change ${d.diff.changed} of ${d.diff.lines.length} items:`);
    console.log(formatDiff(d.diff));
    console.log(`would write bank ${BANK_LETTERS[d.targetBank]}: ${d.imageBytes} bytes, generation ${d.newGeneration}; nothing was written`);
    return 0;
  }
  if (mode === 'verify-only') {
    const v = await verifyOnly(conn.driver, schema, config, opts);
    bar.end();
    console.log(`${board} on ${conn.where} boots ${v.state.boot.reason}`);
    if (v.match) {
      console.log(`verify: the board runs exactly ${values.config}`);
      return 0;
    }
    console.log(`verify: MISMATCH${v.problem ? `: ${v.problem}` : ''} (board value -> file value)`);
    console.log(formatDiff(v.diff));
    return 1;
  }
  if (!values.yes) {
    const d = await dryRun(conn.driver, schema, config, opts);
    bar.end();
    console.log(`${board} on ${conn.where} boots ${d.current.boot.reason}; ${values.config} changes:`);
    console.log(formatDiff(d.diff));
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    const answer = await rl.question(`write bank ${BANK_LETTERS[d.targetBank]} (generation ${d.newGeneration}) and switch to it? [y/N] `);
    rl.close();
    if (!/^y(es)?$/i.test(answer.trim())) {
      console.log('not flashed');
      return 1;
    }
  }
  const t0 = performance.now();
  const r = await flashConfig(conn.driver, schema, config, opts);
  bar.end();
  for (const w of r.warnings) console.log(`warning: ${w}`);
  const s = ((performance.now() - t0) / 1000).toFixed(2);
  console.log(
    `flashed ${board} on ${conn.where}: generation ${gen(r.oldGeneration)} (bank ${r.oldBank === null ? 'none, defaults' : BANK_LETTERS[r.oldBank]}) -> generation ${r.newGeneration} (bank ${BANK_LETTERS[r.newBank]}); ` +
      `${r.imageBytes} bytes in ${r.blocks} block${r.blocks === 1 ? '' : 's'}, CRC-32C 0x${r.imageCrc.toString(16).padStart(8, '0')} verified, ${r.blockRetries} retries, ${s} s`,
  );
  console.log(`board boots ${r.confirmed}`);
  return 0;
}

let code: number;
try {
  code = await run();
} catch (e) {
  bar.end();
  if (e instanceof FlashError) {
    console.error(`flash: FAILED in ${e.phase}: ${e.message}`);
    if (e.outcome === 'previous') {
      console.error(`flash: the board still boots its previous configuration`);
      code = 1;
    } else {
      // Not confirmed: say what is known and how to find out the rest.
      const f = e.facts;
      if (f) {
        console.error(`flash: known: bank ${BANK_LETTERS[f.bank]} holds generation ${f.generation} (${f.imageBytes} bytes, CRC-32C 0x${f.imageCrc.toString(16).padStart(8, '0')} verified on the board)`);
        console.error(`flash: known: the bank switch to ${BANK_LETTERS[f.bank]} was ${f.acknowledged ? 'acknowledged by the board' : 'sent but not acknowledged'}`);
      }
      const boots = {
        new: 'the board boots the new image, but the bank switch failed',
        acknowledged: `the board should boot generation ${f?.generation} (it persists the switch before it acknowledges), but that is NOT CONFIRMED`,
        unknown: 'what the board boots is unknown',
      }[e.outcome];
      console.error(`flash: ${boots}; check with: npm run flash -- --board ${board} ${values.port ? `--port ${values.port}` : `--bench ${values.bench}`} --config ${values.config} --verify-only`);
      code = 3;
    }
  } else {
    console.error(`flash: ${(e as Error).message}`);
    code = 1;
  }
}
await conn.close();
process.exit(code);
