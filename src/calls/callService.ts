/**
 * The B2BUA's entry point: turns an initial INVITE into a Call, routes in-dialog
 * requests, CANCELs and ACKs to their call by dialog id, and owns the live calls.
 *
 * Initial INVITE, in order (each refusal is final):
 *   loop (our own branch in a Via) → 482 (RFC 3261 §16.3 step 4 / §8.2.2.2);
 *   caller: trunk by source address, else digest as an extension → 407 / 403;
 *   SDP offer: malformed, no audio, no common codec → 488 (§21.4.26); none at all is a
 *   late offer (§13.2.1): we offer to the callee, the caller answers in its ACK;
 *   dial plan → 404 / 480, else one fork per registered contact (or the trunk); a queue
 *   number: the caller is answered and waits in the queue (src/queues, §9.5).
 *
 * In-dialog REFER (RFC 3515) is a blind transfer (transfer.ts): the target is dialled as
 * if the referring party had dialled it; on success that side's dialog and extension
 * change (`transferred`).
 *
 * close() ends every call (BYE both legs) and waits (bounded) for the BYEs' answers.
 */
import type { AuthResult } from '../../sip/auth/authResult.js';
import type { DigestAuthenticator } from '../../sip/auth/authenticator.js';
import type { Clock } from '../../sip/clock.js';
import {
  dialogFromUasRequest,
  dialogIdOfIncoming,
  dialogKey,
  type DialogParty,
} from '../../sip/dialog/index.js';
import {
  allVias,
  buildResponse,
  fromOf,
  isSipUri,
  maxForwardsOf,
  requestUriOf,
  unescapeUri,
  type SipRequest,
} from '../../sip/message/index.js';
import { newCallId, newTag } from '../../sip/ids.js';
import { parseSdp, relayOffer, sdpWarning, type AnchorPolicy } from '../../sip/sdp/index.js';
import type { IncomingRequest, SipStack } from '../../sip/stack.js';
import { addVia } from '../../sip/transaction/via.js';
import { sameFlow, type Endpoint, type Source } from '../../sip/transport/types.js';
import { TypedEmitter } from '../../sip/util/typedEmitter.js';
import { MediaError, type MediaEngine, type Prompt } from '../../media/engine/index.js';
import type { Config, ExtensionConfig } from '../config/schema.js';
import type { Logger } from '../logging.js';
import type { LocationService } from '../registrar/locationService.js';
import { agentOf } from './agent.js';
import { Call, type CallContext, type ForkTarget } from './call.js';
import { CallMedia, type Side } from './callMedia.js';
import { contactKind, legPlan, type ContactKind, type LegPlan } from './contactKind.js';
import type { CallRecord } from './callRecord.js';
import {
  callerOf,
  directionOf,
  route,
  type Caller,
  type Destination,
  type DialPlanDeps,
} from './dialPlan.js';
import { identifyCaller } from './identifyCaller.js';
import type { DialogHandler, DialogRoutes } from './dialogRoutes.js';
import { handleInDialog, type ReferHandler } from './inDialog.js';
import { buildOutboundInvite } from './outboundInvite.js';
import { SipOut } from './sipOut.js';
import { referHandler } from './transfer.js';
import { waitAtMost } from '../util/waitAtMost.js';
import { QueueService } from '../queues/queueService.js';
import { PromptHoldAudio, ToneHoldAudio, type HoldAudio } from '../queues/holdAudio.js';
import type { QueuePrompts } from '../queues/holdPrompts.js';
import { PositionAnnouncingHold } from '../queues/positionAnnouncer.js';
import { inBackground } from '../util/background.js';
import { HolderIndex } from '../util/holderIndex.js';

export interface CallServiceDeps {
  stack: SipStack;
  engine: MediaEngine;
  location: LocationService;
  authenticator: DigestAuthenticator;
  config: Config;
  clock: Clock;
  logger: Logger;
  /** The address written in our SDP. */
  mediaAddress: string;
  /** Methods we allow (Allow header of our INVITEs). */
  allow: readonly string[];
  onAuthResult?(result: AuthResult, request: SipRequest, source: Source): void;
  /** The extension a browser ticket bound `source`'s flow to (src/http/sipTickets.ts). */
  flowExtension?(source: Source): string | undefined;
  /** Played to every caller when its call is answered, before the parties are connected. */
  callerAnnouncement?: Prompt | null;
  /** The queues' WAV hold audio and position prompts, loaded at start (src/queues/holdPrompts.ts). */
  queuePrompts?: QueuePrompts;
}

/** A live call as other services see it (recording, monitoring). */
export interface LiveCall {
  record: CallRecord;
  media: CallMedia;
  /** The extension on each side, when that side is one. */
  extensions: Partial<Record<Side, string>>;
}

export type { DialogHandler } from './dialogRoutes.js';

/** Takes INVITEs to numbers that are not calls (feature codes): true when taken. */
export type InviteInterceptor = (
  incoming: IncomingRequest,
  extension: string,
  dialled: string,
) => boolean;

export type CallServiceEvents = {
  /** The same moments as answered/ended, with the call's media (for recording). */
  liveAnswered: [LiveCall];
  liveEnded: [LiveCall];
  /** An INVITE passed authentication and became a call (a call attempt). */
  callStarted: [CallRecord];
  /** The callee side rings (proceeding → early; BLF keys show it). */
  early: [CallRecord];
  answered: [CallRecord];
  ended: [CallRecord];
  /** An INVITE refused before any call existed (404, 480, 488, …; not 407). */
  rejected: [status: number, direction: CallRecord['direction'] | 'unknown'];
  /**
   * `side` transferred the call away (blind transfer, REFER): its extension went from
   * `from` to `to` (undefined: not an extension, e.g. a trunk number). Emitted once the
   * target answered, with the call's new extensions.
   */
  transferred: [LiveCall, side: Side, from: string | undefined, to: string | undefined];
};

/** How long close() waits for the BYEs of the calls it ends. */
const CLOSE_GRACE_MS = 2000;

export class CallService extends TypedEmitter<CallServiceEvents> implements DialogRoutes {
  private readonly calls = new Map<string, Call>();
  /** The extensions that are parties of each live call (Call.parties), by call id. */
  private readonly parties = new HolderIndex<string, string>();
  private readonly dialogs = new Map<string, { call: Call; side: Side }>();
  private readonly foreignDialogs = new Map<string, DialogHandler>();
  private readonly refer: ReferHandler;
  private interceptor: InviteInterceptor | undefined;
  /** Branches of our forks' INVITEs: one in an incoming INVITE's Via is a loop. */
  private readonly ownBranches = new Set<string>();
  private readonly out: SipOut;
  private readonly extensions: Map<string, ExtensionConfig>;
  private readonly policy: AnchorPolicy;
  private closing: Promise<void> | undefined;
  /** INVITE transactions CANCELled before their call existed (§9.2: then 487). */
  private readonly cancelledEarly = new WeakSet<IncomingRequest['transaction']>();
  /** The call queues (docs/architecture.md §9.5). */
  readonly queues: QueueService;
  private readonly queueConfigs: Map<string, Config['queues'][number]>;
  private readonly registrationsChanged = (): void => this.queues.refresh();

  constructor(private readonly deps: CallServiceDeps) {
    super((err, event) => deps.logger.error({ err, event }, 'call service listener failed'));
    this.out = new SipOut(deps.stack);
    this.extensions = new Map(deps.config.extensions.map((e) => [e.number, e]));
    this.policy = { supported: deps.config.calls.codecs, telephoneEvent: true };
    this.queueConfigs = new Map(deps.config.queues.map((q) => [q.number, q]));
    this.queues = new QueueService({
      config: deps.config,
      clock: deps.clock,
      logger: deps.logger,
      ring: (call, extension) => this.ringMember(call, extension),
      availability: () => {
        const now = deps.clock.now();
        const busy = this.extensionsInCalls();
        return (extension) =>
          !busy.has(extension) && deps.location.activeBindings(extension, now).length > 0;
      },
      holdAudio: (call, queue) => {
        const log = deps.logger.child({ callId: call.record.id });
        const prompts = deps.queuePrompts;
        const hold = (): HoldAudio => {
          if ('tone' in queue.holdAudio)
            return new ToneHoldAudio(call.media, queue.holdAudio.tone, deps.clock, log);
          const prompt = prompts?.hold.get(queue.number);
          if (prompt === undefined) throw new Error(`queue ${queue.number}: hold file not loaded`);
          return new PromptHoldAudio(call.media, prompt, log);
        };
        const position = prompts?.position.get(queue.number);
        if (queue.announcePosition === null || position === undefined) return hold();
        return new PositionAnnouncingHold(
          hold,
          call.media,
          position,
          queue.announcePosition.everySec * 1000,
          () => this.queues.position(call.record.id),
          deps.clock,
          log,
        );
      },
    });
    deps.location.on('registered', this.registrationsChanged);
    deps.location.on('unregistered', this.registrationsChanged);
    this.refer = referHandler({
      resolve: (call, side, dialled) => {
        const to = route(call.callerOf(side), dialled, this.dialPlan(deps.clock.now()));
        // A blind transfer into a queue is not built yet (docs/architecture.md §9.5).
        return to.kind === 'queue'
          ? { kind: 'reject', status: 403, reason: 'Transfer To A Queue Not Supported' }
          : to;
      },
      contactKinds: (destination) => {
        if (destination.kind !== 'extension') return ['phone'];
        const uris = this.deps.location
          .activeBindings(destination.extension, deps.clock.now())
          .map((b) => b.uri);
        return [...new Set(uris.map(contactKind))];
      },
      // A transfer's target gets the transfer's offer for its contact's kind (transfer.ts).
      invites: (call, destination, from, sdp) => this.invitesTo(call, destination, from, sdp),
      registerDialog: (key, handler) => this.registerDialog(key, handler),
      unregisterDialog: (key) => this.unregisterDialog(key),
      completed: (call, side, from, to) =>
        this.emit('transferred', this.live(call), side, from, to),
    });
  }

  /** Live calls (not ended), oldest first. */
  liveCalls(): CallRecord[] {
    return [...this.calls.values()].map((c) => c.record);
  }

  /** The live call with this id (not ended). */
  callRecord(callId: string): CallRecord | undefined {
    return this.calls.get(callId)?.record;
  }

  /** Feature-code INVITEs from extensions go to `interceptor` first. */
  setInviteInterceptor(interceptor: InviteInterceptor): void {
    this.interceptor = interceptor;
  }

  registerDialog(key: string, handler: DialogHandler): void {
    this.foreignDialogs.set(key, handler);
  }

  unregisterDialog(key: string): void {
    this.foreignDialogs.delete(key);
  }

  /**
   * The answered call `extension` is in (the most recent), with the side it is on —
   * what monitoring attaches to. A side released by a takeover no longer counts.
   */
  answeredCallOf(extension: string): { call: Call; live: LiveCall; side: Side } | undefined {
    let found: { call: Call; live: LiveCall; side: Side } | undefined;
    for (const call of this.calls.values()) {
      if (call.state !== 'answered') continue;
      for (const side of ['a', 'b'] as const) {
        if (call.extensions[side] === extension && call.released !== side) {
          found = { call, live: this.live(call), side };
        }
      }
    }
    return found;
  }

  /** An answered call by id, with its agent: the monitored extension (agent.ts). */
  answeredCall(
    callId: string,
  ): { call: Call; live: LiveCall; agent: string; side: Side } | undefined {
    const call = this.calls.get(callId);
    if (call === undefined || call.state !== 'answered') return undefined;
    const agent = agentOf(call.record.direction, call.extensions, call.released);
    if (agent === undefined) return undefined;
    return { call, live: this.live(call), agent: agent.extension, side: agent.side };
  }

  /** Whether `extension` is a party of a live call (ringing included, released excluded). */
  isInCall(extension: string): boolean {
    return this.parties.has(extension);
  }

  /** The extensions in live calls, each once (a snapshot). */
  private extensionsInCalls(): Set<string> {
    return this.parties.keys();
  }

  /** The live call with this id (not ended). */
  liveCall(callId: string): LiveCall | undefined {
    const call = this.calls.get(callId);
    return call === undefined ? undefined : this.live(call);
  }

  /** Every live call, with its media and extensions. */
  liveCallsWithMedia(): LiveCall[] {
    return [...this.calls.values()].map((c) => this.live(c));
  }

  private live(call: Call): LiveCall {
    return {
      record: call.record,
      media: call.media,
      extensions: call.extensions,
    };
  }

  /** INVITE, BYE, UPDATE, INFO, CANCEL, and OPTIONS inside a dialog. */
  handle(incoming: IncomingRequest): void {
    const { request } = incoming;
    if (this.closing !== undefined) {
      incoming.respond(buildResponse(request, 503, { toTag: newTag() }));
      return;
    }
    if (request.method === 'CANCEL') return this.onCancel(incoming);
    const id = dialogIdOfIncoming(request);
    if (id !== undefined) {
      const foreign = this.foreignDialogs.get(dialogKey(id));
      if (foreign !== undefined) {
        foreign.onRequest(incoming);
        return;
      }
      const entry = this.dialogs.get(dialogKey(id));
      if (entry === undefined) {
        incoming.respond(buildResponse(request, 481));
        return;
      }
      // The call's own context: one logger child per call, not one per in-dialog request.
      handleInDialog(entry.call, entry.side, incoming, entry.call.context, this.refer);
      return;
    }
    if (request.method !== 'INVITE') {
      incoming.respond(buildResponse(request, 481, { toTag: newTag() }));
      return;
    }
    void this.onInvite(incoming).catch((err: unknown) => {
      if ((incoming.transaction.lastResponse?.status ?? 0) >= 200) {
        this.deps.logger.error({ err }, 'INVITE handling failed after the final response');
        return;
      }
      // Out of media ports is a capacity limit, not a fault: 503 with Retry-After asks the
      // caller to come back (RFC 3261 §21.5.4) instead of a 500 that reads as a bug. So
      // is a range whose free pairs other processes hold (every bind retry EADDRINUSE).
      if (
        err instanceof MediaError &&
        (err.code === 'ERR_NO_PORTS' || err.code === 'ERR_PORT_IN_USE')
      ) {
        this.deps.logger.warn({ err }, 'no media ports left: INVITE refused with 503');
        incoming.respond(
          buildResponse(request, 503, {
            toTag: newTag(),
            reason: 'Media Capacity Exhausted',
            headers: [['Retry-After', '5']],
          }),
        );
        return;
      }
      this.deps.logger.error({ err }, 'INVITE handling failed');
      incoming.respond(buildResponse(request, 500, { toTag: newTag() }));
    });
  }

  /** An ACK for a 2xx (the stack's 'ackFor2xx'). */
  onAck(request: SipRequest): void {
    const id = dialogIdOfIncoming(request);
    const key = id === undefined ? undefined : dialogKey(id);
    const foreign = key === undefined ? undefined : this.foreignDialogs.get(key);
    if (foreign !== undefined) {
      foreign.onAck(request);
      return;
    }
    const entry = key === undefined ? undefined : this.dialogs.get(key);
    entry?.call.onAck(entry.side, request);
  }

  private onCancel(incoming: IncomingRequest): void {
    const tx = this.deps.stack.transactions.findInviteServerTransactionFor(incoming.request);
    incoming.respond(buildResponse(incoming.request, 200));
    if (tx === undefined) return;
    for (const call of this.calls.values()) {
      if (call.inviteTransaction === tx) {
        call.cancelledByCaller();
        return;
      }
    }
    // The INVITE is still being set up (media legs being created): onInvite checks this.
    this.cancelledEarly.add(tx);
  }

  private reject(
    incoming: IncomingRequest,
    status: number,
    reason?: string,
    headers: Array<[string, string]> = [],
  ): void {
    incoming.respond(
      buildResponse(incoming.request, status, {
        toTag: newTag(),
        headers: [...headers, ['Server', this.deps.config.sip.userAgent]],
        ...(reason !== undefined ? { reason } : {}),
      }),
    );
  }

  private async onInvite(incoming: IncomingRequest): Promise<void> {
    const { request, source } = incoming;
    // Loop detection: one of our own INVITEs came back (§16.3 step 4, §8.2.2.2).
    if (allVias(request).some((v) => this.ownBranches.has(v.params.get('branch') ?? ''))) {
      return this.reject(incoming, 482);
    }
    const who = identifyCaller(request, source, {
      trunks: this.deps.config.trunks,
      authenticator: this.deps.authenticator,
      isExtension: (n) => this.extensions.has(n),
      ...(this.deps.onAuthResult !== undefined ? { onAuthResult: this.deps.onAuthResult } : {}),
      ...(this.deps.flowExtension !== undefined ? { flowExtension: this.deps.flowExtension } : {}),
    });
    if (!who.ok) return this.reject(incoming, who.status, who.reason, who.headers);
    const uri = requestUriOf(request);
    const dialled = isSipUri(uri) && uri.user !== undefined ? unescapeUri(uri.user) : '';
    if (
      who.caller.kind === 'extension' &&
      this.interceptor?.(incoming, who.caller.extension, dialled) === true
    ) {
      return;
    }
    if (who.caller.kind === 'extension' && dialled === this.deps.config.calls.queuePauseCode) {
      // A member toggles its pause in its queues (docs/architecture.md §9.5): no call.
      const paused = this.queues.togglePause(who.caller.extension);
      if (paused === undefined) return this.reject(incoming, 404, 'Not A Queue Member');
      return this.reject(incoming, 603, paused ? 'Paused' : 'Unpaused');
    }

    // No body: a late offer (RFC 3261 §13.2.1), the offer goes in our 200.
    const parsed = request.body.length === 0 ? undefined : parseSdp(request.body);
    if (parsed !== undefined && !parsed.ok) {
      this.emit('rejected', 488, 'unknown');
      return this.reject(incoming, 488, undefined, [
        ['Warning', `399 callwatch "${parsed.reason}"`],
      ]);
    }
    const check =
      parsed === undefined
        ? undefined
        : relayOffer(parsed.session, { address: this.deps.mediaAddress, port: 9 }, this.policy);
    if (check !== undefined && !check.ok) {
      this.emit('rejected', 488, 'unknown');
      // RFC 3261 §20.43: 305 "Incompatible media format" when no offered codec is ours.
      const agent = this.out.sentBy(source).host;
      return this.reject(incoming, 488, undefined, [['Warning', sdpWarning(check, agent)]]);
    }

    const now = this.deps.clock.now();
    const destination = route(who.caller, dialled, this.dialPlan(now));
    const direction = directionOf(who.caller, destination);
    if (destination.kind === 'reject') {
      this.emit('rejected', destination.status, direction);
      return this.reject(incoming, destination.status, destination.reason);
    }
    if (destination.kind === 'queue' && parsed === undefined) {
      // The queue answers the caller itself, so it needs the caller's offer to answer.
      this.emit('rejected', 488, direction);
      return this.reject(incoming, 488, undefined, [
        ['Warning', '399 callwatch "a queue needs an SDP offer in the INVITE"'],
      ]);
    }

    const callId = request.headers.get('Call-ID') ?? newCallId();
    const logger = this.deps.logger.child({ callId });
    const media = await CallMedia.create(
      this.deps.engine,
      callId,
      this.deps.config.calls.codecs,
      logger,
    );
    // The legs were being made: the caller may have gone (CANCEL), or the service closed.
    const gone = async (): Promise<boolean> => {
      const status =
        incoming.transaction.state === 'terminated'
          ? 0
          : this.closing !== undefined
            ? 503
            : this.cancelledEarly.has(incoming.transaction)
              ? 487
              : undefined;
      if (status === undefined) return false;
      await media.close();
      if (status !== 0) this.reject(incoming, status);
      return true;
    };
    if (await gone()) return;
    // WebRTC legs (docs/architecture.md §3.2.2): a caller offering UDP/TLS/RTP/SAVPF; a
    // callee whose every contact is a browser (SIP over WebSocket, RFC 7118); a callee with
    // browser and phone contacts gets a WebRTC candidate beside its plain leg.
    try {
      if (parsed?.session.audio.webrtc !== undefined) await media.makeWebRtc('a');
      const plan = this.calleePlan(destination, now);
      if (plan.leg === 'webrtc') await media.makeWebRtc('b');
      if (plan.webRtcCandidate) {
        // Without it the phones can still answer: the browsers are offered plain RTP.
        await media.addWebRtcCandidate().catch((err: unknown) => {
          logger.warn({ err }, 'WebRTC candidate for the browser contacts failed');
        });
      }
    } catch (err) {
      logger.error({ err }, 'WebRTC leg setup failed');
      await media.close();
      return this.reject(incoming, 500);
    }
    if (await gone()) return;
    const relayed =
      parsed === undefined
        ? undefined
        : relayOffer(
            parsed.session,
            {
              address: this.deps.mediaAddress,
              port: media.localPort('b'),
              webrtc: media.webRtcIdentity('b', this.deps.mediaAddress),
            },
            this.policy,
          );
    const dialog = dialogFromUasRequest(request, {
      localTag: newTag(),
      localContact: `<${this.out.contact(source)}>`,
    });
    if (relayed?.ok === false || !dialog.ok) {
      await media.close();
      return this.reject(incoming, relayed?.ok === false ? 488 : 400);
    }
    const record: CallRecord = {
      id: callId,
      caller: callerLabel(who.caller, request),
      ...(fromOf(request).displayName !== undefined
        ? { callerName: fromOf(request).displayName as string }
        : {}),
      callee: calleeLabel(destination),
      direction,
      state: 'proceeding',
      startedAt: now,
      ...(destination.kind === 'queue'
        ? { queue: { number: destination.queue.number, joinedAt: now } }
        : {}),
    };
    const call = new Call(
      record,
      incoming,
      dialog.dialog,
      relayed,
      media,
      this.context(callId, logger),
      {
        extensions: {
          ...(who.caller.kind === 'extension' ? { a: who.caller.extension } : {}),
          ...(destination.kind === 'extension' ? { b: destination.extension } : {}),
        },
        callers: { a: who.caller, b: callerOf(destination) },
      },
    );
    this.calls.set(callId, call);
    this.parties.set(callId, call.parties);
    call.on('parties', () => this.parties.set(callId, call.parties));
    call.on('dialog', (key, side) => this.dialogs.set(key, { call, side }));
    call.on('dialogDropped', (key) => this.dialogs.delete(key));
    call.on('early', (r) => this.emit('early', r));
    call.on('answered', (r) => {
      const announcement = this.deps.callerAnnouncement;
      if (announcement) inBackground(media.announce(announcement), logger, 'announcement failed');
      this.emit('answered', r);
      this.emit('liveAnswered', this.live(call));
    });
    call.on('ended', (r) => {
      const live = this.live(call);
      this.calls.delete(callId);
      this.parties.delete(callId);
      // The call dropped its dialogs itself ('dialogDropped'; one whose 2xx awaits its
      // ACK later, Call.end).
      for (const branch of call.branches) this.ownBranches.delete(branch);
      this.emit('ended', r);
      this.emit('liveEnded', live);
      this.queues.refresh();
    });
    this.emit('callStarted', record);
    if (destination.kind === 'queue') {
      if (!this.queues.enter(call, destination.queue)) {
        await call.end('media-error');
        return;
      }
      logger.info({ caller: record.caller, queue: record.callee, direction }, 'queue call');
      return;
    }
    const targets = this.targets(call, who.caller, destination, request, now);
    call.start(targets);
    logger.info(
      { caller: record.caller, callee: record.callee, direction, forks: targets.length },
      'call started',
    );
  }

  /**
   * The callee's legs (contactKind.ts): WebRTC when every contact it registered is a
   * SIP-over-WebSocket one (`;transport=ws`/`wss`, RFC 7118 §5), plain RTP otherwise, with
   * a WebRTC candidate beside it when some are. A queue's leg b is plain: its members'
   * browsers get the candidate when they are rung (ringMember).
   */
  private calleePlan(destination: Destination, now: number): LegPlan {
    if (destination.kind !== 'extension') return { leg: 'plain', webRtcCandidate: false };
    const bindings = this.deps.location.activeBindings(destination.extension, now);
    return legPlan(bindings.map((b) => b.uri));
  }

  /** One INVITE per registered contact of the callee, or one to the trunk. */
  private targets(
    call: Call,
    caller: Caller,
    destination: Destination,
    request: SipRequest,
    now: number,
  ): ForkTarget[] {
    const from = fromOf(request);
    const ext = caller.kind === 'extension' ? this.extensions.get(caller.extension) : undefined;
    const host = this.out.sentBy({ protocol: 'udp', address: '', port: 0 }).host;
    const fromUri = caller.kind === 'extension' ? `sip:${caller.extension}@${host}` : from.uriText;
    const fromName = ext?.displayName ?? from.displayName;
    const maxForwards = (maxForwardsOf(request) ?? 70) - 1;
    return this.invitesTo(
      call,
      destination,
      { uri: fromUri, ...(fromName !== undefined ? { displayName: fromName } : {}) },
      (kind) => call.offerToBFor(kind),
      maxForwards,
      now,
    );
  }

  /**
   * Our INVITEs for a new dialog toward `destination` (a call's callee, or a transfer's
   * target): one per registered contact of an extension, or one to the trunk, each with
   * the offer for its contact's kind (`sdp`; a trunk is a phone).
   */
  private invitesTo(
    call: Call,
    destination: Destination,
    from: DialogParty,
    sdp: (kind: ContactKind) => string,
    maxForwards = 70,
    now = this.deps.clock.now(),
  ): ForkTarget[] {
    const host = this.out.sentBy({ protocol: 'udp', address: '', port: 0 }).host;
    const fromTag = newTag();
    const callId = newCallId();
    const list: Array<{
      requestUri: string;
      destination: Endpoint;
      to: string;
      kind: ContactKind;
    }> = [];
    if (destination.kind === 'extension') {
      for (const b of this.deps.location.activeBindings(destination.extension, now)) {
        list.push({
          requestUri: b.uri,
          destination: {
            protocol: b.source.protocol,
            address: b.source.address,
            port: b.source.port,
          },
          to: `sip:${destination.extension}@${host}`,
          kind: contactKind(b.uri),
        });
      }
    } else if (destination.kind === 'trunk') {
      const t = destination.trunk;
      const uri = `sip:${destination.number}@${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`;
      list.push({
        requestUri: uri,
        destination: { protocol: t.transport, address: t.host, port: t.port },
        to: uri,
        kind: 'phone',
      });
    }
    return list.map((t) => {
      const invite = buildOutboundInvite({
        requestUri: t.requestUri,
        from: {
          uri: from.uri,
          tag: fromTag,
          ...(from.displayName !== undefined ? { displayName: from.displayName } : {}),
        },
        to: { uri: t.to },
        callId,
        cseq: 1,
        contact: this.out.contact(t.destination),
        maxForwards,
        sdp: sdp(t.kind),
        userAgent: this.deps.config.sip.userAgent,
        allow: this.deps.allow,
      });
      const branch = addVia(invite, this.out.sentBy(t.destination));
      this.ownBranches.add(branch);
      call.sentBranch(branch);
      return { invite, destination: t.destination, kind: t.kind };
    });
  }

  /**
   * Rings a queue member (or the overflow extension): a browser contact needs the call's
   * WebRTC candidate first (a queue call's leg b is plain), so then the forks go out once
   * it is made (Call.ringMemberWhen; a failure is logged and the browser gets plain RTP).
   */
  private ringMember(call: Call, extension: string): void {
    const uris = this.deps.location
      .activeBindings(extension, this.deps.clock.now())
      .map((b) => b.uri);
    const needsCandidate =
      call.media.anchorFor('browser') === 'plain' &&
      uris.some((uri) => contactKind(uri) === 'browser');
    if (!needsCandidate) {
      call.ringMember(extension, this.memberInvites(call, extension));
      return;
    }
    call.ringMemberWhen(extension, call.media.addWebRtcCandidate(), () =>
      this.memberInvites(call, extension),
    );
  }

  /** A queue's INVITEs to one member (or its overflow extension), from the caller. */
  private memberInvites(call: Call, extension: string): ForkTarget[] {
    const record = call.record;
    const host = this.out.sentBy({ protocol: 'udp', address: '', port: 0 }).host;
    const user = record.caller.replace(/[^0-9A-Za-z._+*#-]/g, '') || 'anonymous';
    return this.invitesTo(
      call,
      { kind: 'extension', extension },
      {
        uri: `sip:${user}@${host}`,
        ...(record.callerName !== undefined ? { displayName: record.callerName } : {}),
      },
      (kind) => call.offerToBFor(kind),
    );
  }

  private dialPlan(now: number): DialPlanDeps {
    return {
      extensions: this.extensions,
      trunks: this.deps.config.trunks,
      queues: this.queueConfigs,
      isRegistered: (ext) => this.deps.location.activeBindings(ext, now).length > 0,
    };
  }

  /** Our Contact URI toward `endpoint` (for dialogs other services answer). */
  contact(endpoint: Endpoint): string {
    return this.out.contact(endpoint);
  }

  /**
   * The SIP context a call's dialogs use (also a monitoring session's); `logger` is the
   * call's own child logger when the caller has one already.
   */
  context(callId: string, logger: Logger = this.deps.logger.child({ callId })): CallContext {
    const { config } = this.deps;
    return {
      out: this.out,
      clock: this.deps.clock,
      timers: {
        t1: config.sip.timers.t1Ms,
        t2: config.sip.timers.t2Ms,
        noAnswerMs: config.calls.noAnswerTimeoutSec * 1000,
      },
      policy: this.policy,
      mediaAddress: this.deps.mediaAddress,
      userAgent: config.sip.userAgent,
      logger,
    };
  }

  /**
   * A connection-oriented flow ended (a browser's WebSocket closed, RFC 7118 §5): every
   * call with a side reached over it ends, with a BYE (or a final response, or CANCELs)
   * to the other side only. Forks still ringing over it need nothing here: the stack
   * failed their INVITE transactions already (a transport error, then 503).
   */
  flowClosed(flow: Endpoint): void {
    for (const call of [...this.calls.values()]) {
      const side = (['a', 'b'] as const).find((s) => {
        const reached = call.sideOf(s);
        return reached !== undefined && sameFlow(reached.destination, flow);
      });
      if (side === undefined) continue;
      inBackground(call.end('connection-lost', side), this.deps.logger, 'ending a call failed', {
        callId: call.record.id,
      });
    }
  }

  /** Ends every call (BYE both legs, CANCEL forks), waits for the answers (bounded). */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.deps.location.off('registered', this.registrationsChanged);
      this.deps.location.off('unregistered', this.registrationsChanged);
      this.queues.close();
      const endings = [...this.calls.values()].map((c) => c.end('server-shutdown'));
      await waitAtMost(Promise.all(endings), CLOSE_GRACE_MS);
      this.removeAllListeners();
    })();
    return this.closing;
  }
}

function calleeLabel(destination: Exclude<Destination, { kind: 'reject' }>): string {
  switch (destination.kind) {
    case 'trunk':
      return destination.number;
    case 'queue':
      return destination.queue.number;
    case 'extension':
      return destination.extension;
  }
}

function callerLabel(caller: Caller, request: SipRequest): string {
  if (caller.kind === 'extension') return caller.extension;
  const uri = fromOf(request).uri;
  return isSipUri(uri) && uri.user !== undefined ? unescapeUri(uri.user) : caller.trunk;
}
