/**
 * The thin adapter of one queue's machine (queueCore.ts, docs/architecture.md §9.5): feeds
 * it events stamped with the clock's time, performs its actions through a `QueuePort`
 * (the call flow: INVITEs, CANCELs, connecting legs, overflow) and keeps one timer armed
 * for the machine's next deadline. A port that throws is logged; the queue goes on.
 */
import type { Clock, TimerHandle } from '../../sip/clock.js';
import type { Logger } from '../logging.js';
import type { QueueConfig } from '../config/schema.js';
import {
  initialQueue,
  nextDeadline,
  step,
  type MemberState,
  type QueueAction,
  type QueueCore,
  type QueueEvent,
  type QueueSettings,
} from './queueCore.js';

/** What the machine's actions do; the call flow implements it. */
export interface QueuePort {
  ring(callId: string, member: string): void;
  cancelRing(callId: string, member: string): void;
  connect(callId: string, member: string, waitedMs: number): void;
  refuseAnswer(callId: string, member: string): void;
  overflow(callId: string, waitedMs: number): void;
  abandoned(callId: string, waitedMs: number): void;
}

/** A waiting caller and a member as `GET /v1/queues` shows them. */
export interface QueueView {
  number: string;
  name: string;
  strategy: QueueSettings['strategy'];
  waiting: Array<{ callId: string; position: number; waitingMs: number }>;
  members: Array<{
    extension: string;
    state: MemberState['activity']['kind'];
    paused: boolean;
    available: boolean;
    idleMs: number | null;
  }>;
}

/** Pause between two rounds of one caller (Asterisk's `retry`). */
export const RETRY_MS = 2000;

export function settingsOf(config: QueueConfig): QueueSettings {
  return {
    strategy: config.strategy,
    members: config.members,
    ringMs: config.ringTimeSec * 1000,
    wrapUpMs: config.wrapUpSec * 1000,
    maxWaitMs: config.maxWaitSec * 1000,
    retryMs: RETRY_MS,
  };
}

export class QueueRunner {
  private core: QueueCore;
  private timer: TimerHandle | undefined;
  private timerAt: number | undefined;
  private closed = false;

  constructor(
    readonly config: QueueConfig,
    private readonly clock: Clock,
    private readonly port: QueuePort,
    private readonly log: Logger,
  ) {
    this.core = initialQueue(settingsOf(config), clock.now());
  }

  get number(): string {
    return this.config.number;
  }

  /** The machine's state now (read-only). */
  get state(): QueueCore {
    return this.core;
  }

  join(callId: string): void {
    this.feed({ type: 'join', callId });
  }

  leave(callId: string): void {
    this.feed({ type: 'leave', callId });
  }

  answered(callId: string, member: string): void {
    this.feed({ type: 'answered', callId, member });
  }

  ringFailed(callId: string, member: string): void {
    this.feed({ type: 'ringFailed', callId, member });
  }

  callEnded(member: string): void {
    this.feed({ type: 'callEnded', member });
  }

  /** Pauses or unpauses a member; false when it is not a member of this queue. */
  pause(member: string, paused: boolean): boolean {
    if (!this.config.members.includes(member)) return false;
    this.feed({ type: 'pause', member, paused });
    return true;
  }

  /** The members this queue is ringing now. */
  ringingMembers(): string[] {
    return this.core.members.filter((m) => m.activity.kind === 'ringing').map((m) => m.extension);
  }

  isPaused(member: string): boolean {
    return this.core.members.some((m) => m.extension === member && m.paused);
  }

  availability(member: string, available: boolean): void {
    const now = this.core.members.find((m) => m.extension === member);
    if (now === undefined || now.available === available) return;
    this.feed({ type: 'availability', member, available });
  }

  /** Whether the call waits in this queue (not yet connected to a member). */
  isWaiting(callId: string): boolean {
    return this.core.waiting.some((c) => c.callId === callId);
  }

  /** A waiting caller's place in line (1: next); undefined when not waiting here. */
  position(callId: string): number | undefined {
    const i = this.core.waiting.findIndex((c) => c.callId === callId);
    return i < 0 ? undefined : i + 1;
  }

  view(): QueueView {
    const now = this.clock.now();
    return {
      number: this.config.number,
      name: this.config.name,
      strategy: this.config.strategy,
      waiting: this.core.waiting.map((c, i) => ({
        callId: c.callId,
        position: i + 1,
        waitingMs: Math.round(now - c.joinedAt),
      })),
      members: this.core.members.map((m) => ({
        extension: m.extension,
        state: m.activity.kind,
        paused: m.paused,
        available: m.available,
        idleMs: m.activity.kind === 'idle' ? Math.max(0, Math.round(now - m.idleSince)) : null,
      })),
    };
  }

  /** Cancels the timer; events after this are ignored. Idempotent. */
  close(): void {
    this.closed = true;
    this.timer?.cancel();
    this.timer = undefined;
    this.timerAt = undefined;
  }

  /** Events fed while actions run (a port that answers at once) wait their turn. */
  private readonly pending: QueueEvent[] = [];
  private feeding = false;

  private feed(event: QueueEvent): void {
    if (this.closed) return;
    this.pending.push(event);
    if (this.feeding) return;
    this.feeding = true;
    try {
      for (let next = this.pending.shift(); next !== undefined; next = this.pending.shift()) {
        const { core, actions } = step(this.core, next, this.clock.now());
        this.core = core;
        for (const action of actions) this.perform(action);
      }
    } finally {
      this.feeding = false;
    }
    this.arm();
  }

  private perform(action: QueueAction): void {
    try {
      switch (action.type) {
        case 'ring':
          this.port.ring(action.callId, action.member);
          return;
        case 'cancelRing':
          this.port.cancelRing(action.callId, action.member);
          return;
        case 'connect':
          this.port.connect(action.callId, action.member, action.waitedMs);
          return;
        case 'refuseAnswer':
          this.port.refuseAnswer(action.callId, action.member);
          return;
        case 'overflow':
          this.port.overflow(action.callId, action.waitedMs);
          return;
        case 'abandoned':
          this.port.abandoned(action.callId, action.waitedMs);
          return;
      }
    } catch (err) {
      this.log.error({ err, action, queue: this.config.number }, 'queue action failed');
    }
  }

  /** One timer, for the machine's next deadline. */
  private arm(): void {
    if (this.closed) return;
    const at = nextDeadline(this.core);
    if (at === this.timerAt) return;
    this.timer?.cancel();
    this.timer = undefined;
    this.timerAt = at;
    if (at === undefined) return;
    this.timer = this.clock.setTimer(Math.max(0, at - this.clock.now()), () => {
      this.timer = undefined;
      this.timerAt = undefined;
      this.feed({ type: 'tick' });
    });
  }
}
