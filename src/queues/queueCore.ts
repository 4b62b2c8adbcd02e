/**
 * One call queue's decisions as a pure machine (docs/architecture.md §9.5), like callCore
 * and the transaction machines: `step(core, event, now) → { core, actions }`, no I/O, no
 * clock; `nextDeadline(core)` says when the adapter must feed a `tick`.
 *
 * Callers wait in the order they came; the head of the line is served first. Members
 * (extensions) are idle, ringing for one caller, in a queue call, or in wrap-up after one;
 * independently they may be paused or unavailable (not registered, busy elsewhere). A
 * member is free when idle, not paused and available.
 *
 * - ringall: a caller rings every free member it has not rung this round, all at once;
 *   the first to answer gets it and the others are cancelled.
 * - roundrobin: one member at a time, the next after the member rung last (over the whole
 *   queue, so a series of callers goes round the members).
 * - longest-idle: one member at a time, the free member idle the longest.
 *
 * A ring lasts `ringMs`, then it is cancelled and the caller moves on; a caller that rang
 * every free member without an answer starts a new round after `retryMs`. A caller who
 * has waited `maxWaitMs` overflows. A member whose queue call ends rests `wrapUpMs`.
 */
export type QueueStrategy = 'ringall' | 'roundrobin' | 'longest-idle';

export interface QueueSettings {
  readonly strategy: QueueStrategy;
  /** Members in their configured order (roundrobin's order, longest-idle's tie-break). */
  readonly members: readonly string[];
  readonly ringMs: number;
  readonly wrapUpMs: number;
  readonly maxWaitMs: number;
  /** Pause between two rounds of one caller. */
  readonly retryMs: number;
}

export type MemberActivity =
  | { readonly kind: 'idle' }
  | { readonly kind: 'ringing'; readonly callId: string; readonly until: number }
  | { readonly kind: 'in-call'; readonly callId: string }
  | { readonly kind: 'wrap-up'; readonly until: number };

export interface MemberState {
  readonly extension: string;
  readonly activity: MemberActivity;
  /** When it last became idle (after a queue call: the end of its wrap-up). */
  readonly idleSince: number;
  readonly paused: boolean;
  /** Registered and in no other call (the adapter says). */
  readonly available: boolean;
}

export interface WaitingCaller {
  readonly callId: string;
  readonly joinedAt: number;
  /** Members rung for this caller in the current round. */
  readonly tried: readonly string[];
  /** The next round does not start before this time. */
  readonly retryAt: number | undefined;
}

export interface QueueCore {
  readonly settings: QueueSettings;
  readonly members: readonly MemberState[];
  readonly waiting: readonly WaitingCaller[];
  /** roundrobin: the member rung last. */
  readonly lastRung: string | undefined;
}

export type QueueEvent =
  /** A caller (already answered by the server, hearing hold audio) joins the line. */
  | { readonly type: 'join'; readonly callId: string }
  /** A waiting caller hung up: an abandoned call. */
  | { readonly type: 'leave'; readonly callId: string }
  /** A member rung for `callId` answered. */
  | { readonly type: 'answered'; readonly callId: string; readonly member: string }
  /** A member's ring failed (busy, declined, unreachable) before any answer. */
  | { readonly type: 'ringFailed'; readonly callId: string; readonly member: string }
  /** A member's queue call ended: wrap-up. */
  | { readonly type: 'callEnded'; readonly member: string }
  | { readonly type: 'pause'; readonly member: string; readonly paused: boolean }
  | { readonly type: 'availability'; readonly member: string; readonly available: boolean }
  /** Time passed (`nextDeadline` was reached). */
  | { readonly type: 'tick' };

export type QueueAction =
  /** Ring `member` for the caller (a new outbound INVITE). */
  | { readonly type: 'ring'; readonly callId: string; readonly member: string }
  /** Stop ringing `member` for the caller (CANCEL). */
  | { readonly type: 'cancelRing'; readonly callId: string; readonly member: string }
  /** `member` answered: connect its leg to the caller's. */
  | {
      readonly type: 'connect';
      readonly callId: string;
      readonly member: string;
      readonly waitedMs: number;
    }
  /** An answer that came too late (the ring was cancelled, the caller gone): BYE it. */
  | { readonly type: 'refuseAnswer'; readonly callId: string; readonly member: string }
  /** The caller waited `maxWaitMs`: the queue's overflow takes it. */
  | { readonly type: 'overflow'; readonly callId: string; readonly waitedMs: number }
  /** The caller hung up while waiting. */
  | { readonly type: 'abandoned'; readonly callId: string; readonly waitedMs: number };

export interface QueueStep {
  readonly core: QueueCore;
  readonly actions: readonly QueueAction[];
}

export function initialQueue(settings: QueueSettings, now: number): QueueCore {
  return {
    settings,
    members: settings.members.map((extension) => ({
      extension,
      activity: { kind: 'idle' },
      idleSince: now,
      paused: false,
      available: true,
    })),
    waiting: [],
    lastRung: undefined,
  };
}

/** A mutable working copy for one step; the core itself stays immutable. */
interface Work {
  settings: QueueSettings;
  members: MemberState[];
  waiting: WaitingCaller[];
  lastRung: string | undefined;
  actions: QueueAction[];
  now: number;
}

export function step(core: QueueCore, event: QueueEvent, now: number): QueueStep {
  const w: Work = {
    settings: core.settings,
    members: [...core.members],
    waiting: [...core.waiting],
    lastRung: core.lastRung,
    actions: [],
    now,
  };
  apply(w, event);
  expire(w);
  dispatch(w);
  return {
    core: { settings: w.settings, members: w.members, waiting: w.waiting, lastRung: w.lastRung },
    actions: w.actions,
  };
}

function apply(w: Work, event: QueueEvent): void {
  switch (event.type) {
    case 'join':
      if (w.waiting.some((c) => c.callId === event.callId)) return;
      w.waiting.push({ callId: event.callId, joinedAt: w.now, tried: [], retryAt: undefined });
      return;
    case 'leave': {
      const caller = w.waiting.find((c) => c.callId === event.callId);
      if (caller === undefined) return;
      removeCaller(w, caller);
      w.actions.push({
        type: 'abandoned',
        callId: caller.callId,
        waitedMs: w.now - caller.joinedAt,
      });
      return;
    }
    case 'answered': {
      const i = memberIndex(w, event.member);
      const member = w.members[i];
      const caller = w.waiting.find((c) => c.callId === event.callId);
      if (
        member === undefined ||
        caller === undefined ||
        member.activity.kind !== 'ringing' ||
        member.activity.callId !== event.callId
      ) {
        w.actions.push({ type: 'refuseAnswer', callId: event.callId, member: event.member });
        return;
      }
      w.members[i] = { ...member, activity: { kind: 'in-call', callId: event.callId } };
      removeCaller(w, caller);
      w.actions.push({
        type: 'connect',
        callId: caller.callId,
        member: event.member,
        waitedMs: w.now - caller.joinedAt,
      });
      return;
    }
    case 'ringFailed': {
      const i = memberIndex(w, event.member);
      const member = w.members[i];
      if (member?.activity.kind !== 'ringing' || member.activity.callId !== event.callId) return;
      w.members[i] = { ...member, activity: { kind: 'idle' } };
      return;
    }
    case 'callEnded': {
      const i = memberIndex(w, event.member);
      const member = w.members[i];
      if (member?.activity.kind !== 'in-call') return;
      const until = w.now + w.settings.wrapUpMs;
      w.members[i] = {
        ...member,
        activity: w.settings.wrapUpMs > 0 ? { kind: 'wrap-up', until } : { kind: 'idle' },
        idleSince: until,
      };
      return;
    }
    case 'pause':
    case 'availability': {
      const i = memberIndex(w, event.member);
      const member = w.members[i];
      if (member === undefined) return;
      w.members[i] =
        event.type === 'pause'
          ? { ...member, paused: event.paused }
          : { ...member, available: event.available };
      return;
    }
    case 'tick':
      return;
  }
}

/** Ends what is due: wrap-ups, rings past ringMs, callers past maxWaitMs. */
function expire(w: Work): void {
  w.members.forEach((member, i) => {
    const a = member.activity;
    if (a.kind === 'wrap-up' && a.until <= w.now) {
      w.members[i] = { ...member, activity: { kind: 'idle' } };
    } else if (a.kind === 'ringing' && a.until <= w.now) {
      w.members[i] = { ...member, activity: { kind: 'idle' } };
      w.actions.push({ type: 'cancelRing', callId: a.callId, member: member.extension });
    }
  });
  for (const caller of [...w.waiting]) {
    if (caller.joinedAt + w.settings.maxWaitMs > w.now) continue;
    removeCaller(w, caller);
    w.actions.push({ type: 'overflow', callId: caller.callId, waitedMs: w.now - caller.joinedAt });
  }
}

/** Takes a caller out of the line, cancelling the members ringing for it. */
function removeCaller(w: Work, caller: WaitingCaller): void {
  w.waiting = w.waiting.filter((c) => c !== caller);
  w.members.forEach((member, i) => {
    if (member.activity.kind === 'ringing' && member.activity.callId === caller.callId) {
      w.members[i] = { ...member, activity: { kind: 'idle' } };
      w.actions.push({ type: 'cancelRing', callId: caller.callId, member: member.extension });
    }
  });
}

/** Rings free members for the waiting callers, the head of the line first. */
function dispatch(w: Work): void {
  w.waiting = w.waiting.map((caller) => {
    if (caller.retryAt !== undefined && caller.retryAt > w.now) return caller;
    const ringing = w.members.filter(
      (m) => m.activity.kind === 'ringing' && m.activity.callId === caller.callId,
    ).length;
    const candidates = ordered(w).filter((m) => isFree(m) && !caller.tried.includes(m.extension));
    const oneAtATime = w.settings.strategy !== 'ringall';
    const picked = oneAtATime ? (ringing > 0 ? [] : candidates.slice(0, 1)) : candidates;
    if (picked.length === 0) {
      if (ringing > 0 || caller.tried.length === 0) return caller;
      // Every free member was rung this round: a new round after retryMs.
      return { ...caller, tried: [], retryAt: w.now + w.settings.retryMs };
    }
    const until = w.now + w.settings.ringMs;
    for (const m of picked) {
      const i = memberIndex(w, m.extension);
      w.members[i] = { ...m, activity: { kind: 'ringing', callId: caller.callId, until } };
      w.actions.push({ type: 'ring', callId: caller.callId, member: m.extension });
      w.lastRung = m.extension;
    }
    return {
      ...caller,
      tried: [...caller.tried, ...picked.map((m) => m.extension)],
      retryAt: undefined,
    };
  });
}

function isFree(member: MemberState): boolean {
  return member.activity.kind === 'idle' && !member.paused && member.available;
}

/** Members in the order the strategy tries them. */
function ordered(w: Work): MemberState[] {
  const members = w.members;
  switch (w.settings.strategy) {
    case 'ringall':
      return members;
    case 'roundrobin': {
      const last = w.lastRung === undefined ? -1 : memberIndex(w, w.lastRung);
      return [...members.slice(last + 1), ...members.slice(0, last + 1)];
    }
    case 'longest-idle':
      // Array.prototype.sort is stable: ties keep the configured order.
      return [...members].sort((a, b) => a.idleSince - b.idleSince);
  }
}

function memberIndex(w: Work, extension: string): number {
  return w.members.findIndex((m) => m.extension === extension);
}

/** When the next tick is due (a ring's end, a wrap-up's end, a maximum wait, a retry). */
export function nextDeadline(core: QueueCore): number | undefined {
  let next = Infinity;
  for (const m of core.members) {
    if (m.activity.kind === 'ringing' || m.activity.kind === 'wrap-up') {
      next = Math.min(next, m.activity.until);
    }
  }
  for (const c of core.waiting) {
    next = Math.min(next, c.joinedAt + core.settings.maxWaitMs);
    if (c.retryAt !== undefined) next = Math.min(next, c.retryAt);
  }
  return next === Infinity ? undefined : next;
}
