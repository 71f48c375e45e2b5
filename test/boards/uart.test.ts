import { describe, expect, it } from 'vitest';
import { SimClock, sleep } from '../../boards/clock.ts';
import { UartTx } from '../../boards/uart.ts';

describe('UART model (simulated time)', () => {
  it('paces output at 10 bits a byte and keeps the line busy back to back', async () => {
    const clock = new SimClock();
    const got: { t: number; n: number }[] = [];
    const u = new UartTx(115_200, clock, (b) => got.push({ t: clock.now(), n: b.length }));
    u.write(new Uint8Array(100));
    u.write(new Uint8Array(50));
    let idleAt = -1;
    u.whenIdle(() => (idleAt = clock.now()));
    await sleep(clock, 100);
    const byteMs = 10_000 / 115_200;
    expect(got).toEqual([
      { t: 100 * byteMs, n: 100 },
      { t: 150 * byteMs, n: 50 },
    ]);
    expect(idleAt).toBeCloseTo(150 * byteMs, 9);
    // An idle line starts the next byte now, not at the old schedule.
    u.write(new Uint8Array(10));
    const t0 = clock.now();
    await sleep(clock, 10);
    expect(got[2]).toEqual({ t: t0 + 10 * byteMs, n: 10 });
    expect(u.bytesSent).toBe(160);
  });

  it('flush drops what is queued (power loss)', async () => {
    const clock = new SimClock();
    let n = 0;
    const u = new UartTx(9600, clock, (b) => (n += b.length));
    u.write(new Uint8Array(100));
    u.flush();
    await sleep(clock, 1000);
    expect(n).toBe(0);
  });
});
