/**
 * Runs one subscription's state machine (fsm.ts) on an injected clock: arms and cancels
 * its expiry timer and hands each NOTIFY to the owner's `notify`, which reports the
 * NOTIFY transaction's final answer (or its timeout as 408) through the callback it is
 * given. The owner builds the body and sends the request; this file knows no sockets.
 */
import type { Clock, TimerHandle } from '../clock.js';
import {
  isFatalNotifyAnswer,
  startSubscription,
  step,
  type Step,
  type SubscriptionEvent,
  type SubscriptionState,
} from './fsm.js';
import type { NotifyState } from './subscriptionState.js';

export interface SubscriptionHooks {
  /** Send a NOTIFY with this state; call `answered` once with its final status. */
  notify(state: NotifyState, answered: (status: number) => void): void;
  /** The subscription is over (after its last NOTIFY, or a fatal answer). */
  ended(): void;
}

export class Subscription {
  private state: SubscriptionState;
  private timer: TimerHandle | undefined;

  constructor(
    private readonly clock: Clock,
    expiresSec: number,
    private readonly hooks: SubscriptionHooks,
  ) {
    const first = startSubscription(clock.now(), expiresSec);
    this.state = first.state;
    this.perform(first);
  }

  get phase(): SubscriptionState['phase'] {
    return this.state.phase;
  }

  /** A refresh SUBSCRIBE was accepted (0: un-subscribe). */
  refresh(expiresSec: number): void {
    this.dispatch({ type: 'refresh', now: this.clock.now(), expiresSec });
  }

  /** The watched resource changed. */
  changed(): void {
    this.dispatch({ type: 'changed', now: this.clock.now() });
  }

  /** The notifier ends the subscription (shutdown). */
  shutdown(): void {
    this.dispatch({ type: 'shutdown', now: this.clock.now() });
  }

  /** Drops it without a NOTIFY (its owner is closing): cancels the timer. Idempotent. */
  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.state = { ...this.state, phase: 'terminated', due: undefined };
  }

  private dispatch(event: SubscriptionEvent): void {
    const next = step(this.state, event);
    this.state = next.state;
    this.perform(next);
  }

  private perform(next: Step): void {
    for (const action of next.actions) {
      switch (action.type) {
        case 'arm':
          this.timer?.cancel();
          this.timer = this.clock.setTimer(action.delayMs, () => {
            this.timer = undefined;
            this.dispatch({ type: 'expired', now: this.clock.now() });
          });
          break;
        case 'disarm':
          this.timer?.cancel();
          this.timer = undefined;
          break;
        case 'notify': {
          let done = false;
          this.hooks.notify(action.state, (status) => {
            if (done) return;
            done = true;
            this.dispatch({
              type: 'notified',
              now: this.clock.now(),
              fatal: isFatalNotifyAnswer(status),
            });
          });
          break;
        }
        case 'ended':
          this.hooks.ended();
          break;
      }
    }
  }
}
