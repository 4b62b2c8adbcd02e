import { describe, it, expect } from '@jest/globals';
import {
  BYE_SIZE,
  encodeCname,
  receiverReportSize,
  sdesCnameSize,
  senderReportSize,
  writeBye,
  writeReceiverReport,
  writeSdesCname,
  writeSenderReport,
} from '../../../../media/rtcp/buildRtcp.js';
import { parseRtcpCompound } from '../../../../media/rtcp/parseRtcp.js';
import { newReportBlock } from '../../../../media/rtcp/reportBlock.js';
import type { ReportBlock } from '../../../../media/rtcp/reportBlock.js';
import type { OtherRtcpPacket, SenderInfo } from '../../../../media/rtcp/rtcpTypes.js';
import {
  ntpCompact,
  ntpFraction,
  ntpSeconds,
  roundTripMs,
  toCompactDuration,
} from '../../../../media/rtcp/ntp.js';

const sender: SenderInfo = {
  ssrc: 0x11111111,
  ntpSeconds: 0xe8000001,
  ntpFraction: 0x80000000,
  rtpTimestamp: 0xfffffff0,
  packetCount: 1234,
  octetCount: 1234 * 160,
};

function block(overrides: Partial<ReportBlock>): ReportBlock {
  return { ...newReportBlock(), ...overrides };
}

const blocks = [
  block({
    ssrc: 0x22222222,
    fractionLost: 25,
    cumulativeLost: 1,
    highestSequence: 0x00010005,
    jitter: 9,
    lastSr: 0x00018000,
    delaySinceLastSr: 65536,
  }),
  block({ ssrc: 0x33333333, cumulativeLost: -2, highestSequence: 7 }),
];

function compound(): Buffer {
  const buf = Buffer.alloc(1500);
  let n = writeSenderReport(buf, 0, sender, blocks);
  n += writeSdesCname(buf, n, sender.ssrc, encodeCname('leg-1@callwatch'));
  n += writeBye(buf, n, sender.ssrc);
  return buf.subarray(0, n);
}

describe('RTCP writers (RFC 3550 §6.4–§6.6)', () => {
  it('write the exact bytes of an SR with one report block', () => {
    const buf = Buffer.alloc(senderReportSize(1));
    expect(writeSenderReport(buf, 0, sender, blocks, 1)).toBe(52);
    expect(buf.toString('hex')).toBe(
      [
        '81c8000c', // V=2, RC=1, PT=200, length 52/4 − 1 = 12 words
        '11111111',
        'e8000001',
        '80000000',
        'fffffff0',
        '000004d2',
        '00030340',
        '22222222',
        '19000001',
        '00010005',
        '00000009',
        '00018000',
        '00010000',
      ].join(''),
    );
  });

  it('write an empty RR, a padded SDES CNAME and a BYE', () => {
    const buf = Buffer.alloc(64);
    expect(writeReceiverReport(buf, 0, 0xabcdef01, [])).toBe(receiverReportSize(0));
    expect(buf.subarray(0, 8).toString('hex')).toBe('80c90001abcdef01');
    const cname = encodeCname('ab');
    expect(sdesCnameSize(2)).toBe(16);
    expect(writeSdesCname(buf.fill(0xff), 0, 0xabcdef01, cname)).toBe(16);
    // chunk: SSRC, CNAME=1, len 2, "ab", then null octets to the 32-bit boundary
    expect(buf.subarray(0, 16).toString('hex')).toBe('81ca0003abcdef0101026162' + '00000000');
    // a 2-octet-aligned name still gets its terminating null (a whole extra word)
    expect(sdesCnameSize(6)).toBe(20);
    expect(writeBye(buf, 0, 0xabcdef01)).toBe(BYE_SIZE);
    expect(buf.subarray(0, 8).toString('hex')).toBe('81cb0001abcdef01');
  });

  it('encode a negative cumulative loss as signed 24 bits, and clamp it', () => {
    const buf = Buffer.alloc(receiverReportSize(2));
    writeReceiverReport(buf, 0, 1, [
      block({ cumulativeLost: -2 }),
      block({ cumulativeLost: 0x1000000 }),
    ]);
    expect(buf.readUInt32BE(8 + 4)).toBe(0x00fffffe);
    expect(buf.readUInt32BE(8 + 24 + 4)).toBe(0x007fffff);
  });

  it('refuse a buffer too small or more than 31 blocks', () => {
    expect(() => writeSenderReport(Buffer.alloc(51), 0, sender, blocks, 1)).toThrow(RangeError);
    const many = Array.from({ length: 32 }, () => newReportBlock());
    expect(() => writeReceiverReport(Buffer.alloc(2000), 0, 1, many)).toThrow(RangeError);
    expect(() => encodeCname('x'.repeat(256))).toThrow(RangeError);
  });
});

describe('parseRtcpCompound (RFC 3550 §6.1, Appendix A.2)', () => {
  it('parses SR and RR fully and skips the others by length', () => {
    const r = parseRtcpCompound(compound());
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.packets.map((p) => p.type)).toEqual(['sr', 'sdes', 'bye']);
    expect(r.packets[0]).toEqual({ type: 'sr', ...sender, reports: blocks });
    const sdes = r.packets[1] as OtherRtcpPacket;
    expect(sdes.packetType).toBe(202);
    expect(sdes.count).toBe(1);
    expect(Buffer.from(sdes.body.subarray(6, 6 + 15)).toString()).toBe('leg-1@callwatch');
    const bye = r.packets[2] as OtherRtcpPacket;
    expect(Buffer.from(bye.body).readUInt32BE(0)).toBe(sender.ssrc);
  });

  it('parses an RR compound inside a larger receive buffer', () => {
    const recv = Buffer.alloc(1500, 0xaa);
    let n = writeReceiverReport(recv, 0, 7, blocks);
    n += writeSdesCname(recv, n, 7, encodeCname('x'));
    const r = parseRtcpCompound(recv, n);
    expect(r.ok && r.packets[0]).toEqual({ type: 'rr', ssrc: 7, reports: blocks });
  });

  it('accepts padding on the last packet and a profile extension after the blocks', () => {
    const buf = Buffer.alloc(64);
    writeReceiverReport(buf, 0, 7, []);
    // A BYE padded with 4 octets (count in the last one).
    buf.set([0xa1, 0xcb, 0x00, 0x02, 0, 0, 0, 7, 0, 0, 0, 4], 8);
    let r = parseRtcpCompound(buf, 20);
    expect(r.ok && (r.packets[1] as OtherRtcpPacket).body.length).toBe(4);
    // An RR whose length covers one extra word beyond its (zero) blocks.
    buf.set([0x80, 0xc9, 0x00, 0x02, 0, 0, 0, 7, 1, 2, 3, 4]);
    r = parseRtcpCompound(buf, 12);
    expect(r.ok).toBe(true);
  });

  const valid = compound();
  const mutate = (f: (b: Buffer) => void, length = valid.length): [Buffer, number] => {
    const b = Buffer.from(valid);
    f(b);
    return [b, length];
  };
  it.each([
    ['too-short', ...mutate(() => undefined, 2)],
    ['bad-length', ...mutate(() => undefined, valid.length - 2)], // not whole words
    ['bad-version', ...mutate((b) => (b[0] = 0x41))],
    ['bad-version', ...mutate((b) => (b[76] = 0x41))], // the SDES after a 2-block SR
    ['first-not-report', ...mutate((b) => (b[1] = 202))],
    ['padding-not-last', ...mutate((b) => (b[0] = b[0]! | 0x20))],
    ['bad-length', ...mutate((b) => (b[3] = 0x20))], // SR length past the end
    ['bad-length', ...mutate(() => undefined, valid.length - 4)], // BYE cut short
    ['report-overrun', ...mutate((b) => (b[0] = 0x83))], // RC=3 in a 2-block SR
  ] as const)('rejects %s', (error, buf, length) => {
    expect(parseRtcpCompound(buf, length)).toEqual({ ok: false, error });
  });

  it('rejects bad padding counts on the last packet', () => {
    const buf = Buffer.alloc(16);
    writeReceiverReport(buf, 0, 7, []);
    buf.set([0xa1, 0xcb, 0x00, 0x01, 0, 0, 0, 0], 8); // padding count 0
    expect(parseRtcpCompound(buf)).toEqual({ ok: false, error: 'bad-padding' });
    buf[15] = 5; // more than the 4 body octets
    expect(parseRtcpCompound(buf)).toEqual({ ok: false, error: 'bad-padding' });
  });
});

describe('NTP helpers (RFC 3550 §4, §6.4.1)', () => {
  it('converts Unix milliseconds to NTP seconds and fraction', () => {
    expect(ntpSeconds(0)).toBe(2208988800);
    expect(ntpSeconds(1_700_000_000_500)).toBe(2208988800 + 1_700_000_000);
    expect(ntpFraction(1_700_000_000_500)).toBe(0x80000000);
    expect(ntpFraction(250)).toBe(0x40000000);
  });

  it('computes the compact form, DLSR units and the round trip of Figure 2', () => {
    expect(ntpCompact(0xe8000001, 0x80000000)).toBe(0x00018000);
    expect(toCompactDuration(1000)).toBe(65536);
    expect(toCompactDuration(-5)).toBe(0);
    // RFC 3550 Figure 2: A = 0xb710:8000 (46864.500 s), LSR = 0xb705:2000 (46853.125 s),
    // DLSR = 0x0005:4000 (5.250 s) → RTT 6.125 s.
    expect(roundTripMs(0xb7108000, 0xb7052000, 0x00054000)).toBe(6125);
  });
});
