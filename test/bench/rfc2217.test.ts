import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Bench } from '../../hil/bench/bench.ts';
import { applyPortOverrides, BenchConfigError, parseLineSpec } from '../../hil/bench/config.ts';
import { spawnEmulatorProcess, stopChild } from '../../hil/emulator-host.ts';
import { socatAvailable } from '../../hil/pty.ts';
import { exportWithSer2net, ser2netAvailable, ser2netConfig } from '../../hil/ser2net.ts';
import { Rfc2217Transport, rfc2217Spec } from '../../hil/transport/rfc2217.ts';
import { DO, DONT, OPTION, negotiation, subnegotiation } from '../../protocols/telnet-rfc2217.ts';
import { toolTier } from '../tiers.ts';
import { ROOT, runScriptAsync } from '../cli/run.ts';
import { config } from './helpers.ts';

/**
 * Issue 15: boards on RFC 2217 lines (telnet COM-port control), spelled rfc2217://HOST:PORT
 * in --port and { "mode": "rfc2217" } in bench files; against scripted port servers for
 * the refusals, and against Debian's ser2net with a telnet(rfc2217) accepter in front of
 * an emulator's pty: the rate the rig asks for is the pty's (stty), and a suite passes.
 */
const SETTINGS = { baud: 115200, dataBits: 8 as const, parity: 'none' as const, stopBits: 1 as const, flow: 'none' as const };

describe('rfc2217 line specs', () => {
  const host = fc.oneof(fc.ipV4(), fc.domain(), fc.ipV6());
  const port = fc.integer({ min: 1, max: 65535 });

  it('property: rfc2217Spec and parseLineSpec agree for every host and port (IPv6 in brackets)', () => {
    fc.assert(
      fc.property(host, port, (h, p) => {
        expect(parseLineSpec(rfc2217Spec(h, p))).toEqual({ mode: 'rfc2217', host: h, port: p });
      }),
      { seed: 2217, numRuns: 400 },
    );
  });

  it('a broken rfc2217 address is refused naming the spelling; --port puts boards on rfc2217 lines', () => {
    for (const bad of ['rfc2217://farm1', 'rfc2217:farm1:7001', 'rfc2217://:7001', 'rfc2217://farm1:7001/x']) expect(() => parseLineSpec(bad)).toThrow(new BenchConfigError(`bad RFC 2217 address '${bad}': write rfc2217://HOST:PORT (e.g. rfc2217://farm1:7001)`));
    expect(() => parseLineSpec('rfc2217://farm1:0')).toThrow(/bad RFC 2217 port.*1\.\.65535/);
    const c = applyPortOverrides(config({ apt: { mode: 'emulated' } }), 'apt=rfc2217://farm1:7002,qsrc=rfc2217://[::1]:7001');
    expect(c.boards).toMatchObject({ apt: { mode: 'rfc2217', host: 'farm1', port: 7002 }, qsrc: { mode: 'rfc2217', host: '::1', port: 7001 } });
  });
});

/** A scripted port server on 127.0.0.1: `onConnect` gets each client's socket. */
async function server(onConnect: (s: Socket) => void): Promise<{ port: number; srv: Server }> {
  const srv = createServer(onConnect);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  return { port: (srv.address() as { port: number }).port, srv };
}

describe('Rfc2217Transport against scripted port servers', () => {
  it('a raw TCP port (no telnet answer) is refused naming the spelling to use', async () => {
    const { port, srv } = await server(() => {});
    try {
      const t = new Rfc2217Transport('127.0.0.1', port, SETTINGS, 300);
      await expect(t.open()).rejects.toThrow(`rfc2217://127.0.0.1:${port}: the port server sent no DO COM-PORT-OPTION within 300 ms (a raw TCP port? write tcp:HOST:PORT)`);
      expect(t.isOpen).toBe(false);
    } finally {
      srv.close();
    }
  });

  it('a telnet server that refuses COM-PORT-OPTION is refused as not RFC 2217', async () => {
    const { port, srv } = await server((s) => s.write(negotiation(DONT, OPTION.COM_PORT)));
    try {
      await expect(new Rfc2217Transport('127.0.0.1', port, SETTINGS, 1000).open()).rejects.toMatchObject({ code: 'CONNECT_FAILED', message: expect.stringMatching(/refused COM-PORT-OPTION \(WONT\/DONT\): it is not an RFC 2217 port/) });
    } finally {
      srv.close();
    }
  });

  it('a server that sets another rate than asked fails the open naming both; data are IAC-escaped both ways', async () => {
    let received = Buffer.alloc(0);
    const answering = (baud: number) => (s: Socket) => {
      s.write(negotiation(DO, OPTION.COM_PORT));
      s.on('data', (b: Buffer) => {
        received = Buffer.concat([received, b]);
        // Answer the five SET commands once they are all in (5 x IAC SE).
        if (received.toString('latin1').split('\xff\xf0').length - 1 === 5) {
          for (const p of [[101, baud >>> 24, (baud >>> 16) & 255, (baud >>> 8) & 255, baud & 255], [102, 8], [103, 1], [104, 1], [105, 1]]) s.write(subnegotiation(44, Uint8Array.from(p)));
          // Data with a 0xFF in it, escaped by the server.
          s.write(Uint8Array.of(0x01, 0xff, 0xff, 0x02));
        }
      });
    };
    const wrong = await server(answering(9600));
    try {
      await expect(new Rfc2217Transport('127.0.0.1', wrong.port, SETTINGS, 1000).open()).rejects.toMatchObject({ code: 'PORT_OPEN_FAILED', message: `rfc2217://127.0.0.1:${wrong.port}: the port server set the port to 9600 baud (asked 115200)` });
    } finally {
      wrong.srv.close();
    }
    received = Buffer.alloc(0);
    const right = await server(answering(115200));
    try {
      const t = new Rfc2217Transport('127.0.0.1', right.port, SETTINGS, 1000);
      const got: number[] = [];
      t.onData((b) => got.push(...b));
      await t.open();
      expect(t.confirmed).toEqual(SETTINGS);
      t.write(Uint8Array.of(0xff, 0x00));
      await new Promise((r) => setTimeout(r, 100));
      // After the settings: SET-LINESTATE-MASK for the receive errors (0x1E), then the data escaped.
      expect(received.toString('hex')).toMatch(/fffa2c0a1efff0ffff00$/);
      expect([...received.subarray(received.length - 3)]).toEqual([0xff, 0xff, 0x00]);
      expect(got).toEqual([0x01, 0xff, 0x02]);
      await t.close();
    } finally {
      right.srv.close();
    }
  });

  it('the bench names board and line when an rfc2217 board does not answer', async () => {
    const { port, srv } = await server(() => {});
    try {
      await expect(Bench.open(config({ apt: { mode: 'rfc2217', host: '127.0.0.1', port } }))).rejects.toThrow(new RegExp(`apt.*rfc2217://127\\.0\\.0\\.1:${port}.*sent no DO COM-PORT-OPTION`));
    } finally {
      srv.close();
    }
  }, 10_000);
});

describe('ser2net telnet(rfc2217) configuration', () => {
  it('the telnet(rfc2217) gensio stacked on the same TCP accepter', () => {
    expect(ser2netConfig([{ device: '/dev/pts/7', baud: 9600, tcpPort: 7002, accepter: 'rfc2217' }])).toBe(
      'connection: &line0\n  accepter: telnet(rfc2217),tcp(nodelay=true),127.0.0.1,7002\n  enable: on\n  options:\n    kickolduser: true\n    chardelay: false\n  connector: serialdev,/dev/pts/7,9600n81,local\n',
    );
  });
});

const HAVE_TOOLS = toolTier('ser2net RFC 2217 tier', ['ser2net', 'socat'], ser2netAvailable() && socatAvailable());
const speedOf = (device: string) => spawnSync('stty', ['-F', device, 'speed'], { encoding: 'utf8' }).stdout.trim();

describe.runIf(HAVE_TOOLS)('ser2net RFC 2217 tier (an emulator process on a pty behind a real ser2net telnet(rfc2217) accepter)', () => {
  it('the rate the rig asks for reaches the pty: the board definition\'s 115200, then a bench file\'s 230400 (ser2net opens it at 9600)', async () => {
    const { address, child } = await spawnEmulatorProcess(ROOT, 'apt', { seed: 3 });
    try {
      const farm = await exportWithSer2net([{ device: address, baud: 9600, accepter: 'rfc2217' }]);
      try {
        const port = farm.lines[0].tcpPort;
        const bench = await Bench.open(config({ apt: { mode: 'rfc2217', host: '127.0.0.1', port } }), { seed: 3, runName: 'rfc2217' });
        try {
          const apt = bench.board('apt');
          expect(apt.port).toBe(`rfc2217://127.0.0.1:${port}`);
          expect(speedOf(address)).toBe('115200');
          expect(apt.identity).toMatchObject({ boardId: 0x5102, emulated: true });
          await apt.write({ FSM_ENABLE: 1, FSM_CMD_X_URAD: 120 });
          await bench.waitTlm('apt.FSM_POS_X_URAD', (v) => Math.abs(Number(v) - 120) < 5, { timeoutMs: 3000 });
        } finally {
          await bench.close();
        }
        const fast = await Bench.open(config({ apt: { mode: 'rfc2217', host: '127.0.0.1', port, baud: 230400 } }), { seed: 3, runName: 'rfc2217-fast' });
        try {
          expect(speedOf(address)).toBe('230400');
          expect(await fast.board('apt').driver.readReg('FSM_ENABLE')).toBe(1);
        } finally {
          await fast.close();
        }
      } finally {
        await farm.close();
      }
    } finally {
      await stopChild(child);
    }
  }, 30_000);

  it('npm run hil -- --bench <rfc2217 bench> apt: the apt suite passes through ser2net in lockstep', async () => {
    const { address, child } = await spawnEmulatorProcess(ROOT, 'apt', { seed: 1, lockstep: true });
    try {
      const farm = await exportWithSer2net([{ device: address, baud: 9600, accepter: 'rfc2217' }]);
      try {
        const dir = mkdtempSync(join(tmpdir(), 'hil-rfc2217-'));
        const benchFile = join(dir, 'rfc2217.json');
        const port = farm.lines[0].tcpPort;
        writeFileSync(benchFile, JSON.stringify({ name: 'rfc2217', clock: 'sim', lockstep: 'always', boards: { apt: { mode: 'rfc2217', host: '127.0.0.1', port } } }));
        // The pty's rate while the suite runs (ser2net closes the device, and the pty forgets it, when the bench lets go).
        const speeds = new Set<string>();
        const poll = setInterval(() => execFile('stty', ['-F', address, 'speed'], (_e, out) => speeds.add(String(out).trim())), 100);
        const r = await runScriptAsync('hil', ['--bench', benchFile, '--seed', '1', '--report-dir', dir, 'apt']).finally(() => clearInterval(poll));
        const out = `${r.stdout}\n${r.stderr}`;
        expect(r.stderr).toContain(`bench rfc2217 (apt: rfc2217://127.0.0.1:${port}), seed 1, simulated time, lockstep 1 ms`);
        expect(r.code, out).toBe(0);
        expect([...speeds]).toContain('115200');
        const junit = readFileSync(join(dir, 'junit.xml'), 'utf8');
        expect(junit).toMatch(/<testsuite name="hil\/suites\/apt\.hil\.ts"[^>]* failures="0" errors="0"/);
        expect(JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'))).toMatchObject({ ports: { apt: `rfc2217://127.0.0.1:${port}` }, verdicts: { passed: 6, failed: 0, skipped: 0 } });
      } finally {
        await farm.close();
      }
    } finally {
      await stopChild(child);
    }
  }, 120_000);
});
