import { IDLE_APID, PRIMARY_HEADER_BYTES } from '../space-packet.ts';
import { FHP_IDLE_DATA, FHP_NO_PACKET_START } from './tm-frame.ts';

export interface VcReassemblyCounters {
  frames: number;
  /** Frames missing by the virtual channel frame count. */
  framesLost: number;
  packets: number;
  idlePackets: number;
  /** Partial packets thrown away (frame loss, or a first header pointer that disagreed). */
  partialDropped: number;
  /** First header pointer past the data field, or a packet header with a bad version. */
  headerErrors: number;
  /** Packets longer than the configured maximum. */
  oversize: number;
}

/**
 * Rebuilds space packets from the data fields of one TM virtual channel, in order.
 * Frames must already have passed their FECF. Continuity is checked with the VC frame
 * count: after a gap the unfinished packet is discarded and reassembly restarts at the
 * next first header pointer, so a packet is only delivered when every octet of it
 * arrived in consecutive frames.
 */
export class VcReassembler {
  readonly counters: VcReassemblyCounters = { frames: 0, framesLost: 0, packets: 0, idlePackets: 0, partialDropped: 0, headerErrors: 0, oversize: 0 };
  private expectedVcfc = -1;
  private inSync = false;
  private readonly hdr = new Uint8Array(PRIMARY_HEADER_BYTES);
  private hdrFill = 0;
  private pkt: Uint8Array | null = null;
  private pktFill = 0;

  constructor(
    readonly vcid: number,
    readonly maxPacketBytes = PRIMARY_HEADER_BYTES + 0x10000,
    readonly deliverIdle = false,
  ) {}

  private dropPartial(): void {
    if (this.hdrFill > 0 || this.pkt) this.counters.partialDropped++;
    this.hdrFill = 0;
    this.pkt = null;
    this.pktFill = 0;
  }

  /** Feeds one verified data field; calls `deliver` with each complete packet (a fresh copy). */
  push(vcfc: number, fhp: number, data: Uint8Array, deliver: (packet: Uint8Array) => void): void {
    const c = this.counters;
    c.frames++;
    if (this.expectedVcfc >= 0 && vcfc !== this.expectedVcfc) {
      c.framesLost += (vcfc - this.expectedVcfc + 256) & 0xff;
      this.dropPartial();
      this.inSync = false;
    }
    this.expectedVcfc = (vcfc + 1) & 0xff;
    const n = data.length;
    if (fhp === FHP_IDLE_DATA) {
      // Only idle data: whatever was in progress cannot continue here.
      if (this.hdrFill > 0 || this.pkt) {
        this.dropPartial();
        this.inSync = false;
      }
      return;
    }
    if (fhp !== FHP_NO_PACKET_START && fhp >= n) {
      c.headerErrors++;
      this.dropPartial();
      this.inSync = false;
      return;
    }
    let p = 0;
    if (!this.inSync) {
      if (fhp === FHP_NO_PACKET_START) return;
      p = fhp;
      this.inSync = true;
    } else if (fhp !== FHP_NO_PACKET_START) {
      // The octets before the pointer must finish exactly the packet in progress.
      if (this.octetsToFinishCurrent(data) !== fhp) {
        this.dropPartial();
        c.headerErrors++;
        p = fhp;
      }
    }
    while (p < n) {
      if (this.pkt) {
        const take = Math.min(this.pkt.length - this.pktFill, n - p);
        this.pkt.set(data.subarray(p, p + take), this.pktFill);
        this.pktFill += take;
        p += take;
        if (this.pktFill === this.pkt.length) {
          const done = this.pkt;
          this.pkt = null;
          this.pktFill = 0;
          this.complete(done, deliver);
        }
        continue;
      }
      if (this.hdrFill === 0 && n - p >= PRIMARY_HEADER_BYTES) {
        // Fast path: the whole header is in this field.
        if (data[p] >>> 5 !== 0) {
          this.badHeader();
          return;
        }
        const len = PRIMARY_HEADER_BYTES + ((data[p + 4] << 8) | data[p + 5]) + 1;
        if (len > this.maxPacketBytes) {
          c.oversize++;
          this.inSync = false;
          return;
        }
        if (n - p >= len) {
          this.complete(data.slice(p, p + len), deliver);
          p += len;
        } else {
          this.pkt = new Uint8Array(len);
          this.pkt.set(data.subarray(p, n), 0);
          this.pktFill = n - p;
          p = n;
        }
        continue;
      }
      // Header split across fields.
      const take = Math.min(PRIMARY_HEADER_BYTES - this.hdrFill, n - p);
      this.hdr.set(data.subarray(p, p + take), this.hdrFill);
      this.hdrFill += take;
      p += take;
      if (this.hdrFill === PRIMARY_HEADER_BYTES) {
        this.hdrFill = 0;
        if (this.hdr[0] >>> 5 !== 0) {
          this.badHeader();
          return;
        }
        const len = PRIMARY_HEADER_BYTES + ((this.hdr[4] << 8) | this.hdr[5]) + 1;
        if (len > this.maxPacketBytes) {
          c.oversize++;
          this.inSync = false;
          return;
        }
        this.pkt = new Uint8Array(len);
        this.pkt.set(this.hdr, 0);
        this.pktFill = PRIMARY_HEADER_BYTES;
        if (len === this.pktFill) {
          const done = this.pkt;
          this.pkt = null;
          this.pktFill = 0;
          this.complete(done, deliver);
        }
      }
    }
  }

  /** Octets of this field that complete the packet in progress (0 when none is; -1 when unknowable). */
  private octetsToFinishCurrent(data: Uint8Array): number {
    if (this.pkt) return this.pkt.length - this.pktFill;
    if (this.hdrFill === 0) return 0;
    const take = PRIMARY_HEADER_BYTES - this.hdrFill;
    if (take > data.length) return -1;
    const hdr = this.hdr.slice();
    hdr.set(data.subarray(0, take), this.hdrFill);
    if (hdr[0] >>> 5 !== 0) return -1;
    return PRIMARY_HEADER_BYTES + ((hdr[4] << 8) | hdr[5]) + 1 - this.hdrFill;
  }

  private badHeader(): void {
    this.counters.headerErrors++;
    this.dropPartial();
    this.inSync = false;
  }

  private complete(pkt: Uint8Array, deliver: (packet: Uint8Array) => void): void {
    const apid = ((pkt[0] & 0x07) << 8) | pkt[1];
    if (apid === IDLE_APID) {
      this.counters.idlePackets++;
      if (!this.deliverIdle) return;
    } else {
      this.counters.packets++;
    }
    deliver(pkt);
  }
}
