/**
 * Who hears whom in a call (docs/architecture.md, the room), as a pure function of roles
 * and modes — the policy the media engine does not know; it is given the result as
 * routes (`roomRoutes`):
 *
 * - customer hears: the agent, barge supervisors, the supervisor after takeover
 * - agent hears: the customer, whisper supervisors, barge supervisors
 * - a supervisor hears: everything the agent hears plus the agent, never itself
 * - the recording hears: customer (track 0, left) and agent (track 1, right) only, never
 *   a supervisor in listen, whisper or barge
 *
 * Takeover: the taking-over supervisor IS the agent from then on — the customer hears
 * them, they hear what an agent hears, other supervisors monitor them as the agent, and
 * they are recorded on the agent track. The released agent hears nothing and is heard by
 * nobody (its leg is being hung up). A supervisor without a mode listens.
 *
 * Runs on every mode change, not per frame: it allocates freely.
 */
import type { MonitorMode } from './modes.js';

export type Role = 'customer' | 'agent' | 'supervisor';
export type { MonitorMode };

export interface Participant<Id = string> {
  id: Id;
  role: Role;
  /** Supervisors only; ignored for other roles. Default 'listen'. */
  mode?: MonitorMode;
}

export interface RouteMatrix<Id = string> {
  /** Every participant id → the ids it hears, in input order. */
  hears: ReadonlyMap<Id, readonly Id[]>;
  /** The two recording tracks. */
  recording: { customer: readonly Id[]; agent: readonly Id[] };
}

/**
 * Throws a RangeError on input the control layer must never produce: duplicate ids, or
 * more than one supervisor in takeover (there is one agent seat).
 */
export function routeMatrix<Id = string>(
  participants: readonly Participant<Id>[],
): RouteMatrix<Id> {
  const ids = new Set<Id>();
  for (const p of participants) {
    if (ids.has(p.id)) throw new RangeError(`duplicate participant id ${String(p.id)}`);
    ids.add(p.id);
  }
  type P = Participant<Id>;
  const modeOf = (p: P): MonitorMode | undefined =>
    p.role === 'supervisor' ? (p.mode ?? 'listen') : undefined;
  const takeovers = participants.filter((p) => modeOf(p) === 'takeover');
  if (takeovers.length > 1) throw new RangeError('at most one supervisor can take over');
  const takeover = takeovers[0];

  const isAgentSeat = (p: P): boolean => (takeover ? p === takeover : p.role === 'agent');
  const isReleased = (p: P): boolean => takeover !== undefined && p.role === 'agent';
  const isCustomer = (p: P): boolean => p.role === 'customer';
  const isWhisper = (p: P): boolean => modeOf(p) === 'whisper';
  const isBarge = (p: P): boolean => modeOf(p) === 'barge';

  const select = (keep: (p: P) => boolean, self: P | undefined): Id[] =>
    participants.filter((p) => p !== self && keep(p)).map((p) => p.id);

  const agentHears = (p: P): boolean => isCustomer(p) || isWhisper(p) || isBarge(p);
  const hears = new Map<Id, readonly Id[]>();
  for (const p of participants) {
    let heard: Id[];
    if (isReleased(p)) heard = [];
    else if (isAgentSeat(p)) heard = select(agentHears, p);
    else if (isCustomer(p)) heard = select((q) => isAgentSeat(q) || isBarge(q), p);
    else heard = select((q) => agentHears(q) || isAgentSeat(q), p);
    hears.set(p.id, heard);
  }
  return {
    hears,
    recording: { customer: select(isCustomer, undefined), agent: select(isAgentSeat, undefined) },
  };
}

/** Ids → their positions in `order` (the mixer's source indices); unknown ids throw. */
export function toIndices<Id>(ids: readonly Id[], order: readonly Id[]): number[] {
  return ids.map((id) => {
    const i = order.indexOf(id);
    if (i < 0) throw new RangeError(`unknown participant id ${String(id)}`);
    return i;
  });
}

/**
 * What a media room is given (media/engine/room.ts `setRoutes`, with legs as ids): per
 * member the members it hears, each with a linear gain, and the legs summed into each
 * recording track (0 = left, 1 = right).
 */
export interface RoomRoutes<Id> {
  members: Array<{ leg: Id; hears: Array<{ leg: Id; gain: number }> }>;
  recordingTracks: [Id[], Id[]];
}

/** Every route at unity gain (1); the roles' policy adds no level changes today. */
const UNITY = 1;

/** The matrix of `participants` as routes: members in input order, customer left. */
export function roomRoutes<Id>(participants: readonly Participant<Id>[]): RoomRoutes<Id> {
  const matrix = routeMatrix(participants);
  return {
    members: participants.map((p) => ({
      leg: p.id,
      hears: (matrix.hears.get(p.id) ?? []).map((leg) => ({ leg, gain: UNITY })),
    })),
    recordingTracks: [[...matrix.recording.customer], [...matrix.recording.agent]],
  };
}
