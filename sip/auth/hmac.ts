/**
 * HMAC-SHA256 (RFC 2104) for one fixed key, built on node:crypto's one-shot hash():
 *
 *   HMAC(K, m) = H((K0 ⊕ opad) ‖ H((K0 ⊕ ipad) ‖ m))
 *
 * with K0 the key padded with zeros to the 64-byte block (a longer key is hashed
 * first), ipad = 0x36…, opad = 0x5c…. The nonce store signs and checks a nonce per
 * request; a createHmac() object per call costs several times the two hashes it runs.
 * The pads are computed once per key and the message is copied into a buffer kept for
 * the purpose, so a call allocates only the two digest strings.
 */
import { hash } from 'node:crypto';

const BLOCK = 64;
const DIGEST = 32;

/** HMAC of a message, as 64 lowercase hex digits. */
export type Hmac = (message: Uint8Array) => string;

/**
 * An HMAC-SHA256 function for `key`, for messages up to `maxMessageBytes`. It answers in
 * hex: hash() costs about a third as much with a string digest as with a Buffer one.
 */
export function hmacSha256(key: Uint8Array, maxMessageBytes: number): Hmac {
  const k0 = new Uint8Array(BLOCK);
  k0.set(key.length > BLOCK ? hash('sha256', key, 'buffer') : key);
  const inner = Buffer.alloc(BLOCK + maxMessageBytes);
  const outer = Buffer.alloc(BLOCK + DIGEST);
  for (let i = 0; i < BLOCK; i++) {
    inner[i] = (k0[i] as number) ^ 0x36;
    outer[i] = (k0[i] as number) ^ 0x5c;
  }
  return (message) => {
    if (message.length > maxMessageBytes) throw new RangeError('message longer than planned');
    inner.set(message, BLOCK);
    outer.write(hash('sha256', inner.subarray(0, BLOCK + message.length), 'hex'), BLOCK, 'hex');
    return hash('sha256', outer, 'hex');
  };
}
