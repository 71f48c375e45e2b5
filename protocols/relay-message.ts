import { ByteReader, ByteWriter } from './bytes.ts';
import { ProtocolError } from './errors.ts';

/**
 * Byte formats of the trusted relay (the crypto is hil/relay/trusted-relay.ts):
 *
 * Sealed message (what station A sends B):
 *   tagHi u32 | tagLo u32 | ciphertext (the rest)
 *   the 64-bit Wegman-Carter tag big-endian, high word first.
 *
 * Relay VC transfer (how any relay payload, the published K_A xor K_B or a sealed
 * message, crosses the best-effort relay VC): the data fields of opaque space packets
 * on APID LINK_APID.relay, told apart by their sequence count:
 *   seq 0:  payload length u32
 *   seq k:  payload octets [(k - 1) * 1000, k * 1000), k = 1, 2, ...
 * A receiver places what arrived by sequence count; a lost packet leaves zeros (the
 * tag then fails), a lost length packet leaves nothing.
 */

export const SEALED_TAG_BYTES = 8;

export interface SealedMessage {
  ciphertext: Uint8Array;
  tagHi: number;
  tagLo: number;
}

export function encodeSealed(m: SealedMessage): Uint8Array {
  return new ByteWriter(SEALED_TAG_BYTES + m.ciphertext.length).u32(m.tagHi).u32(m.tagLo).bytes(m.ciphertext).done();
}

/** Throws LENGTH_MISMATCH when there is not even a whole tag. */
export function decodeSealed(bytes: Uint8Array): SealedMessage {
  if (bytes.length < SEALED_TAG_BYTES) {
    throw new ProtocolError('LENGTH_MISMATCH', `sealed message of ${bytes.length} octets is shorter than its tag`, { length: bytes.length });
  }
  const r = new ByteReader(bytes, 'sealed message');
  return { tagHi: r.u32('tagHi'), tagLo: r.u32('tagLo'), ciphertext: r.rest() };
}

export const RELAY_CHUNK_BYTES = 1000;
/** The 14-bit sequence count numbers the packets of one transfer. */
export const MAX_RELAY_PACKETS = 0x4000;
export const MAX_RELAY_PAYLOAD_BYTES = (MAX_RELAY_PACKETS - 1) * RELAY_CHUNK_BYTES;

/** Packet data fields carrying `payload`, index = sequence count. Throws FIELD_OUT_OF_RANGE beyond MAX_RELAY_PAYLOAD_BYTES. */
export function relayPacketData(payload: Uint8Array): Uint8Array[] {
  if (payload.length > MAX_RELAY_PAYLOAD_BYTES) {
    throw new ProtocolError('FIELD_OUT_OF_RANGE', `relay payload of ${payload.length} octets needs more than ${MAX_RELAY_PACKETS} packets`, {
      field: 'payload.length',
      value: payload.length,
      max: MAX_RELAY_PAYLOAD_BYTES,
    });
  }
  const out = [new ByteWriter(4).u32(payload.length).done()];
  for (let o = 0; o < payload.length; o += RELAY_CHUNK_BYTES) out.push(payload.subarray(o, o + RELAY_CHUNK_BYTES));
  return out;
}

/**
 * What a receiver rebuilds from the data fields that arrived, by sequence count: the
 * payload with zeros where packets are missing; empty without a valid length packet
 * (missing, short, or a length no sender could send). Extra octets are ignored.
 */
export function joinRelayPacketData(received: ReadonlyMap<number, Uint8Array>): Uint8Array {
  const head = received.get(0);
  if (!head || head.length < 4) return new Uint8Array(0);
  const length = new ByteReader(head, 'relay length packet').u32('length');
  if (length > MAX_RELAY_PAYLOAD_BYTES) return new Uint8Array(0);
  const out = new Uint8Array(length);
  for (const [seq, data] of received) {
    const at = (seq - 1) * RELAY_CHUNK_BYTES;
    if (seq < 1 || at >= length) continue;
    out.set(data.subarray(0, Math.min(RELAY_CHUNK_BYTES, length - at)), at);
  }
  return out;
}
