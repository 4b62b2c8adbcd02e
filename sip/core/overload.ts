/**
 * Overload protection for the SIP thread. When the thread falls behind, a request that
 * would start new work is answered at once with 503 Service Unavailable and a Retry-After
 * (RFC 3261 §21.5.4, §20.33) instead of being processed seconds late, when the client has
 * already retransmitted it several times (the retransmission storm of a UDP server whose
 * socket buffer holds seconds of requests).
 *
 * "Behind" is read once per sample window from two signals:
 *   - how long datagrams waited in the UDP receive queue before being read (measured with
 *     a probe datagram, transport/queueProbe.ts): the delay every request now gets on top
 *     of its processing, and what makes clients retransmit (T1 = 500 ms);
 *   - how late the sampling timer fired (a loop blocked by one long task, or TCP only).
 * Either at or over its limit for `windows` windows in a row marks the thread overloaded;
 * one window under both clears it. (Event-loop utilization alone was tried and refused:
 * on a machine whose other processes take the CPU it reads 1.0 for seconds while
 * requests are still answered within 250 ms.)
 *
 * What is shed (isSheddable): requests outside a dialog that start a transaction. ACK and
 * CANCEL never are, nor any request inside a dialog (To tag: BYE, re-INVITE, …), so calls
 * in progress finish; nor a request that carries credentials (the second half of a digest
 * exchange the server already challenged: refusing it wastes the work spent on the first,
 * and a client answers a 503 by starting over). Retransmissions of known transactions are absorbed by the transaction
 * layer as usual (the stack checks that before shedding).
 */
import type { Clock, TimerHandle } from '../clock.js';
import { toTag, type SipRequest } from '../message/index.js';

export interface OverloadLimits {
  /** Receive-queue delay (ms) at or above which the thread is behind. */
  maxQueueDelayMs: number;
  /** Lateness of the sampling timer (ms) at or above which the thread is behind. */
  maxLoopDelayMs: number;
  /** Length of one sample window (ms). */
  sampleMs: number;
  /** Consecutive windows behind before shedding starts. */
  windows: number;
}

export interface OverloadSample {
  /** Worst receive-queue delay seen in the window (0 without a probe). */
  queueDelayMs: number;
  /** How late the window's timer fired. */
  loopDelayMs: number;
}

/** Pure: whether a window's sample means the thread is behind. */
export function isBehind(sample: OverloadSample, limits: OverloadLimits): boolean {
  return (
    sample.queueDelayMs >= limits.maxQueueDelayMs || sample.loopDelayMs >= limits.maxLoopDelayMs
  );
}

const NEVER_SHED = new Set(['ACK', 'CANCEL', 'BYE', 'PRACK']);

/** Pure: whether a request may be refused with 503 while overloaded (see the header). */
export function isSheddable(request: SipRequest): boolean {
  if (NEVER_SHED.has(request.method)) return false;
  if (request.headers.has('Authorization') || request.headers.has('Proxy-Authorization')) {
    return false;
  }
  try {
    return toTag(request) === undefined;
  } catch {
    return true; // an unreadable To cannot belong to a dialog of ours
  }
}

/** The worst receive-queue delay (ms) since the previous call; see transport/queueProbe.ts. */
export type QueueDelayProbe = () => number;

/** Samples the load once per window on the injected clock; `overloaded` is the verdict. */
export class OverloadMonitor {
  private state = false;
  private timer: TimerHandle | undefined;
  private closed = false;
  private lastSample: OverloadSample = { queueDelayMs: 0, loopDelayMs: 0 };
  private behindFor = 0;

  constructor(
    private readonly clock: Clock,
    private readonly limits: OverloadLimits,
    private readonly probe: QueueDelayProbe,
    private readonly onChange?: (overloaded: boolean, sample: OverloadSample) => void,
  ) {
    this.probe(); // sends the first probe
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
        queueDelayMs: this.probe(),
        loopDelayMs: Math.max(0, this.clock.now() - due),
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
