/**
 * Transaction timers (RFC 3261 §17 and Table 4 of Appendix A, RFC 6026 §8.4/§8.7),
 * derived from T1, T2 and T4 held by each layer instance (docs/architecture.md §15.4: never module globals).
 */
import { TransactionError } from './errors.js';

/** The base timers (RFC 3261 §17.1.1.1): RTT estimate, maximum retransmit interval, network lifetime. */
export interface TimerConfig {
  t1: number;
  t2: number;
  t4: number;
}

export const DEFAULT_TIMER_CONFIG: Readonly<TimerConfig> = Object.freeze({
  t1: 500,
  t2: 4000,
  t4: 5000,
});

/** §17.2.1: the INVITE server sends 100 Trying if the TU has not answered within 200 ms. */
export const DEFAULT_TRYING_DELAY = 200;

/**
 * Timer durations in milliseconds for one transport kind. On a reliable transport the
 * retransmission timers (A, E, G) never run and the "wait for stragglers" timers (D, I,
 * J, K) are zero, which the machines treat as "terminate at once".
 */
export interface TimerValues {
  /** True on unreliable transports (UDP): requests and final responses are retransmitted. */
  readonly retransmit: boolean;
  readonly t2: number;
  /** §17.1.1.2: first INVITE retransmit interval (T1), doubled without a cap. */
  readonly A: number;
  /** §17.1.1.2: INVITE transaction timeout (64·T1). */
  readonly B: number;
  /**
   * §17.1.1.2: wait for response retransmissions, "at least 32 seconds" on unreliable
   * transports. Taken as max(64·T1, 32 s) so a larger T1 lengthens it; 0 when reliable.
   */
  readonly D: number;
  /** §17.1.2.2: first non-INVITE retransmit interval (T1), doubled up to T2. */
  readonly E: number;
  /** §17.1.2.2: non-INVITE transaction timeout (64·T1). */
  readonly F: number;
  /** §17.2.1: first retransmit interval of a final INVITE response (T1), doubled up to T2. */
  readonly G: number;
  /** §17.2.1: wait for the ACK (64·T1). */
  readonly H: number;
  /** §17.2.1: absorb ACK retransmissions (T4; 0 when reliable). */
  readonly I: number;
  /** §17.2.2: absorb non-INVITE retransmissions (64·T1; 0 when reliable). */
  readonly J: number;
  /** §17.1.2.2: absorb response retransmissions (T4; 0 when reliable). */
  readonly K: number;
  /** RFC 6026 §8.7: INVITE server stays Accepted for 64·T1 after a 2xx. */
  readonly L: number;
  /** RFC 6026 §8.4: INVITE client stays Accepted for 64·T1 after a 2xx. */
  readonly M: number;
  /** §9.1: after sending CANCEL, give up on the INVITE's final response after 64·T1. */
  readonly cancelGuard: number;
  /** §17.2.1: delay before an automatic 100 Trying; undefined disables it. */
  readonly trying: number | undefined;
}

function check(name: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) {
    throw new TransactionError('ERR_BAD_TIMERS', `${name} must be a positive number of ms`);
  }
}

/** Validates a timer configuration (T1 ≤ T2, all positive). */
export function resolveTimerConfig(partial: Partial<TimerConfig> = {}): TimerConfig {
  const config = { ...DEFAULT_TIMER_CONFIG, ...partial };
  check('t1', config.t1);
  check('t2', config.t2);
  check('t4', config.t4);
  if (config.t2 < config.t1) throw new TransactionError('ERR_BAD_TIMERS', 't2 must be ≥ t1');
  return config;
}

/**
 * The timer table for one transport kind (RFC 3261 Appendix A, Table 4). `trying` is the
 * 100 Trying delay of §17.2.1, or false for none.
 */
export function timerValues(
  config: TimerConfig,
  reliable: boolean,
  trying: number | false = DEFAULT_TRYING_DELAY,
): TimerValues {
  const { t1, t2, t4 } = config;
  const t64 = 64 * t1;
  return Object.freeze({
    retransmit: !reliable,
    t2,
    A: t1,
    B: t64,
    D: reliable ? 0 : Math.max(t64, 32_000),
    E: t1,
    F: t64,
    G: t1,
    H: t64,
    I: reliable ? 0 : t4,
    J: reliable ? 0 : t64,
    K: reliable ? 0 : t4,
    L: t64,
    M: t64,
    cancelGuard: t64,
    trying: trying === false ? undefined : trying,
  });
}

/** §17.1.1.2: Timer A doubles after each retransmission, without a cap. */
export function nextTimerA(previous: number): number {
  return 2 * previous;
}

/** §17.1.2.2, §17.2.1: Timers E and G double after each retransmission, capped at T2. */
export function nextCapped(previous: number, t2: number): number {
  return Math.min(2 * previous, t2);
}
