/**
 * npm run relay -- --from beijing --to stellenbosch --image IN.png --out OUT.png
 * Trusted-relay key exchange and a one-time-pad encrypted, authenticated image.
 */
import { accessSync, constants, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { PoolFormatError } from '../qkd/pool.ts';
import { PoolStoreError } from '../hil/relay/pool-store.ts';
import { bytesAsImage, encodePng, testPattern } from '../hil/relay/png.ts';
import { runRelay } from '../hil/relay/run-relay.ts';
import { fail, intOption, numberOption, outputPath, parseCli, seedOption, usageError } from './cli.ts';

const USAGE = `usage: npm run relay -- --from STATION --to STATION --image IN.png --out OUT.png [options]

The satellite as trusted relay: a simulated QKD pass over each station fills the
satellite's key pools, the satellite publishes K_A xor K_B to the receiver, the sender
one-time-pad encrypts the image with K_A and authenticates it (Wegman-Carter), the
ciphertext crosses the relay channel, the receiver checks the tag and decrypts.

  --from, --to STATION   beijing, jinan, hefei, nanshan, wuhan, shanghai or stellenbosch
  --image FILE           the file to send (any bytes; a PNG is shown as a picture)
  --out FILE             where the receiver writes the decrypted file (its folder is
                         created); the ciphertext rendered as a picture goes next to it
                         as <out>.cipher.png
  --seed N               mission seed (default 1): runs with the same seed and pools agree bit for bit
  --pool-dir DIR         where the key pools persist across runs (default .keypools)
  --no-pass              simulate no passes: spend only the key the pools already hold
  --duration-s S         length of each pass (default 300)
  --relay-ber X          bit error rate at zenith on the relay virtual channel (default 0);
                         lost packets make the tag check fail: nothing is written
  --tamper               flip one ciphertext bit in transit (the receiver must refuse)
  --make-test-image FILE write a test-pattern PNG to FILE and exit

exit: 0 image delivered and verified; 1 refused (too little key), tag check failed or
      key pools unreadable, nothing written; 2 usage error (an --out that cannot be
      written is refused before any key is spent)`;

const { values } = parseCli(
  {
    from: { type: 'string' },
    to: { type: 'string' },
    image: { type: 'string' },
    out: { type: 'string' },
    seed: { type: 'string' },
    'pool-dir': { type: 'string', default: '.keypools' },
    'no-pass': { type: 'boolean', default: false },
    'duration-s': { type: 'string' },
    'relay-ber': { type: 'string' },
    tamper: { type: 'boolean', default: false },
    'make-test-image': { type: 'string' },
  },
  USAGE,
  false,
);

if (values['make-test-image']) {
  writeFileSync(outputPath('make-test-image', values['make-test-image'] as string), encodePng(testPattern(64, 48)));
  console.log(`wrote ${values['make-test-image']}`);
  process.exit(0);
}
for (const k of ['from', 'to', 'image', 'out'] as const) if (!values[k]) usageError(`--${k} is required`, USAGE);
const image = values.image as string;
if (!existsSync(image)) usageError(`no such file: ${image}`, USAGE);
const seed = seedOption(values.seed as string | undefined, USAGE, 2 ** 31) ?? 1;
const passDurationS = intOption('duration-s', values['duration-s'] as string | undefined, USAGE, 10, 900);
const relayBer = numberOption('relay-ber', values['relay-ber'] as string | undefined, USAGE, 0, 0.01) ?? 0;
const out = values.out as string;
const cipherOut = out.replace(/(\.png)?$/i, '.cipher.png');

/**
 * Refuses an output that could not be written, before any key is spent on it; its folder
 * is created (outputPath), as for every --out.
 */
function checkWritable(path: string, label: string): void {
  if (existsSync(path) && statSync(path).isDirectory()) fail(`--out ${out}: ${label} ${path} is a directory`, 2);
  outputPath('out', path);
  const parent = dirname(resolve(path));
  try {
    accessSync(existsSync(path) ? path : parent, constants.W_OK);
  } catch {
    fail(`--out ${out}: ${label} ${path} cannot be written (permission denied)`, 2);
  }
}
checkWritable(out, 'the decrypted file');
checkWritable(cipherOut, 'the ciphertext picture');

let outcome;
try {
  outcome = await runRelay({
    from: values.from as string,
    to: values.to as string,
    plaintext: readFileSync(image),
    seed,
    poolDir: values['pool-dir'] as string,
    noPass: values['no-pass'] as boolean,
    passDurationS,
    relayBerZenith: relayBer,
    carry: values.tamper
      ? (m) => {
          const c = m.ciphertext.slice();
          c[c.length >> 1] ^= 0x04;
          return { ...m, ciphertext: c };
        }
      : undefined,
    progress: (m) => process.stderr.write(`${m}\n`),
  });
} catch (e) {
  if (e instanceof PoolStoreError || e instanceof PoolFormatError) fail(`key pools in ${values['pool-dir']}: ${e.message}`, 1);
  usageError((e as Error).message, USAGE);
}

console.log('key pool               produced     consumed         left   (bits)');
for (const p of outcome.pools) {
  console.log(`${p.pool.padEnd(22)} ${String(p.producedBits).padStart(9)} ${String(p.consumedBits).padStart(12)} ${String(p.leftBits).padStart(12)}`);
}
if (!outcome.ok) {
  console.error(`relay refused: ${outcome.message}; nothing written`);
  process.exit(1);
}
try {
  writeFileSync(out, outcome.plaintext);
  writeFileSync(cipherOut, encodePng(bytesAsImage(outcome.ciphertext)));
} catch (e) {
  fail(`delivered and verified, but writing it failed: ${(e as Error).message}`, 1);
}
console.log(
  `delivered ${outcome.plaintext.length} octets with ${outcome.keyBitsUsed} key bits over ${outcome.relayPackets} relay-VC packets: ${out} (decrypted, tag verified), ${cipherOut} (ciphertext as seen on the link)`,
);
