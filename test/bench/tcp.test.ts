import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { Bench } from '../../hil/bench/bench.ts';
import { hostOnTcp } from '../../hil/emulator-host.ts';
import { config } from './helpers.ts';

/** TCP tier: emulators behind raw TCP ports, as ser2net exports serial ports from a board farm. */
describe('TCP tier (ser2net-style raw sockets)', () => {
  it('drives an emulator over raw TCP, including a power loss and reconnect of the session', async () => {
    const host = await hostOnTcp('acs', { seed: 9, port: 0 });
    try {
      const [, h, p] = host.address.split(':'); // tcp:HOST:PORT
      const bench = await Bench.open(config({ acs: { mode: 'tcp', host: h, port: Number(p) } }), { seed: 9, runName: 'tcp' });
      try {
        const acs = bench.board('acs');
        expect(acs.port).toBe(`tcp:${h}:${p}`);
        await acs.write({ POINT_MODE: 2, TARGET_X_MRAD: 5 });
        await bench.waitTlm('acs.SLEWING', (v) => v === 1, { timeoutMs: 2000 });
        await bench.waitTlm('acs.ATT_ERR_URAD', (v) => Number(v) < 300, { timeoutMs: 3000 });
        await acs.powerLoss(50);
        await bench.sleep(150);
        expect(await acs.driver.readReg('RESET_COUNT')).toBe(1);
      } finally {
        await bench.close();
      }
    } finally {
      await host.close();
    }
  });

  it('nothing listening: CONNECT_FAILED naming board and address; silent server: NO_RESPONSE', async () => {
    const srv = createServer(() => {});
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as { port: number }).port;
    try {
      await expect(Bench.open(config({ acs: { mode: 'tcp', host: '127.0.0.1', port: 1 } }), { runName: 'tcp-refused' })).rejects.toThrow(/^board acs on tcp:127.0.0.1:1: cannot connect to 127.0.0.1:1/);
      await expect(Bench.open(config({ acs: { mode: 'tcp', host: '127.0.0.1', port } }, { timeoutMs: 100, retries: 1 }), { runName: 'tcp-silent' })).rejects.toThrow(
        `board acs on tcp:127.0.0.1:${port}: no response to IDENTIFY (seq 0) after 2 attempt(s) of 100 ms`,
      );
    } finally {
      srv.close();
    }
  });
});

describe('emulator flash file', () => {
  it('keeps config flash and the active bank across emulator restarts', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const file = join(mkdtempSync(join(tmpdir(), 'flash-')), 'qsrc.flash');
    const session = async (fn: (b: Bench) => Promise<void>) => {
      const host = await hostOnTcp('qsrc', { seed: 1, port: 0, flashFile: file });
      const [, h, p] = host.address.split(':'); // tcp:HOST:PORT
      const bench = await Bench.open(config({ qsrc: { mode: 'tcp', host: h, port: Number(p) } }, { stream: false }), { runName: 'flash-file' });
      try {
        await fn(bench);
      } finally {
        await bench.close();
        await host.close();
      }
    };
    await session(async (b) => {
      const d = b.board('qsrc').driver;
      const g = d.flashGeometry;
      await d.memErase(g.bankBase(1), g.pageSize);
      await d.memWrite(g.bankBase(1), Uint8Array.of(0xc0, 0xff, 0xee));
      await d.setActiveBank(1);
    });
    await session(async (b) => {
      const d = b.board('qsrc').driver;
      expect([...(await d.memRead(d.flashGeometry.bankBase(1), 3))]).toEqual([0xc0, 0xff, 0xee]);
      expect(await d.activeBank()).toBe(1);
      expect(await d.readReg('RESET_COUNT')).toBe(1);
    });
  });
});
