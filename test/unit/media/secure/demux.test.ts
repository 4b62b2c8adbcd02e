/** RFC 7983 demultiplexing of a WebRTC leg's port, and RFC 5761 RTP versus RTCP. */
import { describe, expect, it } from '@jest/globals';
import {
  KIND_DTLS,
  KIND_OTHER,
  KIND_RTCP,
  KIND_RTP,
  KIND_STUN,
  classify,
} from '../../../../media/secure/demux.js';

function packet(first: number, second: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  buf[0] = first;
  buf[1] = second;
  return buf;
}

describe('classify', () => {
  it('tells STUN (0–3), DTLS (20–63) and RTP/RTCP (128–191) apart by the first byte', () => {
    expect(classify(packet(0, 1, 20), 20)).toBe(KIND_STUN); // Binding request
    expect(classify(packet(1, 1, 32), 32)).toBe(KIND_STUN);
    expect(classify(packet(22, 0xfe, 60), 60)).toBe(KIND_DTLS); // handshake record
    expect(classify(packet(21, 0xfe, 15), 15)).toBe(KIND_DTLS); // alert
    expect(classify(packet(0x80, 0, 172), 172)).toBe(KIND_RTP); // PCMU
    expect(classify(packet(0x80, 0x80 | 111, 100), 100)).toBe(KIND_RTP); // Opus with marker
    expect(classify(packet(0x81, 200, 52), 52)).toBe(KIND_RTCP); // SR
    expect(classify(packet(0x81, 201, 32), 32)).toBe(KIND_RTCP); // RR
    expect(classify(packet(0x80, 223, 32), 32)).toBe(KIND_RTCP);
  });

  it('calls everything else, and packets too short for their kind, other', () => {
    expect(classify(packet(4, 0, 40), 40)).toBe(KIND_OTHER);
    expect(classify(packet(16, 0, 40), 40)).toBe(KIND_OTHER); // ZRTP
    expect(classify(packet(64, 0, 40), 40)).toBe(KIND_OTHER); // TURN channel
    expect(classify(packet(192, 0, 40), 40)).toBe(KIND_OTHER);
    expect(classify(Buffer.from('hello'), 5)).toBe(KIND_OTHER);
    expect(classify(packet(0, 1, 19), 19)).toBe(KIND_OTHER);
    expect(classify(packet(22, 0xfe, 12), 12)).toBe(KIND_OTHER);
    expect(classify(packet(0x80, 0, 11), 11)).toBe(KIND_OTHER);
    expect(classify(Buffer.alloc(0), 0)).toBe(KIND_OTHER);
  });

  it('reads only `length` bytes of a longer buffer', () => {
    expect(classify(packet(0x80, 0, 2048), 11)).toBe(KIND_OTHER);
    expect(classify(packet(0x80, 0, 2048), 12)).toBe(KIND_RTP);
  });
});
