import type { Clock } from '../../boards/clock.ts';
import { encodeRequest, frameMessage, MAX_MEM_CHUNK, wireTimeMs } from '../../protocols/board-link.ts';
import { BANK_LETTERS } from '../../protocols/config-image.ts';
import { crc32c } from '../../protocols/crc.ts';
import type { BoardDriver } from '../driver.ts';
import { BoardError, isBoardError } from '../errors.ts';
import { bootedConfig, type BoardState, checkIdentity, readBoardState, WrongBoardError } from './board-state.ts';
import { type ConfigDiff, diffConfigs } from './diff.ts';
import { configRecords, configToImage } from './image.ts';
import { type PipelinedRequest, runPipelined } from './pipeline.ts';
import type { BoardConfig, ConfigSchema } from './schema.ts';

/**
 * Flashing a config image to a board over the board link (docs/flashing.md):
 *   1. IDENTIFY: refuse a board whose id is not the config's;
 *   2. read the active bank and both banks' headers/CRCs; judge them with the boot rule;
 *   3. write the bank the board does NOT boot: erase, program in page-aligned blocks,
 *      each acknowledged with the CRC-32C of what the board now holds there, retried a
 *      bounded number of times; the block holding the header goes last, so a torn
 *      write always leaves an erased magic;
 *   4. MEM_CRC over the whole image against the image's CRC;
 *   5. only then switch CFG_ACTIVE_BANK with one register write, and confirm.
 * Up to 5 the board boots what it booted before; the switch is the commit point.
 */

export type FlashPhase = 'identify' | 'inspect' | 'erase' | 'write' | 'verify' | 'switch' | 'confirm';

export interface FlashProgress {
  phase: FlashPhase;
  /** Image bytes acknowledged so far (write phase), else 0. */
  doneBytes: number;
  totalBytes: number;
  message: string;
}

export interface FlashOptions {
  /** The bench clock the driver runs on (timeouts of pipelined writes). */
  clock: Clock;
  /** Line rate, to give each block's request a timeout that covers its wire time. */
  baud: number;
  /** Requests in flight while writing (default 4: an erase and a write for each of two blocks). */
  window?: number;
  /** Bytes per MEM_WRITE, a multiple of the flash page size (default: as many pages as one request carries). */
  blockBytes?: number;
  /** Attempts per block (and for erase, verify and switch) after the driver's own retries. */
  attempts?: number;
  onProgress?: (p: FlashProgress) => void;
}

/**
 * Where the board stands after a failed flash: 'previous' = untouched config; 'new' = it
 * boots the new image although the switch failed (a board that had no valid bank);
 * 'acknowledged' = it acknowledged the switch (a board persists the switch before it
 * answers, so it should boot the new image) but did not answer the read-back that
 * confirms it; 'unknown' = it stopped answering at the commit point.
 */
export type BoardOutcome = 'previous' | 'new' | 'acknowledged' | 'unknown';

/** What is known of a flash that got as far as the bank switch. */
export interface SwitchFacts {
  bank: 0 | 1;
  generation: number;
  imageBytes: number;
  imageCrc: number;
  /** The board acknowledged the switch (or answered CFG_ACTIVE_BANK = bank after a lost answer). */
  acknowledged: boolean;
}

export class FlashError extends Error {
  override readonly name = 'FlashError';
  constructor(
    message: string,
    /** What the board boots now; only 'previous' means the flash changed nothing (exit 1), the rest exit 3. */
    readonly outcome: BoardOutcome,
    readonly phase: FlashPhase,
    override readonly cause?: unknown,
    /** Set from the bank switch on: what was written and verified, whether the switch was acknowledged. */
    readonly facts?: SwitchFacts,
  ) {
    super(message);
  }
}

export interface FlashResult {
  oldGeneration: number | null;
  newGeneration: number;
  oldBank: 0 | 1 | null;
  newBank: 0 | 1;
  imageBytes: number;
  imageCrc: number;
  blocks: number;
  /** Blocks written again after an error (bounded by `attempts`). */
  blockRetries: number;
  /** The board's boot decision read back after the switch. */
  confirmed: string;
  warnings: string[];
}

export interface DryRunResult {
  current: BoardState;
  currentConfig: BoardConfig | null;
  /** Why the running image could not be shown as a config (foreign records), if so. */
  currentError?: string;
  diff: ConfigDiff;
  targetBank: 0 | 1;
  newGeneration: number;
  imageBytes: number;
  warnings: string[];
}

export interface VerifyResult {
  match: boolean;
  state: BoardState;
  boardConfig: BoardConfig | null;
  diff: ConfigDiff;
  /** Why no comparison was possible, if so. */
  problem?: string;
}

function progress(o: FlashOptions, phase: FlashPhase, message: string, doneBytes = 0, totalBytes = 0): void {
  o.onProgress?.({ phase, doneBytes, totalBytes, message });
}

/** The line is gone or the driver closed: retrying cannot help. */
function isFatal(e: unknown): boolean {
  return isBoardError(e) && (e.code === 'CLOSED' || e.code === 'DISCONNECTED');
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Identity and current state; a wrong board becomes a FlashError with the board untouched. */
async function preflight(driver: BoardDriver, schema: ConfigSchema, o: FlashOptions, readBooted: boolean) {
  const attempts = Math.max(1, o.attempts ?? 3);
  progress(o, 'identify', `identifying the board on ${driver.port}`);
  let warnings: string[];
  try {
    warnings = (await retrying(attempts, () => checkIdentity(driver, schema))).warnings;
  } catch (e) {
    throw new FlashError(errText(e), 'previous', 'identify', e);
  }
  progress(o, 'inspect', 'reading the config banks');
  try {
    return { warnings, state: await retrying(attempts, () => readBoardState(driver, schema, { clock: o.clock, readBooted })) };
  } catch (e) {
    throw new FlashError(`cannot read the board's config banks: ${errText(e)}`, 'previous', 'inspect', e);
  }
}

/** Bounded attempts of a read-only step; a wrong board or a dead line ends at once. */
async function retrying<T>(attempts: number, fn: () => Promise<T>): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (i >= attempts || e instanceof WrongBoardError || isFatal(e)) throw e;
    }
  }
}

function nextGeneration(state: BoardState): number {
  if (state.maxGeneration >= 0xffffffff) throw new FlashError(`generation counter exhausted (${state.maxGeneration})`, 'previous', 'inspect');
  return state.maxGeneration + 1;
}

/** The bank the board does not boot (with no valid bank, the one it is not pointed at). */
function targetBankOf(state: BoardState): 0 | 1 {
  const base = state.boot.bank ?? state.activeBank;
  return (1 - base) as 0 | 1;
}

/** --dry-run: builds and validates the image and diffs it against what the board runs; sends no write. */
export async function dryRun(driver: BoardDriver, schema: ConfigSchema, config: BoardConfig, o: FlashOptions): Promise<DryRunResult> {
  const { warnings, state } = await preflight(driver, schema, o, true);
  const cur = bootedConfig(state, schema);
  const generation = nextGeneration(state);
  const image = configToImage(config, schema, generation);
  return {
    current: state,
    currentConfig: cur.config,
    currentError: cur.error,
    diff: diffConfigs(cur.config, config, schema),
    targetBank: targetBankOf(state),
    newGeneration: generation,
    imageBytes: image.length,
    warnings,
  };
}

/** --verify-only: does the board boot exactly the file's records? */
export async function verifyOnly(driver: BoardDriver, schema: ConfigSchema, config: BoardConfig, o: FlashOptions): Promise<VerifyResult> {
  const { state } = await preflight(driver, schema, o, true);
  progress(o, 'verify', 'comparing the booted image with the file');
  const cur = bootedConfig(state, schema);
  const diff = diffConfigs(cur.config, config, schema);
  if (!state.boot.image) return { match: false, state, boardConfig: null, diff, problem: `the board boots no image: ${state.boot.reason}` };
  if (cur.error) return { match: false, state, boardConfig: null, diff, problem: `the board's image cannot be read as a ${schema.board} config: ${cur.error}` };
  // Exact record comparison (same ids, same float64 values), not only effective values.
  const want = configRecords(config, schema);
  const have = state.boot.image.params;
  let match = want.size === have.size;
  for (const [id, v] of want) if (!have.has(id) || !Object.is(have.get(id), v)) match = false;
  return { match, state, boardConfig: cur.config, diff };
}

/** Writes, verifies and switches. Throws FlashError saying what the board boots afterwards. */
export async function flashConfig(driver: BoardDriver, schema: ConfigSchema, config: BoardConfig, o: FlashOptions): Promise<FlashResult> {
  const g = driver.flashGeometry;
  const attempts = Math.max(1, o.attempts ?? 3);
  const blockBytes = o.blockBytes ?? Math.floor(MAX_MEM_CHUNK / g.pageSize) * g.pageSize;
  if (blockBytes <= 0 || blockBytes % g.pageSize !== 0 || blockBytes > MAX_MEM_CHUNK) {
    throw new FlashError(`block size ${blockBytes} must be a multiple of the ${g.pageSize}-byte page, at most ${MAX_MEM_CHUNK}`, 'previous', 'inspect');
  }
  const { warnings, state } = await preflight(driver, schema, o, false);
  const oldBank = state.boot.bank;
  const oldGeneration = state.boot.header?.generation ?? null;

  // Active bank invalid but the other valid: point the register at what the board
  // boots anyway (no change in what runs), so the bank written next is never the
  // active one and the switch stays the only commit point.
  if (state.boot.source === 'fallback' && oldBank !== null) {
    progress(o, 'inspect', `active bank ${BANK_LETTERS[state.activeBank]} is invalid; pointing it at bank ${BANK_LETTERS[oldBank]}, which the board boots`);
    try {
      await driver.setActiveBank(oldBank);
    } catch (e) {
      throw new FlashError(`cannot repoint the active bank: ${errText(e)}`, 'previous', 'inspect', e);
    }
  }
  // With no valid bank at all the board runs its defaults, and the image becomes what
  // it boots as soon as it is complete: the write, not the switch, commits.
  const commitsOnWrite = state.boot.source === 'defaults';
  const target = targetBankOf(state);
  const generation = nextGeneration(state);
  const image = configToImage(config, schema, generation);
  const imageCrc = crc32c(image);
  const base = g.bankBase(target);
  const pageRound = (n: number) => Math.ceil(n / g.pageSize) * g.pageSize;
  let headerWritten = false;
  const failedOutcome = (): BoardOutcome => (commitsOnWrite && headerWritten ? 'unknown' : 'previous');

  /** One MEM_WRITE whose acknowledgement must carry the CRC-32C of what was sent. */
  const writeOnce = async (off: number, part: Uint8Array) => {
    const ack = await driver.request({ op: 'MEM_WRITE', address: base + off, data: part }, { timeoutMs: requestTimeoutMs(driver, part.length, o.baud, g.pageSize, 1) });
    const why = ackProblem(off, part, ack.crc32c);
    if (why) throw new BoardError('VERIFY_FAILED', driver.board, driver.port, why);
  };
  let done = 0;
  let blockRetries = 0;
  /** Writes [off, off+len) with bounded attempts; bits programmed wrong are erased first (they cannot be set back). */
  const writeWithRetries = async (off: number, part: Uint8Array) => {
    for (let tries = 1; ; tries++) {
      try {
        return await writeOnce(off, part);
      } catch (e) {
        if (tries >= attempts || isFatal(e)) throw e;
        blockRetries++;
        progress(o, 'write', `+0x${off.toString(16)}: ${errText(e)}; retrying`, done, image.length);
        if (isBoardError(e) && e.code !== 'NO_RESPONSE') await driver.memErase(base + off, pageRound(part.length));
      }
    }
  };
  /** The slow, sure way for a block that failed: erase its pages, then write it page by page, each page acknowledged and retried on its own. */
  const rewriteBlock = async (off: number, part: Uint8Array, why: unknown) => {
    blockRetries++;
    progress(o, 'write', `block at +0x${off.toString(16)}: ${errText(why)}; erasing it and rewriting it page by page`, done, image.length);
    try {
      await withAttempts(attempts, 'write', failedOutcome, () => driver.memErase(base + off, pageRound(part.length)));
      for (let p = 0; p < part.length; p += g.pageSize) await writeWithRetries(off + p, part.subarray(p, Math.min(part.length, p + g.pageSize)));
    } catch (e) {
      throw e instanceof FlashError ? e : new FlashError(`writing bank ${BANK_LETTERS[target]} failed at +0x${off.toString(16)}: ${errText(e)}`, failedOutcome(), 'write', e);
    }
  };

  const blocks: { off: number; part: Uint8Array }[] = [];
  for (let off = 0; off < image.length; off += blockBytes) blocks.push({ off, part: image.subarray(off, Math.min(image.length, off + blockBytes)) });
  const [head, ...rest] = blocks;

  // First the header's pages (from then on the target fails on its magic), then every
  // other block: erase its pages, program it, back to back with several requests in
  // flight so the line never idles. An erase is sent once (a late duplicate could wipe
  // the block written after it); a write may be resent (programming the same bytes
  // twice is harmless). The board executes requests in arrival order.
  const window = Math.max(1, o.window ?? 4);
  const reqs: PipelinedRequest[] = [{ request: { op: 'MEM_ERASE', address: base, length: pageRound(head.part.length) }, attempts: 1 }];
  for (const b of rest) {
    reqs.push({ request: { op: 'MEM_ERASE', address: base + b.off, length: pageRound(b.part.length) }, attempts: 1 });
    reqs.push({ request: { op: 'MEM_WRITE', address: base + b.off, data: b.part }, check: (body) => (body.op === 'MEM_WRITE' ? ackProblem(b.off, b.part, body.crc32c) : 'not a MEM_WRITE answer') });
  }
  progress(o, 'erase', `erasing and writing ${image.length} bytes of bank ${BANK_LETTERS[target]} in ${blocks.length} block${blocks.length === 1 ? '' : 's'}`, 0, image.length);
  const outcomes = await runPipelined(driver, reqs, {
    clock: o.clock,
    window,
    attempts,
    timeoutMs: requestTimeoutMs(driver, blockBytes, o.baud, g.pageSize, window),
    onDone: (i) => {
      if (i > 0 && i % 2 === 0) {
        done += rest[i / 2 - 1].part.length;
        progress(o, 'write', `wrote ${done} of ${image.length} bytes`, done, image.length);
      }
    },
  });
  const headErase = outcomes[0];
  if (!headErase.ok) {
    if (isFatal(headErase.error)) throw new FlashError(`erasing bank ${BANK_LETTERS[target]} failed: ${errText(headErase.error)}`, failedOutcome(), 'erase', headErase.error);
    await withAttempts(attempts, 'erase', failedOutcome, () => driver.memErase(base, pageRound(head.part.length)));
  }
  for (const [k, b] of rest.entries()) {
    const w = outcomes[2 + 2 * k];
    if (w.ok) continue;
    if (isFatal(w.error)) throw new FlashError(`writing bank ${BANK_LETTERS[target]} failed at +0x${b.off.toString(16)}: ${errText(w.error)}`, failedOutcome(), 'write', w.error);
    await rewriteBlock(b.off, b.part, w.error);
    done += b.part.length;
  }

  // Only now the header block: until it is in, a torn write can never look like an image.
  headerWritten = true;
  try {
    await writeOnce(head.off, head.part);
  } catch (e) {
    if (isFatal(e)) throw new FlashError(`writing bank ${BANK_LETTERS[target]} failed at +0x0: ${errText(e)}`, failedOutcome(), 'write', e);
    await rewriteBlock(head.off, head.part, e);
  }
  done += head.part.length;
  progress(o, 'write', `wrote ${done} of ${image.length} bytes`, done, image.length);

  progress(o, 'verify', `checking the CRC-32C of the whole image in bank ${BANK_LETTERS[target]}`, done, image.length);
  const crc = await withAttempts(attempts, 'verify', failedOutcome, () => driver.memCrc(base, image.length));
  if (crc !== imageCrc) {
    throw new FlashError(`verify failed: bank ${BANK_LETTERS[target]} holds CRC-32C 0x${crc.toString(16)}, image is 0x${imageCrc.toString(16)}; active bank not switched`, failedOutcome(), 'verify');
  }

  // The switch is sent once; after a lost answer the bank register says whether it landed,
  // and it is sent again only when the board answers the old bank (never blindly).
  progress(o, 'switch', `switching the active bank to ${BANK_LETTERS[target]}`, done, image.length);
  const facts: SwitchFacts = { bank: target, generation, imageBytes: image.length, imageCrc, acknowledged: false };
  for (let send = 1; !facts.acknowledged; send++) {
    let why: unknown;
    try {
      const back = await driver.write({ CFG_ACTIVE_BANK: target }, { retries: 0 });
      if (back.CFG_ACTIVE_BANK === target) facts.acknowledged = true;
      else why = new Error(`CFG_ACTIVE_BANK reads back ${back.CFG_ACTIVE_BANK}`);
    } catch (e) {
      why = e;
    }
    if (facts.acknowledged) break;
    const seen = await probeActiveBank(driver, attempts);
    if (seen === target) facts.acknowledged = true;
    else if (seen === null || send >= attempts || (isBoardError(why) && why.code === 'REFUSED')) {
      const outcome: BoardOutcome = seen === null ? 'unknown' : commitsOnWrite ? 'new' : 'previous';
      const tail = seen === null ? '; the board no longer answers, so whether it switched is unknown' : `; the board answers bank ${BANK_LETTERS[seen] ?? seen}`;
      throw new FlashError(`switching the active bank failed: ${errText(why)}${tail}`, outcome, 'switch', why, facts);
    }
  }

  // Exit 0 means confirmed: the board answered what it boots, and it is the new image.
  progress(o, 'confirm', 'reading back what the board boots', done, image.length);
  let after: BoardState;
  try {
    after = await retrying(attempts, () => readBoardState(driver, schema, { clock: o.clock }));
  } catch (e) {
    throw new FlashError(`the board acknowledged the switch, then did not answer the read-back: ${errText(e)}`, 'acknowledged', 'confirm', e, facts);
  }
  if (after.boot.bank !== target || after.boot.header?.generation !== generation) {
    throw new FlashError(`after the switch the board boots ${after.boot.reason}, not bank ${BANK_LETTERS[target]} generation ${generation}`, 'unknown', 'confirm', undefined, facts);
  }
  const confirmed = after.boot.reason;
  return {
    oldGeneration,
    newGeneration: generation,
    oldBank,
    newBank: target,
    imageBytes: image.length,
    imageCrc,
    blocks: blocks.length,
    blockRetries,
    confirmed,
    warnings,
  };
}

/**
 * Timeout of a write request: the driver's timeout plus, for each request that may be
 * queued ahead of it (`window`), twice a block frame's wire time and its erase and program time.
 */
function requestTimeoutMs(driver: BoardDriver, dataBytes: number, baud: number, pageSize: number, window: number): number {
  const frame = frameMessage(encodeRequest(0, { op: 'MEM_WRITE', address: 0, data: new Uint8Array(dataBytes).fill(0xa5) })).length;
  const r = driver.flashGeometry.region;
  const flashMs = Math.ceil(dataBytes / pageSize) * ((r.pageProgramMs ?? 1) + (r.pageEraseMs ?? 1));
  return Math.ceil(driver.def.link.timeoutMs + window * (2 * wireTimeMs(frame, baud) + 2 * flashMs));
}

/** Why a MEM_WRITE acknowledgement does not prove the block, or null. */
function ackProblem(off: number, part: Uint8Array, boardCrc: number): string | null {
  const want = crc32c(part);
  return boardCrc === want ? null : `block at +0x${off.toString(16)}: board holds CRC-32C 0x${boardCrc.toString(16)}, sent 0x${want.toString(16)}`;
}

async function withAttempts<T>(attempts: number, phase: FlashPhase, outcome: () => BoardOutcome, fn: () => Promise<T>): Promise<T> {
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      return await fn();
    } catch (e) {
      last = e;
      if (e instanceof WrongBoardError || isFatal(e)) break;
    }
  }
  throw new FlashError(`${phase} failed after ${attempts} attempt(s): ${errText(last)}`, outcome(), phase, last);
}

/** CFG_ACTIVE_BANK as the board reports it, or null when it does not answer. */
async function probeActiveBank(driver: BoardDriver, attempts: number): Promise<number | null> {
  for (let i = 0; i < attempts; i++) {
    try {
      return await driver.activeBank();
    } catch (e) {
      if (isBoardError(e) && (e.code === 'CLOSED' || e.code === 'DISCONNECTED')) return null;
    }
  }
  return null;
}
