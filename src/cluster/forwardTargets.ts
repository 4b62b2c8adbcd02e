/**
 * Which API requests act on one call or one monitor session, and so belong to the
 * instance that anchors it (docs/architecture.md "Several instances"): everything under
 * `/v1/calls/{id}` (the call, its monitors, tags, hand, invite), a session's
 * `PATCH`/`DELETE /v1/monitors/{id}`, and the Yeastar and CTI adapters' requests, which
 * name the monitored extension instead of a call (its call's owner acts). Pure: from the
 * route's pattern, parameters and parsed body.
 */
import { CTI_MESSAGES_PATH, parseCtiMessage } from '../http/api/ctiRoutes.js';
import { parseYeastarBody, YEASTAR_ENDPOINTS, YEASTAR_PREFIX } from '../http/api/yeastarRoutes.js';

export type ForwardTarget =
  | { kind: 'call'; id: string }
  | { kind: 'monitor'; id: string }
  /** The call the extension is in (the adapters name the agent, not a call). */
  | { kind: 'extension'; extension: string };

const CALL_ROUTE = '/v1/calls/:id';
const MONITOR_ROUTE = '/v1/monitors/:id';

export function forwardTarget(
  method: string,
  routeUrl: string | undefined,
  params: unknown,
  body?: unknown,
): ForwardTarget | undefined {
  if (routeUrl === undefined) return undefined;
  const agent = adapterAgent(method, routeUrl, body);
  if (agent !== undefined) return { kind: 'extension', extension: agent };
  const id = (params as { id?: unknown } | null | undefined)?.id;
  if (typeof id !== 'string' || id === '') return undefined;
  if (routeUrl === CALL_ROUTE || routeUrl.startsWith(`${CALL_ROUTE}/`)) return { kind: 'call', id };
  if (routeUrl === MONITOR_ROUTE && (method === 'PATCH' || method === 'DELETE')) {
    return { kind: 'monitor', id };
  }
  return undefined;
}

/**
 * The monitored extension of a Yeastar or CTI request, or undefined (another route, or a
 * body the adapter refuses itself: that refusal is the same on every instance).
 */
function adapterAgent(method: string, routeUrl: string, body: unknown): string | undefined {
  if (method !== 'POST') return undefined;
  if (routeUrl === CTI_MESSAGES_PATH) {
    try {
      return parseCtiMessage(body).agent;
    } catch {
      return undefined;
    }
  }
  if (!routeUrl.startsWith(`${YEASTAR_PREFIX}/`)) return undefined;
  const endpoint = YEASTAR_ENDPOINTS.find((e) => routeUrl === `${YEASTAR_PREFIX}/${e.path}`);
  return endpoint === undefined ? undefined : parseYeastarBody(endpoint, body)?.agent;
}
