/**
 * Wegman-Carter authentication of the classical channel by transcript (docs/qkd.md,
 * "Authentication"). Every frame a side sends is absorbed into its running transcript
 * hash; a *tagged* frame carries
 *   tag = H_k(frames since the previous tag, this one included) + r_slot  (mod 2^61 - 1)
 * with H_k the transcript hash (transcript-hash.ts) under one session hash key k from
 * the key pool, reused for every tag, and r_slot a fresh one-time pad (slot = 2 tag
 * index + direction) drawn from the pool 64 bits a slot, strictly in slot order so both
 * ends read the same bits. Untagged frames are delivered provisionally; a tag that
 * verifies vouches for every frame of the peer since its previous tag. The first session
 * runs on the pre-shared key the pool is created with.
 *
 * Refused (never delivered, never absorbed): a frame that does not decode, comes from
 * our own direction, or whose sequence number is old or too far ahead (REPLAY). A tag
 * that fails is AUTH_FAILED: its pad is burnt (a pad is tested once), the transcript
 * restarts after it, and the caller must drop everything it took provisionally since the
 * last good tag. A tag is only checked against a frame we sent since the last check
 * (each honest tag answers one of ours), so a forger cannot make us spend pads faster
 * than we talk; a tag index may skip ahead by at most TAG_WINDOW (skipped pads burnt).
 */
import {
  DecodeScratch,
  authCoveredBytes,
  decodeAuthFrame,
  decodeQkdMessage,
  encodeAuthFrame,
  setAuthTag,
  type Direction,
  type QkdMessage,
} from '../protocols/qkd-messages.ts';
import { ProtocolError, isProtocolError } from '../protocols/errors.ts';
import type { ClassicalChannel } from './channel.ts';
import { fe61FromWords, type Fe61 } from './polyhash.ts';
import type { KeyPool } from './pool.ts';
import { P61, TranscriptHash, fe61ToBig } from './transcript-hash.ts';

/** How far ahead of the expected sequence number a frame may be. */
export const SEQ_WINDOW = 64;
/** How far ahead of the expected tag index a tag may be (tagged frames lost or dropped). */
export const TAG_WINDOW = 4;
/** Pad bits per tag. */
export const PAD_BITS = 64;

export interface AuthOptions {
  pool: KeyPool;
  /** Session name used in the pool's consumption records. */
  sessionId: string;
  /** 0 = Alice (payload), 1 = Bob (ground). */
  direction: Direction;
  /** Pad bits drawn from the pool at a time (multiple of 64; default one pad). */
  chunkBits?: number;
  /**
   * Deliver `detections` and `sift` messages in arrays reused for the next one (no
   * allocation per report; see DecodeScratch): only for a receiver that has copied what
   * it keeps of a message when its handler returns.
   */
  lendArrays?: boolean;
}

export interface AuthStats {
  sent: number;
  tagsSent: number;
  accepted: number;
  tagsVerified: number;
  rejected: number;
  keyConsumedBits: number;
}

/** What the receiver is told with a delivered message. */
export interface Delivery {
  /** The frame carried a tag that verified: every frame of the peer up to this one is authentic. */
  verified: boolean;
}

export class AuthenticatedChannel {
  private readonly hashKey: Fe61;
  private readonly chunks: Uint32Array[] = [];
  private readonly chunkBits: number;
  private readonly sent: TranscriptHash;
  private readonly received: TranscriptHash;
  private readonly scratch: DecodeScratch | undefined;
  private sendSeq = 0;
  private expectSeq = 0;
  private sendTag = 0;
  private expectTag = 0;
  /** Frames sent minus tags checked: a tag is only checked against one of ours. */
  private tagCredits = 0;
  /** A sequence number was skipped since the last tag check: the next tag cannot vouch for the range. */
  private gap = false;
  readonly stats: AuthStats = { sent: 0, tagsSent: 0, accepted: 0, tagsVerified: 0, rejected: 0, keyConsumedBits: 0 };

  constructor(
    private readonly channel: ClassicalChannel,
    private readonly opts: AuthOptions,
  ) {
    this.chunkBits = opts.chunkBits ?? PAD_BITS;
    if (this.chunkBits % PAD_BITS !== 0 || this.chunkBits <= 0) throw new RangeError(`auth: chunkBits ${this.chunkBits} is not a positive multiple of ${PAD_BITS}`);
    const k = opts.pool.consume(64, 'auth-hash-key', opts.sessionId);
    this.stats.keyConsumedBits += 64;
    this.hashKey = fe61FromWords(k[1], k[0]);
    this.sent = new TranscriptHash(this.hashKey);
    this.received = new TranscriptHash(this.hashKey);
    this.scratch = opts.lendArrays ? new DecodeScratch() : undefined;
  }

  /** The pad of a slot as a field element; chunks are drawn strictly in order so both ends read the same bits. */
  private pad(slot: number): bigint {
    const perChunk = this.chunkBits / PAD_BITS;
    const c = Math.floor(slot / perChunk);
    while (this.chunks.length <= c) {
      this.chunks.push(this.opts.pool.consume(this.chunkBits, 'auth-otp', this.opts.sessionId));
      this.stats.keyConsumedBits += this.chunkBits;
    }
    const words = this.chunks[c];
    const i = (slot - c * perChunk) * 2;
    // 61 of the 64 bits: uniform on the field but for the one value 2^61 - 1 folded to 0.
    return fe61ToBig(fe61FromWords(words[i + 1], words[i]));
  }

  private tagOf(transcript: TranscriptHash, direction: Direction, index: number): [number, number] {
    const t = (transcript.digest() + this.pad(2 * index + direction)) % P61;
    return [Number(t >> 32n), Number(t & 0xffffffffn)];
  }

  /**
   * Send a message; with `tag` the frame carries a tag over our transcript since our
   * previous tag (this frame included).
   */
  send(message: QkdMessage, options: { tag?: boolean } = {}): void {
    const tagIndex = options.tag ? this.sendTag++ : null;
    const frame = encodeAuthFrame(this.opts.direction, this.sendSeq++, message, tagIndex);
    this.sent.absorb(authCoveredBytes(frame));
    if (tagIndex !== null) {
      const [hi, lo] = this.tagOf(this.sent, this.opts.direction, tagIndex);
      setAuthTag(frame, hi, lo);
      this.sent.reset();
      this.stats.tagsSent++;
    }
    this.tagCredits++;
    this.stats.sent++;
    this.channel.send(frame);
  }

  /**
   * Deliver messages to `onMessage` (provisionally unless `verified`); anything refused
   * goes to `onReject` with a ProtocolError (AUTH_FAILED, REPLAY or a decode error).
   * After AUTH_FAILED nothing taken since the last verified tag may be used.
   */
  listen(onMessage: (m: QkdMessage, d: Delivery) => void, onReject: (e: ProtocolError) => void): void {
    const peer: Direction = this.opts.direction === 0 ? 1 : 0;
    this.channel.onReceive((frame) => {
      let msg: QkdMessage;
      let verified = false;
      try {
        const f = decodeAuthFrame(frame);
        if (f.direction !== peer) throw new ProtocolError('HEADER_INVALID', `frame from own direction ${f.direction}`, { field: 'direction' });
        // Old sequence numbers are replays; a jump ahead (a lost or suppressed frame)
        // is allowed within a window, but the next tag then fails (even if a whole range went).
        if (f.seq < this.expectSeq || f.seq > this.expectSeq + SEQ_WINDOW) {
          throw new ProtocolError('REPLAY', `sequence ${f.seq}, expected ${this.expectSeq}`, { field: 'seq', value: f.seq });
        }
        const skipped = f.seq - this.expectSeq;
        if (f.tag) {
          const { index } = f.tag;
          if (index < this.expectTag || index > this.expectTag + TAG_WINDOW) {
            throw new ProtocolError('REPLAY', `tag index ${index}, expected ${this.expectTag}`, { field: 'tagIndex', value: index });
          }
          if (this.tagCredits <= 0) throw new ProtocolError('AUTH_FAILED', `tag ${index} answers nothing we sent`, { field: 'tagIndex', value: index });
          this.expectSeq = f.seq + 1;
          // The pad is spent whatever the verdict (so are skipped ones); the transcript restarts after this frame.
          this.tagCredits--;
          this.expectTag = index + 1;
          this.received.absorb(f.covered);
          const [hi, lo] = this.tagOf(this.received, peer, index);
          this.received.reset();
          const gap = this.gap || skipped > 0;
          this.gap = false;
          if (gap) throw new ProtocolError('AUTH_FAILED', `frames missing before transcript tag ${index} (frame ${f.seq})`, { seq: f.seq, tagIndex: index });
          if (hi !== f.tag.hi || lo !== f.tag.lo) throw new ProtocolError('AUTH_FAILED', `transcript tag ${index} (frame ${f.seq}) does not verify`, { seq: f.seq, tagIndex: index });
          verified = true;
          this.stats.tagsVerified++;
        } else {
          this.expectSeq = f.seq + 1;
          if (skipped > 0) this.gap = true;
          this.received.absorb(f.covered);
        }
        msg = decodeQkdMessage(f.body, 0, f.body.length, this.scratch);
      } catch (e) {
        if (!isProtocolError(e)) throw e;
        this.stats.rejected++;
        onReject(e);
        return;
      }
      this.stats.accepted++;
      onMessage(msg, { verified });
    });
  }
}
