import { describe, expect, it } from '@jest/globals';
import { FakeClock } from '../transaction/fakeClock.js';
import {
  startSubscription,
  step,
  Subscription,
  type NotifyState,
} from '../../../../sip/subscription/index.js';

describe('subscription state machine (RFC 6665 §4.2)', () => {
  it('starts active with its first NOTIFY and the expiry timer', () => {
    const s = startSubscription(1000, 60);
    expect(s.state).toMatchObject({ phase: 'active', expiresAt: 61_000, inFlight: true });
    expect(s.actions).toEqual([
      { type: 'arm', delayMs: 60_000 },
      { type: 'notify', state: { state: 'active', expiresSec: 60 } },
    ]);
  });

  it('a fetch (Expires 0) sends one NOTIFY, the last, and ends on its answer', () => {
    const s = startSubscription(0, 0);
    expect(s.actions).toEqual([
      { type: 'notify', state: { state: 'terminated', reason: 'timeout' } },
    ]);
    const done = step(s.state, { type: 'notified', now: 10, fatal: false });
    expect(done.state.phase).toBe('terminated');
    expect(done.actions).toEqual([{ type: 'ended' }]);
  });

  it('keeps one NOTIFY in flight: changes meanwhile make one more, with the state of then', () => {
    let s = startSubscription(0, 100).state;
    let r = step(s, { type: 'changed', now: 1000 });
    expect(r.actions).toEqual([]);
    s = step(r.state, { type: 'changed', now: 2000 }).state;
    expect(s.due).toBe('active');
    r = step(s, { type: 'notified', now: 30_500, fatal: false });
    expect(r.actions).toEqual([{ type: 'notify', state: { state: 'active', expiresSec: 69 } }]);
    r = step(r.state, { type: 'notified', now: 31_000, fatal: false });
    expect(r.actions).toEqual([]);
    expect(r.state).toMatchObject({ inFlight: false, due: undefined, phase: 'active' });
  });

  it('a refresh re-arms the timer and notifies; Expires 0 ends it without a reason', () => {
    let s = step(startSubscription(0, 100).state, { type: 'notified', now: 5, fatal: false }).state;
    let r = step(s, { type: 'refresh', now: 50_000, expiresSec: 100 });
    expect(r.actions).toEqual([
      { type: 'arm', delayMs: 100_000 },
      { type: 'notify', state: { state: 'active', expiresSec: 100 } },
    ]);
    s = step(r.state, { type: 'notified', now: 50_010, fatal: false }).state;
    r = step(s, { type: 'refresh', now: 60_000, expiresSec: 0 });
    expect(r.actions).toEqual([
      { type: 'disarm' },
      { type: 'notify', state: { state: 'terminated' } },
    ]);
    expect(r.state.phase).toBe('terminating');
    // Nothing more is accepted while terminating.
    expect(step(r.state, { type: 'changed', now: 60_001 }).actions).toEqual([]);
    expect(step(r.state, { type: 'refresh', now: 60_001, expiresSec: 60 }).actions).toEqual([]);
    const end = step(r.state, { type: 'notified', now: 60_020, fatal: false });
    expect(end.actions).toEqual([{ type: 'ended' }]);
  });

  it('a final NOTIFY due behind one in flight is not replaced by an active one', () => {
    const started = startSubscription(0, 100).state; // first NOTIFY in flight
    const expired = step(started, { type: 'expired', now: 100_000 });
    expect(expired.actions).toEqual([{ type: 'disarm' }]);
    expect(expired.state.due).toEqual({ reason: 'timeout' });
    const r = step(expired.state, { type: 'notified', now: 100_010, fatal: false });
    expect(r.actions).toEqual([
      { type: 'notify', state: { state: 'terminated', reason: 'timeout' } },
    ]);
  });

  it('a fatal answer (481, timeout) ends it at once, with nothing more sent', () => {
    const s = step(startSubscription(0, 100).state, { type: 'changed', now: 10 }).state;
    const r = step(s, { type: 'notified', now: 20, fatal: true });
    expect(r.actions).toEqual([{ type: 'disarm' }, { type: 'ended' }]);
    expect(r.state.phase).toBe('terminated');
    expect(step(r.state, { type: 'changed', now: 30 }).actions).toEqual([]);
  });
});

describe('Subscription on a clock', () => {
  function run(expiresSec: number) {
    const clock = new FakeClock();
    const sent: Array<{ at: number; state: NotifyState; answer: (s: number) => void }> = [];
    let ended = 0;
    const sub = new Subscription(clock, expiresSec, {
      notify: (state, answer) => sent.push({ at: clock.now(), state, answer }),
      ended: () => {
        ended += 1;
      },
    });
    return { clock, sent, sub, ended: () => ended };
  }

  it('expires after its time without a refresh: terminated;reason=timeout, then ended', () => {
    const { clock, sent, sub, ended } = run(30);
    sent[0]!.answer(200);
    clock.advance(29_999);
    expect(sent).toHaveLength(1);
    clock.advance(1);
    expect(sent[1]).toMatchObject({
      at: 30_000,
      state: { state: 'terminated', reason: 'timeout' },
    });
    expect(sub.phase).toBe('terminating');
    sent[1]!.answer(200);
    expect(ended()).toBe(1);
    expect(sub.phase).toBe('terminated');
    expect(clock.pending).toBe(0);
  });

  it('says whole seconds left, even on a clock with fractions of a millisecond', () => {
    const clock = new FakeClock();
    clock.advance(521478.1242020039); // + 3000 - itself = 3000.000000000058
    const sent: NotifyState[] = [];
    new Subscription(clock, 3, { notify: (s) => sent.push(s), ended: () => {} });
    expect(sent).toEqual([{ state: 'active', expiresSec: 3 }]);
  });

  it('a refresh moves the expiry; the NOTIFY says the time left', () => {
    const { clock, sent, sub } = run(30);
    sent[0]!.answer(200);
    clock.advance(20_000);
    sub.refresh(30);
    expect(sent[1]!.state).toEqual({ state: 'active', expiresSec: 30 });
    sent[1]!.answer(200);
    clock.advance(12_500);
    sub.changed();
    expect(sent[2]!.state).toEqual({ state: 'active', expiresSec: 17 });
    sent[2]!.answer(200);
    clock.advance(17_499);
    expect(sent).toHaveLength(3);
    clock.advance(1);
    expect(sent[3]!.state).toEqual({ state: 'terminated', reason: 'timeout' });
  });

  it('a 481 to a NOTIFY ends it and cancels the timer; a late second answer is ignored', () => {
    const { clock, sent, sub, ended } = run(30);
    sent[0]!.answer(481);
    sent[0]!.answer(200);
    expect(ended()).toBe(1);
    expect(sub.phase).toBe('terminated');
    expect(clock.pending).toBe(0);
  });

  it('a 500 to a NOTIFY leaves it running', () => {
    const { sent, sub, ended } = run(30);
    sent[0]!.answer(500);
    expect(sub.phase).toBe('active');
    expect(ended()).toBe(0);
    sub.changed();
    expect(sent).toHaveLength(2);
  });

  it('shutdown sends terminated;reason=deactivated; stop() drops it silently', () => {
    const a = run(30);
    a.sent[0]!.answer(200);
    a.sub.shutdown();
    expect(a.sent[1]!.state).toEqual({ state: 'terminated', reason: 'deactivated' });
    const b = run(30);
    b.sub.stop();
    expect(b.clock.pending).toBe(0);
    b.sub.changed();
    expect(b.sent).toHaveLength(1);
  });
});
