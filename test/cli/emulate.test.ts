import { type ChildProcess, spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseLineSpec } from '../../hil/bench/config.ts';
import { stopChild } from '../../hil/emulator-host.ts';
import { connectBoard } from '../../hil/flash/connect.ts';
import { ROOT } from './run.ts';

/** Starts `npm run emulate -- ARGS` and resolves with the line it prints on stdout; stderr is collected. */
function emulate(args: string[]): Promise<{ address: string; child: ChildProcess; stderr: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/emulate.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('\n')) resolve({ address: out.split('\n')[0].trim(), child, stderr: () => err });
    });
    child.on('exit', (code) => reject(new Error(`emulate exited ${code}: ${err}`)));
  });
}

/** Waits until `pred` holds on the collected stderr (the log line of the last reply may trail the reply). */
async function until(pred: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
}

describe('npm run emulate: one TCP spelling, the --port to paste, a verbose log', () => {
  it('--tcp prints tcp:HOST:PORT (what --port takes) and the exact --port option; --verbose logs requests and replies by register name, times in ms', async () => {
    const emu = await emulate(['apt', '--tcp', '0', '--host', '127.0.0.1', '--verbose']);
    try {
      expect(emu.address).toMatch(/^tcp:127\.0\.0\.1:\d+$/);
      expect(parseLineSpec(emu.address)).toMatchObject({ mode: 'tcp', host: '127.0.0.1' });
      await until(() => emu.stderr().includes('paste:'));
      expect(emu.stderr()).toContain(`paste: --port apt=${emu.address}\n`);
      // The printed address is what the tools take: the flasher's connection opens it as is.
      const conn = await connectBoard({ board: 'apt', port: emu.address });
      try {
        await conn.driver.write({ FSM_CMD_X_URAD: 120 });
        await conn.driver.readReg('SPOT_X_URAD');
      } finally {
        await conn.close();
      }
      await until(() => /apt -> bench\s+response #\d+ READ_REGS OK/.test(emu.stderr()));
      const log = emu.stderr().split('\n');
      const write = log.find((l) => /bench -> apt\s+request #\d+ WRITE_REGS/.test(l));
      expect(write).toMatch(/^\s*\d+\.\d{3} ms /);
      expect(write).toContain(`{"writes":{"FSM_CMD_X_URAD":120}}`);
      expect(log.find((l) => /bench -> apt\s+request #\d+ READ_REGS/.test(l))).toContain('"registers":["SPOT_X_URAD"]');
      expect(log.find((l) => /apt -> bench\s+response #\d+ READ_REGS OK/.test(l))).toMatch(/"values":\{"SPOT_X_URAD":-?\d/);
      // Register names, not addresses (0x0110 is SPOT_X_URAD's).
      expect(emu.stderr()).not.toContain('0x0110');
    } finally {
      await stopChild(emu.child);
    }
  }, 30_000);
});
