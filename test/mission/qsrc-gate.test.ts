import { describe, expect, it } from 'vitest';
import { SimClock } from '../../boards/clock.ts';
import { nextBoundaryMs } from '../../firmware/source.ts';
import { QsrcPort } from '../../hil/mission/ports-qsrc.ts';
import type { RequestEngine } from '../../hil/request-engine.ts';

/**
 * The qsrc port's model of the board's double-buffered frame gate: an armed frame opens
 * at its start time by the board's clock, whenever the acknowledgement returns, unless
 * the command itself came late; never before the emitting frame ends; stopFrame closes
 * the emitting frame and withdraws an armed one. 625 MHz: 625 000 pulses a ms.
 */
const PER_MS = 625_000;

/** The port on a fake board link whose FRAME_PULSES writes are answered `ackMs` later with `status`. */
function gate(ackMs: number, status = 'OK') {
  const clock = new SimClock();
  const writes: Array<Record<string, number>> = [];
  const client = {
    write(values: Record<string, number>, cb?: (r: { status: string } | null) => void) {
      writes.push(values);
      clock.setTimeout(() => cb?.({ status }), ackMs);
    },
  } as unknown as RequestEngine;
  return { clock, writes, port: new QsrcPort(client, clock, 100) };
}

describe('qsrc frame gate', () => {
  it('an armed frame opens at its start time when the acknowledgement came before it, and sends exactly its pulses', () => {
    const { clock, writes, port } = gate(3);
    clock.runUntil(10);
    port.startFrame(0, 10 * PER_MS, 100);
    expect(writes).toEqual([{ FRAME_PULSES: 10 * PER_MS }]);
    expect(port.frameReport(0)).toEqual({ frameNumber: 0, pulsesEmitted: 0, opened: false, ended: false });
    clock.runUntil(105);
    expect(port.emitted[0].startMs).toBe(100);
    expect(port.frameReport(0)).toEqual({ frameNumber: 0, pulsesEmitted: 5 * PER_MS, opened: true, ended: false });
    clock.runUntil(200);
    expect(port.frameReport(0)).toEqual({ frameNumber: 0, pulsesEmitted: 10 * PER_MS, opened: true, ended: true });
    expect(port.emitted[0].stopMs).toBe(110);
  });

  it('a command that reaches the board after the start time opens the gate late (at its acknowledgement)', () => {
    const { clock, port } = gate(30);
    clock.runUntil(90);
    port.startFrame(0, 10 * PER_MS, 100);
    clock.runUntil(119);
    expect(port.frameReport(0)!.opened).toBe(false);
    clock.runUntil(121);
    expect(port.emitted[0].startMs).toBe(120);
    expect(port.frameReport(0)).toEqual({ frameNumber: 0, pulsesEmitted: PER_MS, opened: true, ended: false });
  });

  it('a frame armed while another emits opens at its start time, or when that one ends if later, and both stay whole', () => {
    const { clock, port } = gate(1);
    port.startFrame(0, 10 * PER_MS, 10);
    clock.runUntil(15);
    port.startFrame(1, 10 * PER_MS, 20);
    port.startFrame(1, 10 * PER_MS, 20);
    clock.runUntil(25);
    expect(port.emitted.map((f) => [f.frameNumber, f.startMs, f.stopMs])).toEqual([
      [0, 10, 20],
      [1, 20, null],
    ]);
    // Frame 2 is due at 29, before frame 1 has sent all its pulses: it follows it at 30.
    port.startFrame(2, 10 * PER_MS, 29);
    clock.runUntil(45);
    expect(port.emitted.map((f) => [f.frameNumber, f.startMs, f.stopMs])).toEqual([
      [0, 10, 20],
      [1, 20, 30],
      [2, 30, 40],
    ]);
    expect(port.pulsesEmittedTotal()).toBe(30 * PER_MS);
  });

  it('stopFrame ends the emitting frame with what it sent and withdraws the armed one unopened', () => {
    const { clock, port } = gate(1);
    port.startFrame(0, 10 * PER_MS, 10);
    clock.runUntil(12);
    port.startFrame(1, 10 * PER_MS, 20);
    clock.runUntil(14);
    port.stopFrame();
    expect(port.frameReport(0)).toEqual({ frameNumber: 0, pulsesEmitted: 4 * PER_MS, opened: true, ended: true });
    expect(port.frameReport(1)).toEqual({ frameNumber: 1, pulsesEmitted: 0, opened: false, ended: true });
    clock.runUntil(40);
    expect(port.emitted.map((f) => f.frameNumber)).toEqual([0]);
    expect(port.pulsesEmittedTotal()).toBe(4 * PER_MS);
    // The withdrawn frame's number can be armed again.
    port.startFrame(1, 10 * PER_MS, 50);
    clock.runUntil(60);
    expect(port.frameReport(1)).toEqual({ frameNumber: 1, pulsesEmitted: 10 * PER_MS, opened: true, ended: true });
  });

  it('a refused arm never opens', () => {
    const { clock, port } = gate(1, 'INVALID_VALUE');
    port.startFrame(0, 10 * PER_MS, 10);
    clock.runUntil(30);
    expect(port.frameReport(0)).toEqual({ frameNumber: 0, pulsesEmitted: 0, opened: false, ended: true });
    expect(port.emitted).toEqual([]);
  });

  it('the next sync boundary is strictly after now', () => {
    expect(nextBoundaryMs(0, 0, 430)).toBe(430);
    expect(nextBoundaryMs(429.9, 0, 430)).toBe(430);
    expect(nextBoundaryMs(1000, 100, 430)).toBe(1390);
    expect(nextBoundaryMs(960, 100, 430)).toBe(1390);
  });
});
