import type { Clock } from '../../boards/clock.ts';
import { fromRaw, register } from '../../boards/definitions.ts';
import type { BoardRequest, Identity } from '../../protocols/board-link.ts';
import { type BankView, type BootSelection, decodeConfigImage, decodeImageHeader, IMAGE_CRC_BYTES, IMAGE_HEADER_BYTES, type ImageHeader, selectBootImage, storedImageCrc } from '../../protocols/config-image.ts';
import { isProtocolError } from '../../protocols/errors.ts';
import type { BoardDriver } from '../driver.ts';
import { imageToConfig } from './image.ts';
import { requestAll } from './pipeline.ts';
import type { BoardConfig, ConfigSchema } from './schema.ts';

/**
 * What a board holds in its config flash, learnt over the board link and judged by
 * the one boot rule (selectBootImage). A bank is checked cheaply: its header is read,
 * then the board computes the CRC-32C of the image (MEM_CRC) and only the stored CRC
 * crosses the line, so a 64 KiB bank costs three small requests, not a full read.
 * (Record order is checked only when a bank is read in full; a writer that puts
 * records out of order with a matching CRC would be a bug in the writer.)
 */
export interface BoardState {
  activeBank: 0 | 1;
  boot: BootSelection;
  /** Highest generation of any valid bank (0 when none). */
  maxGeneration: number;
}

export class WrongBoardError extends Error {
  override readonly name = 'WrongBoardError';
}

/** IDENTIFY first: refuses a board whose id is not the config's, naming both. */
export async function checkIdentity(driver: BoardDriver, schema: ConfigSchema): Promise<{ identity: Identity; warnings: string[] }> {
  const identity = await driver.identify();
  if (identity.boardId !== schema.boardId) {
    throw new WrongBoardError(
      `wrong board on ${driver.port}: it answers board id 0x${identity.boardId.toString(16)} (${identity.name || 'unnamed'}), the config is for ${schema.board} (board id 0x${schema.boardId.toString(16)}); nothing was written`,
    );
  }
  const warnings: string[] = [];
  if (identity.name && identity.name !== schema.board) warnings.push(`board calls itself '${identity.name}', expected '${schema.board}'`);
  return { identity, warnings };
}

/** Judges a bank from its header and the CRC the board computed over it (no record crosses the line). */
function bankFromCrc(header: ImageHeader, computed: number, storedBytes: Uint8Array): BankView {
  const stored = storedImageCrc(storedBytes);
  if (computed !== stored) return { ok: false, reason: `CRC-32C 0x${stored.toString(16)} != computed 0x${computed.toString(16)}` };
  return { ok: true, header, image: null };
}

function headerOrReason(bytes: Uint8Array, bankSize: number): ImageHeader | string {
  try {
    const h = decodeImageHeader(bytes);
    return h.length > bankSize ? `header claims ${h.length} bytes, the bank holds ${bankSize}` : h;
  } catch (e) {
    if (isProtocolError(e)) return e.message;
    throw e;
  }
}

/**
 * Reads the active-bank register and both banks, in two rounds of requests in flight
 * together: the register and both headers, then each bank's CRC (computed by the
 * board) and stored CRC. With `readBooted` the bank the board boots is then read in
 * full (for a diff or a verify). Throws BoardError when the board does not answer.
 */
export async function readBoardState(driver: BoardDriver, schema: ConfigSchema, opts: { clock: Clock; readBooted?: boolean }): Promise<BoardState> {
  const g = driver.flashGeometry;
  // All of a round is in flight together and answered in order: the last answer waits
  // for every request and answer before it on the wire, so each gets the round's wire time.
  const po = (reqs: BoardRequest[]) => ({
    clock: opts.clock,
    window: 4,
    attempts: 1 + driver.def.link.retries,
    timeoutMs: Math.ceil(driver.def.link.timeoutMs + reqs.reduce((ms, r) => ms + driver.wireMs(r), 0)),
  });
  const bankReg = register(driver.def, 'CFG_ACTIVE_BANK');
  const first: BoardRequest[] = [
    { op: 'READ_REGS', addresses: [bankReg.address] },
    { op: 'MEM_READ', address: g.bankBase(0), length: IMAGE_HEADER_BYTES },
    { op: 'MEM_READ', address: g.bankBase(1), length: IMAGE_HEADER_BYTES },
  ];
  const [regs, hA, hB] = await requestAll(driver, first, po(first));
  const raw = regs.op === 'READ_REGS' ? regs.values.find((v) => v.address === bankReg.address)?.value : undefined;
  const active = raw === undefined ? undefined : fromRaw(bankReg, raw);
  if (active !== 0 && active !== 1) throw new Error(`board ${driver.board} on ${driver.port}: CFG_ACTIVE_BANK reads ${active}, not 0 or 1`);
  const headers = [hA, hB].map((b) => headerOrReason(b.op === 'MEM_READ' ? b.data : new Uint8Array(0), g.bankSize));
  const views: BankView[] = headers.map((h) => (typeof h === 'string' ? { ok: false, reason: h } : { ok: false, reason: 'not checked' }));
  const crcReqs: BoardRequest[] = [];
  const which: number[] = [];
  headers.forEach((h, bank) => {
    if (typeof h === 'string') return;
    const body = h.length - IMAGE_CRC_BYTES;
    crcReqs.push({ op: 'MEM_CRC', address: g.bankBase(bank), length: body }, { op: 'MEM_READ', address: g.bankBase(bank) + body, length: IMAGE_CRC_BYTES });
    which.push(bank);
  });
  if (crcReqs.length) {
    const got = await requestAll(driver, crcReqs, po(crcReqs));
    which.forEach((bank, k) => {
      const crc = got[2 * k];
      const stored = got[2 * k + 1];
      views[bank] = bankFromCrc(headers[bank] as ImageHeader, crc.op === 'MEM_CRC' ? crc.crc32c : -1, stored.op === 'MEM_READ' ? stored.data : new Uint8Array(4));
    });
  }
  let boot = selectBootImage(views[0], views[1], active, { boardId: schema.boardId });
  if (opts.readBooted && boot.bank !== null && boot.header) {
    try {
      const image = decodeConfigImage(await driver.memRead(g.bankBase(boot.bank), boot.header.length));
      views[boot.bank] = { ok: true, header: boot.header, image };
    } catch (e) {
      if (!isProtocolError(e)) throw e;
      views[boot.bank] = { ok: false, reason: e.message };
    }
    boot = selectBootImage(views[0], views[1], active, { boardId: schema.boardId });
  }
  const maxGeneration = Math.max(0, ...boot.banks.map((b) => (b.ok ? b.header.generation : 0)));
  return { activeBank: active, boot, maxGeneration };
}

/** The config the board boots, or null on defaults; `error` when its image holds records this tool cannot map. */
export function bootedConfig(state: BoardState, schema: ConfigSchema): { config: BoardConfig | null; error?: string } {
  const img = state.boot.image;
  if (!img) return { config: null };
  try {
    return { config: imageToConfig(img, schema) };
  } catch (e) {
    return { config: null, error: (e as Error).message };
  }
}
