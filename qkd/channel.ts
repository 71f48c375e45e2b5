/**
 * The classical channel between Alice (payload) and Bob (ground): opaque frames in
 * order. The end-to-end rig carries them on an optical-link virtual channel; tests use
 * the in-memory pair below, which queues frames and delivers them when pumped.
 */
import type { Direction } from '../protocols/qkd-messages.ts';

export interface ClassicalChannel {
  send(frame: Uint8Array): void;
  /** The handler of frames arriving from the peer (one handler per side). */
  onReceive(handler: (frame: Uint8Array) => void): void;
}

export interface RecordedFrame {
  direction: Direction;
  frame: Uint8Array;
}

/** Changes (or drops, by returning undefined) a frame in flight: a man in the middle for tests. */
export type FrameTamper = (frame: Uint8Array, direction: Direction, index: number) => Uint8Array | undefined;

export interface MemoryChannelPair {
  alice: ClassicalChannel;
  bob: ClassicalChannel;
  /** Deliver queued frames until both queues are empty; returns frames delivered. */
  pump(): number;
  /** Every frame as sent (before tampering), when recording is on. */
  recorded: RecordedFrame[];
  bytes: [number, number];
  frames: [number, number];
}

export function memoryChannelPair(options: { record?: boolean; tamper?: FrameTamper } = {}): MemoryChannelPair {
  const queue: RecordedFrame[] = [];
  const handlers: [((f: Uint8Array) => void) | undefined, ((f: Uint8Array) => void) | undefined] = [undefined, undefined];
  let head = 0;
  let index = 0;
  const pair: MemoryChannelPair = {
    recorded: [],
    bytes: [0, 0],
    frames: [0, 0],
    alice: {
      send: (frame) => enqueue(0, frame),
      onReceive: (h) => {
        handlers[0] = h;
      },
    },
    bob: {
      send: (frame) => enqueue(1, frame),
      onReceive: (h) => {
        handlers[1] = h;
      },
    },
    pump() {
      let n = 0;
      while (head < queue.length) {
        const { direction, frame } = queue[head++];
        const to = handlers[direction === 0 ? 1 : 0];
        if (!to) throw new Error('memory channel: no receiver registered');
        n++;
        to(frame);
        if (head > 4096 && head === queue.length) {
          queue.length = 0;
          head = 0;
        }
      }
      return n;
    },
  };
  function enqueue(direction: Direction, frame: Uint8Array): void {
    if (options.record) pair.recorded.push({ direction, frame: frame.slice() });
    pair.bytes[direction] += frame.length;
    pair.frames[direction]++;
    const out = options.tamper ? options.tamper(frame, direction, index++) : frame;
    if (out) queue.push({ direction, frame: out });
  }
  return pair;
}
