/**
 * The configured queues (docs/architecture.md §9.5): one QueueRunner per queue, and the
 * port its actions go through — a queue call (call.ts) rings members with new INVITEs,
 * is connected to the member who answers, overflows after the maximum wait. It also
 * tells the runners which members can be rung (registered, in no other call), and keeps
 * each queue call's record (`queue`: number, wait time, agent).
 */
import type { Clock } from '../../sip/clock.js';
import { TypedEmitter } from '../../sip/util/typedEmitter.js';
import type { Call, QueueLink } from '../calls/call.js';
import type { Config, QueueConfig } from '../config/schema.js';
import type { Logger } from '../logging.js';
import { inBackground } from '../util/background.js';
import type { HoldAudio } from './holdAudio.js';
import { QueueRunner, type QueuePort, type QueueView } from './queueRunner.js';

export interface QueueServiceDeps {
  config: Config;
  clock: Clock;
  logger: Logger;
  /**
   * Rings `extension` for `call` (Call.ringMember: one INVITE per registered contact, each
   * offered by its kind, docs/architecture.md §3.2.2).
   */
  ring(call: Call, extension: string): void;
  /**
   * Who may be rung (registered, and in no call), as of now: the snapshot is taken once
   * per refresh, so its cost does not grow with members × calls.
   */
  availability(): (extension: string) => boolean;
  /** The hold audio of a queue's waiting caller. */
  holdAudio(call: Call, queue: QueueConfig): HoldAudio;
}

export type QueueOutcome = 'answered' | 'abandoned' | 'overflow';

export type QueueServiceEvents = {
  /** A caller left a queue's line: answered by a member, hung up, or overflowed. */
  left: [queue: string, outcome: QueueOutcome, waitedMs: number];
  /** A member was paused or unpaused. */
  paused: [queue: string, member: string, paused: boolean];
};

/** One queue call's place: the queue it waits in, the member rung at overflow, who answered. */
interface Entry {
  call: Call;
  queue: string;
  /** Overflow rang this extension (not a member): its answer takes the call. */
  overflowTo?: string;
  /** The member (or overflow extension) connected. */
  agent?: string;
  /** Set by the runner's 'connect' while memberAnswered asks it. */
  granted?: string;
}

export class QueueService extends TypedEmitter<QueueServiceEvents> {
  private readonly runners = new Map<string, QueueRunner>();
  private readonly entries = new Map<string, Entry>();
  private closed = false;
  private refreshQueued = false;

  constructor(private readonly deps: QueueServiceDeps) {
    super((err, event) => deps.logger.error({ err, event }, 'queue listener failed'));
    for (const queue of deps.config.queues) {
      const log = deps.logger.child({ queue: queue.number });
      this.runners.set(queue.number, new QueueRunner(queue, deps.clock, this.port(queue), log));
    }
  }

  /** The queue numbers, in config order. */
  get numbers(): string[] {
    return [...this.runners.keys()];
  }

  /**
   * A call to a queue: the caller is answered (hold audio) and joins the line. False when
   * its offer cannot be answered by us (a late offer): the INVITE is to be refused.
   */
  enter(call: Call, queue: QueueConfig): boolean {
    const runner = this.runners.get(queue.number);
    if (runner === undefined || this.closed) return false;
    const entry: Entry = { call, queue: queue.number };
    const link: QueueLink = {
      memberAnswered: (member) => this.memberAnswered(entry, member),
      memberFailed: (member) => this.memberFailed(entry, member),
    };
    if (!call.answerQueued(link, this.deps.holdAudio(call, queue))) return false;
    this.entries.set(call.record.id, entry);
    call.record.queue ??= { number: queue.number, joinedAt: this.deps.clock.now() };
    call.on('ended', () => this.callEnded(entry));
    this.refresh();
    runner.join(call.record.id);
    return true;
  }

  /** Whether the call waits in a queue (answered by us, no member connected yet). */
  isWaiting(callId: string): boolean {
    const entry = this.entries.get(callId);
    return entry !== undefined && entry.agent === undefined;
  }

  /** A waiting caller's place in its queue's line (1: next); undefined when not in one. */
  position(callId: string): number | undefined {
    const entry = this.entries.get(callId);
    if (entry === undefined || entry.agent !== undefined || entry.overflowTo !== undefined) {
      return undefined;
    }
    return this.runners.get(entry.queue)?.position(callId);
  }

  /** Pauses or unpauses a member: 'no-queue' / 'not-member' when there is none such. */
  pause(queue: string, member: string, paused: boolean): 'ok' | 'no-queue' | 'not-member' {
    const runner = this.runners.get(queue);
    if (runner === undefined) return 'no-queue';
    if (!runner.pause(member, paused)) return 'not-member';
    this.emit('paused', queue, member, paused);
    return 'ok';
  }

  /** Toggles `member`'s pause in every queue it belongs to; its new state (undefined: none). */
  togglePause(member: string): boolean | undefined {
    const mine = [...this.runners.values()].filter((r) => r.config.members.includes(member));
    if (mine.length === 0) return undefined;
    const paused = !mine.every((r) => r.isPaused(member));
    for (const r of mine) this.pause(r.number, member, paused);
    return paused;
  }

  /** Every queue's line and members, after a refresh of who is available. */
  views(): QueueView[] {
    this.refresh();
    return [...this.runners.values()].map((r) => r.view());
  }

  view(queue: string): QueueView | undefined {
    this.refresh();
    return this.runners.get(queue)?.view();
  }

  /** The queue numbers whose members include `extension`. */
  queuesOf(extension: string): string[] {
    return [...this.runners.values()]
      .filter((r) => r.config.members.includes(extension))
      .map((r) => r.number);
  }

  /**
   * Tells the runners who may be rung now (registrations, calls or rings changed). A
   * member rung by one queue is not free for another (one INVITE per agent at a time, as
   * Asterisk's `ringinuse=no`). Runners feed only changes, so this is cheap when nothing
   * changed.
   */
  refresh(): void {
    if (this.closed || this.runners.size === 0) return;
    const free = this.deps.availability();
    const ringingIn = new Map<string, string>();
    for (const runner of this.runners.values()) {
      for (const member of runner.ringingMembers()) ringingIn.set(member, runner.number);
    }
    for (const runner of this.runners.values()) {
      for (const member of runner.config.members) {
        const elsewhere = ringingIn.get(member);
        runner.availability(
          member,
          free(member) && (elsewhere === undefined || elsewhere === runner.number),
        );
      }
    }
  }

  /**
   * A refresh once the current runner step is over: rings start and stop inside a
   * runner's actions, which must not feed runners again before they return.
   */
  private refreshSoon(): void {
    if (this.refreshQueued || this.closed) return;
    this.refreshQueued = true;
    queueMicrotask(() => {
      this.refreshQueued = false;
      this.refresh();
    });
  }

  close(): void {
    this.closed = true;
    for (const runner of this.runners.values()) runner.close();
    this.removeAllListeners();
  }

  private port(queue: QueueConfig): QueuePort {
    const entryOf = (callId: string) => this.entries.get(callId);
    return {
      ring: (callId, member) => {
        const entry = entryOf(callId);
        if (entry === undefined) return;
        this.deps.ring(entry.call, member);
        this.refreshSoon();
      },
      cancelRing: (callId, member) => {
        entryOf(callId)?.call.cancelMember(member);
        this.refreshSoon();
      },
      connect: (callId, member, waitedMs) => {
        const entry = entryOf(callId);
        if (entry === undefined) return;
        entry.granted = member;
        entry.agent = member;
        if (entry.call.record.queue !== undefined) {
          entry.call.record.queue = { ...entry.call.record.queue, waitMs: waitedMs, agent: member };
        }
        this.emit('left', queue.number, 'answered', waitedMs);
        this.refreshSoon();
      },
      refuseAnswer: (callId, member) => {
        this.deps.logger.debug({ callId, member }, 'late queue answer refused');
      },
      overflow: (callId, waitedMs) => {
        const entry = entryOf(callId);
        if (entry === undefined) return;
        this.emit('left', queue.number, 'overflow', waitedMs);
        this.overflow(entry, queue);
      },
      abandoned: (_callId, waitedMs) => this.emit('left', queue.number, 'abandoned', waitedMs),
    };
  }

  /** The caller waited the queue's maximum: to its overflow extension or queue, or BYE. */
  private overflow(entry: Entry, queue: QueueConfig): void {
    const log = this.deps.logger.child({ callId: entry.call.record.id, queue: queue.number });
    const { overflow } = queue;
    if ('hangup' in overflow) {
      log.info({ status: overflow.hangup.status }, 'queue overflow: hanging up');
      inBackground(
        entry.call.hangUpQueued(overflow.hangup.status, overflow.hangup.reason),
        log,
        'queue overflow hang-up failed',
      );
      return;
    }
    const target = overflow.extension;
    const next = this.runners.get(target);
    if (next !== undefined) {
      log.info({ to: target }, 'queue overflow: to another queue');
      entry.queue = target;
      const nextQueue = this.deps.config.queues.find((q) => q.number === target);
      if (nextQueue !== undefined) {
        entry.call.switchHoldAudio(this.deps.holdAudio(entry.call, nextQueue));
      }
      const record = entry.call.record;
      if (record.queue !== undefined) record.queue = { ...record.queue, number: target };
      next.join(record.id);
      return;
    }
    log.info({ to: target }, 'queue overflow: ringing an extension');
    entry.overflowTo = target;
    this.deps.ring(entry.call, target);
  }

  private memberAnswered(entry: Entry, member: string): boolean {
    if (entry.agent !== undefined) return false;
    if (entry.overflowTo !== undefined) {
      if (member !== entry.overflowTo) return false;
      entry.agent = member;
      const record = entry.call.record;
      if (record.queue !== undefined) {
        record.queue = {
          ...record.queue,
          waitMs: this.deps.clock.now() - record.queue.joinedAt,
          agent: member,
        };
      }
      return true;
    }
    entry.granted = undefined;
    this.runners.get(entry.queue)?.answered(entry.call.record.id, member);
    return entry.granted === member;
  }

  private memberFailed(entry: Entry, member: string): void {
    if (entry.overflowTo === member) {
      inBackground(
        entry.call.hangUpQueued(480, 'Overflow Not Answered'),
        this.deps.logger,
        'queue overflow hang-up failed',
      );
      return;
    }
    this.runners.get(entry.queue)?.ringFailed(entry.call.record.id, member);
    this.refreshSoon();
  }

  private callEnded(entry: Entry): void {
    const callId = entry.call.record.id;
    this.entries.delete(callId);
    const runner = this.runners.get(entry.queue);
    if (runner === undefined) return;
    if (entry.agent === undefined) runner.leave(callId);
    else runner.callEnded(entry.agent);
    this.refresh();
  }
}
