/**
 * The CTI-style message adapter (docs/architecture.md §11.2): a client that speaks
 * the Cisco CTI gateway's message format posts it here and gets silent monitoring.
 *
 *   POST /api/cti/messages
 *   {"channel":"Cisco","topic":"Agent","subtopic":"SetSilentMonitoring",
 *    "data":{"Username":"47483650","FromAddress":"5004","ToAddress":"5025"}}
 *
 * FromAddress is the supervisor's extension, ToAddress the agent's; the supervisor's phone
 * is called (auto-answer) and attached in listen mode, as `POST /v1/calls/{id}/monitors`
 * does. Published samples disagree on case (`fromAddress` / `FromAddress`, `UserName`
 * / `Username`, topic `Agent` / `Team`), so every field name, and the values of channel,
 * topic and subtopic, are compared without case. `source` and the user name are optional
 * (the user name is logged; the audit's actor is the API token's name).
 *
 * Replies: 202 `{"status":"accepted","sessionId":"m1"}` once the supervisor's phone is
 * being called; a refusal is the REST API's JSON error with its code and status
 * (refusals.ts: 404 unknown-extension / no-call, 409 monitor-busy …, 403 the others);
 * 400 `bad-request` for a message that is not a SetSilentMonitoring on channel Cisco
 * (topic Agent or Team) or lacks an address. No response is published.
 *
 * Authentication is the REST API's (auth.ts): `Authorization: Bearer TOKEN`, scope admin
 * or supervisor; a supervisor token may only monitor as its own extension (403 forbidden).
 * With several instances, a message about an agent whose call another instance anchors
 * is carried out there (src/cluster/apiForwarding.ts), and its answer is this one's.
 */
import type { FastifyInstance } from 'fastify';
import { principalOf } from './auth.js';
import { ApiError, badRequest, errorResponses } from './errors.js';
import type { MonitoringStarter } from './yeastarRoutes.js';

export interface CtiRoutesDeps {
  monitoring: MonitoringStarter;
}

export const CTI_MESSAGES_PATH = '/api/cti/messages';

/** A SetSilentMonitoring message, normalised. */
export interface SilentMonitoringMessage {
  supervisor: string;
  agent: string;
  topic: 'agent' | 'team';
  userName: string | null;
  source: string | null;
}

/** The value of `name` in `obj`, its key compared without case (the first such key). */
export function getIgnoringCase(obj: Record<string, unknown>, name: string): unknown {
  const lower = name.toLowerCase();
  if (Object.prototype.hasOwnProperty.call(obj, name)) return obj[name];
  for (const key of Object.keys(obj)) if (key.toLowerCase() === lower) return obj[key];
  return undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A non-blank string (a number is taken as its digits), else undefined. */
function text(v: unknown): string | undefined {
  const s = typeof v === 'number' && Number.isFinite(v) ? String(v) : v;
  if (typeof s !== 'string') return undefined;
  const trimmed = s.trim();
  return trimmed === '' ? undefined : trimmed;
}

/**
 * The SetSilentMonitoring request in a CTI message; throws ApiError 400 (bad-request) for
 * anything else: another channel, topic or subtopic, or a missing address.
 */
export function parseCtiMessage(body: unknown): SilentMonitoringMessage {
  if (!isObject(body)) throw badRequest('a CTI message is a JSON object');
  const channel = text(getIgnoringCase(body, 'channel'));
  if (channel?.toLowerCase() !== 'cisco') {
    throw badRequest(`unknown channel ${JSON.stringify(channel ?? null)}: only Cisco`);
  }
  const subtopic = text(getIgnoringCase(body, 'subtopic'));
  if (subtopic?.toLowerCase() !== 'setsilentmonitoring') {
    throw badRequest(
      `unknown subtopic ${JSON.stringify(subtopic ?? null)}: only SetSilentMonitoring`,
    );
  }
  const topic = text(getIgnoringCase(body, 'topic'))?.toLowerCase();
  if (topic !== 'agent' && topic !== 'team') {
    throw badRequest('the topic of SetSilentMonitoring is Agent or Team');
  }
  const data = getIgnoringCase(body, 'data');
  if (!isObject(data)) throw badRequest('SetSilentMonitoring needs a data object');
  const supervisor = text(getIgnoringCase(data, 'fromAddress'));
  const agent = text(getIgnoringCase(data, 'toAddress'));
  if (supervisor === undefined || agent === undefined) {
    throw badRequest('SetSilentMonitoring needs data.fromAddress and data.toAddress', {
      missing: [
        ...(supervisor === undefined ? ['fromAddress'] : []),
        ...(agent === undefined ? ['toAddress'] : []),
      ],
    });
  }
  return {
    supervisor,
    agent,
    topic,
    userName: text(getIgnoringCase(data, 'userName')) ?? null,
    source: text(getIgnoringCase(body, 'source')) ?? null,
  };
}

/** An extension, as the published samples give it: a string, or a number. */
const address = { anyOf: [{ type: 'string' }, { type: 'number' }] } as const;

export function registerCtiRoutes(app: FastifyInstance, deps: CtiRoutesDeps): void {
  app.post(
    CTI_MESSAGES_PATH,
    {
      config: { scopes: ['admin', 'supervisor'] },
      schema: {
        summary: 'CTI message (Cisco SetSilentMonitoring): silent monitoring of an agent',
        description:
          'A Cisco CTI-style message; field names are matched without case. ' +
          'SetSilentMonitoring calls FromAddress (the supervisor) and attaches it to ' +
          "ToAddress's call in listen mode.",
        tags: ['cti'],
        body: {
          type: 'object',
          properties: {
            channel: { type: 'string', description: 'Cisco' },
            topic: { type: 'string', description: 'Agent or Team' },
            subtopic: { type: 'string', description: 'SetSilentMonitoring' },
            source: { type: 'string' },
            data: {
              type: 'object',
              properties: { FromAddress: address, ToAddress: address, Username: address },
            },
          },
        },
        response: {
          202: {
            type: 'object',
            required: ['status', 'sessionId'],
            properties: {
              status: { type: 'string', enum: ['accepted'] },
              sessionId: { type: 'string' },
            },
          },
          ...errorResponses(400, 401, 403, 404, 409),
        },
      },
    },
    async (request, reply) => {
      const message = parseCtiMessage(request.body);
      const principal = principalOf(request);
      if (principal.scope !== 'admin' && message.supervisor !== principal.extension) {
        throw new ApiError(403, 'forbidden', 'a supervisor token monitors as its own extension');
      }
      request.log.info(
        { supervisor: message.supervisor, agent: message.agent, userName: message.userName },
        'CTI SetSilentMonitoring',
      );
      const record = await deps.monitoring.start({
        supervisor: message.supervisor,
        agent: message.agent,
        mode: 'listen',
        trigger: 'cti',
        actor: principal.name,
      });
      return reply.code(202).send({ status: 'accepted', sessionId: record.id });
    },
  );
}
