import { describe, it, expect } from '@jest/globals';
import { createHmac, randomBytes } from 'node:crypto';
import { hmacSha256 } from '../../../../sip/auth/hmac.js';

describe('hmacSha256', () => {
  it('gives the RFC 4231 test case 2 value', () => {
    const mac = hmacSha256(Buffer.from('Jefe'), 64);
    expect(mac(Buffer.from('what do ya want for nothing?'))).toBe(
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
  });

  it('gives the RFC 4231 test case 6 value (a key longer than the block is hashed)', () => {
    const mac = hmacSha256(Buffer.alloc(131, 0xaa), 64);
    expect(mac(Buffer.from('Test Using Larger Than Block-Size Key - Hash Key First'))).toBe(
      '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54',
    );
  });

  it('agrees with createHmac for keys of 16 to 100 bytes and messages of 0 to 40', () => {
    for (const keyLength of [16, 32, 63, 64, 65, 100]) {
      const key = randomBytes(keyLength);
      const mac = hmacSha256(key, 40);
      for (let length = 0; length <= 40; length += 3) {
        const message = randomBytes(length);
        expect(mac(message)).toBe(createHmac('sha256', key).update(message).digest('hex'));
      }
    }
  });

  it('gives the same value when called again (no state carried between calls)', () => {
    const mac = hmacSha256(Buffer.from('0123456789abcdef'), 32);
    const long = Buffer.alloc(32, 7);
    const short = Buffer.from('abc');
    const first = mac(short);
    mac(long);
    expect(mac(short)).toBe(first);
  });

  it('refuses a message longer than planned', () => {
    expect(() => hmacSha256(Buffer.alloc(16), 8)(Buffer.alloc(9))).toThrow(RangeError);
  });
});
