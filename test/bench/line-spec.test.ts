import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyPortOverrides, BenchConfigError, parseLineSpec } from '../../hil/bench/config.ts';
import { tcpSpec } from '../../hil/transport/tcp.ts';
import { config } from './helpers.ts';

/**
 * Issue 13: one spelling of a TCP line everywhere, tcp:HOST:PORT — what the emulator
 * prints is what --port takes, and a bare HOST:PORT is refused naming the spelling
 * (it used to be opened as a serial device that "does not exist").
 */
describe('line specs (--port)', () => {
  const host = fc.oneof(
    fc.ipV4(),
    fc.domain(),
    fc.ipV6(),
  );
  const port = fc.integer({ min: 1, max: 65535 });

  it('property: tcpSpec and parseLineSpec agree for every host and port (IPv6 in brackets)', () => {
    fc.assert(
      fc.property(host, port, (h, p) => {
        expect(parseLineSpec(tcpSpec(h, p))).toEqual({ mode: 'tcp', host: h, port: p });
      }),
      { seed: 1311, numRuns: 500 },
    );
  });

  it('property: a bare HOST:PORT is refused naming tcp:HOST:PORT', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.domain()), port, (h, p) => {
        expect(() => parseLineSpec(`${h}:${p}`)).toThrow(new BenchConfigError(`'${h}:${p}' looks like a TCP address: write tcp:${h}:${p} (a bare HOST:PORT would be opened as a serial device)`));
      }),
      { seed: 1312, numRuns: 300 },
    );
  });

  it('device paths pass as they are; a broken tcp: spec is refused', () => {
    for (const path of ['/dev/ttyUSB0', '/dev/pts/7', 'COM3', '/dev/serial/by-id/usb-FTDI_1:2-if00']) expect(parseLineSpec(path)).toEqual({ mode: 'port', path });
    expect(() => parseLineSpec('tcp:127.0.0.1')).toThrow(/bad TCP address 'tcp:127.0.0.1': write tcp:HOST:PORT/);
    expect(() => parseLineSpec('tcp:127.0.0.1:0')).toThrow(/bad TCP port.*1\.\.65535/);
    expect(() => parseLineSpec('tcp:127.0.0.1:70000')).toThrow(/bad TCP port/);
  });

  it('applyPortOverrides: per-board lines by the same parser; the error names the board part', () => {
    const c = applyPortOverrides(config({ apt: { mode: 'emulated' } }), 'apt=tcp:127.0.0.1:7002,qsrc=/dev/pts/3,lct=tcp:[::1]:7003');
    expect(c.boards).toMatchObject({ apt: { mode: 'tcp', host: '127.0.0.1', port: 7002 }, qsrc: { mode: 'port', path: '/dev/pts/3' }, lct: { mode: 'tcp', host: '::1', port: 7003 } });
    expect(() => applyPortOverrides(c, 'apt=127.0.0.1:7001')).toThrow(/--port apt=127\.0\.0\.1:7001: .*write tcp:127\.0\.0\.1:7001/);
  });
});
