import { SimClock } from '../../boards/clock.ts';
import { type BoardEmulator, createEmulator } from '../../boards/emulator/index.ts';
import { decodeBoardMessage, type Opcode } from '../../protocols/board-link.ts';
import { decodeSerialFrame, DelimitedSplitter } from '../../protocols/serial-frame.ts';
import { BoardDriver } from '../../hil/driver.ts';
import { FrameLink } from '../../hil/framing.ts';
import { FaultyTransport } from '../../hil/transport/faulty.ts';
import { emulatorTransport } from '../../hil/transport/memory.ts';
import { bootOfEmulator } from '../../hil/flash/emulated-boot.ts';
import { configSchema } from '../../hil/flash/schema.ts';

/** An in-process emulated board on simulated time, with a fault-injecting line and a log of every request sent. */
export interface SimRig {
  clock: SimClock;
  emu: BoardEmulator;
  line: FaultyTransport;
  driver: BoardDriver;
  /** Opcodes of the requests the bench put on the line, in order. */
  sent: Opcode[];
  /** Bytes the bench wrote so far. */
  txBytes(): number;
  /** Every frame the bench wrote: its offset in the outgoing byte stream, bytes, opcode. */
  frames: { offset: number; bytes: Uint8Array; op: Opcode | null }[];
  /** Called with each outgoing chunk before it goes on the line (fault hooks). */
  beforeWrite: ((offset: number, bytes: Uint8Array) => void) | null;
}

export async function simRig(board = 'qsrc', opts: { seed?: number; timeoutMs?: number; retries?: number } = {}): Promise<SimRig> {
  const clock = new SimClock();
  const emu = createEmulator(board, { clock, seed: opts.seed ?? 1 });
  const mem = emulatorTransport(emu, clock);
  const line = new FaultyTransport(mem, clock, opts.seed ?? 1);
  await line.open();
  const sent: Opcode[] = [];
  const frames: SimRig['frames'] = [];
  let tx = 0;
  const splitter = new DelimitedSplitter();
  const write = line.write.bind(line);
  line.write = (b: Uint8Array) => {
    rig.beforeWrite?.(tx, b);
    let op: Opcode | null = null;
    for (const chunk of splitter.push(b)) {
      try {
        const m = decodeBoardMessage(decodeSerialFrame(chunk));
        if (m.kind === 'request') sent.push((op = m.request.op));
      } catch {
        // not ours to judge here
      }
    }
    frames.push({ offset: tx, bytes: b.slice(), op });
    tx += b.length;
    write(b);
  };
  const link = new FrameLink(line, clock);
  const driver = new BoardDriver(emu.def, link, { clock, timeoutMs: opts.timeoutMs ?? emu.def.link.timeoutMs, retries: opts.retries ?? emu.def.link.retries });
  const rig: SimRig = { clock, emu, line, driver, sent, txBytes: () => tx, frames, beforeWrite: null };
  return rig;
}

/** Copy of the whole config flash and the active-bank option byte. */
export function flashSnapshot(emu: BoardEmulator): { data: Uint8Array; activeBank: number } {
  return { data: emu.flash.data.slice(), activeBank: emu.flash.activeBank };
}

export function bootGeneration(emu: BoardEmulator): number | null {
  return bootOfEmulator(emu, configSchema(emu.def.name)).header?.generation ?? null;
}
