/**
 * Ogg pages (RFC 3533) and the Ogg Opus headers (RFC 7845). Pure: bytes in, bytes out.
 *
 * A page holds whole packets only (the recorder never splits one across pages), so a
 * file cut after any page is a valid stream of the audio up to that page. Page layout
 * (RFC 3533 §6): "OggS", version 0, header type (1 continued, 2 first page, 4 last
 * page), granule position (int64 LE), serial number, page sequence number, CRC-32
 * (polynomial 0x04C11DB7, initial 0, not reflected, computed with the field zeroed), the
 * number of segments, the lacing values (a packet of n bytes: ⌊n/255⌋ times 255, then
 * n mod 255), then the packets' data.
 */

export const OGG_BOS = 0x02;
export const OGG_EOS = 0x04;

const CRC_TABLE: Uint32Array = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let k = 0; k < 8; k++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    t[i] = r >>> 0;
  }
  return t;
})();

/** The Ogg CRC-32 of `buf` (RFC 3533 §6; the page's CRC field must be zero). */
export function oggCrc(buf: Uint8Array): number {
  let crc = 0;
  for (let i = 0; i < buf.length; i++) {
    crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ buf[i]!) & 0xff]!) >>> 0;
  }
  return crc >>> 0;
}

/** Lacing values a packet of `n` bytes needs. */
export function lacingCount(n: number): number {
  return Math.floor(n / 255) + 1;
}

/** One logical bitstream's pages, numbered from 0. */
export class OggStream {
  private sequence = 0;

  constructor(readonly serial: number) {}

  /**
   * One page of whole `packets` (at most 255 lacing values together), its granule
   * position the one of the last packet on it (RFC 7845 §4: 48 kHz samples).
   */
  page(packets: readonly Uint8Array[], granule: number, flags = 0): Buffer {
    let segments = 0;
    let body = 0;
    for (const p of packets) {
      segments += lacingCount(p.length);
      body += p.length;
    }
    if (segments > 255) throw new RangeError(`an Ogg page holds 255 segments, not ${segments}`);
    const page = Buffer.alloc(27 + segments + body);
    page.write('OggS', 0, 'latin1');
    page[4] = 0;
    page[5] = flags;
    page.writeBigInt64LE(BigInt(granule), 6);
    page.writeUInt32LE(this.serial >>> 0, 14);
    page.writeUInt32LE(this.sequence++, 18);
    page[26] = segments;
    let lace = 27;
    let at = 27 + segments;
    for (const p of packets) {
      let n = p.length;
      while (n >= 255) {
        page[lace++] = 255;
        n -= 255;
      }
      page[lace++] = n;
      page.set(p, at);
      at += p.length;
    }
    page.writeUInt32LE(oggCrc(page), 22);
    return page;
  }
}

/**
 * The OpusHead packet (RFC 7845 §5.1). One channel: mapping family 0. Two: family 1
 * with two uncoupled mono streams (left, right), so each track has its own encoder.
 */
export function opusHead(channels: 1 | 2, preSkip: number, inputSampleRate: number): Buffer {
  const head = Buffer.alloc(channels === 1 ? 19 : 23);
  head.write('OpusHead', 0, 'latin1');
  head[8] = 1;
  head[9] = channels;
  head.writeUInt16LE(preSkip, 10);
  head.writeUInt32LE(inputSampleRate, 12);
  head.writeInt16LE(0, 16);
  head[18] = channels === 1 ? 0 : 1;
  if (channels === 2) {
    head[19] = 2; // streams
    head[20] = 0; // coupled streams
    head[21] = 0; // left: stream 0
    head[22] = 1; // right: stream 1
  }
  return head;
}

/** The OpusTags packet (RFC 7845 §5.2): the vendor string and no comments. */
export function opusTags(vendor: string): Buffer {
  const v = Buffer.from(vendor, 'utf8');
  const tags = Buffer.alloc(8 + 4 + v.length + 4);
  tags.write('OpusTags', 0, 'latin1');
  tags.writeUInt32LE(v.length, 8);
  v.copy(tags, 12);
  tags.writeUInt32LE(0, 12 + v.length);
  return tags;
}

function writeLength(n: number, out: Uint8Array, at: number): number {
  if (n < 252) {
    out[at] = n;
    return 1;
  }
  const first = 252 + (n & 3);
  out[at] = first;
  out[at + 1] = (n - first) >> 2;
  return 2;
}

function readLength(p: Uint8Array, at: number, end: number): [number, number] {
  if (at >= end) return [-1, 0];
  const b = p[at]!;
  if (b < 252) return [b, 1];
  if (at + 1 >= end) return [-1, 0];
  return [b + 4 * p[at + 1]!, 2];
}

/**
 * Rewrites an Opus packet `p[0, n)` in self-delimiting framing (RFC 6716 Appendix B),
 * as every stream but the last of a multistream packet must be, into `out` from `at`.
 * Returns the bytes written, or -1 for a malformed packet.
 */
export function selfDelimited(p: Uint8Array, n: number, out: Uint8Array, at: number): number {
  if (n < 1) return -1;
  const code = p[0]! & 3;
  let o = at;
  out[o++] = p[0]!;
  if (code === 0) {
    o += writeLength(n - 1, out, o);
    out.set(p.subarray(1, n), o);
    return o + n - 1 - at;
  }
  if (code === 1) {
    if ((n - 1) % 2 !== 0) return -1;
    o += writeLength((n - 1) / 2, out, o);
    out.set(p.subarray(1, n), o);
    return o + n - 1 - at;
  }
  if (code === 2) {
    const [n1, size] = readLength(p, 1, n);
    if (n1 < 0 || 1 + size + n1 > n) return -1;
    const n2 = n - 1 - size - n1;
    out.set(p.subarray(1, 1 + size), o);
    o += size;
    o += writeLength(n2, out, o);
    out.set(p.subarray(1 + size, n), o);
    return o + n - 1 - size - at;
  }
  // Code 3: frame count byte, padding length, (VBR) M−1 lengths, frames, padding.
  if (n < 2) return -1;
  const countByte = p[1]!;
  const vbr = (countByte & 0x80) !== 0;
  const padded = (countByte & 0x40) !== 0;
  const m = countByte & 0x3f;
  if (m === 0) return -1;
  let i = 2;
  let padding = 0;
  if (padded) {
    for (;;) {
      if (i >= n) return -1;
      const b = p[i++]!;
      padding += b === 255 ? 254 : b;
      if (b !== 255) break;
    }
  }
  let lengthsEnd = i;
  let sum = 0;
  if (vbr) {
    for (let k = 0; k < m - 1; k++) {
      const [len, size] = readLength(p, lengthsEnd, n);
      if (len < 0) return -1;
      sum += len;
      lengthsEnd += size;
    }
  }
  const data = n - lengthsEnd - padding;
  if (data < 0) return -1;
  let last: number;
  if (vbr) {
    last = data - sum;
  } else {
    if (data % m !== 0) return -1;
    last = data / m;
  }
  if (last < 0) return -1;
  out.set(p.subarray(1, lengthsEnd), o);
  o += lengthsEnd - 1;
  o += writeLength(last, out, o);
  out.set(p.subarray(lengthsEnd, n), o);
  o += n - lengthsEnd;
  return o - at;
}
