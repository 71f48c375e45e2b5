import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SimClock } from '../../boards/clock.ts';
import { configFlash, loadBoardDefinition } from '../../boards/definitions.ts';
import { createEmulator } from '../../boards/emulator/index.ts';
import { loadPersistentState, savePersistentState } from '../../boards/flash-file.ts';
import { installImage } from '../../hil/flash/emulated-boot.ts';
import { configToImage } from '../../hil/flash/image.ts';
import { type BoardConfig, configSchema } from '../../hil/flash/schema.ts';
import { decodeBoardMessage, type ResponseMessage } from '../../protocols/board-link.ts';
import { selectBootImage } from '../../protocols/config-image.ts';
import { crc32c } from '../../protocols/crc.ts';
import { decodeSerialFrame, DelimitedSplitter } from '../../protocols/serial-frame.ts';
import { runScriptAsync, STACK_LINE } from '../cli/run.ts';

/**
 * Issue 11 item 5, as real processes: `npm run emulate` (TCP, with a flash file) and
 * `npm run flash`, with this test as the cable between them. The cable watches the
 * board's answers and SIGKILLs the emulator the instant a chosen acknowledgement passes:
 * the bank switch (the flasher must not exit 0, and must say what the restarted board
 * then boots) or a block write (the acknowledged bytes must already be in the file).
 */
const ROOT = new URL('../../', import.meta.url).pathname;
const EXAMPLE = join(ROOT, 'boards/config/examples/qsrc.yaml');
const schema = configSchema('qsrc');
const OLD: BoardConfig = { board: 'qsrc', configVersion: 1, parameters: { MU_SIGNAL: 0.7, P_KEY_BASIS: 0.6 }, tables: {} };
const OLD_GEN = 7;
const children: ChildProcess[] = [];
const servers: Server[] = [];

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const s of servers.splice(0)) s.close();
});

/** A flash file holding OLD (generation 7) in bank A, as a factory programmer leaves it. */
function flashFileWithOld(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'unconfirmed-')), 'qsrc.flash');
  const g = configFlash(loadBoardDefinition('qsrc'));
  const persistent = loadPersistentState(file, { base: g.base, size: g.size, pageSize: g.pageSize, banks: g.banks });
  const emu = createEmulator('qsrc', { clock: new SimClock(), persistent });
  installImage(emu, 0, configToImage(OLD, schema, OLD_GEN));
  savePersistentState(file, emu.persistent);
  emu.shutdown();
  return file;
}

/** What a flash file boots, by the one boot rule. */
function bootOfFile(file: string) {
  const g = configFlash(loadBoardDefinition('qsrc'));
  const p = loadPersistentState(file, { base: g.base, size: g.size, pageSize: g.pageSize, banks: g.banks });
  const bank = (i: number) => p.flash.read(p.flash.bankBase(i), p.flash.bankSize);
  return { persistent: p, boot: selectBootImage(bank(0), bank(1), p.flash.activeBank, { boardId: schema.boardId }) };
}

/** `npm run emulate -- qsrc --tcp 0 --flash-file FILE` as its own process; resolves with host and port. */
function startEmulator(file: string): Promise<{ child: ChildProcess; host: string; port: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/emulate.ts', 'qsrc', '--tcp', '0', '--flash-file', file], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /^tcp:(\S+):(\d+)\n/.exec(out); // the emulator prints tcp:HOST:PORT
      if (m) resolve({ child, host: m[1], port: Number(m[2]) });
    });
    child.on('exit', (code) => reject(new Error(`emulator exited (${code}) before printing its address: ${err}`)));
  });
}

const runFlash = (args: string[]) => runScriptAsync('flash', args);

/**
 * A TCP cable from the flasher to the emulator that SIGKILLs the emulator as soon as an
 * answer matching `killAt` has passed to the flasher; from then on the line is silent.
 */
async function killingCable(emu: { child: ChildProcess; host: string; port: number }, killAt: (m: ResponseMessage) => boolean) {
  const seen: { ack: ResponseMessage | null; exited: Promise<void> } = { ack: null, exited: new Promise((r) => emu.child.once('exit', () => r())) };
  const server = createServer((client) => {
    const board = new Socket();
    const splitter = new DelimitedSplitter();
    let dead = false;
    board.connect(emu.port, emu.host);
    client.on('data', (b) => !dead && board.write(b));
    client.on('error', () => {});
    board.on('error', () => {});
    board.on('data', (b: Buffer) => {
      if (dead) return;
      client.write(b);
      for (const chunk of splitter.push(new Uint8Array(b))) {
        if (chunk.length === 0) continue;
        const m = decodeBoardMessage(decodeSerialFrame(chunk));
        if (m.kind === 'response' && m.status === 'OK' && killAt(m)) {
          // The acknowledgement has left the board: the board dies now.
          dead = true;
          seen.ack = m;
          emu.child.kill('SIGKILL');
          return;
        }
      }
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const a = server.address();
  return { seen, port: typeof a === 'object' && a ? a.port : 0 };
}

describe('flash over a board that dies at an acknowledgement (real processes)', () => {
  it('killed as the bank switch is acknowledged: flash exits 3 saying so, and the restarted board boots the generation it named', async () => {
    const file = flashFileWithOld();
    const emu = await startEmulator(file);
    const cable = await killingCable(emu, (m) => m.op === 'WRITE_REGS');
    const r = await runFlash(['--board', 'qsrc', '--port', `tcp:127.0.0.1:${cable.port}`, '--config', EXAMPLE, '--yes']);
    await cable.seen.exited;
    expect(cable.seen.ack, 'the switch acknowledgement passed the cable').not.toBeNull();
    const out = r.stdout + r.stderr;
    expect(r.code, out).toBe(3);
    expect(out).not.toMatch(/^flashed /m);
    expect(r.stderr).toMatch(/bank B holds generation 8 \(\d+ bytes, CRC-32C 0x[0-9a-f]{8} verified on the board\)/);
    expect(r.stderr).toMatch(/bank switch to B was acknowledged by the board/);
    expect(r.stderr).toMatch(/--verify-only/);
    expect(out).not.toMatch(STACK_LINE);
    const said = Number(/should boot generation (\d+)/.exec(r.stderr)?.[1]);

    // The ack was persisted before it was sent: the file already says bank B.
    expect(bootOfFile(file).boot).toMatchObject({ bank: 1, header: { generation: said } });
    // Power the board up again (a new process on the same flash file) and ask it.
    const again = await startEmulator(file);
    const v = await runFlash(['--board', 'qsrc', '--port', `tcp:${again.host}:${again.port}`, '--config', EXAMPLE, '--verify-only']);
    expect(v.code, v.stdout + v.stderr).toBe(0);
    expect(v.stdout).toMatch(new RegExp(`boots bank B \\(active\\), generation ${said}\\b`));
    expect(v.stdout).toMatch(/runs exactly/);
  }, 60_000);

  it('killed as a block write is acknowledged: the acknowledged bytes are in the flash file; flash exits 1, board on its previous config', async () => {
    const file = flashFileWithOld();
    const emu = await startEmulator(file);
    const cable = await killingCable(emu, (m) => m.op === 'MEM_WRITE');
    const r = await runFlash(['--board', 'qsrc', '--port', `tcp:127.0.0.1:${cable.port}`, '--config', EXAMPLE, '--yes']);
    await cable.seen.exited;
    const ack = cable.seen.ack;
    expect(ack?.body?.op).toBe('MEM_WRITE');
    if (ack?.body?.op !== 'MEM_WRITE') return;
    const { persistent, boot } = bootOfFile(file);
    const f = persistent.flash;
    const off = ack.body.address - f.geometry.base;
    expect(crc32c(f.data, off, off + ack.body.length), `bytes at 0x${ack.body.address.toString(16)}+${ack.body.length} in the file`).toBe(ack.body.crc32c);
    // Not erased flash: something was programmed there.
    expect(f.data.subarray(off, off + ack.body.length).some((b) => b !== 0xff)).toBe(true);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toMatch(/still boots its previous configuration/);
    expect(boot).toMatchObject({ bank: 0, header: { generation: OLD_GEN } });
  }, 60_000);
});
