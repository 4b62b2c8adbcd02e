import { describe, expect, it } from '@jest/globals';
import {
  initialCore,
  offerActivity,
  referVerdict,
  step,
  type CallCore,
  type CoreAction,
  type CoreEvent,
} from '../../../../src/calls/callCore.js';
import type { Side } from '../../../../src/calls/callMedia.js';
import { FakeClock } from '../../sip/transaction/fakeClock.js';

const T1 = 500;

/**
 * The machine driven the way Call drives it: events in, actions recorded, and the 64·T1
 * timer of each retransmitted 2xx armed on a fake clock (its expiry is the 'ackTimeout'
 * event).
 */
class Driver {
  core: CallCore = initialCore;
  readonly clock = new FakeClock();
  readonly done: CoreAction[] = [];
  private readonly timers: Partial<Record<Side, { cancel(): void }>> = {};

  feed(event: CoreEvent): readonly CoreAction[] {
    const { core, actions } = step(this.core, event);
    this.core = core;
    for (const action of actions) {
      this.done.push(action);
      if (action.type === 'retransmit2xx') {
        const side = action.side;
        this.timers[side] = this.clock.setTimer(64 * T1, () => {
          delete this.timers[side];
          this.feed({ type: 'ackTimeout', side });
        });
      }
      if (action.type === 'stop2xx') {
        this.timers[action.side]?.cancel();
        delete this.timers[action.side];
      }
    }
    return actions;
  }

  types(): string[] {
    return this.done.map((a) => a.type);
  }

  /** A call answered by its callee: our 200 to the caller (CSeq 1) sent. */
  static answered(): Driver {
    const d = new Driver();
    d.feed({ type: 'provisional' });
    d.feed({ type: 'forkAnswered' });
    d.feed({ type: 'answered', cseq: 1 });
    d.done.length = 0;
    return d;
  }
}

describe('callCore: ringing and answer', () => {
  it('goes early on the first provisional only, and relays each', () => {
    const d = new Driver();
    expect(d.feed({ type: 'provisional' })).toEqual([{ type: 'relayProvisional', first: true }]);
    expect(d.core.state).toBe('early');
    expect(d.feed({ type: 'provisional' })).toEqual([{ type: 'relayProvisional', first: false }]);
  });

  it('takes the first 2xx only; the answer retransmits our 200 until its ACK', () => {
    const d = new Driver();
    expect(d.feed({ type: 'forkAnswered' })).toEqual([{ type: 'takeWinner' }]);
    expect(d.feed({ type: 'forkAnswered' })).toEqual([{ type: 'refuseWinner' }]);
    expect(d.feed({ type: 'answered', cseq: 7 })).toEqual([
      { type: 'retransmit2xx', side: 'a', cseq: 7 },
      { type: 'emitAnswered' },
    ]);
    expect(d.core).toMatchObject({ state: 'answered', finalSent: true, pending2xx: { a: 7 } });
    expect(d.feed({ type: 'provisional' })).toEqual([]);
  });

  it('passes the matching ACK on once; a retransmitted or stale one is nothing', () => {
    const d = Driver.answered();
    expect(d.feed({ type: 'ack', side: 'a', cseq: 2 })).toEqual([]);
    expect(d.feed({ type: 'ack', side: 'a', cseq: 1 })).toEqual([
      { type: 'stop2xx', side: 'a' },
      { type: 'deliverAck', side: 'a' },
    ]);
    expect(d.feed({ type: 'ack', side: 'a', cseq: 1 })).toEqual([]);
    expect(d.core.pending2xx).toEqual({});
  });

  it('ends the call when no ACK comes within 64·T1 (RFC 3261 §13.3.1.4)', () => {
    const d = Driver.answered();
    d.clock.advance(64 * T1 - 1);
    expect(d.core.state).toBe('answered');
    d.clock.advance(1);
    expect(d.core.state).toBe('ended');
    // The 2xx gave up by itself: nothing to stop, and the BYE goes at once.
    expect(d.done).toContainEqual({ type: 'byeCaller', afterAck: false });
    expect(d.done).toContainEqual({ type: 'ended', reason: 'no-ack', answered: true });
  });
});

describe('callCore: ending before an answer', () => {
  it('answers a CANCEL with 487 and cancels the forks', () => {
    const d = new Driver();
    d.feed({ type: 'provisional' });
    expect(d.feed({ type: 'cancel' })).toEqual([
      { type: 'cancelNoAnswer' },
      { type: 'respondCaller', status: 487 },
      { type: 'endForks', byeWinner: true },
      { type: 'closeDialogs', keep: undefined },
      { type: 'ended', reason: 'cancelled', answered: false },
    ]);
    expect(d.core.state).toBe('ended');
  });

  it('ignores a CANCEL after the final response, and a second end', () => {
    const d = Driver.answered();
    expect(d.feed({ type: 'cancel' })).toEqual([]);
    d.feed({ type: 'end', reason: 'server-shutdown' });
    expect(d.feed({ type: 'end', reason: 'media-timeout' })).toEqual([]);
  });

  it('waits for every fork before rejecting, but not after a 6xx (RFC 3261 §16.7)', () => {
    const d = new Driver();
    expect(d.feed({ type: 'forkFailed', allDone: false, global: false })).toEqual([]);
    const actions = d.feed({ type: 'forkFailed', allDone: false, global: true });
    expect(actions[0]).toEqual({ type: 'respondBest' });
    expect(actions).not.toContainEqual(expect.objectContaining({ type: 'respondCaller' }));
    expect(actions).toContainEqual({ type: 'ended', reason: 'rejected', answered: false });
  });

  it('answers 480 when nobody answers in time', () => {
    const d = new Driver();
    expect(d.feed({ type: 'noAnswerTimeout' })).toContainEqual({
      type: 'respondCaller',
      status: 480,
    });
  });
});

describe('callCore: BYE both ways', () => {
  it('a BYE from the callee BYEs the caller (ACKed) and not the callee', () => {
    const d = Driver.answered();
    d.feed({ type: 'ack', side: 'a', cseq: 1 });
    const actions = d.feed({ type: 'bye', side: 'b' });
    expect(actions).toContainEqual({ type: 'endForks', byeWinner: false });
    expect(actions).toContainEqual({ type: 'byeCaller', afterAck: false });
    expect(actions).toContainEqual({ type: 'ended', reason: 'callee-hangup', answered: true });
  });

  it('a BYE from the caller BYEs the callee only', () => {
    const d = Driver.answered();
    d.feed({ type: 'ack', side: 'a', cseq: 1 });
    const actions = d.feed({ type: 'bye', side: 'a' });
    expect(actions).toContainEqual({ type: 'endForks', byeWinner: true });
    expect(actions).not.toContainEqual(expect.objectContaining({ type: 'byeCaller' }));
    expect(actions).toContainEqual({ type: 'ended', reason: 'caller-hangup', answered: true });
  });
});

describe('callCore: no BYE to the caller before the ACK of our 200 (RFC 3261 §15)', () => {
  it('holds the BYE until the ACK, keeping the dialog routed and the 200 retransmitted', () => {
    const d = Driver.answered();
    const actions = d.feed({ type: 'bye', side: 'b' });
    expect(actions).toContainEqual({ type: 'byeCaller', afterAck: true });
    expect(actions).toContainEqual({ type: 'closeDialogs', keep: 'a' });
    expect(actions).not.toContainEqual({ type: 'stop2xx', side: 'a' });
    expect(d.core).toMatchObject({ state: 'ended', byeHeld: 'a', pending2xx: { a: 1 } });
    d.clock.advance(1000);
    expect(d.feed({ type: 'ack', side: 'a', cseq: 1 })).toEqual([
      { type: 'stop2xx', side: 'a' },
      { type: 'sendHeldBye', side: 'a' },
    ]);
    expect(d.core.byeHeld).toBeUndefined();
  });

  it('lets the held BYE go after 64·T1 without an ACK', () => {
    const d = Driver.answered();
    d.feed({ type: 'bye', side: 'b' });
    d.done.length = 0;
    d.clock.advance(64 * T1 - 1);
    expect(d.types()).toEqual([]);
    d.clock.advance(1);
    expect(d.done).toEqual([{ type: 'sendHeldBye', side: 'a' }]);
  });

  it('holds nothing at shutdown', () => {
    const d = Driver.answered();
    const actions = d.feed({ type: 'end', reason: 'server-shutdown' });
    expect(actions).toContainEqual({ type: 'stop2xx', side: 'a' });
    expect(actions).toContainEqual({ type: 'byeCaller', afterAck: false });
    expect(d.clock.pending).toBe(0);
  });
});

describe('callCore: re-INVITE and hold', () => {
  it('a re-INVITE 2xx to a side is retransmitted until its ACK; a newer one replaces it', () => {
    const d = Driver.answered();
    d.feed({ type: 'ack', side: 'a', cseq: 1 });
    expect(d.feed({ type: 'sent2xx', side: 'b', cseq: 3 })).toEqual([
      { type: 'retransmit2xx', side: 'b', cseq: 3 },
    ]);
    expect(d.feed({ type: 'sent2xx', side: 'b', cseq: 4 })).toEqual([
      { type: 'stop2xx', side: 'b' },
      { type: 'retransmit2xx', side: 'b', cseq: 4 },
    ]);
    expect(d.feed({ type: 'ack', side: 'b', cseq: 3 })).toEqual([]);
    expect(d.feed({ type: 'ack', side: 'b', cseq: 4 })).toContainEqual({
      type: 'deliverAck',
      side: 'b',
    });
  });

  it('one offer at a time: the other side glares (491), the same side is premature', () => {
    let core = step(Driver.answered().core, { type: 'relayStarted', side: 'a' }).core;
    expect(offerActivity(core, 'b')).toEqual({ sending: true, receiving: false });
    expect(offerActivity(core, 'a')).toEqual({ sending: false, receiving: true });
    core = step(core, { type: 'relayDone' }).core;
    expect(offerActivity(core, 'b')).toEqual({ sending: false, receiving: false });
  });
});

describe('callCore: transfer and takeover', () => {
  it('refuses REFER before the answer (403) and during an offer or a transfer (491)', () => {
    expect(referVerdict(initialCore)).toEqual({ ok: false, status: 403 });
    const answered = Driver.answered().core;
    expect(referVerdict(answered)).toEqual({ ok: true });
    const relaying = step(answered, { type: 'relayStarted', side: 'b' }).core;
    expect(referVerdict(relaying)).toEqual({ ok: false, status: 491 });
    const transferring = step(answered, { type: 'transferStarted', side: 'b' }).core;
    expect(referVerdict(transferring)).toEqual({ ok: false, status: 491 });
    // A transfer reoffers a leg: offers from either side glare meanwhile.
    expect(offerActivity(transferring, 'a').sending).toBe(true);
  });

  it("the transferring side's BYE leaves the call up; once settled a BYE ends it", () => {
    const d = Driver.answered();
    d.feed({ type: 'ack', side: 'a', cseq: 1 });
    d.feed({ type: 'transferStarted', side: 'a' });
    expect(d.feed({ type: 'bye', side: 'a' })).toEqual([{ type: 'transferPartyLeft' }]);
    expect(d.core.state).toBe('answered');
    d.feed({ type: 'transferSettled' });
    expect(d.feed({ type: 'bye', side: 'b' })).toContainEqual({
      type: 'ended',
      reason: 'callee-hangup',
      answered: true,
    });
  });

  it("a replaced side's pending 2xx is no longer retransmitted", () => {
    const d = Driver.answered();
    expect(d.feed({ type: 'sideReplaced', side: 'a' })).toEqual([{ type: 'stop2xx', side: 'a' }]);
    expect(d.clock.pending).toBe(0);
  });

  it('a takeover releases one side once; REFER is refused afterwards', () => {
    const d = Driver.answered();
    expect(d.feed({ type: 'release', side: 'b' })).toEqual([{ type: 'byeReleased', side: 'b' }]);
    expect(d.feed({ type: 'release', side: 'a' })).toEqual([]);
    expect(referVerdict(d.core)).toEqual({ ok: false, status: 403 });
  });
});

describe('callCore: a queue call (docs/architecture.md §9.5)', () => {
  /** The queue answered the caller (our 200, CSeq 1) and its ACK came. */
  const queued = (): Driver => {
    const d = new Driver();
    expect(d.feed({ type: 'queueAnswered', cseq: 1 })).toEqual([
      { type: 'retransmit2xx', side: 'a', cseq: 1 },
    ]);
    d.feed({ type: 'ack', side: 'a', cseq: 1 });
    d.done.length = 0;
    return d;
  };

  it('answers the caller at once but stays early until a member is connected', () => {
    const d = queued();
    expect(d.core).toMatchObject({ state: 'early', finalSent: true, callerConfirmed: true });
    // Members' provisional responses and failures change nothing for the caller.
    expect(d.feed({ type: 'provisional' })).toEqual([]);
    expect(d.feed({ type: 'forkFailed', allDone: true, global: false })).toEqual([]);
    expect(d.feed({ type: 'forkAnswered' })).toEqual([{ type: 'takeWinner' }]);
    expect(d.feed({ type: 'agentConnected' })).toEqual([{ type: 'emitAnswered' }]);
    expect(d.core.state).toBe('answered');
    expect(d.feed({ type: 'agentConnected' })).toEqual([]);
  });

  it('a waiting caller who hangs up is not BYEd; one hung up on by the queue is', () => {
    const left = queued();
    expect(left.feed({ type: 'bye', side: 'a' })).toEqual([
      { type: 'cancelNoAnswer' },
      { type: 'endForks', byeWinner: true },
      { type: 'closeDialogs', keep: undefined },
      { type: 'ended', reason: 'caller-hangup', answered: false },
    ]);
    const overflow = queued();
    expect(overflow.feed({ type: 'end', reason: 'queue-timeout' })).toEqual([
      { type: 'cancelNoAnswer' },
      { type: 'endForks', byeWinner: true },
      { type: 'byeCaller', afterAck: false },
      { type: 'closeDialogs', keep: undefined },
      { type: 'ended', reason: 'queue-timeout', answered: false },
    ]);
  });

  it('never answers a caller twice: queueAnswered after a final response is nothing', () => {
    const d = Driver.answered();
    expect(d.feed({ type: 'queueAnswered', cseq: 1 })).toEqual([]);
    expect(d.feed({ type: 'agentConnected' })).toEqual([]);
  });
});
