/**
 * The supervisor monitor modes, listed once: the config schema, the REST and Yeastar
 * route schemas, permissions, feature codes, metrics and the route matrix all read this
 * list (docs/architecture.md, monitoring). The media engine knows nothing of modes: it is
 * given routes (src/monitoring/routeMatrix.ts).
 *
 * - listen: the supervisor hears customer and agent; nobody hears the supervisor.
 * - whisper: the agent also hears the supervisor, the customer does not.
 * - barge: everyone hears everyone.
 * - takeover: the supervisor takes the agent's seat; the agent is released.
 */
export const MONITOR_MODES = ['listen', 'whisper', 'barge', 'takeover'] as const;

export type MonitorMode = (typeof MONITOR_MODES)[number];
