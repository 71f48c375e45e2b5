/**
 * Wegman-Carter authentication of the classical channel. Every frame carries
 * tag = H_k(header ‖ body) XOR r_slot: H_k the polynomial hash over GF(2^61 - 1) with a
 * session hash key k drawn from the key pool, r_slot a fresh 64-bit one-time pad per
 * message (slot = 2 seq + direction) drawn from the pool in chunks. The first session
 * runs on the pre-shared key the pool is created with.
 *
 * A frame whose tag fails, whose sequence number is not the expected one, or that does
 * not decode is rejected (never delivered); its slot is burned so a pad is never
 * tested twice, and the pool itself is only ever read, never written.
 */
import {
  AUTH_TAG_BYTES,
  authFrameFor,
  decodeAuthFrame,
  decodeQkdMessage,
  encodeQkdMessage,
  setAuthTag,
  type Direction,
  type QkdMessage,
} from '../protocols/qkd-messages.ts';
import { ProtocolError, isProtocolError } from '../protocols/errors.ts';
import type { ClassicalChannel } from './channel.ts';
import { fe61FromWords, polyHash61, type Fe61 } from './polyhash.ts';
import type { KeyPool } from './pool.ts';

/** How far ahead of the expected sequence number a frame may be. */
export const SEQ_WINDOW = 64;

export interface AuthOptions {
  pool: KeyPool;
  /** Session name used in the pool's consumption records. */
  sessionId: string;
  /** 0 = Alice (payload), 1 = Bob (ground). */
  direction: Direction;
  /** Pad bits drawn from the pool at a time (multiple of 64). */
  chunkBits?: number;
}

export interface AuthStats {
  sent: number;
  accepted: number;
  rejected: number;
  keyConsumedBits: number;
}

export class AuthenticatedChannel {
  private readonly hashKey: Fe61;
  private readonly chunks: Uint32Array[] = [];
  private readonly chunkBits: number;
  private sendSeq = 0;
  private expectSeq = 0;
  readonly stats: AuthStats = { sent: 0, accepted: 0, rejected: 0, keyConsumedBits: 0 };

  constructor(
    private readonly channel: ClassicalChannel,
    private readonly opts: AuthOptions,
  ) {
    this.chunkBits = opts.chunkBits ?? 4096;
    const k = opts.pool.consume(64, 'auth-hash-key', opts.sessionId);
    this.stats.keyConsumedBits += 64;
    this.hashKey = fe61FromWords(k[1], k[0]);
  }

  /** The 64-bit pad of a slot; chunks are drawn strictly in order so both ends read the same bits. */
  private pad(slot: number): [number, number] {
    const perChunk = this.chunkBits / 64;
    const c = Math.floor(slot / perChunk);
    while (this.chunks.length <= c) {
      this.chunks.push(this.opts.pool.consume(this.chunkBits, 'auth-otp', this.opts.sessionId));
      this.stats.keyConsumedBits += this.chunkBits;
    }
    const words = this.chunks[c];
    const i = (slot - c * perChunk) * 2;
    return [words[i + 1], words[i]];
  }

  private tag(covered: Uint8Array, direction: Direction, seq: number): [number, number] {
    const h = polyHash61(covered, this.hashKey);
    const [ph, pl] = this.pad(2 * seq + direction);
    return [(h.hi ^ ph) >>> 0, (h.lo ^ pl) >>> 0];
  }

  send(message: QkdMessage): void {
    // One buffer for header ‖ body ‖ tag (the same bytes as authCoveredBytes +
    // encodeAuthFrame, without two copies of megabyte-sized detection lists).
    const frame = authFrameFor(this.opts.direction, this.sendSeq, encodeQkdMessage(message));
    const [hi, lo] = this.tag(frame.subarray(0, frame.length - AUTH_TAG_BYTES), this.opts.direction, this.sendSeq);
    setAuthTag(frame, hi, lo);
    this.sendSeq++;
    this.stats.sent++;
    this.channel.send(frame);
  }

  /**
   * Deliver authentic messages to `onMessage`; anything else goes to `onReject` with a
   * ProtocolError (AUTH_FAILED, REPLAY or a decode error) and is dropped.
   */
  listen(onMessage: (m: QkdMessage) => void, onReject: (e: ProtocolError) => void): void {
    const peer: Direction = this.opts.direction === 0 ? 1 : 0;
    this.channel.onReceive((frame) => {
      let msg: QkdMessage;
      try {
        const f = decodeAuthFrame(frame);
        if (f.direction !== peer) throw new ProtocolError('HEADER_INVALID', `frame from own direction ${f.direction}`, { field: 'direction' });
        // Old sequence numbers are replays; a jump ahead (a lost or suppressed frame)
        // is allowed within a window, the skipped slots are burned.
        if (f.seq < this.expectSeq || f.seq > this.expectSeq + SEQ_WINDOW) {
          throw new ProtocolError('REPLAY', `sequence ${f.seq}, expected ${this.expectSeq}`, { field: 'seq', value: f.seq });
        }
        this.expectSeq = f.seq + 1; // the slot is spent whatever the verdict
        const [hi, lo] = this.tag(f.covered, peer, f.seq);
        if (hi !== f.tagHi || lo !== f.tagLo) throw new ProtocolError('AUTH_FAILED', `tag mismatch on message ${f.seq}`, { seq: f.seq });
        msg = decodeQkdMessage(f.body);
      } catch (e) {
        if (!isProtocolError(e)) throw e;
        this.stats.rejected++;
        onReject(e);
        return;
      }
      this.stats.accepted++;
      onMessage(msg);
    });
  }
}
