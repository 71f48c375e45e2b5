/**
 * npm run keyrate -- FILE.json | -
 * The finite-key calculator of Lim et al. 2014 on one JSON object (see --help).
 * Exit codes: 0 ok, 1 bad input data (the field is named) or failure, 2 usage.
 */
import { readFileSync } from 'node:fs';
import { KeyRateInputError, keyLength, parseKeyRateInput } from '../qkd/keyrate.ts';
import { parseCli, usageError } from './cli.ts';

const usage = `usage: npm run keyrate -- FILE.json | -
Finite-key decoy-state BB84 bound (Lim, Curty, Walenta, Xu, Zbinden, PRA 89, 022307 (2014)).
Input (key basis "key" = X of the paper, test basis "test" = Z):
  { "mu": [mu1, mu2, mu3], "p": [p1, p2, p3], "eps_sec": 1e-10, "eps_cor": 1e-15,
    "key":  { "n": [n1, n2, n3], "m": [m1, m2, m3] },
    "test": { "n": [n1, n2, n3], "m": [m1, m2, m3] },
    "lambda_ec": 123456 }            (or "f_ec": 1.16: lambda_ec = f_ec * n_key * h(m_key / n_key))
  optional "mu_rel_uncertainty": 0.06: the intensities are known only within mu (1 ± it);
  the bound is taken at the worst case over those intervals.
  n = detections per intensity in that basis, m = errors among them (whole numbers);
  mu1 > mu2 + mu3, mu2 > mu3 >= 0 and p1 + p2 + p3 = 1 (decoy-state conditions).
Output: one JSON object { s0, s1, s1_test, v1_test, phi, lambda_ec, length }.
Exit codes: 0 ok, 1 bad input data (the field is named), 2 usage.
Example: npm run keyrate -- test/qkd/fixtures/keyrate-example.json`;

const args = parseCli({}, usage).positionals;
if (args.length !== 1) usageError('expected exactly one input (a file or -)', usage);

let text: string;
try {
  text = args[0] === '-' ? readFileSync(0, 'utf8') : readFileSync(args[0], 'utf8');
} catch (e) {
  console.error(`cannot read ${args[0]}: ${(e as Error).message}`);
  process.exit(2);
}

let raw: unknown;
try {
  raw = JSON.parse(text);
} catch (e) {
  console.error(`input is not JSON: ${(e as Error).message}`);
  process.exit(1);
}

try {
  const input = parseKeyRateInput(raw);
  const r = keyLength(input);
  console.log(
    JSON.stringify({ s0: r.s0, s1: r.s1, s1_test: r.s1_test, v1_test: r.v1_test, phi: r.phi, lambda_ec: r.lambda_ec, length: r.length }),
  );
} catch (e) {
  if (e instanceof KeyRateInputError) {
    console.error(`bad input: ${e.message}`);
    process.exit(1);
  }
  console.error(`keyrate failed: ${(e as Error).message}`);
  process.exit(1);
}
