/**
 * Which API requests act on one call or one monitor session, and so belong to the
 * instance that anchors it (docs/architecture.md "Several instances"): everything under
 * `/v1/calls/{id}` (the call, its monitors, tags, hand, invite) and a session's
 * `PATCH`/`DELETE /v1/monitors/{id}`. Pure: from the route's pattern and parameters.
 */

export type ForwardTarget = { kind: 'call'; id: string } | { kind: 'monitor'; id: string };

const CALL_ROUTE = '/v1/calls/:id';
const MONITOR_ROUTE = '/v1/monitors/:id';

export function forwardTarget(
  method: string,
  routeUrl: string | undefined,
  params: unknown,
): ForwardTarget | undefined {
  if (routeUrl === undefined) return undefined;
  const id = (params as { id?: unknown } | null | undefined)?.id;
  if (typeof id !== 'string' || id === '') return undefined;
  if (routeUrl === CALL_ROUTE || routeUrl.startsWith(`${CALL_ROUTE}/`)) return { kind: 'call', id };
  if (routeUrl === MONITOR_ROUTE && (method === 'PATCH' || method === 'DELETE')) {
    return { kind: 'monitor', id };
  }
  return undefined;
}
