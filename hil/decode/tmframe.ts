import { crc32c } from '../../protocols/crc.ts';
import { decodeClcw } from '../../protocols/link/clcw.ts';
import { PRIMARY_HEADER_BYTES, readPrimaryHeader } from '../../protocols/space-packet.ts';
import { isProtocolError } from '../../protocols/errors.ts';
import { type ReceivedTmFrame, TmReceiver } from '../../protocols/link/tm-receiver.ts';
import { packetRecord } from './packet-record.ts';
import { PacketTally } from './spacepacket.ts';
import type { DecodeRecord, DecodeResult, Emit } from './types.ts';

export interface TmFrameCaptureOptions {
  frameLengthBytes: number;
  randomized: boolean;
  /**
   * What the user said of the OCF (--ocf / --no-ocf); undefined: nothing. Each frame's
   * OCF flag decides its layout either way; frames whose flag contradicts a given value
   * are counted (summary `ocfFlagOverridden`) and named once in `notes`.
   */
  ocf?: boolean;
  /** Whether frames end in a FECF: not in the frame header, so it must be known (default true). */
  fecf?: boolean;
}

function clcwRecord(word: number): DecodeRecord {
  try {
    const c = decodeClcw(word);
    return { vcid: c.vcid, lockout: c.lockout, wait: c.wait, retransmit: c.retransmit, farmB: c.farmBCounter, nr: c.reportValue };
  } catch (e) {
    if (!isProtocolError(e)) throw e;
    return { raw: word.toString(16).padStart(8, '0'), error: e.message };
  }
}

/**
 * A packet without a secondary header (distillation and relay data are opaque space
 * packets): header fields, size and a CRC-32C of the data to compare with the sender.
 * PUS packets go to the shared packetRecord.
 */
function vcPacketRecord(bytes: Uint8Array): DecodeRecord {
  if (bytes.length >= PRIMARY_HEADER_BYTES && (bytes[0] & 0x08) === 0) {
    const h = readPrimaryHeader(bytes, 0);
    return { apid: h.apid, type: h.type, seq: h.seq, length: bytes.length, kind: 'opaque', dataBytes: bytes.length - PRIMARY_HEADER_BYTES, dataCrc32c: crc32c(bytes, PRIMARY_HEADER_BYTES) };
  }
  return packetRecord(bytes);
}

/**
 * `--format tmframe`: a downlink capture, each TM transfer frame after the 0x1ACFFC1D
 * marker. Prints one record per frame (kind "tmframe": scid, vcid, mcfc, vcfc, the
 * data field status flags, fhp, fecfOk, the CLCW from the OCF when the frame's OCF flag
 * says it has one), then each space packet that frame completed on its virtual channel,
 * in the space-packet decoder's form with `vcid` added.
 */
export function decodeTmFrameCapture(bytes: Uint8Array, opts: TmFrameCaptureOptions, emit: Emit): DecodeResult {
  let rx: TmReceiver;
  try {
    rx = new TmReceiver({ frameLengthBytes: opts.frameLengthBytes, randomized: opts.randomized, ocf: 'header', fecf: opts.fecf ?? true });
  } catch (e) {
    if (!isProtocolError(e)) throw e;
    emit({ error: e.message, code: e.code, layer: 'transport' });
    return { valid: 0, invalid: 1, summary: { error: e.message } };
  }
  const tally = new PacketTally();
  let framesValid = 0;
  let framesInvalid = 0;
  let idleFrames = 0;
  let ocfFlagOverridden = 0;
  const onFrame = (f: ReceivedTmFrame) => {
    const r: DecodeRecord = { kind: 'tmframe', frame: rx.counters.frames - 1, offset: f.offset };
    const h = f.header;
    if (h) {
      r.scid = h.scid;
      r.vcid = h.vcid;
      r.mcfc = h.mcfc;
      r.vcfc = h.vcfc;
      r.ocfFlag = h.ocfFlag;
      r.secondaryHeaderFlag = h.secondaryHeader;
      r.syncFlag = h.syncFlag;
      r.packetOrderFlag = h.packetOrder;
      r.segmentLengthId = h.segmentLengthId;
      r.fhp = h.fhp;
      if (h.fhp === 0x7fe) r.idle = true;
      // Only a header the FECF vouches for can overrule what the user said.
      if (opts.ocf !== undefined && f.fecfOk !== false && h.ocfFlag !== opts.ocf) ocfFlagOverridden++;
    }
    r.fecfOk = f.fecfOk;
    r.sync = f.syncState;
    if (f.ocf !== undefined) r.clcw = clcwRecord(f.ocf);
    if (f.error) {
      r.error = f.error.message;
      r.code = f.error.code;
      r.layer = 'transport';
      framesInvalid++;
    } else {
      framesValid++;
      if (f.header?.fhp === 0x7fe) idleFrames++;
    }
    emit(r);
    for (const p of f.packets) emit(tally.note({ ...vcPacketRecord(p.bytes), vcid: p.vcid }));
  };
  // Feed in slices, as a stream would arrive.
  const CHUNK = 1 << 16;
  for (let off = 0; off < bytes.length; off += CHUNK) rx.push(bytes.subarray(off, Math.min(bytes.length, off + CHUNK)), onFrame);
  rx.finish(onFrame);
  const sync = rx.syncCounters;
  if (sync.bytesTruncated > 0) {
    emit({ kind: 'tmframe', offset: bytes.length - sync.bytesTruncated, length: sync.bytesTruncated, error: `input ends ${sync.bytesTruncated} octets into a frame`, code: 'TRUNCATED', layer: 'transport' });
  }
  const packets = tally.result().summary;
  const flag = opts.ocf ? '--ocf' : '--no-ocf';
  const notes =
    ocfFlagOverridden > 0
      ? [`${flag}: ${ocfFlagOverridden} of ${framesValid + framesInvalid} frames say in their header that they carry ${opts.ocf ? 'no' : 'an'} OCF; decoded as their headers say`]
      : [];
  return {
    notes,
    valid: framesValid + tally.valid,
    invalid: framesInvalid + tally.invalid,
    skippedBytes: sync.bytesSkipped,
    truncatedBytes: sync.bytesTruncated,
    summary: {
      frames: framesValid + framesInvalid,
      framesValid,
      framesInvalid,
      idleFrames,
      ...(opts.ocf !== undefined ? { ocfFlagOverridden } : {}),
      fecfErrors: rx.counters.fecfErrors,
      mcFramesLost: rx.counters.mcFramesLost,
      sync: { bytesIn: sync.bytesIn, bytesSkipped: sync.bytesSkipped, bytesTruncated: sync.bytesTruncated, markersWithErrors: sync.markersWithErrors, markersMissed: sync.markersMissed, slips: sync.slips, lockAcquired: sync.lockAcquired, lockLost: sync.lockLost },
      virtualChannels: rx.vcCounters(),
      packets: packets.packets,
      packetsValid: packets.valid,
      packetsInvalid: packets.invalid,
      sequenceGaps: packets.sequenceGaps,
      duplicates: packets.duplicates,
      late: packets.late,
    },
  };
}
