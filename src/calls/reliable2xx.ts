/**
 * A 2xx to an INVITE, sent reliably by the UAS core (RFC 3261 §13.3.1.4): the INVITE
 * server transaction does not retransmit it (RFC 6026 Accepted state), so we do, at T1,
 * then doubling up to T2, until the ACK arrives; after 64·T1 without one we give up and
 * the session is ended with a BYE (onGiveUp).
 */
import type { Clock, TimerHandle } from '../../sip/clock.js';
import type { SipResponse } from '../../sip/message/index.js';
import type { IncomingRequest } from '../../sip/stack.js';

export interface Reliable2xxTimers {
  t1: number;
  t2: number;
}

export class Reliable2xx {
  private timer: TimerHandle | undefined;
  private stopped = false;

  /** Starts retransmitting `response` (already sent once through `transaction`). */
  constructor(
    private readonly transaction: IncomingRequest['transaction'],
    private readonly response: SipResponse,
    private readonly clock: Clock,
    private readonly timers: Reliable2xxTimers,
    private readonly onGiveUp: () => void,
  ) {
    this.schedule(timers.t1, 0);
  }

  /** The ACK came (or the call no longer cares): no more retransmissions. Idempotent. */
  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
  }

  private schedule(interval: number, elapsed: number): void {
    const limit = 64 * this.timers.t1;
    if (elapsed + interval >= limit) {
      // No retransmission left before 64·T1: wait out the rest, then give up.
      this.timer = this.clock.setTimer(Math.max(0, limit - elapsed), () => {
        if (this.stopped) return;
        this.stopped = true;
        this.onGiveUp();
      });
      return;
    }
    this.timer = this.clock.setTimer(interval, () => {
      if (this.stopped) return;
      if (this.transaction.state !== 'terminated') this.transaction.respond(this.response);
      this.schedule(Math.min(interval * 2, this.timers.t2), elapsed + interval);
    });
  }
}
