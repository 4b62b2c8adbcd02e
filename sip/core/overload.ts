/**
 * Overload protection for the SIP thread. When the thread falls behind, a request that
 * would start new work is answered at once with 503 Service Unavailable and a Retry-After
 * (RFC 3261 §21.5.4, §20.33) instead of being processed seconds late, when the client has
 * already retransmitted it several times (the retransmission storm of a UDP server whose
 * socket buffer holds seconds of requests).
 *
 * "Behind" is read once per sample window from two signals:
 *   - the event loop's utilization over the window (time not spent waiting for I/O):
 *     a loop that never waited for a whole window had datagrams queued all along;
 *   - how late the sampling timer fired (a loop blocked by one long task).
 * Either at or over its limit for `windows` windows in a row (a backlog that lasts, not
 * a burst or a cold start) marks the thread overloaded; one window under both clears it.
 *
 * What is shed (isSheddable): requests outside a dialog that start a transaction. ACK and
 * CANCEL never are, nor any request inside a dialog (To tag: BYE, re-INVITE, …), so calls
 * in progress finish. Retransmissions of known transactions are absorbed by the transaction
 * layer as usual (the stack checks that before shedding).
 */
import type { Clock, TimerHandle } from '../clock.js';
import { toTag, type SipRequest } from '../message/index.js';

export interface OverloadLimits {
  /** Event-loop utilization (0..1] over one window at or above which the thread is behind. */
  maxLoopUtilization: number;
  /** Lateness of the sampling timer (ms) at or above which the thread is behind. */
  maxLoopDelayMs: number;
  /** Length of one sample window (ms). */
  sampleMs: number;
  /** Consecutive windows behind before shedding starts. */
  windows: number;
}

export interface OverloadSample {
  utilization: number;
  delayMs: number;
}

/** Pure: whether a window's sample means the thread is behind. */
export function isBehind(sample: OverloadSample, limits: OverloadLimits): boolean {
  return sample.utilization >= limits.maxLoopUtilization || sample.delayMs >= limits.maxLoopDelayMs;
}

const NEVER_SHED = new Set(['ACK', 'CANCEL', 'BYE', 'PRACK']);

/** Pure: whether a request may be refused with 503 while overloaded (see the header). */
export function isSheddable(request: SipRequest): boolean {
  if (NEVER_SHED.has(request.method)) return false;
  try {
    return toTag(request) === undefined;
  } catch {
    return true; // an unreadable To cannot belong to a dialog of ours
  }
}

/**
 * The event loop's utilization since the previous call (0..1). The real one reads
 * performance.eventLoopUtilization(); tests pass their own.
 */
export type UtilizationProbe = () => number;

export function eventLoopProbe(): UtilizationProbe {
  let last = performance.eventLoopUtilization();
  return () => {
    const now = performance.eventLoopUtilization();
    const delta = performance.eventLoopUtilization(now, last);
    last = now;
    return delta.utilization;
  };
}

/** Samples the load once per window on the injected clock; `overloaded` is the verdict. */
export class OverloadMonitor {
  private state = false;
  private timer: TimerHandle | undefined;
  private closed = false;
  private lastSample: OverloadSample = { utilization: 0, delayMs: 0 };
  private behindFor = 0;

  constructor(
    private readonly clock: Clock,
    private readonly limits: OverloadLimits,
    private readonly probe: UtilizationProbe,
    private readonly onChange?: (overloaded: boolean, sample: OverloadSample) => void,
  ) {
    this.probe(); // the baseline: start-up work before now is not load
    this.arm();
  }

  get overloaded(): boolean {
    return this.state;
  }

  /** The last window's sample (for metrics and logs). */
  get sample(): OverloadSample {
    return this.lastSample;
  }

  /** Stops sampling. Idempotent. */
  close(): void {
    this.closed = true;
    this.timer?.cancel();
    this.timer = undefined;
  }

  private arm(): void {
    if (this.closed) return;
    const due = this.clock.now() + this.limits.sampleMs;
    this.timer = this.clock.setTimer(this.limits.sampleMs, () => {
      const sample = {
        utilization: this.probe(),
        delayMs: Math.max(0, this.clock.now() - due),
      };
      this.lastSample = sample;
      this.behindFor = isBehind(sample, this.limits) ? this.behindFor + 1 : 0;
      const behind = this.behindFor >= this.limits.windows;
      if (behind !== this.state) {
        this.state = behind;
        this.onChange?.(behind, sample);
      }
      this.arm();
    });
  }
}
