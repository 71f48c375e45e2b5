import type { AbortReason } from '../protocols/qkd-messages.ts';
import type { Triple } from './keyrate.ts';

/** What one end knows about one block when it is settled. */
export interface BlockRecord {
  blockId: number;
  /** Pool key id when delivered. */
  keyId: string | null;
  status: 'in-progress' | 'delivered' | 'aborted';
  reason: AbortReason;
  lastBatch: number;
  keyBits: number;
  keyN: Triple;
  testN: Triple;
  testM: Triple;
  qberTestSignal: number;
  s0: number;
  s1: number;
  phi: number;
  /** Parity bits disclosed by Cascade. */
  leakedBits: number;
  /** Error-correction efficiency f (Bob knows the true error count). */
  ecEfficiency: number | null;
  /** Key-basis errors per intensity found by Cascade (Bob only). */
  keyErrors: Triple | null;
  lengthBits: number;
  roundTrips: number;
  /** The final key (packed), kept so tests and callers can compare ends. */
  key: Uint32Array | null;
  /** Simulation time at which the block settled, if the caller gives a clock. */
  settledAtS: number | null;
}

export function newRecord(blockId: number, lastBatch: number): BlockRecord {
  return {
    blockId,
    keyId: null,
    status: 'in-progress',
    reason: 'NONE',
    lastBatch,
    keyBits: 0,
    keyN: [0, 0, 0],
    testN: [0, 0, 0],
    testM: [0, 0, 0],
    qberTestSignal: 0,
    s0: 0,
    s1: 0,
    phi: 0.5,
    leakedBits: 0,
    ecEfficiency: null,
    keyErrors: null,
    lengthBits: 0,
    roundTrips: 0,
    key: null,
    settledAtS: null,
  };
}

export function keyIdOf(sessionId: string, blockId: number): string {
  return `${sessionId}/b${blockId}`;
}
