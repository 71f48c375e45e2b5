import { createHash } from 'node:crypto';
import { stationByName } from '../../boards/sim/stations.ts';
import { alignPools, type KeyPool } from '../../qkd/pool.ts';
import { PoolStore } from './pool-store.ts';
import { physicsRelayPass, type RelayPass } from './relay-pass.ts';
import { carryOverRelayVc } from './relay-channel.ts';
import { decodeSealed, encodeSealed, type SealedMessage } from '../../protocols/relay-message.ts';
import { checkRelayKey, open, relayBitsFor, relayKey, seal, type RelayPools } from './trusted-relay.ts';

/**
 * One trusted-relay run: QKD passes over both stations fill the satellite's pools,
 * the satellite relays K_A xor K_B, A one-time-pad encrypts and authenticates the
 * file, the ciphertext crosses the relay channel, B checks and decrypts. Pools live
 * in a folder and keep their consumption records across runs; every change to them is
 * journalled on disk before it is used (pool-store.ts), so a run killed at any moment
 * neither reissues key nor loses key it made.
 */
export interface RelayOptions {
  from: string;
  to: string;
  plaintext: Uint8Array;
  seed: number;
  poolDir: string;
  /** Skip the passes: spend only what the pools already hold. */
  noPass?: boolean;
  passDurationS?: number;
  /** How each pass is run. Default the physics-only engine (physicsRelayPass); a suite runs the mission pass on its bench (benchRelayPass). */
  pass?: RelayPass;
  /** Downlink bit error rate at zenith of the relay VC (default 0). */
  relayBerZenith?: number;
  /** Applied to the sealed message after it crossed the relay VC (a tamper test); default none. */
  carry?: (m: SealedMessage) => SealedMessage;
  progress?: (message: string) => void;
}

export interface PoolReport {
  pool: string;
  producedBits: number;
  consumedBits: number;
  leftBits: number;
}

export type RelayOutcome =
  | { ok: true; plaintext: Uint8Array; ciphertext: Uint8Array; pools: PoolReport[]; keyBitsUsed: number; relayPackets: number }
  | { ok: false; reason: 'insufficient-key' | 'auth-failed'; message: string; pools: PoolReport[]; ciphertext?: Uint8Array };

const poolName = (holder: 'satellite' | 'ground', station: string) => `${holder}-${station}`;

export async function runRelay(o: RelayOptions): Promise<RelayOutcome> {
  const progress = o.progress ?? (() => {});
  const from = stationByName(o.from).name.toLowerCase();
  const to = stationByName(o.to).name.toLowerCase();
  if (from === to) throw new Error('--from and --to must be different stations');
  const store = new PoolStore(o.poolDir);
  try {
    return await relayWith(store, o, from, to, progress);
  } finally {
    store.close();
  }
}

async function relayWith(store: PoolStore, o: RelayOptions, from: string, to: string, progress: (m: string) => void): Promise<RelayOutcome> {
  // Pre-shared keys are per station pair (satellite, station), from the mission seed.
  const pskSeed = (station: string) => createHash('sha256').update(`psk:${station}:${o.seed}`).digest().readUInt32BE(0);
  const load = (holder: 'satellite' | 'ground', st: string) => store.load(poolName(holder, st), st, pskSeed(st));
  const pools: RelayPools = { satA: load('satellite', from), groundA: load('ground', from), satB: load('satellite', to), groundB: load('ground', to) };
  const before = new Map<KeyPool, number>([pools.satA, pools.groundA, pools.satB, pools.groundB].map((p) => [p, p.availableBits()]));
  const consumedBefore = new Map<KeyPool, number>([pools.satA, pools.groundA, pools.satB, pools.groundB].map((p) => [p, p.totalConsumedBits()]));

  const run = store.nextRun();
  // A run killed mid-change leaves one end of a link ahead of the other: step both to the further.
  for (const [st, sat, ground] of [[from, pools.satA, pools.groundA], [to, pools.satB, pools.groundB]] as const) {
    const { burnt, withdrawn } = alignPools(sat, ground, `realign:run${run}`);
    if (burnt[0] + burnt[1] + withdrawn > 0) {
      progress(`${st}: pools realigned after an interrupted run: ${burnt[0]} satellite and ${burnt[1]} ground bits burnt, ${withdrawn} unconfirmed blocks withdrawn`);
    }
  }
  if (!o.noPass) {
    const pass = o.pass ?? physicsRelayPass;
    for (const [st, sat, ground] of [[from, pools.satA, pools.groundA], [to, pools.satB, pools.groundB]] as const) {
      const seed = (o.seed * 1009 + run * 7 + (st === from ? 1 : 2)) >>> 0;
      progress(`QKD pass over ${st} (seed ${seed})`);
      const r = await pass({ station: st, seed, durationS: o.passDurationS, pools: { satellite: sat, ground }, progress: (m) => progress(`  ${m}`) });
      progress(`  ${st}: ${r.finalKeyBits} secure bits, QBER ${(r.qber * 100).toFixed(2)} %`);
    }
  }

  const report = (): PoolReport[] =>
    (
      [
        [poolName('satellite', from), pools.satA],
        [poolName('ground', from), pools.groundA],
        [poolName('satellite', to), pools.satB],
        [poolName('ground', to), pools.groundB],
      ] as const
    ).map(([pool, p]) => ({
      pool,
      producedBits: p.availableBits() + (p.totalConsumedBits() - consumedBefore.get(p)!) - before.get(p)!,
      consumedBits: p.totalConsumedBits() - consumedBefore.get(p)!,
      leftBits: p.availableBits(),
    }));
  // Compaction only: every change is already in the journals.
  const saveAll = () => {
    store.save(poolName('satellite', from), pools.satA);
    store.save(poolName('ground', from), pools.groundA);
    store.save(poolName('satellite', to), pools.satB);
    store.save(poolName('ground', to), pools.groundB);
  };

  const bits = relayBitsFor(o.plaintext.length);
  try {
    checkRelayKey(pools, bits);
  } catch (e) {
    saveAll();
    return { ok: false, reason: 'insufficient-key', message: (e as Error).message, pools: report() };
  }
  // K_A xor K_B and then the sealed image cross the optical link's relay VC to B.
  let relayPackets = 0;
  const overRelayVc = (bytes: Uint8Array, salt: number): Uint8Array => {
    const c = carryOverRelayVc(bytes, { seed: (o.seed * 31 + run * 7 + salt) >>> 0, berZenith: o.relayBerZenith });
    relayPackets += c.packetsReceived;
    if (!c.complete) progress(`relay VC: ${c.packetsReceived} of ${c.packetsSent} packets arrived`);
    return c.bytes;
  };
  const downlinkWords = (w: Uint32Array): Uint32Array => {
    const b = overRelayVc(new Uint8Array(w.buffer, w.byteOffset, w.byteLength), 1);
    const out = new Uint32Array(w.length);
    new Uint8Array(out.buffer).set(b.subarray(0, out.byteLength));
    return out;
  };
  const { keyAtA, keyAtB, bits: reservedBits } = relayKey(pools, bits, `relay:${from}->${to}:run${run}`, downlinkWords);
  saveAll();
  const sealed = seal(o.plaintext, keyAtA);
  progress(`relay: ${bits} key bits taken from each pool, ${o.plaintext.length} octets sealed`);
  let received: SealedMessage;
  try {
    received = decodeSealed(overRelayVc(encodeSealed(sealed), 2));
    if (o.carry) received = o.carry(received);
    const plaintext = open(received, keyAtB, reservedBits);
    return { ok: true, plaintext, ciphertext: received.ciphertext, pools: report(), keyBitsUsed: bits, relayPackets };
  } catch (e) {
    return { ok: false, reason: 'auth-failed', message: (e as Error).message, pools: report() };
  }
}
