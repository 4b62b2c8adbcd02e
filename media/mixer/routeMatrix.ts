/**
 * Who hears whom in a call (docs/architecture.md §6.1), as a pure function of roles and modes:
 *
 * - customer hears: the agent, barge supervisors, the supervisor after takeover
 * - agent hears: the customer, whisper supervisors, barge supervisors
 * - a supervisor hears: everything the agent hears plus the agent, never itself
 * - the recording hears: customer (customer track) and agent (agent track) only, never a
 *   supervisor in listen, whisper or barge
 *
 * Takeover: the taking-over supervisor IS the agent from then on — the customer hears
 * them, they hear what an agent hears, other supervisors monitor them as the agent, and
 * they are recorded on the agent track. The released agent hears nothing and is heard by
 * nobody (its leg is being hung up). A supervisor without a mode listens.
 *
 * Runs on every mode change, not per frame: it allocates freely.
 */

export type Role = 'customer' | 'agent' | 'supervisor';
export type MonitorMode = 'listen' | 'whisper' | 'barge' | 'takeover';

export interface Participant {
  id: string;
  role: Role;
  /** Supervisors only; ignored for other roles. Default 'listen'. */
  mode?: MonitorMode;
}

export interface RouteMatrix {
  /** Every participant id → the ids it hears, in input order. */
  hears: ReadonlyMap<string, readonly string[]>;
  /** The two recording tracks. */
  recording: { customer: readonly string[]; agent: readonly string[] };
}

/**
 * Throws a RangeError on input the control layer must never produce: duplicate ids, or
 * more than one supervisor in takeover (there is one agent seat).
 */
export function routeMatrix(participants: readonly Participant[]): RouteMatrix {
  const ids = new Set<string>();
  for (const p of participants) {
    if (ids.has(p.id)) throw new RangeError(`duplicate participant id ${p.id}`);
    ids.add(p.id);
  }
  const modeOf = (p: Participant): MonitorMode | undefined =>
    p.role === 'supervisor' ? (p.mode ?? 'listen') : undefined;
  const takeovers = participants.filter((p) => modeOf(p) === 'takeover');
  if (takeovers.length > 1) throw new RangeError('at most one supervisor can take over');
  const takeover = takeovers[0];

  const isAgentSeat = (p: Participant): boolean => (takeover ? p === takeover : p.role === 'agent');
  const isReleased = (p: Participant): boolean => takeover !== undefined && p.role === 'agent';
  const isCustomer = (p: Participant): boolean => p.role === 'customer';
  const isWhisper = (p: Participant): boolean => modeOf(p) === 'whisper';
  const isBarge = (p: Participant): boolean => modeOf(p) === 'barge';

  const select = (keep: (p: Participant) => boolean, self: Participant | undefined): string[] =>
    participants.filter((p) => p !== self && keep(p)).map((p) => p.id);

  const agentHears = (p: Participant): boolean => isCustomer(p) || isWhisper(p) || isBarge(p);
  const hears = new Map<string, readonly string[]>();
  for (const p of participants) {
    let heard: string[];
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
export function toIndices(ids: readonly string[], order: readonly string[]): number[] {
  return ids.map((id) => {
    const i = order.indexOf(id);
    if (i < 0) throw new RangeError(`unknown participant id ${id}`);
    return i;
  });
}
