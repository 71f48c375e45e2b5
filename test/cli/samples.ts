/**
 * The sample captures under docs/samples/ that the README's decode examples read, built
 * from our own encoders (deterministic: fixed sequence counts and times, no randomness).
 *   packets.bin   concatenated CCSDS space packets: a session's TCs and their TM
 *   packets.cobs  the same packets as 0x00-delimited COBS frames (CRC-32C), as on a serial line
 * Regenerate: npx tsx test/cli/samples-cli.ts (a test fails when they are stale).
 */
import { fileURLToPath } from 'node:url';
import { encodeCommand, encodeEvent, encodeHousekeeping, encodeReport } from '../../protocols/dictionary/index.ts';
import { APID_PAYLOAD } from '../../protocols/dictionary/mission.ts';
import { encodeSerialFrame } from '../../protocols/serial-frame.ts';

export const SAMPLES_DIR = fileURLToPath(new URL('../../docs/samples/', import.meta.url));

/** A short session: PING and SET_MODE telecommands, their verification reports, a mode event, two housekeeping packets. */
export function samplePackets(): Uint8Array[] {
  let tmSeq = 0;
  const tmAt = (timeS: number) => ({ seq: tmSeq++, timeS });
  const rid = (tcSeq: number) => ({ tcVersion: 0, tcType: 1, tcSecHeader: 1, tcApid: APID_PAYLOAD, tcSeqFlags: 3, tcSeq });
  const hk = (uptimeS: number, mode: string) =>
    encodeHousekeeping(
      'PAYLOAD_HK',
      { mode, activeBank: 'A', configGeneration: 1, uptimeS, tcAccepted: 2, tcRejected: 0, faultsActive: 0, laserTempC: 25, pointingErrorMeanUrad: 0, pointingErrorRmsUrad: 1, pointingErrorMaxUrad: 2, fsmXUrad: 0, fsmYUrad: 0, fineLock: false, emitting: false, frameNumber: 0, pulsesSent: 0, elevationDeg: 20 },
      tmAt(uptimeS),
    );
  return [
    encodeCommand('PING', {}, { seq: 0 }),
    encodeReport('VERIFY_ACCEPT_OK', rid(0), tmAt(10)),
    encodeCommand('SET_MODE', { mode: 'SAFE' }, { seq: 1 }),
    encodeReport('VERIFY_ACCEPT_OK', rid(1), tmAt(11)),
    encodeEvent('MODE_CHANGED', { from: 'STANDBY', to: 'SAFE' }, tmAt(11)),
    hk(12, 'SAFE'),
    hk(13, 'SAFE'),
  ];
}

/** Each sample file's name and bytes. */
export function sampleFiles(): Record<string, Uint8Array> {
  const packets = samplePackets();
  return {
    'packets.bin': Buffer.concat(packets),
    'packets.cobs': Buffer.concat(packets.map((p) => encodeSerialFrame(p))),
  };
}
