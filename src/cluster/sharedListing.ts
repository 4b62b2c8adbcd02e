/**
 * A call's live-call listing entry as the other instances need it to list the call
 * (docs/architecture.md §17.8): the owner's view, and the facts about the call that only
 * the owner has and a join needs (joinChecks.ts: answered or still queue-waiting, the
 * agent, its queue, taken over, the legs, whether the agent is itself monitoring). Each
 * reader computes the join for its own token's extension from them and its own facts
 * about that supervisor, so the entry's size does not grow with the supervisors. Pure.
 */
import type { CallFacts } from '../monitoring/joinChecks.js';
import type { LiveCallFilter, LiveCallView } from '../monitoring/liveCalls.js';
import { matchesLiveCallFilter } from '../monitoring/liveCalls.js';
import { REFUSAL_CODES, type RefusalCode } from '../monitoring/refusals.js';

export interface SharedListing {
  view: LiveCallView;
  /** The owner's facts about the call; absent when unreadable (no `join` is then given). */
  facts?: CallFacts;
}

export function sharedListing(view: LiveCallView, facts: CallFacts): SharedListing {
  return { view, facts };
}

/**
 * Another instance's entries that pass `filter`, their durations brought up to `nowMs`;
 * facts that are not well-formed are dropped (the call is listed without a join).
 */
export function remoteListings(
  entries: readonly SharedListing[],
  filter: LiveCallFilter,
  nowMs: number,
): SharedListing[] {
  return entries
    .map((e) => {
      const facts = parseCallFacts(e.facts);
      return {
        view: {
          ...e.view,
          durationSec: Math.max(0, Math.floor((nowMs - Date.parse(e.view.startedAt)) / 1000)),
        },
        ...(facts !== undefined ? { facts } : {}),
      };
    })
    .filter((e) => matchesLiveCallFilter(e.view, filter));
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/** Call facts read from the shared index, checked field by field; undefined if malformed. */
export function parseCallFacts(v: unknown): CallFacts | undefined {
  if (!isObject(v) || typeof v.agentMonitoring !== 'boolean') return undefined;
  const facts: CallFacts = { agentMonitoring: v.agentMonitoring };
  if (v.unanswered !== undefined) {
    const u = v.unanswered;
    if (!isObject(u) || typeof u.message !== 'string') return undefined;
    if (!REFUSAL_CODES.includes(u.code as RefusalCode)) return undefined;
    facts.unanswered = { code: u.code as RefusalCode, message: u.message };
  }
  if (v.agent !== undefined) {
    if (typeof v.agent !== 'string') return undefined;
    facts.agent = v.agent;
  }
  if (v.call !== undefined) {
    const c = v.call;
    if (!isObject(c) || typeof c.takenOver !== 'boolean' || typeof c.legs !== 'number') {
      return undefined;
    }
    if (c.queue !== undefined && typeof c.queue !== 'string') return undefined;
    facts.call = {
      takenOver: c.takenOver,
      legs: c.legs,
      ...(typeof c.queue === 'string' ? { queue: c.queue } : {}),
    };
  }
  return facts;
}
