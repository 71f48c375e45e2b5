import { describe, expect, it } from 'vitest';
import { readCapture, rejectedFrames } from '../capture.ts';
import { useBench } from '../fixture.ts';

/**
 * Byte corruption on the line, both ways: the framing rejects damaged frames (CRC),
 * the driver retries requests whose request or answer was lost, telemetry keeps
 * flowing, and the capture shows every rejected frame with its error.
 */
const ctx = useBench({ boards: ['apt'], suite: import.meta.filename });

describe('apt link under byte corruption', () => {
  it('every register read still succeeds and telemetry keeps coming', async () => {
    const { bench } = ctx;
    const apt = bench.board('apt');
    await apt.write({ CAM_EXPOSURE_US: 1500 });
    const m = bench.mark();
    // About one byte in 300 gets a bit flipped, each way; allow more retries on this line.
    apt.driver.configure({ retries: 6 });
    apt.injectBytes({ corruptRate: 1 / 300, direction: 'both' });
    for (let i = 0; i < 40; i++) expect(await apt.driver.readReg('CAM_EXPOSURE_US')).toBe(1500);
    await bench.sleep(500);
    apt.clearFaults();
    expect(apt.line.stats.corruptedBytes).toBeGreaterThan(0);
    expect(apt.rejectedFrames).toBeGreaterThan(0);
    expect(apt.driver.stats.retries).toBeGreaterThan(0);
    expect(bench.history('apt.SPOT_SIGNAL', m).length).toBeGreaterThan(5);
    // The board counted the corrupted requests it dropped.
    expect(await apt.driver.readReg('RX_FRAME_ERRORS')).toBeGreaterThan(0);
  });

  it('recovers from dropped and delayed bytes and a disconnect', async () => {
    const { bench } = ctx;
    const apt = bench.board('apt');
    apt.injectBytes({ dropRate: 1 / 200, delayMs: 5, direction: 'both' });
    for (let i = 0; i < 20; i++) expect(await apt.driver.readReg('CAM_EXPOSURE_US')).toBe(1500);
    apt.clearFaults();
    apt.disconnect();
    await expect(apt.driver.readReg('CAM_EXPOSURE_US')).rejects.toThrow(/board apt on .*no response to READ_REGS/);
    apt.reconnect();
    expect(await apt.driver.readReg('CAM_EXPOSURE_US')).toBe(1500);
  });

  it('the capture shows the rejected frames', async () => {
    const { bench } = ctx;
    const apt = bench.board('apt');
    await bench.sleep(10);
    await apt.capture!.close().catch(() => undefined);
    const rejects = rejectedFrames(readCapture(apt.capture!.path));
    expect(rejects.length).toBe(apt.rejectedFrames);
    expect(rejects.some((r) => r.reject === 'CRC_MISMATCH' || r.reject === 'COBS_INVALID')).toBe(true);
  });
});
