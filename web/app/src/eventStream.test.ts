import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EventStream, type StreamEvent } from './eventStream.js';

/** A WebSocket stand-in the test drives. */
class FakeSocket {
  static all: FakeSocket[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((m: { data: string }) => void) | null = null;
  onclose: ((c: { code: number }) => void) | null = null;
  closed = false;
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  open() {
    this.onopen?.();
  }
  send(e: Partial<StreamEvent>) {
    this.onmessage?.({ data: JSON.stringify(e) });
  }
  drop(code = 1006) {
    this.onclose?.({ code });
  }
  close() {
    this.closed = true;
  }
}

function stream() {
  const events: StreamEvent[] = [];
  const opens: boolean[] = [];
  const s = new EventStream({
    base: 'ws://h',
    WebSocketImpl: FakeSocket as unknown as typeof WebSocket,
    onEvent: (e) => events.push(e),
    onOpen: (resumed) => opens.push(resumed),
  });
  return { s, events, opens };
}

describe('the event stream', () => {
  beforeEach(() => {
    FakeSocket.all = [];
    vi.useFakeTimers();
  });
  afterEach(() => vi.useRealTimers());

  it('resumes after a drop with ?since= the last seq, skipping replayed duplicates', () => {
    const { s, events, opens } = stream();
    s.start();
    const first = FakeSocket.all[0]!;
    expect(first.url).toBe('ws://h/v1/events');
    first.open();
    first.send({ seq: 1, type: 'call.answered', callId: 'a' });
    first.send({ seq: 2, type: 'call.ended', callId: 'a' });
    first.drop();
    vi.advanceTimersByTime(499);
    expect(FakeSocket.all).toHaveLength(1);
    vi.advanceTimersByTime(1);
    const second = FakeSocket.all[1]!;
    expect(second.url).toBe('ws://h/v1/events?since=2');
    second.open();
    second.send({ seq: 2, type: 'call.ended', callId: 'a' }); // already seen
    second.send({ seq: 3, type: 'call.answered', callId: 'b' });
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(opens).toEqual([false, true]);
    s.stop();
    expect(second.closed).toBe(true);
  });

  it('backs off up to 5 s between attempts, and again from 0.5 s once connected', () => {
    const { s } = stream();
    s.start();
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      const n = FakeSocket.all.length;
      FakeSocket.all[n - 1]!.drop();
      let waited = 0;
      while (FakeSocket.all.length === n) {
        vi.advanceTimersByTime(100);
        waited += 100;
      }
      delays.push(waited);
    }
    expect(delays).toEqual([500, 1000, 2000, 4000, 5000, 5000]);
    FakeSocket.all.at(-1)!.open();
    const n = FakeSocket.all.length;
    FakeSocket.all.at(-1)!.drop();
    vi.advanceTimersByTime(500);
    expect(FakeSocket.all).toHaveLength(n + 1);
    s.stop();
  });

  it('does not reconnect when the server refuses the session (4401) or after stop()', () => {
    const { s } = stream();
    s.start();
    FakeSocket.all[0]!.drop(4401);
    vi.advanceTimersByTime(10_000);
    expect(FakeSocket.all).toHaveLength(1);
    s.start();
    s.stop();
    vi.advanceTimersByTime(10_000);
    expect(FakeSocket.all).toHaveLength(2);
  });
});
