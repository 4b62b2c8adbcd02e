import { describe, it, expect } from '@jest/globals';
import {
  isRtcp,
  RTP_HEADER_SIZE,
  RTP_INVALID,
  rtpCsrcCount,
  rtpHasExtension,
  rtpHasPadding,
  rtpMarker,
  rtpPayloadEnd,
  rtpPayloadOffset,
  rtpPayloadType,
  rtpSequence,
  rtpSsrc,
  rtpTimestamp,
  rtpVersion,
  writeRtpHeader,
  writeRtpMarker,
  writeRtpPayloadType,
  writeRtpSequence,
  writeRtpSsrc,
  writeRtpTimestamp,
} from '../../../../media/rtp/rtpHeader.js';
import { rtp } from '../rtpFixture.js';

describe('RTP header fields (RFC 3550 §5.1)', () => {
  it('reads every fixed field, with 32-bit fields unsigned', () => {
    const p = rtp({ pt: 8, marker: true, seq: 0xfedc, ts: 0xfffffffe, ssrc: 0x80000001 });
    expect(rtpVersion(p)).toBe(2);
    expect(rtpPayloadType(p)).toBe(8);
    expect(rtpMarker(p)).toBe(true);
    expect(rtpSequence(p)).toBe(0xfedc);
    expect(rtpTimestamp(p)).toBe(0xfffffffe);
    expect(rtpSsrc(p)).toBe(0x80000001);
    expect(rtpHasPadding(p)).toBe(false);
    expect(rtpHasExtension(p)).toBe(false);
    expect(rtpCsrcCount(p)).toBe(0);
  });

  it('finds the payload after CSRCs and the header extension, and before padding', () => {
    const payload = [1, 2, 3, 4, 5];
    expect(rtpPayloadOffset(rtp({ payload }))).toBe(12);
    const p = rtp({ csrc: [1, 2], ext: { profile: 0xbede, words: 3 }, payload, pad: 3 });
    const offset = 12 + 2 * 4 + 4 + 3 * 4;
    expect(rtpCsrcCount(p)).toBe(2);
    expect(rtpPayloadOffset(p)).toBe(offset);
    expect(rtpPayloadEnd(p)).toBe(offset + payload.length);
    expect([...p.subarray(offset, rtpPayloadEnd(p))]).toEqual(payload);
  });

  it('honours a length shorter than the receive buffer', () => {
    const datagram = rtp({ payload: [9, 9], pad: 2 });
    const recv = Buffer.alloc(1500, 0xaa);
    datagram.copy(recv);
    expect(rtpPayloadEnd(recv, datagram.length)).toBe(14);
  });

  it('accepts an empty payload (header only, or all padding)', () => {
    expect(rtpPayloadEnd(rtp())).toBe(RTP_HEADER_SIZE);
    expect(rtpPayloadEnd(rtp({ pad: 4 }))).toBe(RTP_HEADER_SIZE);
  });

  it.each([
    ['shorter than the fixed header', rtp().subarray(0, 11)],
    ['version 1', rtp({ version: 1 })],
    ['version 0 (e.g. STUN)', rtp({ version: 0 })],
    ['CSRC list past the end', rtp({ csrc: [1, 2, 3] }).subarray(0, 20)],
    ['extension header past the end', rtp({ ext: { profile: 0xbede, words: 0 } }).subarray(0, 14)],
    ['extension data past the end', rtp({ ext: { profile: 0x1000, words: 4 } }).subarray(0, 24)],
  ])('rejects a packet with %s', (_name, p) => {
    expect(rtpPayloadOffset(p)).toBe(RTP_INVALID);
    expect(rtpPayloadEnd(p)).toBe(RTP_INVALID);
  });

  it('rejects padding counts of zero or reaching into the header', () => {
    const zero = rtp({ payload: [1, 2, 3, 0] });
    zero[0] = zero[0]! | 0x20;
    expect(rtpPayloadEnd(zero)).toBe(RTP_INVALID);
    const tooBig = rtp({ payload: [1, 2, 3, 5] });
    tooBig[0] = tooBig[0]! | 0x20;
    expect(rtpPayloadEnd(tooBig)).toBe(RTP_INVALID);
    expect(rtpPayloadOffset(tooBig)).toBe(12);
  });

  it('rejects a length larger than the buffer', () => {
    expect(rtpPayloadOffset(rtp(), 13)).toBe(RTP_INVALID);
  });
});

describe('RTP header writers', () => {
  it('rewrite fields in place and leave the others alone', () => {
    const p = rtp({ pt: 0, marker: false, seq: 1, ts: 2, ssrc: 3, payload: [7, 7] });
    writeRtpSequence(p, 0xabcd);
    writeRtpTimestamp(p, 0xdeadbeef);
    writeRtpSsrc(p, 0xcafebabe);
    writeRtpMarker(p, true);
    writeRtpPayloadType(p, 101);
    expect(p).toEqual(
      rtp({
        pt: 101,
        marker: true,
        seq: 0xabcd,
        ts: 0xdeadbeef,
        ssrc: 0xcafebabe,
        payload: [7, 7],
      }),
    );
    writeRtpPayloadType(p, 8);
    expect(rtpMarker(p)).toBe(true);
    writeRtpMarker(p, false);
    expect(rtpPayloadType(p)).toBe(8);
    expect(rtpMarker(p)).toBe(false);
  });

  it('write a fresh 12-byte header at an offset of a preallocated buffer', () => {
    const buf = Buffer.alloc(40, 0xff);
    expect(writeRtpHeader(buf, 0, true, 65535, 0x01020304, 0x0a0b0c0d, 4)).toBe(12);
    expect(buf.subarray(4, 16)).toEqual(
      rtp({ pt: 0, marker: true, seq: 65535, ts: 0x01020304, ssrc: 0x0a0b0c0d }),
    );
    expect(buf[3]).toBe(0xff);
    expect(buf[16]).toBe(0xff);
  });
});

describe('isRtcp (RFC 5761 §4 demultiplexing)', () => {
  it('classifies by the second octet', () => {
    for (const pt of [200, 201, 202, 203, 204, 205, 206, 207]) {
      expect(isRtcp(Buffer.from([0x80, pt, 0, 1]))).toBe(true);
    }
    expect(isRtcp(rtp({ pt: 0 }))).toBe(false);
    expect(isRtcp(rtp({ pt: 8, marker: true }))).toBe(false);
    expect(isRtcp(rtp({ pt: 101, marker: true }))).toBe(false);
    expect(isRtcp(rtp({ pt: 96 }))).toBe(false);
    expect(isRtcp(Buffer.from([0x80]))).toBe(false);
  });
});
