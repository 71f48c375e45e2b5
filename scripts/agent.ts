/**
 * npm run agent -- gen [--check]
 * npm run agent -- build native [--sanitize]
 * The board agent (boards/agent, docs/agent.md): writes the per-board C files from the
 * board definitions, and builds the agent for a target.
 */
import { buildCortexM3 } from '../hil/agent/build-cortex-m3.ts';
import { AgentBuildError, buildNativeAgent } from '../hil/agent/build-native.ts';
import { GENERATED_DIR, staleGeneratedFiles, writeGeneratedFiles } from '../hil/agent/gen.ts';
import { fail, parseCli, usageError } from './cli.ts';

/** Build targets: name → builder returning what it wrote. Other targets add a row here. */
const TARGETS: Record<string, (o: { sanitize: boolean }) => string[]> = {
  native: (o) => [buildNativeAgent({ sanitize: o.sanitize })],
  'cortex-m3': () => buildCortexM3().map((b) => b.elf),
};

const usage = `usage: npm run agent -- gen [--check]
       npm run agent -- build TARGET [--sanitize]
  gen            write boards/agent/generated/ (one .h and .c per board, and the board table)
                 from boards/definitions/; --check only reports stale files (exit 1 if any)
  build TARGET   build the agent: ${Object.keys(TARGETS).join(', ')} (into build/agent/)
  --sanitize     native: with AddressSanitizer and UBSan (what the tests run)
See docs/agent.md.`;

const args = parseCli({ check: { type: 'boolean' }, sanitize: { type: 'boolean' } }, usage, true);
const [cmd, target, ...rest] = args.positionals;

if (cmd === 'gen') {
  if (target !== undefined) usageError(`gen takes no argument, got '${target}'`, usage);
  if (args.values.sanitize) usageError('--sanitize goes with build native', usage);
  if (args.values.check) {
    const stale = staleGeneratedFiles();
    if (stale.length > 0) fail(`stale generated agent files in ${GENERATED_DIR}: ${stale.join(', ')} (run npm run agent -- gen)`, 1);
    console.log('agent: generated files are up to date');
  } else {
    const written = writeGeneratedFiles();
    console.log(written.length === 0 ? 'agent: generated files already up to date' : `agent: wrote ${written.map((f) => `boards/agent/generated/${f}`).join(', ')}`);
  }
} else if (cmd === 'build') {
  if (!target) usageError(`build needs a TARGET (${Object.keys(TARGETS).join(', ')})`, usage);
  if (rest.length > 0) usageError(`unexpected argument '${rest[0]}'`, usage);
  if (args.values.check) usageError('--check goes with gen', usage);
  const build = TARGETS[target];
  if (!build) usageError(`unknown target '${target}' (known: ${Object.keys(TARGETS).join(', ')})`, usage);
  const stale = staleGeneratedFiles();
  if (stale.length > 0) fail(`stale generated agent files: ${stale.join(', ')} (run npm run agent -- gen first)`, 1);
  try {
    for (const out of build({ sanitize: args.values.sanitize === true })) console.log(out);
  } catch (e) {
    if (e instanceof AgentBuildError) fail(e.message, 1);
    throw e;
  }
} else {
  usageError(cmd ? `unknown command '${cmd}'` : 'missing command (gen or build)', usage);
}
