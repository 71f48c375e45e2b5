import { preSharedKey } from '../../hil/mission/physics-pass.ts';
import { KeyPool } from '../../qkd/pool.ts';

/** Alice's and Bob's pools holding the same `bits` of pre-shared key for `seed` (a test's first session). */
export function pskPools(seed: number, bits: number, names: [string, string] = ['beijing', 'payload']): { alice: KeyPool; bob: KeyPool } {
  const psk = preSharedKey(seed, bits);
  const alice = new KeyPool(names[0]);
  const bob = new KeyPool(names[1]);
  alice.add('psk-0', psk, bits, 'psk');
  bob.add('psk-0', psk, bits, 'psk');
  return { alice, bob };
}
