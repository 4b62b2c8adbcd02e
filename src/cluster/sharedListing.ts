/**
 * A call's live-call listing entry as the other instances need it to list the call
 * (docs/architecture.md "Several instances"): the owner's view, and whether each
 * extension that may monitor the call's agent may join it now, by the owner's own
 * checks (the join of one instance; eligibility needs the call's state, which only the
 * owner has). Pure.
 */
import type { LiveCallFilter, LiveCallView } from '../monitoring/liveCalls.js';
import { matchesLiveCallFilter } from '../monitoring/liveCalls.js';
import type { JoinEligibility } from '../monitoring/monitoringService.js';

export interface SharedListing {
  view: LiveCallView;
  /** By extension: the join of each extension that may monitor the agent. */
  joins: Record<string, JoinEligibility>;
}

export function sharedListing(
  view: LiveCallView,
  extensions: readonly string[],
  mayMonitor: (supervisor: string, agent: string) => boolean,
  eligibility: (supervisor: string, callId: string) => JoinEligibility,
): SharedListing {
  const joins: Record<string, JoinEligibility> = {};
  if (view.agent !== null) {
    for (const e of extensions) {
      if (mayMonitor(e, view.agent)) joins[e] = eligibility(e, view.id);
    }
  }
  return { view, joins };
}

/** Another instance's entries that pass `filter`, their durations brought up to `nowMs`. */
export function remoteListings(
  entries: readonly SharedListing[],
  filter: LiveCallFilter,
  nowMs: number,
): SharedListing[] {
  return entries
    .map((e) => ({
      ...e,
      view: {
        ...e.view,
        durationSec: Math.max(0, Math.floor((nowMs - Date.parse(e.view.startedAt)) / 1000)),
      },
    }))
    .filter((e) => matchesLiveCallFilter(e.view, filter));
}
