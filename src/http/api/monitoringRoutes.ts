/**
 * The supervision REST API (docs/architecture.md §11.1) over the monitoring service, the live-call
 * listing, call notes and the audit log. Who may do what:
 * - admin: everything, naming the supervisor where one acts;
 * - supervisor: acts as its own extension — sees the extensions and calls its groups let it
 *   monitor, starts, steers and stops its own sessions, tags calls, lowers hands, reads its
 *   own audit entries;
 * - agent: sees its own calls (who monitors them only as `monitoredBy`, and only with
 *   monitoring.notices.agent), raises and lowers its hand, lists the agents it may invite
 *   (`/v1/extensions?callMonitorAccess=true`) and invites one into its call.
 * Monitoring refusals answer with the refusal's code and HTTP status (refusals.ts).
 *
 * Presence: every token with an extension reads and sets its own (`/v1/me/presence`),
 * admin sets anyone's; only an available supervisor starts monitoring. The live-call
 * listing tells a token with an extension (supervisor, or admin acting as one) whether
 * and how it may join each call (`join`, from the same checks as a real start,
 * joinChecks.ts): the call's facts are its owner's (this instance's, or another's from the
 * shared listing), the supervisor's are this instance's, gathered once per request.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { MONITOR_MODES } from '../../monitoring/modes.js';
import { MONITOR_DEVICES, type MonitorDevice } from '../../monitoring/monitoringService.js';
import { REFUSAL_CODES } from '../../monitoring/refusals.js';
import { worstRating } from '../../monitoring/callQuality.js';
import { PRESENCE_STATUSES, type PresenceStatus } from '../../monitoring/supervisorPresence.js';
import type { MonitorMode } from '../../monitoring/modes.js';
import type { CallDirection } from '../../calls/dialPlan.js';
import type { Config } from '../../config/schema.js';
import type { LiveCallFilter, LiveCallListing, LiveCallView } from '../../monitoring/liveCalls.js';
import type { MonitorSessionRecord } from '../../monitoring/monitorSession.js';
import type { CallFacts, JoinEligibility, SupervisorFacts } from '../../monitoring/joinChecks.js';
import {
  agentNoticesOn,
  monitoredBy,
  type MonitoredByEntry,
} from '../../monitoring/agentNotices.js';
import type { Supervision } from '../../monitoring/supervision.js';
import type { LocationService } from '../../registrar/locationService.js';
import { principalOf, type Principal } from './auth.js';
import { ApiError, errorResponses, notFound } from './errors.js';

export interface MonitoringRoutesDeps {
  config: Config;
  supervision: Supervision;
  listing: LiveCallListing;
  location: LocationService;
  isInCall(extension: string): boolean;
  now(): number;
  toWall(clockMs: number): Date;
  /**
   * Several instances: the other instances' calls passing a filter, each with its owner's
   * facts for the join (absent: unreadable, no join) (src/cluster/sharedListing.ts).
   */
  remoteCalls?(filter: LiveCallFilter): Promise<Array<{ view: LiveCallView; facts?: CallFacts }>>;
}

const ext = { type: 'string', pattern: '^[0-9A-Za-z._-]{1,32}$' } as const;
const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 256 } },
} as const;

const presenceSchema = {
  type: 'object',
  required: ['status'],
  additionalProperties: false,
  properties: { status: { type: 'string', enum: PRESENCE_STATUSES } },
} as const;

const refusalSchema = {
  type: ['object', 'null'],
  description: 'Why this supervisor cannot join now (null when it can)',
  required: ['code', 'message'],
  properties: { code: { type: 'string', enum: REFUSAL_CODES }, message: { type: 'string' } },
} as const;

const joinSchema = {
  type: 'object',
  description:
    "Whether the token's extension may join this call now: the modes it may use, else the " +
    'refusal a start would get. Only for a token with an extension (not agents).',
  required: ['modes', 'refusal'],
  properties: {
    modes: { type: 'array', items: { type: 'string', enum: MONITOR_MODES } },
    refusal: refusalSchema,
  },
} as const;

const extensionSchema = {
  type: 'object',
  required: [
    'number',
    'displayName',
    'role',
    'registered',
    'contacts',
    'inCall',
    'monitoring',
    'allowMonitoring',
    'groups',
    'monitoredBy',
    'presence',
  ],
  properties: {
    number: { type: 'string' },
    displayName: { type: ['string', 'null'] },
    role: { type: 'string' },
    registered: { type: 'boolean' },
    contacts: { type: 'integer' },
    inCall: { type: 'boolean' },
    monitoring: { type: 'boolean' },
    allowMonitoring: { type: 'boolean' },
    groups: { type: 'array', items: { type: 'string' } },
    monitoredBy: {
      type: 'array',
      items: {
        type: 'object',
        required: ['extension', 'modes'],
        properties: {
          extension: { type: 'string' },
          modes: { type: 'array', items: { type: 'string', enum: MONITOR_MODES } },
        },
      },
    },
    presence: { type: 'string', enum: PRESENCE_STATUSES },
  },
} as const;

const legQualityProperties = {
  lossPct: { type: 'number', description: 'Packets lost, % (the worse direction)' },
  jitterMs: { type: 'number', description: 'Interarrival jitter, ms (the worse direction)' },
  mos: { type: 'number', description: 'Estimated MOS (ITU-T G.107 E-model), 1-4.5' },
  rating: { type: 'string', enum: ['good', 'fair', 'poor'] },
} as const;
const legQualityRequired = ['lossPct', 'jitterMs', 'mos', 'rating'];

const legQualitySchema = {
  type: ['object', 'null'],
  description: 'null until the media engine has reported on the leg',
  required: legQualityRequired,
  properties: legQualityProperties,
} as const;

const qualitySchema = {
  type: ['object', 'null'],
  description:
    'Live quality per leg, every 2 s: good MOS >= 4.0, fair >= 3.6, else poor; null before ' +
    "the engine's first report",
  required: ['legs', 'rating'],
  properties: {
    legs: {
      type: 'object',
      required: ['customer', 'agent', 'supervisors'],
      properties: {
        customer: legQualitySchema,
        agent: legQualitySchema,
        supervisors: {
          type: 'array',
          items: {
            type: 'object',
            required: ['supervisor', ...legQualityRequired],
            properties: { supervisor: { type: 'string' }, ...legQualityProperties },
          },
        },
      },
    },
    rating: { type: 'string', enum: ['good', 'fair', 'poor'] },
  },
} as const;

const monitorSchema = {
  type: 'object',
  required: ['id', 'callId', 'supervisor', 'agent', 'mode', 'state', 'startedAt', 'modes'],
  properties: {
    id: { type: 'string' },
    callId: { type: 'string' },
    supervisor: { type: 'string' },
    agent: { type: 'string' },
    mode: { type: 'string', enum: MONITOR_MODES },
    state: { type: 'string', enum: ['calling', 'active', 'ended'] },
    startedAt: { type: 'string' },
    modes: {
      type: 'array',
      items: {
        type: 'object',
        required: ['mode', 'at'],
        properties: { mode: { type: 'string', enum: MONITOR_MODES }, at: { type: 'string' } },
      },
    },
  },
} as const;

const callSchema = {
  type: 'object',
  required: [
    'id',
    'state',
    'direction',
    'startedAt',
    'answeredAt',
    'durationSec',
    'agent',
    'agentName',
    'remote',
    'tags',
    'groups',
    'hand',
    'quality',
  ],
  properties: {
    id: { type: 'string' },
    state: { type: 'string', enum: ['proceeding', 'early', 'answered', 'ended'] },
    direction: { type: 'string', enum: ['inbound', 'outbound', 'internal'] },
    startedAt: { type: 'string' },
    answeredAt: { type: ['string', 'null'] },
    durationSec: { type: 'integer' },
    agent: { type: ['string', 'null'] },
    agentName: { type: ['string', 'null'] },
    remote: {
      type: 'object',
      required: ['number', 'name'],
      properties: { number: { type: 'string' }, name: { type: ['string', 'null'] } },
    },
    tags: { type: 'array', items: { type: 'string' } },
    groups: { type: 'array', items: { type: 'string' } },
    hand: {
      type: 'object',
      required: ['raised', 'raisedAt', 'by'],
      properties: {
        raised: { type: 'boolean' },
        raisedAt: { type: ['string', 'null'] },
        by: { type: ['string', 'null'] },
      },
    },
    monitors: {
      type: 'array',
      description: 'Who monitors the call now',
      items: {
        type: 'object',
        required: ['id', 'supervisor', 'supervisorName', 'mode', 'state', 'since'],
        properties: {
          id: { type: 'string' },
          supervisor: { type: 'string' },
          supervisorName: { type: ['string', 'null'] },
          mode: { type: 'string', enum: MONITOR_MODES },
          state: { type: 'string', enum: ['calling', 'active', 'ended'] },
          since: { type: 'string' },
        },
      },
    },
    join: joinSchema,
    quality: qualitySchema,
    queue: {
      type: ['object', 'null'],
      description: 'A queue call: its queue and how long the caller waited; null for others',
      required: ['number', 'waiting', 'waitSec', 'agent'],
      properties: {
        number: { type: 'string' },
        waiting: { type: 'boolean', description: 'The caller still waits for a member' },
        waitSec: { type: 'integer' },
        agent: { type: ['string', 'null'], description: 'The member who answered' },
      },
    },
    monitoredBy: {
      type: 'array',
      description:
        "For the call's agent: who monitors it (empty when monitoring.notices.agent is off)",
      items: {
        type: 'object',
        required: ['supervisor', 'supervisorName', 'mode'],
        properties: {
          supervisor: { type: 'string' },
          supervisorName: { type: ['string', 'null'] },
          mode: { type: 'string', enum: MONITOR_MODES },
        },
      },
    },
  },
} as const;

/** A call as one token sees it (forPrincipal in registerMonitoringRoutes). */
type CallReply = Omit<LiveCallView, 'monitors'> & {
  monitors?: LiveCallView['monitors'];
  join?: JoinEligibility;
  monitoredBy?: MonitoredByEntry[];
};

export function registerMonitoringRoutes(app: FastifyInstance, deps: MonitoringRoutesDeps): void {
  const { supervision, listing, config } = deps;
  const { monitoring, notes, presence } = supervision;
  const permissions = monitoring.permissions;
  const iso = (ms: number) => deps.toWall(ms).toISOString();

  const sessionView = (r: MonitorSessionRecord) => ({
    id: r.id,
    callId: r.callId,
    supervisor: r.supervisor,
    agent: r.agent,
    mode: r.modes[r.modes.length - 1]!.mode,
    state: r.state,
    startedAt: iso(r.startedAt),
    modes: r.modes.map((m) => ({ mode: m.mode, at: iso(m.at) })),
  });

  /** Whether `p` may see call `v` (admin: all; supervisor: its members', those who opted
   * out included, whose `join` then says why not; agent: its own). */
  const maySee = (p: Principal, v: LiveCallView): boolean => {
    if (p.scope === 'admin') return true;
    // A monitor of a queue sees its calls, waiting callers included (docs/architecture.md §9.5).
    const queue = v.queue?.number;
    if (p.scope === 'supervisor' && queue !== undefined) {
      if (permissions.coversQueue(p.extension ?? '', queue)) return true;
    }
    if (v.agent === null) return false;
    if (p.scope === 'agent') return v.agent === p.extension;
    return v.agent === p.extension || permissions.covers(p.extension ?? '', v.agent);
  };

  const noticesOn = agentNoticesOn(config);

  /** The facts about `p`'s extension a join needs (none for an agent or no extension). */
  const ownFacts = (p: Principal): SupervisorFacts | undefined =>
    p.scope === 'agent' || p.extension === null
      ? undefined
      : monitoring.supervisorFacts(p.extension);

  /**
   * A call as `p` sees it: with `join` for a token acting as an extension; an agent sees
   * who monitors it only as `monitoredBy` (empty with notices off), never `monitors`.
   * `facts`: the call's, for the join (default: this instance's own call); `own`: `p`'s
   * (ownFacts; a list gathers them once).
   */
  const forPrincipal = (
    p: Principal,
    v: LiveCallView,
    facts: () => CallFacts | undefined = () => monitoring.callFacts(v.id),
    own: SupervisorFacts | undefined = ownFacts(p),
  ): CallReply => {
    if (p.scope === 'agent') {
      const { monitors: _hidden, ...rest } = v;
      // The supervisors' legs say who monitors: only with notices.
      const quality =
        v.quality === null || noticesOn
          ? v.quality
          : {
              legs: { ...v.quality.legs, supervisors: [] },
              rating: worstRating(
                [v.quality.legs.customer, v.quality.legs.agent].flatMap((q) =>
                  q === null ? [] : [q.rating],
                ),
              ),
            };
      return { ...rest, quality, monitoredBy: monitoredBy(v, noticesOn) };
    }
    if (own === undefined || p.extension === null) return v;
    const call = facts();
    return call === undefined ? v : { ...v, join: monitoring.join(p.extension, call, own) };
  };

  const visibleView = (request: FastifyRequest, id: string): LiveCallView => {
    const view = listing.get(id);
    if (view === undefined || !maySee(principalOf(request), view)) throw notFound('no such call');
    return view;
  };

  /** A call the request may see, as it sees it (forPrincipal); 404 otherwise. */
  const visibleCall = (request: FastifyRequest, id: string): CallReply =>
    forPrincipal(principalOf(request), visibleView(request, id));

  /** The extension a /v1/me route acts on: the token's (403 for one without). */
  const ownExtension = (request: FastifyRequest): string => {
    const p = principalOf(request);
    if (p.extension === null) {
      throw new ApiError(403, 'forbidden', 'this token acts as no extension');
    }
    return p.extension;
  };

  /** The supervisor a request acts as: its own extension, or (admin) the one named. */
  const actingSupervisor = (p: Principal, named: string | undefined): string => {
    if (p.scope === 'admin') {
      if (named === undefined && p.extension !== null) return p.extension;
      if (named === undefined) {
        throw new ApiError(400, 'bad-request', 'an admin token must name the supervisor');
      }
      return named;
    }
    if (named !== undefined && named !== p.extension) {
      throw new ApiError(403, 'forbidden', 'a supervisor token acts as its own extension');
    }
    return p.extension as string;
  };

  const ownSession = (request: FastifyRequest, id: string): MonitorSessionRecord => {
    const p = principalOf(request);
    const session = monitoring.session(id);
    if (session === undefined || (p.scope !== 'admin' && session.supervisor !== p.extension)) {
      throw notFound('no such monitor session');
    }
    return session;
  };

  app.get(
    '/v1/extensions',
    {
      config: { scopes: ['admin', 'supervisor', 'agent'] },
      schema: {
        summary: 'Extensions: registration, in-call state, presence, who may monitor them',
        description:
          'admin: all; supervisor: itself and those its groups let it monitor; agent: only ' +
          'with callMonitorAccess=true, the other agents it may invite into its call.',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            callMonitorAccess: {
              type: 'boolean',
              description: 'Only extensions whose callMonitorAccess is this',
            },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['extensions'],
            properties: { extensions: { type: 'array', items: extensionSchema } },
          },
          ...errorResponses(400, 401, 403),
        },
      },
    },
    async (request) => {
      const p = principalOf(request);
      const { callMonitorAccess: access } = request.query as { callMonitorAccess?: boolean };
      if (p.scope === 'agent' && access !== true) {
        throw new ApiError(403, 'forbidden', 'an agent token lists only ?callMonitorAccess=true');
      }
      const now = deps.now();
      const visible = (e: Config['extensions'][number]): boolean => {
        if (p.scope === 'admin') return true;
        // An agent invites others, never itself.
        if (p.scope === 'agent') return e.number !== p.extension;
        return (
          e.number === p.extension || permissions.modesFor(p.extension ?? '', e.number).length > 0
        );
      };
      const list = config.extensions
        .filter((e) => visible(e) && (access === undefined || e.callMonitorAccess === access))
        .map((e) => {
          const bindings = deps.location.activeBindings(e.number, now);
          return {
            number: e.number,
            displayName: e.displayName ?? null,
            role: e.role,
            registered: bindings.length > 0,
            contacts: bindings.length,
            inCall: deps.isInCall(e.number),
            monitoring: monitoring.isMonitoring(e.number),
            allowMonitoring: e.allowMonitoring,
            groups: permissions.groupsOf(e.number),
            monitoredBy: permissions
              .monitorsOf(e.number)
              .map((m) => ({ extension: m, modes: permissions.modesFor(m, e.number) })),
            presence: presence.statusOf(e.number),
          };
        });
      return { extensions: list };
    },
  );

  app.get(
    '/v1/me/presence',
    {
      config: { scopes: ['admin', 'supervisor', 'agent'] },
      schema: {
        summary: "The token's extension's presence (available, away, dnd)",
        response: { 200: presenceSchema, ...errorResponses(401, 403) },
      },
    },
    async (request) => ({ status: presence.statusOf(ownExtension(request)) }),
  );

  app.put(
    '/v1/me/presence',
    {
      config: { scopes: ['admin', 'supervisor', 'agent'] },
      schema: {
        summary: "Sets the token's extension's presence; only an available supervisor joins calls",
        body: presenceSchema,
        response: { 200: presenceSchema, ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const extension = ownExtension(request);
      const { status } = request.body as { status: PresenceStatus };
      return { status: presence.set(extension, status) };
    },
  );

  app.put(
    '/v1/extensions/:ext/presence',
    {
      config: { scopes: ['admin'] },
      schema: {
        summary: "Sets an extension's presence",
        params: {
          type: 'object',
          required: ['ext'],
          properties: { ext },
        },
        body: presenceSchema,
        response: { 200: presenceSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { ext: number } = request.params as { ext: string };
      if (!permissions.isExtension(number)) throw notFound('no such extension');
      const { status } = request.body as { status: PresenceStatus };
      return { status: presence.set(number, status) };
    },
  );

  app.get(
    '/v1/calls',
    {
      config: { scopes: ['admin', 'supervisor', 'agent'] },
      schema: {
        summary: 'Live calls, with filters',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            agent: ext,
            group: { type: 'string', maxLength: 64 },
            direction: { type: 'string', enum: ['inbound', 'outbound', 'internal'] },
            tag: { type: 'string', maxLength: 64 },
            minDuration: { type: 'integer', minimum: 0 },
            maxDuration: { type: 'integer', minimum: 0 },
            hand: { type: 'boolean' },
            queue: { type: 'string', maxLength: 32, description: 'Calls of this queue only' },
          },
        },
        response: {
          200: { type: 'object', properties: { calls: { type: 'array', items: callSchema } } },
          ...errorResponses(400, 401, 403, 503),
        },
      },
    },
    async (request) => {
      const q = request.query as {
        agent?: string;
        group?: string;
        direction?: CallDirection;
        tag?: string;
        minDuration?: number;
        maxDuration?: number;
        hand?: boolean;
        queue?: string;
      };
      const filter: LiveCallFilter = {
        ...(q.queue !== undefined ? { queue: q.queue } : {}),
        ...(q.agent !== undefined ? { agent: q.agent } : {}),
        ...(q.group !== undefined ? { group: q.group } : {}),
        ...(q.direction !== undefined ? { direction: q.direction } : {}),
        ...(q.tag !== undefined ? { tag: q.tag } : {}),
        ...(q.minDuration !== undefined ? { minDurationSec: q.minDuration } : {}),
        ...(q.maxDuration !== undefined ? { maxDurationSec: q.maxDuration } : {}),
        ...(q.hand !== undefined ? { hand: q.hand } : {}),
      };
      const p = principalOf(request);
      // Several instances: the others' calls too, joined from their owner's facts.
      const remote = (await deps.remoteCalls?.(filter)) ?? [];
      const own = ownFacts(p);
      return {
        calls: [
          ...listing
            .list(filter)
            .filter((v) => maySee(p, v))
            .map((v) => forPrincipal(p, v, () => monitoring.callFacts(v.id), own)),
          ...remote
            .filter((r) => maySee(p, r.view))
            .map((r) => forPrincipal(p, r.view, () => r.facts, own)),
        ],
      };
    },
  );

  app.get(
    '/v1/calls/:id',
    {
      config: { scopes: ['admin', 'supervisor', 'agent'] },
      schema: {
        summary: 'One live call',
        params: idParams,
        response: { 200: callSchema, ...errorResponses(401, 403, 404) },
      },
    },
    async (request) => visibleCall(request, (request.params as { id: string }).id),
  );

  app.post(
    '/v1/calls/:id/tags',
    {
      config: { scopes: ['admin', 'supervisor'] },
      schema: {
        summary: 'Adds tags to a live call',
        params: idParams,
        body: {
          type: 'object',
          required: ['tags'],
          additionalProperties: false,
          properties: {
            tags: {
              type: 'array',
              minItems: 1,
              maxItems: 32,
              items: { type: 'string', minLength: 1, maxLength: 64 },
            },
          },
        },
        response: { 200: callSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      visibleView(request, id);
      notes.addTags(id, (request.body as { tags: string[] }).tags);
      return visibleCall(request, id);
    },
  );

  app.post(
    '/v1/calls/:id/monitors',
    {
      config: { scopes: ['admin', 'supervisor'] },
      schema: {
        summary: "Calls the supervisor's phone (auto-answer) and attaches it to the call",
        params: idParams,
        body: {
          type: 'object',
          required: ['mode'],
          additionalProperties: false,
          properties: {
            supervisor: ext,
            mode: { type: 'string', enum: MONITOR_MODES },
            device: {
              type: 'string',
              enum: MONITOR_DEVICES,
              description:
                "Which of the supervisor's contacts ring: browser (SIP over WebSocket) or " +
                'phone (the others); default all of them',
            },
          },
        },
        response: { 201: monitorSchema, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      const body = request.body as {
        supervisor?: string;
        mode: MonitorMode;
        device?: MonitorDevice;
      };
      const p = principalOf(request);
      const supervisor = actingSupervisor(p, body.supervisor);
      const record = await monitoring.start({
        supervisor,
        callId: id,
        mode: body.mode,
        trigger: 'api',
        actor: p.name,
        ...(body.device !== undefined ? { device: body.device } : {}),
      });
      return reply.code(201).send(sessionView(record));
    },
  );

  app.patch(
    '/v1/monitors/:id',
    {
      config: { scopes: ['admin', 'supervisor'] },
      schema: {
        summary: "Changes a monitor session's mode",
        params: idParams,
        body: {
          type: 'object',
          required: ['mode'],
          additionalProperties: false,
          properties: { mode: { type: 'string', enum: MONITOR_MODES } },
        },
        response: { 200: monitorSchema, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      ownSession(request, id);
      const record = await monitoring.changeMode(
        id,
        (request.body as { mode: MonitorMode }).mode,
        'api',
        principalOf(request).name,
      );
      return sessionView(record);
    },
  );

  app.delete(
    '/v1/monitors/:id',
    {
      config: { scopes: ['admin', 'supervisor'] },
      schema: {
        summary: "Ends a monitor session (the supervisor's leg gets a BYE)",
        params: idParams,
        response: { 204: { type: 'null' }, ...errorResponses(401, 403, 404) },
      },
    },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      ownSession(request, id);
      await monitoring.stop(id, 'api', principalOf(request).name);
      return reply.code(204).send();
    },
  );

  const handRoute = (raise: boolean) => async (request: FastifyRequest) => {
    const { id } = request.params as { id: string };
    const p = principalOf(request);
    const view = visibleView(request, id);
    if (raise && p.scope !== 'admin' && view.agent !== p.extension) {
      throw new ApiError(403, 'forbidden', "only the call's agent raises its hand");
    }
    await supervision.handChange(id, p.extension ?? p.name, raise);
    return visibleCall(request, id);
  };
  for (const [method, raise] of [
    ['POST', true],
    ['DELETE', false],
  ] as const) {
    app.route({
      method,
      url: '/v1/calls/:id/hand',
      config: { scopes: ['admin', 'supervisor', 'agent'] },
      schema: {
        summary: raise ? "Raises the agent's hand on a call" : "Lowers the call's raised hand",
        params: idParams,
        response: { 200: callSchema, ...errorResponses(401, 403, 404) },
      },
      handler: handRoute(raise),
    });
  }

  app.post(
    '/v1/calls/:id/invite',
    {
      config: { scopes: ['admin', 'agent'] },
      schema: {
        summary: 'The agent invites another agent (callMonitorAccess) into the call',
        params: idParams,
        body: {
          type: 'object',
          required: ['agent'],
          additionalProperties: false,
          properties: { agent: ext },
        },
        response: { 201: monitorSchema, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      const p = principalOf(request);
      const view = visibleView(request, id);
      if (p.scope === 'agent' && view.agent !== p.extension) {
        throw new ApiError(403, 'forbidden', "only the call's agent invites");
      }
      const record = await monitoring.start({
        supervisor: (request.body as { agent: string }).agent,
        callId: id,
        mode: 'barge',
        trigger: 'api',
        actor: p.name,
        invited: true,
      });
      return reply.code(201).send(sessionView(record));
    },
  );

  app.get(
    '/v1/audit',
    {
      config: { scopes: ['admin', 'supervisor'] },
      schema: {
        summary: 'The audit log of monitoring actions, oldest first',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            since: { type: 'string', format: 'date-time' },
            supervisor: ext,
            agent: ext,
            limit: { type: 'integer', minimum: 1, maximum: 1000 },
          },
        },
        response: errorResponses(400, 401, 403),
      },
    },
    async (request) => {
      const q = request.query as {
        since?: string;
        supervisor?: string;
        agent?: string;
        limit?: number;
      };
      const p = principalOf(request);
      const supervisor = p.scope === 'admin' ? q.supervisor : (p.extension as string);
      const entries = await supervision.audit.query({
        ...(q.since !== undefined ? { since: q.since } : {}),
        ...(supervisor !== undefined ? { supervisor } : {}),
        ...(q.agent !== undefined ? { agent: q.agent } : {}),
        ...(q.limit !== undefined ? { limit: q.limit } : {}),
      });
      return { entries };
    },
  );
}
