import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXAMPLE_TLE } from '../../boards/sim/orbit.ts';
import { encodeCommand } from '../../protocols/dictionary/index.ts';
import { encodeSerialFrame } from '../../protocols/serial-frame.ts';
import { encodePng, testPattern } from '../../hil/relay/png.ts';
import { capture, identifyHex, junk, tmCapture } from './decode-fixtures.ts';
import { ROOT, runScript, STACK_LINE } from './run.ts';

/**
 * Issue 11 (items 8, 10, 11 and the acceptance's table-driven CLI test): every CLI in
 * scripts/ fed bad input, as a real process. Usage errors exit 2, bad data exits 1, the
 * answer names what was wrong (option or field, and the value), and no output line looks
 * like a stack trace. Deeper checks of one CLI live beside it (relay --out spends no key:
 * test/relay/relay-cli.test.ts).
 */
const dir = mkdtempSync(join(tmpdir(), 'bad-input-'));
function file(name: string, content: Uint8Array | string): string {
  const f = join(dir, name);
  writeFileSync(f, content);
  return f;
}
const aDirectory = join(dir, 'a-directory');
mkdirSync(aDirectory);
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

interface Row {
  cli: string;
  /** What is wrong with the input. */
  name: string;
  args: string[];
  stdin?: Uint8Array | string;
  code: 1 | 2;
  /** What stderr must say: the option or field, and the value. */
  says: RegExp;
  /** The whole output is that one line. */
  oneLine?: true;
  /** Output that must not appear (a null field, a port that was opened). */
  never?: RegExp;
}

// keyrate: one JSON object; bad data on stdin or in a file is exit 1 naming the field.
const GOOD = {
  mu: [0.8, 0.1, 0],
  p: [0.5, 0.25, 0.25],
  key: { n: [1700000, 93000, 150], m: [17500, 1050, 75] },
  test: { n: [1700000, 93000, 150], m: [17600, 1040, 74] },
  f_ec: 1.16,
};
const keyrateInput = (patch: Record<string, unknown>) => JSON.stringify({ ...GOOD, ...patch });
const NULL_FIELD = /\bnull\b/;

// decode: captures cut, garbled or not captures at all.
const tm = tmCapture();
const pings = Buffer.concat([1, 2, 3].map((i) => encodeSerialFrame(encodeCommand('PING', {}, { seq: i }))));

// flash: a YAML alias bomb ("billion laughs": nine levels of nine aliases, 9^9 strings
// once expanded), and a port that does not exist: reaching it would fail naming the port.
function billionLaughs(): string {
  const lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i <= 8; i++) lines.push(`a${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(',')}]`);
  lines.push('board: qsrc', 'parameters: { MU_SIGNAL: 0.6 }', 'tables: { pattern: *a8 }');
  return lines.join('\n') + '\n';
}
const bomb = file('bomb.yaml', billionLaughs());
const noTty = join(dir, 'no-such-tty');
const flash = (...more: string[]) => ['--board', 'qsrc', '--port', noTty, '--config', bomb, '--yes', ...more];

// relay: everything valid but the one option under test; nothing may be spent.
const relay = (...more: string[]) => ['--from', 'beijing', '--to', 'stellenbosch', '--image', file('in.png', encodePng(testPattern(8, 8))), '--pool-dir', join(dir, 'pools'), '--no-pass', '--out', join(dir, 'out.png'), ...more];
const downlinkOut = ['--out', join(dir, 'dl.bin')];

const rows: Row[] = [
  // keyrate
  { cli: 'keyrate', name: 'n = 1e308', args: ['-'], stdin: keyrateInput({ key: { n: [1e308, 93000, 150], m: [0, 0, 0] } }), code: 1, says: /key\.n\[0\].*1e\+308/, never: NULL_FIELD },
  { cli: 'keyrate', name: 'fractional detections', args: ['-'], stdin: keyrateInput({ test: { n: [1700000, 93000.5, 150], m: [0, 0, 0] } }), code: 1, says: /test\.n\[1\].*93000\.5/, never: NULL_FIELD },
  { cli: 'keyrate', name: 'fractional errors', args: ['-'], stdin: keyrateInput({ key: { n: [1700000, 93000, 150], m: [0.5, 0, 0] } }), code: 1, says: /key\.m\[0\].*0\.5/, never: NULL_FIELD },
  { cli: 'keyrate', name: 'decoy conditions broken', args: ['-'], stdin: keyrateInput({ mu: [0.3, 0.25, 0.1] }), code: 1, says: /mu.*mu1 > mu2 \+ mu3.*mu1=0\.3, mu2=0\.25, mu3=0\.1/, never: NULL_FIELD },
  { cli: 'keyrate', name: 'eps_sec underflows', args: ['-'], stdin: keyrateInput({ eps_sec: 1e-320 }), code: 1, says: /eps_sec/, never: NULL_FIELD },
  { cli: 'keyrate', name: 'f_ec overflows', args: ['-'], stdin: keyrateInput({ f_ec: 1e308 }), code: 1, says: /f_ec/, never: NULL_FIELD },
  { cli: 'keyrate', name: 'not JSON', args: ['-'], stdin: '{"mu": [0.8,', code: 1, says: /not JSON/ },
  { cli: 'keyrate', name: 'no input', args: [], code: 2, says: /exactly one input/ },
  { cli: 'keyrate', name: 'unknown option', args: ['--n', '5'], code: 2, says: /--n/ },
  { cli: 'keyrate', name: 'intensity uncertainty out of range', args: ['-'], stdin: keyrateInput({ mu_rel_uncertainty: 0.7 }), code: 1, says: /mu_rel_uncertainty.*0\.7/, never: NULL_FIELD },

  // pass
  { cli: 'pass', name: '--duration-s 0.001', args: ['--duration-s', '0.001'], code: 2, says: /--duration-s.*0\.001/ },
  { cli: 'pass', name: '--duration-s NaN', args: ['--duration-s', 'NaN'], code: 2, says: /--duration-s.*NaN/ },
  { cli: 'pass', name: '--duration-s Infinity', args: ['--duration-s', 'Infinity'], code: 2, says: /--duration-s.*Infinity/ },
  { cli: 'pass', name: "--seed ''", args: ['--seed', ''], code: 2, says: /--seed.*''/ },
  { cli: 'pass', name: '--seed 1e3', args: ['--seed', '1e3'], code: 2, says: /--seed.*'1e3'/ },
  { cli: 'pass', name: '--seed 0x10', args: ['--seed', '0x10'], code: 2, says: /--seed.*'0x10'/ },
  { cli: 'pass', name: '--seed -1', args: ['--seed=-1'], code: 2, says: /--seed.*'-1'/ },
  { cli: 'pass', name: '--seed 1.5', args: ['--seed', '1.5'], code: 2, says: /--seed.*'1\.5'/ },
  { cli: 'pass', name: '--physics-only with --bench', args: ['--physics-only', '--bench', 'hil/benches/pty.json'], code: 2, says: /--physics-only.*--bench/ },
  { cli: 'pass', name: '--bench no such file', args: ['--bench', join(dir, 'no-such-bench.json')], code: 2, says: /no-such-bench\.json/ },
  { cli: 'pass', name: '--realtime (the mission world needs simulated time)', args: ['--realtime', '--bench', 'hil/benches/pty.json'], code: 2, says: /--realtime: the mission pass cannot run on the wall clock/, never: /\[pass\] bench/ },
  { cli: 'pass', name: '--port a tty that does not exist', args: ['--port', `apt=${noTty}`, '--duration-s', '1'], code: 1, says: new RegExp(`apt.*${escape(noTty)}`) },

  // decode: usage (exit 2)
  { cli: 'decode', name: 'unknown format', args: ['--format', 'nope', '-'], stdin: '', code: 2, says: /unknown format 'nope'/ },
  { cli: 'decode', name: 'a file that does not exist', args: ['/no/such/file'], code: 2, says: /no such file: \/no\/such\/file/ },
  ...['spacepacket', 'cobs', 'boardlink', 'capture', 'tmframe'].map((format): Row => ({
    cli: 'decode',
    name: `a directory as --format ${format}`,
    args: ['--format', format, '--frame-length', '64', aDirectory],
    code: 2,
    says: /not a file: .*a-directory/,
  })),
  { cli: 'decode', name: '--frame-length 8 (the receiver needs 13)', args: ['--format', 'tmframe', '--frame-length', '8', '-'], stdin: tm, code: 2, says: /--frame-length .*13\.\.2048.*got '8'/ },
  { cli: 'decode', name: "--frame-length ''", args: ['--format', 'tmframe', '--frame-length', '', '-'], stdin: tm, code: 2, says: /--frame-length .*got ''/ },
  { cli: 'decode', name: '--ocf and --no-ocf together', args: ['--format', 'tmframe', '--frame-length', '64', '--ocf', '--no-ocf', '-'], stdin: tm, code: 2, says: /give --ocf or --no-ocf, not both/ },
  // decode: bad data (exit 1)
  { cli: 'decode', name: 'a capture file whose header is not JSON', args: ['--format', 'capture', file('bad-header.cap.jsonl', '{"type":"header",\n')], code: 1, says: /bad-header\.cap\.jsonl: header line is not JSON/ },
  { cli: 'decode', name: 'a capture file with a line that is not JSON', args: ['--format', 'capture', file('bad-line.cap.jsonl', capture('{"t":1,'))], code: 1, says: /bad-line\.cap\.jsonl:2: not JSON/ },
  {
    cli: 'decode',
    name: 'a capture record with hex zz11',
    args: ['--format', 'capture', file('zz.cap.jsonl', capture(`{"t":1,"dir":"tx","hex":"${identifyHex}"}`, '{"t":2,"dir":"rx","hex":"zz11"}'))],
    code: 1,
    says: /recordsInvalid":1/,
  },
  { cli: 'decode', name: 'a capture cut mid-frame', args: ['--format', 'capture', file('cut.cap.jsonl', capture(`{"t":1,"dir":"tx","hex":"${identifyHex.slice(0, 12)}"}`))], code: 1, says: /truncatedBytes":6/ },
  { cli: 'decode', name: '200 kB of random bytes as --format tmframe', args: ['--format', 'tmframe', '--frame-length', '64', '-'], stdin: junk(200_000, 1), code: 1, says: /200000 bytes skipped/ },
  { cli: 'decode', name: 'a TM capture cut mid-frame', args: ['--format', 'tmframe', '--frame-length', '64', '-'], stdin: tm.subarray(0, tm.length - 30), code: 1, says: /38 bytes of a truncated last unit/ },
  { cli: 'decode', name: 'a COBS capture cut mid-frame', args: ['--format', 'cobs', '-'], stdin: pings.subarray(0, pings.length - 5), code: 1, says: /truncatedBytes":\d+/ },
  { cli: 'decode', name: 'a board-link capture cut mid-frame', args: ['--format', 'boardlink', '-'], stdin: Buffer.from(identifyHex.slice(0, 12), 'hex'), code: 1, says: /6 bytes of a truncated last unit/ },

  // flash
  {
    cli: 'flash',
    name: 'a YAML alias bomb as --config',
    args: flash(),
    code: 1,
    says: new RegExp(`^flash: refused ${escape(bomb)}, nothing sent to the board: .*alias`, 'i'),
    oneLine: true,
    never: /no-such-tty/,
  },
  { cli: 'flash', name: "--baud ''", args: flash('--baud', ''), code: 2, says: /--baud.*''/, never: /no-such-tty/ },
  { cli: 'flash', name: 'unknown board', args: ['--board', 'nope', '--port', noTty, '--config', bomb], code: 2, says: /unknown board 'nope'/, never: /no-such-tty/ },

  // relay: checked before any key is spent (relay-cli.test.ts checks the pools)
  { cli: 'relay', name: '--out a directory', args: relay('--out', aDirectory), code: 2, says: /^error: --out .*a-directory.* is a directory$/m, oneLine: true },
  { cli: 'relay', name: "--relay-ber ''", args: relay('--relay-ber', ''), code: 2, says: /--relay-ber.*''/ },
  { cli: 'relay', name: '--relay-ber Infinity', args: relay('--relay-ber', 'Infinity'), code: 2, says: /--relay-ber.*'Infinity'/ },
  { cli: 'relay', name: "--seed ''", args: relay('--seed', ''), code: 2, says: /--seed.*''/ },
  { cli: 'relay', name: '--seed 1e3', args: relay('--seed', '1e3'), code: 2, says: /--seed.*'1e3'/ },

  // downlink
  { cli: 'downlink', name: "--ber ''", args: ['--ber', '', ...downlinkOut], code: 2, says: /--ber.*''/ },
  { cli: 'downlink', name: '--ber 0x0', args: ['--ber', '0x0', ...downlinkOut], code: 2, says: /--ber.*'0x0'/ },
  { cli: 'downlink', name: "--duration-s ' '", args: ['--duration-s', ' ', ...downlinkOut], code: 2, says: /--duration-s.*' '/ },
  { cli: 'downlink', name: '--duration-s 0', args: ['--duration-s', '0', ...downlinkOut], code: 2, says: /--duration-s.*\(0, 3600\].*'0'/ },
  { cli: 'downlink', name: '--bit-rate Infinity', args: ['--bit-rate', 'Infinity', ...downlinkOut], code: 2, says: /--bit-rate.*'Infinity'/ },
  { cli: 'downlink', name: "--seed ''", args: ['--seed', '', ...downlinkOut], code: 2, says: /--seed.*''/ },

  // emulate: each would otherwise start an emulator that runs until stopped
  { cli: 'emulate', name: "--tcp ''", args: ['qsrc', '--tcp', ''], code: 2, says: /--tcp.*''/ },
  { cli: 'emulate', name: '--tcp 0x10', args: ['qsrc', '--tcp', '0x10'], code: 2, says: /--tcp.*'0x10'/ },
  { cli: 'emulate', name: '--tcp 70000', args: ['qsrc', '--tcp', '70000'], code: 2, says: /--tcp.*0\.\.65535.*'70000'/ },
  { cli: 'emulate', name: '--baud NaN', args: ['qsrc', '--baud', 'NaN'], code: 2, says: /--baud.*'NaN'/ },
  { cli: 'emulate', name: "--seed ''", args: ['qsrc', '--seed', ''], code: 2, says: /--seed.*''/ },
  { cli: 'emulate', name: '--seed 1e30', args: ['qsrc', '--seed', '1e30'], code: 2, says: /--seed.*'1e30'/ },

  // the rest
  { cli: 'start', name: "--seed ''", args: ['--seed', ''], code: 2, says: /--seed.*''/ },
  { cli: 'hil', name: "--seed ''", args: ['--seed', ''], code: 2, says: /--seed.*''/ },
  { cli: 'hil', name: 'unknown option', args: ['--nope'], code: 2, says: /--nope/ },
  { cli: 'hil', name: '--realtime on the in-process bench', args: ['--realtime'], code: 2, says: /--realtime .*bench 'emulated' has qsrc, apt, lct, acs in-process/, never: /Tests\s/ },
  { cli: 'hil', name: '--realtime with one board left in-process', args: ['--bench', 'hil/benches/lockstep.json', '--port', 'qsrc=tcp:127.0.0.1:7001,apt=tcp:127.0.0.1:7002,lct=/dev/ttyUSB2', '--realtime'], code: 2, says: /--realtime .*bench 'lockstep' has acs in-process/, never: /Tests\s/ },
  { cli: 'dict', name: 'unknown export', args: ['--export', 'yaml'], code: 2, says: /unknown export 'yaml'/ },
  { cli: 'ports', name: 'unknown option', args: ['--nope'], code: 2, says: /--nope/ },
  { cli: 'fuzz', name: "--streams ''", args: ['--streams', ''], code: 2, says: /--streams.*''/ },
  { cli: 'fuzz', name: '--seed 1.5', args: ['--seed', '1.5'], code: 2, says: /--seed.*'1\.5'/ },
  { cli: 'bench', name: 'unknown option', args: ['--nope'], code: 2, says: /--nope/ },
  { cli: 'bench', name: 'unknown benchmark', args: ['nope'], code: 2, says: /unknown benchmark 'nope'/ },
  // the suite runner's selection and the run archive (issue 13)
  { cli: 'hil', name: 'unknown suite', args: ['nosuch'], code: 2, says: /no suite matches 'nosuch'; suites: apt, boards, config-flash, corruption, passes, payload, relay, uplink-security/, never: /Tests\s/ },
  { cli: 'start', name: 'unknown suite', args: ['--reports-root', join(dir, 'start-runs'), 'nosuch'], code: 2, says: /no suite matches 'nosuch'; suites: apt,/, never: /Test Files|regression suite, seed/ },
  { cli: 'hil', name: '--repeat 0', args: ['--repeat', '0', 'uplink'], code: 2, says: /--repeat.*1\.\.1000.*'0'/, never: /Tests\s/ },
  { cli: 'hil', name: '--repeat 2x', args: ['--repeat', '2x', 'uplink'], code: 2, says: /--repeat.*'2x'/, never: /Tests\s/ },
  { cli: 'runs', name: 'compare an unknown run', args: ['compare', 'nope', '--reports-root', dir], code: 2, says: /no run 'nope'/ },
  { cli: 'runs', name: 'compare three runs', args: ['compare', 'a', 'b', 'c', '--reports-root', dir], code: 2, says: /at most two runs, got 3/ },
  { cli: 'runs', name: '--tolerance -1', args: ['compare', '--tolerance=-1', '--reports-root', dir], code: 2, says: /--tolerance.*'-1'/ },
  { cli: 'runs', name: 'unknown command', args: ['purge'], code: 2, says: /unknown command 'purge'/ },
  // rough edges (issue 13): one TCP spelling, --host only with --tcp, an --out whose folder cannot be made
  { cli: 'flash', name: '--port HOST:PORT without tcp:', args: ['--board', 'qsrc', '--port', '127.0.0.1:7001', '--config', bomb, '--yes'], code: 2, says: /--port '127\.0\.0\.1:7001' looks like a TCP address: write tcp:127\.0\.0\.1:7001/, never: /does not exist/ },
  { cli: 'hil', name: '--port apt=HOST:PORT without tcp:', args: ['--port', 'apt=127.0.0.1:7001', 'apt'], code: 2, says: /write tcp:127\.0\.0\.1:7001/, never: /Tests\s/ },
  { cli: 'pass', name: '--port apt=HOST:PORT without tcp:', args: ['--port', 'apt=localhost:7001'], code: 2, says: /write tcp:localhost:7001/ },
  { cli: 'emulate', name: '--host without --tcp', args: ['qsrc', '--host', '0.0.0.0'], code: 2, says: /--host needs --tcp PORT/ },
  { cli: 'emulate', name: "--host 'a b'", args: ['qsrc', '--tcp', '0', '--host', 'a b'], code: 2, says: /--host must be an IP address or host name, got 'a b'/ },
  { cli: 'dict', name: '--out under a file', args: ['--export', 'json', '--out', join(bomb, 'dictionary.json')], code: 2, says: /^error: --out .*bomb\.yaml.*cannot be written: its folder .* is not a directory/m, oneLine: true },
  { cli: 'dict', name: '--out a directory', args: ['--export', 'json', '--out', aDirectory], code: 2, says: /^error: --out .*a-directory is a directory$/m, oneLine: true },
  // benches beyond one machine (issue 15): RFC 2217 lines, shards, merging runs
  { cli: 'hil', name: '--port apt=rfc2217://HOST without a port', args: ['--port', 'apt=rfc2217://farm1', 'apt'], code: 2, says: /--port apt=rfc2217:\/\/farm1: bad RFC 2217 address 'rfc2217:\/\/farm1': write rfc2217:\/\/HOST:PORT/, never: /Tests\s/ },
  { cli: 'hil', name: '--shard 3/2', args: ['--shard', '3/2', 'apt'], code: 2, says: /--shard must be K\/N with 1 <= K <= N .*got '3\/2'/, never: /Tests\s/ },
  { cli: 'hil', name: '--shard 0/2', args: ['--shard', '0/2', 'apt'], code: 2, says: /--shard must be K\/N .*got '0\/2'/, never: /Tests\s/ },
  { cli: 'runs', name: 'merge without runs', args: ['merge', '--reports-root', dir], code: 2, says: /merge needs the run folders to join/ },
  { cli: 'runs', name: 'merge an unknown run', args: ['merge', 'nope', '--reports-root', dir], code: 2, says: /no run 'nope'.*nor a folder/ },
  { cli: 'runs', name: '--name without merge', args: ['compare', '--name', 'x', '--reports-root', dir], code: 2, says: /--name goes with merge/ },
  { cli: 'runs', name: 'merge a folder that is not a run', args: ['merge', aDirectory, '--reports-root', dir], code: 1, says: /cannot merge: .*a-directory is not a run folder \(no readable run\.json\)/ },
  // dictionary exports (issue 15)
  { cli: 'dict', name: 'export kind misspelt', args: ['--export', 'xtcee'], code: 2, says: /unknown export 'xtcee' \(one of json, markdown, xtce\)/ },
  // the board agent (issue 17, native)
  { cli: 'agent', name: 'no command', args: [], code: 2, says: /missing command \(gen or build\)/ },
  { cli: 'agent', name: 'unknown build target', args: ['build', 'avr'], code: 2, says: /unknown target 'avr' \(known: native/ },
  { cli: 'agent', name: 'build without a target', args: ['build'], code: 2, says: /build needs a TARGET/ },
  { cli: 'agent', name: '--sanitize with gen', args: ['gen', '--sanitize'], code: 2, says: /--sanitize goes with build native/ },
  { cli: 'emulate', name: '--agent with --tcp', args: ['qsrc', '--agent', '--tcp', '0'], code: 2, says: /--agent runs the board agent on a pty: --tcp is an emulator option/ },
  // the pass list (issue 14)
  { cli: 'passes', name: 'unknown station', args: ['--station', 'xinglong'], code: 2, says: /--station: unknown station 'xinglong' \(known: beijing, .*stellenbosch\)/ },
  { cli: 'passes', name: '--days 0', args: ['--days', '0'], code: 2, says: /--days must be a whole number in 1\.\.366, got '0'/ },
  { cli: 'passes', name: '--days 1.5', args: ['--days', '1.5'], code: 2, says: /--days .*'1\.5'/ },
  { cli: 'passes', name: '--from 2026-02-30 (no such day)', args: ['--from', '2026-02-30'], code: 2, says: /--from must be a UTC date .*got '2026-02-30'/ },
  { cli: 'passes', name: '--from a local time (no Z)', args: ['--from', '2026-11-22T12:00'], code: 2, says: /--from must be .*YYYY-MM-DDTHH:MM\[:SS\]Z, got '2026-11-22T12:00'/ },
  { cli: 'passes', name: '--min-elevation-deg 90', args: ['--min-elevation-deg', '90'], code: 2, says: /--min-elevation-deg must be a number in 0\.\.89, got '90'/ },
  { cli: 'passes', name: '--tle a file that does not exist', args: ['--tle', join(dir, 'no-such.tle')], code: 2, says: /--tle: no such file: .*no-such\.tle/, oneLine: true },
  { cli: 'passes', name: '--tle a directory', args: ['--tle', aDirectory], code: 2, says: /--tle: not a file: .*a-directory/, oneLine: true },
  {
    cli: 'passes',
    name: '--tle with a checksum that does not fit',
    args: ['--tle', file('bad-sum.tle', `${EXAMPLE_TLE[0]}\n${EXAMPLE_TLE[1].slice(0, 68)}0\n`)],
    code: 1,
    says: /--tle .*bad-sum\.tle: not a two-line element set: line 2: checksum '0' in column 69, the line sums to 6/,
    oneLine: true,
  },
  // npm run pass: choosing the pass, what-if compensations, the report (issue 14)
  { cli: 'pass', name: '--pass 0', args: ['--physics-only', '--pass', '0'], code: 2, says: /--pass must be a whole number in 1\.\.10000, got '0'/ },
  { cli: 'pass', name: '--pass beyond the window', args: ['--physics-only', '--station', 'wuhan', '--pass', '99'], code: 2, says: /--pass: pass 99: the window from 2026-11-22T12:00:00\.000Z \(3 days\) has \d+ passes over Wuhan/, never: /\[pass\] Wuhan: pass/ },
  { cli: 'pass', name: '--pass below the mission minimum elevation', args: ['--station', 'nanshan', '--pass', '1', '--duration-s', '1'], code: 2, says: /--pass: pass 1 over Nanshan culminates at 11\.5 deg, below this engine's minimum elevation of 15 deg/ },
  { cli: 'pass', name: '--disable an unknown compensation', args: ['--physics-only', '--disable', 'time-sync,beam-wander'], code: 2, says: /--disable: unknown compensation 'beam-wander' \(known: point-ahead, time-sync, polarisation-compensation\)/ },
  { cli: 'pass', name: '--date 2026-13-01', args: ['--physics-only', '--date', '2026-13-01'], code: 2, says: /--date must be a UTC date .*got '2026-13-01'/ },
  { cli: 'pass', name: '--tle a file that does not exist', args: ['--physics-only', '--tle', join(dir, 'no-such.tle')], code: 2, says: /--tle: no such file: .*no-such\.tle/, oneLine: true },
  { cli: 'pass', name: '--report a file', args: ['--physics-only', '--report', file('report-file', 'x')], code: 2, says: /--report .*report-file is a file, not a folder/ },
  // npm run campaign (issue 14)
  { cli: 'campaign', name: '--days 0', args: ['--days', '0'], code: 2, says: /--days must be a whole number in 1\.\.366, got '0'/ },
  { cli: 'campaign', name: 'unknown station', args: ['--stations', 'beijing,xinglong'], code: 2, says: /--stations: unknown station 'xinglong' \(known: beijing, .*stellenbosch\)/ },
  { cli: 'campaign', name: '--shard 3/2', args: ['--shard', '3/2'], code: 2, says: /--shard must be K\/N with 1 <= K <= N \(e\.g\. 2\/4\), got '3\/2'/ },
  { cli: 'campaign', name: '--shard 1-2', args: ['--shard', '1-2'], code: 2, says: /--shard must be K\/N .*got '1-2'/ },
  { cli: 'campaign', name: '--workers 0', args: ['--workers', '0'], code: 2, says: /--workers must be a whole number in 1\.\.256, got '0'/ },
  { cli: 'campaign', name: '--seed -1', args: ['--seed=-1'], code: 2, says: /--seed must be a whole number in 0\.\.4294967295, got '-1'/ },
  { cli: 'campaign', name: 'unknown command', args: ['rerun'], code: 2, says: /unknown command 'rerun' \(the only command is merge\)/ },
  { cli: 'campaign', name: 'merge without --out', args: ['merge', aDirectory], code: 2, says: /merge needs --out DIR/ },
  { cli: 'campaign', name: 'merge with a run option', args: ['merge', aDirectory, '--out', join(dir, 'merged'), '--days', '3'], code: 2, says: /--days goes with a run, not merge/ },
  { cli: 'campaign', name: 'merge a folder that is not a campaign', args: ['merge', aDirectory, '--out', join(dir, 'merged')], code: 2, says: /merge: .*a-directory\/campaign\.json: no such file \(not a campaign folder\)/, oneLine: true },
  {
    cli: 'campaign',
    name: 'merge a shard whose CSV is damaged',
    args: ['merge', damagedShard(), '--out', join(dir, 'merged')],
    code: 1,
    says: /merge: .*damaged-shard\/campaign\.csv: line 2: finalKeyBits 'lots' is not a whole number/,
    oneLine: true,
  },  // the operator console's scriptable twins (issue 16): refused before any bench is opened
  { cli: 'cmd', name: 'no command', args: [], code: 2, says: /no command given: NAME \[field=value \.\.\.\]/ },
  { cli: 'cmd', name: 'unknown command', args: ['PNG'], code: 2, says: /^error: unknown command 'PNG' \(did you mean PING\?\); commands: ENABLE_HK,/m, oneLine: true },
  { cli: 'cmd', name: 'unknown field', args: ['SET_MODE', 'mod=SAFE'], code: 2, says: /^error: SET_MODE: unknown field 'mod' \(did you mean mode\?\); fields: mode$/m, oneLine: true },
  { cli: 'cmd', name: 'enum value not a state', args: ['SET_MODE', 'mode=WARP'], code: 2, says: /^error: SET_MODE: field 'mode': "WARP" is not one of OFF, BOOT, STANDBY, ACQUISITION/m, oneLine: true },
  { cli: 'cmd', name: 'value out of range', args: ['SET_HK_INTERVAL', 'sid=1', 'intervalMs=5'], code: 2, says: /^error: SET_HK_INTERVAL: field 'intervalMs': 5 ms outside 100\.\.600000$/m, oneLine: true },
  { cli: 'cmd', name: 'parameter value out of range', args: ['SET_PARAM', 'paramId=1', 'value=5000'], code: 2, says: /field 'value': parameter SOURCE_REP_RATE_MHZ: 5000 MHz outside 1\.\.1000/, oneLine: true },
  { cli: 'cmd', name: 'number not a number', args: ['SET_HK_INTERVAL', 'sid=one', 'intervalMs=1000'], code: 2, says: /field 'sid': expected a number, got "one"/, oneLine: true },
  { cli: 'cmd', name: 'missing field', args: ['SET_MODE'], code: 2, says: /SET_MODE: missing field mode/, oneLine: true },
  { cli: 'cmd', name: 'hazardous without --yes', args: ['RESET_BOARD', 'board=apt'], code: 2, says: /^error: RESET_BOARD is hazardous \(Reset one board through its port\.\): add --yes to send it$/m, oneLine: true },
  { cli: 'cmd', name: 'config bank switch without --yes', args: ['SELECT_CONFIG_BANK', 'bank=B'], code: 2, says: /SELECT_CONFIG_BANK is hazardous .*add --yes/, oneLine: true },
  { cli: 'cmd', name: '--port HOST:PORT without tcp:', args: ['PING', '--port', 'apt=127.0.0.1:7001'], code: 2, says: /write tcp:127\.0\.0\.1:7001/, never: /VERIFY_/ },
  { cli: 'tlm', name: 'no item', args: [], code: 2, says: /no telemetry item given: PACKET\.field/ },
  { cli: 'tlm', name: 'unknown packet', args: ['PAYLOD_HK.mode'], code: 2, says: /^error: unknown telemetry packet 'PAYLOD_HK' \(close: PAYLOAD_HK.*\); packets: PAYLOAD_HK, QKD_HK, LINK_HK$/m, oneLine: true },
  { cli: 'tlm', name: 'unknown field', args: ['PAYLOAD_HK.lasertemp'], code: 2, says: /^error: PAYLOAD_HK has no field 'lasertemp' \(close: PAYLOAD_HK\.laserTempC\); fields: mode,/m, oneLine: true },
  { cli: 'tlm', name: '--count without --follow', args: ['PAYLOAD_HK.mode', '--count', '3'], code: 2, says: /--count goes with --follow/ },
  { cli: 'tlm', name: '--count 0', args: ['PAYLOAD_HK.mode', '--follow', '--count', '0'], code: 2, says: /--count must be a whole number in 1\.\.\d+, got '0'/ },
  { cli: 'console', name: 'http port not a number', args: ['--http-port', 'abc'], code: 2, says: /--http-port must be a whole number in 0\.\.65535, got 'abc'/ },
  { cli: 'console', name: '--allow-writes with a value', args: ['--allow-writes=yes'], code: 2, says: /Option '--allow-writes' does not take an argument/ },
  { cli: 'console', name: '--replay with --bench', args: ['--replay', 'latest', '--bench', 'hil/benches/emulated.json'], code: 2, says: /--replay serves an archived run, no bench: it excludes --bench/ },
  { cli: 'console', name: '--suite without --replay', args: ['--suite', 'passes'], code: 2, says: /--suite goes with --replay/ },
  { cli: 'console', name: '--replay an unknown run', args: ['--replay', 'nosuchrun', '--reports-root', dir], code: 1, says: /^error: --replay: no run 'nosuchrun'; no runs in .*\/runs \(nor a folder .*nosuchrun\)$/m, oneLine: true },
];

/** A campaign folder whose CSV has a row with a key that is not a number. */
function damagedShard(): string {
  const d = join(dir, 'damaged-shard');
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, 'campaign.json'), JSON.stringify({ engine: 'physics-only', window: { tle: EXAMPLE_TLE, fromUtc: '2026-11-22T12:00:00.000Z', days: 1 }, stations: ['beijing'], seed: 1, durationS: 300, shard: null }));
  writeFileSync(join(d, 'campaign.csv'), 'station,startUtc,maxElevationDeg,finalKeyBits,qber,culminationUtc,durationS,siftedBits,seed,keySha256,error\nbeijing,2026-11-22T15:43:35.000Z,21.51,lots,0.01,2026-11-22T15:46:28.000Z,300,1,1,ab,\n');
  return d;
}

describe('bad input to every CLI: exit code, what was wrong, no stack trace', () => {
  for (const row of rows) {
    it(`${row.cli}: ${row.name} -> exit ${row.code}`, () => {
      const r = runScript(row.cli, row.args, row.stdin);
      const out = `${r.stdout}\n${r.stderr}`;
      expect(r.code, r.stderr).toBe(row.code);
      expect(r.stderr).toMatch(row.says);
      expect(out).not.toMatch(STACK_LINE);
      if (row.oneLine) expect(out.split('\n').filter((l) => l.trim() !== '')).toEqual([expect.stringMatching(row.says)]);
      if (row.never) expect(out).not.toMatch(row.never);
    });
  }

  it('every CLI in scripts/ has a usage-error row (exit 2)', () => {
    const clis = readdirSync(join(ROOT, 'scripts')).filter((f) => f.endsWith('.ts') && f !== 'cli.ts').map((f) => f.slice(0, -3));
    expect(clis.length).toBeGreaterThanOrEqual(13);
    for (const cli of clis) expect({ cli, usageRows: rows.some((r) => r.cli === cli && r.code === 2) }).toEqual({ cli, usageRows: true });
  });
});

describe('numbers that are accepted still give sane answers', () => {
  it('keyrate reads a file with fractional counts as bad data (exit 1), the fixture as good (exit 0)', () => {
    const frac = file('frac.json', keyrateInput({ key: { n: [1700000, 93000, 150.25], m: [17500, 1050, 75] } }));
    const bad = runScript('keyrate', [frac]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/key\.n\[2\].*150\.25/);
    const good = runScript('keyrate', ['test/qkd/fixtures/keyrate-example.json']);
    expect(good.code).toBe(0);
    expect(Object.values(JSON.parse(good.stdout) as Record<string, number>).every(Number.isFinite)).toBe(true);
  });

  it('a pass too short to pay for its authentication nets 0 key, never negative, and says so', () => {
    const json = runScript('pass', ['--physics-only', '--duration-s', '1', '--json']);
    expect(json.code, json.stderr).toBe(0);
    const s = JSON.parse(json.stdout) as Record<string, number>;
    expect(s.finalKeyBits).toBe(0);
    expect(s.authKeyConsumedBits).toBeGreaterThan(0);
    expect(s.netKeyBits).toBe(0);
    expect(s.authDeficitBits).toBe(s.authKeyConsumedBits);
    expect(Object.values(s).some((v) => v === null)).toBe(false);
    const text = runScript('pass', ['--physics-only', '--duration-s', '1']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/net 0 \(the pass did not pay for its authentication: \d+ bits of stored key spent\)/);
  });
});
