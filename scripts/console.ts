/**
 * npm run console -- [--bench FILE] [--port BOARD=PATH ...] [--seed N] [--http-port N] [--host H]
 * The operator console: opens the bench (the payload firmware hosted and booted, as
 * `npm run cmd` and `npm run tlm` do), runs it live and serves the page (telemetry with
 * limits, commands, events, plots). Prints `console: http://127.0.0.1:N/` on a line of its own.
 * Exit codes: 0 on Ctrl-C, 1 a bench or server that cannot be opened, 2 usage.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BenchLock, type ConsoleServer, isLoopback, runLive, startConsoleServer } from '../hil/console/server.ts';
import { consoleBenchOption, fail, intOption, parseCli, seedOption, usageError } from './cli.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const usage = `usage: npm run console -- [--bench FILE] [--port BOARD=PATH ...] [--seed N] [--http-port N] [--host H]
The operator console in the browser: opens the bench with the payload firmware hosted and
booted to STANDBY, runs it live and serves a page with the telemetry (limits coloured),
a command sender built from the dictionary, the event log and plots (docs/console.md).
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
Exit codes: 0 stopped by Ctrl-C, 1 the bench or the server could not be opened, 2 usage.
Examples: npm run console
          npm run console -- --bench hil/benches/pty.json --http-port 8080`;

const { values: v, positionals } = parseCli(
  {
    bench: { type: 'string' },
    port: { type: 'string', multiple: true },
    seed: { type: 'string', default: '1' },
    'http-port': { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
  },
  usage,
);
if (positionals.length > 0) usageError(`unexpected argument${positionals.length > 1 ? 's' : ''}: ${positionals.join(' ')}`, usage);
const seed = seedOption(v.seed, usage)!;
const httpPort = intOption('http-port', v['http-port'], usage, 0, 65535)!;
const host = v.host.trim();
if (host === '') usageError('--host must name an address, e.g. 127.0.0.1 or 0.0.0.0', usage);

const { session, config } = await consoleBenchOption({ bench: v.bench, port: v.port, seed, root });

const lock = new BenchLock();
let server: ConsoleServer;
try {
  server = await startConsoleServer(session, { root, host, port: httpPort }, lock);
} catch (e) {
  await session.close();
  fail((e as Error).message, 1);
}

const stop = new AbortController();
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => stop.abort());

console.log(`console: ${server.url}`);
if (!isLoopback(host)) console.log(`token: ${server.token} (bound to ${host}: every request needs it; open the URL above once, the page keeps it in a cookie)`);
console.error(`bench ${config.name}, seed ${seed}: payload booted; Ctrl-C stops`);

let code = 0;
try {
  await runLive(session, stop.signal, { lock });
} catch (e) {
  console.error(`error: bench ${config.name}: ${(e as Error).message}`);
  code = 1;
}
await server.close();
await session.close();
process.exit(code);
