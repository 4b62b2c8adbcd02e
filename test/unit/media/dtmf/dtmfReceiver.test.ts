import { describe, it, expect } from '@jest/globals';
import { DtmfReceiver } from '../../../../media/dtmf/dtmfReceiver.js';
import type { DtmfDigit } from '../../../../media/dtmf/dtmfReceiver.js';
import { dtmfCharToEvent, writeTelephoneEvent } from '../../../../media/dtmf/telephoneEvent.js';
import { rtp } from '../rtpFixture.js';

interface EventPacket {
  ts: number;
  digit: string;
  end?: boolean;
  duration: number;
  marker?: boolean;
  at: number;
}

function push(rx: DtmfReceiver, p: EventPacket): readonly DtmfDigit[] {
  return rx.push(
    p.ts,
    p.marker ?? false,
    dtmfCharToEvent(p.digit),
    p.end ?? false,
    10,
    p.duration,
    p.at,
  );
}

/** The packets a sender emits for one key press (RFC 4733 §2.5.1): start with marker,
 * an update every 50 ms, then the end three times. */
function keyPress(digit: string, ts: number, at: number, updates = 3): EventPacket[] {
  const packets: EventPacket[] = [];
  for (let i = 0; i <= updates; i++) {
    packets.push({ ts, digit, duration: i * 400, marker: i === 0, at: at + i * 50 });
  }
  const duration = (updates + 1) * 400;
  for (let i = 0; i < 3; i++) {
    packets.push({ ts, digit, end: true, duration, at: at + (updates + 1) * 50 + i * 20 });
  }
  return packets;
}

function run(rx: DtmfReceiver, packets: EventPacket[]): DtmfDigit[] {
  return packets.flatMap((p) => [...push(rx, p)]);
}

describe('DtmfReceiver: one digit per event', () => {
  it('reports on the first end packet and ignores the retransmitted ends', () => {
    const rx = new DtmfReceiver();
    const reports = keyPress('5', 8000, 0).map((p) => push(rx, p).length);
    expect(reports).toEqual([0, 0, 0, 0, 1, 0, 0]);
    const digits = run(new DtmfReceiver(), keyPress('5', 8000, 0));
    expect(digits).toEqual([
      { digit: '5', event: 5, timestamp: 8000, duration: 1600, volume: 10, ended: 'end' },
    ]);
  });

  it('turns a dialled sequence into its digits, the same key twice included', () => {
    const rx = new DtmfReceiver();
    const packets = [...'1255#'].flatMap((d, i) => keyPress(d, 1000 + i * 4000, i * 500));
    expect(
      run(rx, packets)
        .map((d) => d.digit)
        .join(''),
    ).toBe('1255#');
  });

  it('is robust to lost start packets', () => {
    const rx = new DtmfReceiver();
    const packets = keyPress('7', 160, 0).slice(2); // start and first update lost
    expect(run(rx, packets).map((d) => d.digit)).toEqual(['7']);
  });

  it('is robust to duplicated packets and late packets of the previous event', () => {
    const rx = new DtmfReceiver();
    const first = keyPress('1', 1000, 0);
    const second = keyPress('2', 5000, 500);
    const packets = [...first, ...first.slice(-2), second[0]!, first[5]!, ...second.slice(1)];
    expect(run(rx, packets).map((d) => d.digit)).toEqual(['1', '2']);
  });

  it('reports an event whose ends were all lost when the next event starts', () => {
    const rx = new DtmfReceiver();
    const packets = [...keyPress('3', 1000, 0).slice(0, 4), ...keyPress('4', 5000, 500)];
    const digits = run(rx, packets);
    expect(digits.map((d) => [d.digit, d.ended, d.duration])).toEqual([
      ['3', 'next-event', 1200],
      ['4', 'end', 1600],
    ]);
  });

  it('reports two digits from one packet when only the end of the next event arrives', () => {
    const rx = new DtmfReceiver();
    run(rx, keyPress('8', 1000, 0).slice(0, 2));
    const digits = push(rx, { ts: 5000, digit: '9', end: true, duration: 800, at: 600 });
    expect(digits.map((d) => d.digit)).toEqual(['8', '9']);
  });

  it('reports an event whose ends were all lost after the timeout, once', () => {
    const rx = new DtmfReceiver({ timeoutMs: 500 });
    run(rx, keyPress('6', 1000, 0).slice(0, 4)); // last packet at 150 ms
    expect(rx.expire(649)).toEqual([]);
    expect(rx.expire(650).map((d) => [d.digit, d.ended])).toEqual([['6', 'timeout']]);
    expect(rx.expire(2000)).toEqual([]);
    // A straggling end packet of that event changes nothing.
    expect(push(rx, { ts: 1000, digit: '6', end: true, duration: 2000, at: 2100 })).toEqual([]);
  });

  it('joins the segments of a long event (RFC 4733 §2.5.1.5)', () => {
    const rx = new DtmfReceiver();
    const digits = run(rx, [
      { ts: 0, digit: '0', duration: 0, marker: true, at: 0 },
      { ts: 0, digit: '0', duration: 0xffff, at: 8000 },
      { ts: 0xffff, digit: '0', duration: 400, at: 8050 }, // new segment, no marker
      { ts: 0xffff, digit: '0', duration: 800, end: true, at: 8100 },
      { ts: 0xffff, digit: '0', duration: 800, end: true, at: 8120 },
    ]);
    expect(digits.map((d) => [d.digit, d.duration])).toEqual([['0', 0xffff + 800]]);
  });

  it('does not report events that are not digits (16: flash)', () => {
    const rx = new DtmfReceiver();
    expect(rx.push(100, true, 16, false, 10, 0, 0)).toEqual([]);
    expect(rx.push(100, false, 16, true, 10, 800, 100)).toEqual([]);
    expect(run(rx, keyPress('A', 2000, 200)).map((d) => d.digit)).toEqual(['A']);
  });
});

describe('DtmfReceiver.pushPacket', () => {
  function eventPacket(ts: number, digit: string, end: boolean, marker = false): Buffer {
    const payload = Buffer.alloc(4);
    writeTelephoneEvent(payload, 0, dtmfCharToEvent(digit), end, 10, 800);
    return rtp({ pt: 101, ts, marker, payload, pad: 4 });
  }

  it('reads the event from an RTP packet, after a padded payload', () => {
    const rx = new DtmfReceiver();
    const start = eventPacket(320, '*', false, true);
    expect(rx.pushPacket(start, start.length, 0)).toEqual([]);
    const end = eventPacket(320, '*', true);
    expect(rx.pushPacket(end, end.length, 50).map((d) => d.digit)).toEqual(['*']);
  });

  it('ignores malformed packets', () => {
    const rx = new DtmfReceiver();
    const short = rtp({ pt: 101, payload: [1, 0x80, 0] });
    expect(rx.pushPacket(short, short.length, 0)).toEqual([]);
    const bad = eventPacket(320, '1', true);
    bad[0] = 0x40; // version 1
    expect(rx.pushPacket(bad, bad.length, 0)).toEqual([]);
  });
});
