import { scanPackets } from '../../protocols/packet-stream.ts';
import { SequenceTracker } from '../../protocols/space-packet.ts';
import { scannedRecord } from './packet-record.ts';
import type { DecodeRecord, DecodeResult, Emit } from './types.ts';

/** Counts packets and per-APID sequence gaps while records are emitted. */
export class PacketTally {
  valid = 0;
  invalid = 0;
  idle = 0;
  readonly seq = new SequenceTracker();

  /**
   * Adds `seqGap` to the record when packets went missing before it, `seqRepeat`
   * (duplicate, late, resync) when its count is not the next one.
   */
  note(record: DecodeRecord): DecodeRecord {
    if ('error' in record) {
      this.invalid++;
      // A packet the dictionary refused passed its PEC: its count is real and counts;
      // a transport failure's header is not to be trusted.
      return record.layer === 'dictionary' ? this.sequence(record) : record;
    }
    this.valid++;
    if (record.idle) {
      this.idle++;
      return record;
    }
    return this.sequence(record);
  }

  private sequence(record: DecodeRecord): DecodeRecord {
    const v = this.seq.track(record.type as 'TM' | 'TC', record.apid as number, record.seq as number);
    if (v.kind === 'gap') return { ...record, seqGap: v.missed };
    return v.kind === 'in-order' ? record : { ...record, seqRepeat: v.kind };
  }

  result(extra: Record<string, unknown> = {}): DecodeResult {
    return {
      valid: this.valid,
      invalid: this.invalid,
      summary: { packets: this.valid + this.invalid, valid: this.valid, invalid: this.invalid, idle: this.idle, sequenceGaps: this.seq.summary(), duplicates: Object.fromEntries(this.seq.duplicates), late: Object.fromEntries(this.seq.late), resyncs: Object.fromEntries(this.seq.resyncs), ...extra },
    };
  }
}

/** `--format spacepacket`: a stream of concatenated space packets. */
export function decodeSpacePacketStream(bytes: Uint8Array, emit: Emit): DecodeResult {
  const tally = new PacketTally();
  for (const s of scanPackets(bytes)) emit(tally.note(scannedRecord(s)));
  return tally.result();
}
