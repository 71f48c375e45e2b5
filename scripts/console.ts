/**
 * npm run console -- [--bench FILE] [--port BOARD=PATH ...] [--seed N] [--http-port N] [--host H]
 * The operator console: opens the bench (the payload firmware hosted and booted, as
 * `npm run cmd` and `npm run tlm` do), runs it live and serves the page (telemetry with
 * limits, commands, events, plots). Prints `console: http://127.0.0.1:N/` on a line of its own.
 * Every run is archived (hil/console/archive.ts); `--replay RUN` serves an archived run instead.
 * Exit codes: 0 on Ctrl-C, 1 a bench or server that cannot be opened (or an unknown run), 2 usage.
 */
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BenchLock, type ConsoleServer, isLoopback, runLive, startConsoleServer } from '../hil/console/server.ts';
import { capturesDir, ConsoleArchiver, type ConsoleRun, createConsoleRun } from '../hil/console/archive.ts';
import { loadRecording, RecordingError } from '../hil/console/recording.ts';
import { startReplayServer } from '../hil/console/replay-server.ts';
import { RunNotFoundError } from '../hil/runs/archive.ts';
import { consoleBenchOption, fail, intOption, parseCli, seedOption, shellWord, usageError } from './cli.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const usage = `usage: npm run console -- [--bench FILE] [--port BOARD=PATH ...] [--seed N] [--http-port N] [--host H] [--allow-writes] [--reports-root DIR]
       npm run console -- --replay RUN [--suite NAME] [--http-port N] [--host H] [--reports-root DIR]
The operator console in the browser: opens the bench with the payload firmware hosted and
booted to STANDBY, runs it live and serves a page with the telemetry (limits coloured),
a command sender built from the dictionary, the event log, plots and the boards'
registers (docs/console.md).
Prints "console: http://HOST:PORT/" on a line of its own; Ctrl-C stops it.
  --bench FILE      bench config (default hil/benches/emulated.json: in-process emulators on
                    simulated time, run at the wall clock's pace)
  --port SPEC       put boards on given lines: apt=/dev/pts/7, apt=tcp:HOST:PORT,
                    apt=rfc2217://HOST:PORT (repeat it, or comma-separate)
  --seed N          simulation seed, whole number (default 1)
  --http-port N     TCP port of the page (default 0: a free port)
  --host H          address to bind (default 127.0.0.1). Any other address serves other
                    machines and then needs a token: it is printed at start in the URL
                    (?token=...); requests without it are refused (401, wrong token 403)
  --allow-writes    let the Boards view write registers of real boards too (emulated boards
                    are always writable; without it a real board's writes are refused)
  --reports-root D  the run archive's root (default reports). Every console run is archived
                    in D/runs/<time>-console-<bench>-seed<N>/: run.json, data/console.json
                    (telemetry, events, limit transitions; rewritten every 10 s and at the
                    end) and captures/; D/latest points at it
  --replay RUN      no bench: the page over an archived run (a console or a HIL run) with a
                    time slider. RUN: latest, a run folder name or a unique prefix of one,
                    or a folder path. Excludes --bench, --port, --seed and --allow-writes
  --suite NAME      with --replay: the data file of the run to replay (data/NAME.json; default
                    console, else the first with payload housekeeping)
Exit codes: 0 stopped by Ctrl-C, 1 the bench or the server could not be opened or the run
to replay not found, 2 usage.
Examples: npm run console
          npm run console -- --bench hil/benches/pty.json --http-port 8080
          npm run console -- --replay latest`;

const { values: v, positionals } = parseCli(
  {
    bench: { type: 'string' },
    port: { type: 'string', multiple: true },
    seed: { type: 'string' },
    'http-port': { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    'allow-writes': { type: 'boolean', default: false },
    'reports-root': { type: 'string' },
    replay: { type: 'string' },
    suite: { type: 'string' },
  },
  usage,
);
if (positionals.length > 0) usageError(`unexpected argument${positionals.length > 1 ? 's' : ''}: ${positionals.join(' ')}`, usage);
const seed = seedOption(v.seed ?? '1', usage)!;
const httpPort = intOption('http-port', v['http-port'], usage, 0, 65535)!;
const host = v.host.trim();
if (host === '') usageError('--host must name an address, e.g. 127.0.0.1 or 0.0.0.0', usage);
const reportsRoot = resolve(v['reports-root'] ?? join(root, 'reports'));
if (v.replay !== undefined) {
  const live = [v.bench !== undefined && '--bench', v.port !== undefined && '--port', v.seed !== undefined && '--seed', v['allow-writes'] && '--allow-writes'].filter(Boolean);
  if (live.length > 0) usageError(`--replay serves an archived run, no bench: it excludes ${live.join(', ')}`, usage);
  process.exit(await replay(v.replay, v.suite));
}
if (v.suite !== undefined) usageError('--suite goes with --replay', usage);

// The run folder exists before the bench opens: the boards' captures go into it.
let run: ConsoleRun | undefined;
const command = ['npm run console --', ...process.argv.slice(2).map(shellWord)].join(' ');
const { session, config } = await consoleBenchOption({
  bench: v.bench,
  port: v.port,
  seed,
  root,
  captureDir: (cfg) => capturesDir((run = archiveRun(cfg))),
});

const lock = new BenchLock();
let server: ConsoleServer;
try {
  server = await startConsoleServer(session, { root, host, port: httpPort, allowWrites: v['allow-writes'] }, lock);
} catch (e) {
  await session.close();
  fail((e as Error).message, 1);
}

const stop = new AbortController();
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => stop.abort());

console.log(`console: ${server.url}`);
if (!isLoopback(host)) console.log(`token: ${server.token} (bound to ${host}: every request needs it; open the URL above once, the page keeps it in a cookie)`);
console.error(`bench ${config.name}, seed ${seed}: payload booted; Ctrl-C stops`);
const archiver = new ConsoleArchiver(run!, session.bench);
console.error(`run archived in ${run!.dir} (replay: npm run console -- --replay ${basename(run!.dir)})`);

let code = 0;
try {
  await runLive(session, stop.signal, { lock });
} catch (e) {
  console.error(`error: bench ${config.name}: ${(e as Error).message}`);
  code = 1;
}
await server.close();
archiver.close();
await session.close();
process.exit(code);

/** The console's run folder in the archive; a root it cannot write exits 1 naming it. */
function archiveRun(cfg: Parameters<typeof createConsoleRun>[0]['config']): ConsoleRun {
  try {
    return createConsoleRun({ root, reportsRoot, config: cfg, seed, command });
  } catch (e) {
    fail(`cannot archive the run in ${reportsRoot} (--reports-root): ${(e as Error).message}`, 1);
  }
}

/** --replay: serves the recording until Ctrl-C; 1 when the run or its recording cannot be found. */
async function replay(ref: string, suite: string | undefined): Promise<number> {
  let rec;
  try {
    rec = loadRecording(reportsRoot, ref, suite);
  } catch (e) {
    if (e instanceof RunNotFoundError || e instanceof RecordingError) fail(`--replay: ${e.message}`, 1);
    throw e;
  }
  let server: ConsoleServer;
  try {
    server = await startReplayServer(rec, { root, host, port: httpPort });
  } catch (e) {
    fail((e as Error).message, 1);
  }
  const stopped = new Promise<void>((r) => {
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => r());
  });
  console.log(`console: ${server.url}`);
  if (!isLoopback(host)) console.log(`token: ${server.token} (bound to ${host}: every request needs it; open the URL above once, the page keeps it in a cookie)`);
  const others = rec.suites.filter((s) => s !== rec.suite);
  console.error(`replay of ${rec.dir} (data/${rec.suite}.json, ${Math.round(rec.data.endMs)} ms of bench time${others.length > 0 ? `; also there: ${others.join(', ')} (--suite NAME)` : ''}); Ctrl-C stops`);
  await stopped;
  await server.close();
  return 0;
}
