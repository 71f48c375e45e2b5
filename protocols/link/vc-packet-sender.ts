import { ProtocolError } from '../errors.ts';
import { IDLE_APID, idlePacket, MIN_PACKET_BYTES, readPrimaryHeader, packetLength } from '../space-packet.ts';
import { FHP_NO_PACKET_START } from './tm-frame.ts';

/**
 * The packet side of one TM virtual channel: a FIFO of whole space packets cut into
 * fixed-size data fields. A packet may span any number of frames; the first header
 * pointer of each data field says where the first packet header in it begins. When
 * the queue runs dry mid-field the field is completed with an idle packet (which may
 * itself spill into the next field of this channel, as the standard allows).
 */
export class VcPacketSender {
  private readonly queue: Uint8Array[] = [];
  private head = 0;
  /** Octets of queue[head] already placed in earlier fields. */
  private headOffset = 0;
  private queued = 0;
  /** Octets of idle packets still to send (a spilled-over idle packet). */
  private idlePending = 0;
  /** Packets (not idle) taken by `enqueue`, and octets of idle fill produced. */
  packetsQueued = 0;
  idleBytes = 0;

  constructor(
    readonly vcid: number,
    readonly dataFieldBytes: number,
    readonly maxQueuedBytes = Number.POSITIVE_INFINITY,
  ) {}

  /** Queues one whole space packet; false (and nothing queued) when the queue is full. */
  enqueue(packet: Uint8Array): boolean {
    if (packet.length < MIN_PACKET_BYTES) {
      throw new ProtocolError('PACKET_TOO_SHORT', `space packet of ${packet.length} octets, at least ${MIN_PACKET_BYTES} needed`, { length: packet.length });
    }
    const h = readPrimaryHeader(packet, 0);
    if (packetLength(h) !== packet.length) {
      throw new ProtocolError('LENGTH_MISMATCH', `packet length field says ${packetLength(h)} octets, buffer has ${packet.length}`, {
        expected: packetLength(h),
        actual: packet.length,
      });
    }
    if (this.queued + packet.length > this.maxQueuedBytes) return false;
    this.queue.push(packet);
    this.queued += packet.length;
    this.packetsQueued++;
    return true;
  }

  /** Octets still to send (including the unsent rest of a packet already started). */
  get pendingBytes(): number {
    return this.queued - this.headOffset;
  }

  /** Octets of real (non-idle) packets still to send: what makes the channel want a frame. */
  get pendingDataBytes(): number {
    return this.queued - this.headOffset - this.idlePending;
  }

  /**
   * Fills out[offset, offset + dataFieldBytes) and returns the first header pointer.
   * Pads with idle packets when the queue is empty.
   */
  fillDataField(out: Uint8Array, offset: number): number {
    let p = 0;
    let fhp = FHP_NO_PACKET_START;
    const n = this.dataFieldBytes;
    while (p < n) {
      if (this.head === this.queue.length) {
        // Nothing left: idle fill. A remainder below the minimum packet spills over.
        const idle = idlePacket(n - p);
        this.queue.push(idle);
        this.queued += idle.length;
        this.idlePending += idle.length;
        this.idleBytes += idle.length;
      }
      const pkt = this.queue[this.head];
      const isIdle = ((pkt[0] & 0x07) << 8 | pkt[1]) === IDLE_APID;
      if (this.headOffset === 0 && fhp === FHP_NO_PACKET_START) fhp = p;
      const take = Math.min(pkt.length - this.headOffset, n - p);
      out.set(this.headOffset === 0 && take === pkt.length ? pkt : pkt.subarray(this.headOffset, this.headOffset + take), offset + p);
      p += take;
      this.headOffset += take;
      if (isIdle) this.idlePending -= take;
      if (this.headOffset === pkt.length) {
        this.queued -= pkt.length;
        this.headOffset = 0;
        this.head++;
      }
    }
    if (this.head > 1024) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    return fhp;
  }
}
