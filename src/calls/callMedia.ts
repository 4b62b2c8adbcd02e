/**
 * The only file of src/calls that touches the media engine: the two anchored legs of
 * one call and the call's room, on one worker (the call id is the engine's group), so a
 * change in the engine's API stays here.
 *
 * Leg 'a' faces the caller, leg 'b' the callee. Both are created before any SDP is sent
 * (their ports go into our offer to B and our answer to A), with provisional codecs;
 * apply() sets what offer/answer decided (relayAnswer's LegMedia) and connect() puts both
 * in the room — an unmonitored call is two relays, no mixing. While a callee's browser and
 * phone contacts ring at once, a WebRTC candidate waits beside a plain leg b; the fork that
 * answers decides which of the two is leg b (addWebRtcCandidate, settle; docs/architecture.md
 * §3.2.2). Roles: one side is the
 * customer, the other the agent (setRoles; the monitoring and recording services decide
 * which). Monitors join with their own legs (createMonitorLeg) in a supervisor mode; a
 * takeover releases the agent side from the room. Roles and modes become the room's routes
 * here (src/monitoring/routeMatrix.ts): the engine knows neither. close() ends the room (completing its
 * recording) and releases every leg's sockets and ports; idempotent.
 *
 * Prompts (docs/architecture.md §6.9): playPrompt plays one to parties or monitors, once or
 * looped (hold audio), never into the recording. While the parties are not connected they
 * wait in the room hearing nobody ("parked") while a prompt plays to them. announce(),
 * when the call is answered, parks both parties (also after early media), plays the
 * prompt to the caller (side 'a') and connects them when it ends; connect() meanwhile
 * waits for that, and the recording starts with the conversation.
 */
import type {
  CodecSpec,
  Leg,
  MediaEngine,
  PlayPromptOptions,
  Prompt,
  PromptPlayback,
  RecordingConfig,
  RecordingStarted,
  RecordingSummary,
  Room,
  TelephoneEventSpec,
  ToneConfig,
} from '../../media/engine/index.js';
import type { LegMedia, WebRtcIdentity } from '../../sip/sdp/index.js';
import { newIceCredentials } from '../../media/engine/index.js';
import type { DtlsIdentity, IceCredentialsSpec } from '../../media/engine/index.js';
import type { AudioCodecName } from '../../sip/sdp/index.js';
import { AUDIO_CODECS } from '../../sip/sdp/index.js';
import { TypedEmitter } from '../../sip/util/typedEmitter.js';
import type { Logger } from '../logging.js';
import type { MonitorMode } from '../monitoring/modes.js';
import { roomRoutes } from '../monitoring/routeMatrix.js';
import type { Participant, Role } from '../monitoring/routeMatrix.js';
import type { AnchorKind, ContactKind } from './contactKind.js';

export type Side = 'a' | 'b';

export type CallMediaEvents = {
  /** No RTP on a leg for the configured time (the engine's rtpTimeout). */
  timeout: [side: Side, silentMs: number];
  /** A WebRTC leg's DTLS failed or was closed by the peer: that side's media is over. */
  failed: [side: Side, reason: string];
  /** An RFC 4733 digit from a party (relayed by the engine; reported for later use). */
  dtmf: [side: Side, digit: string];
};

/**
 * The engine's codecs for a leg: every codec the peer accepted (preferred first, so the
 * engine may relay any of them as is, RFC 3264 §5.1), with the payload types the peer
 * numbered them with: we send what it asked for (RFC 3264 §6.1).
 */
export function legCodecSpecs(media: LegMedia): CodecSpec[] {
  const specs: CodecSpec[] = [];
  for (const c of [media.codec, ...media.codecs]) {
    if (specs.some((s) => s.name === c.name || s.payloadType === c.sendPayloadType)) continue;
    specs.push({ name: c.name, payloadType: c.sendPayloadType });
  }
  return specs;
}

/** RFC 4733 telephone-event as the engine takes it: the peer's number, its clock rate. */
export function legTelephoneEvent(media: LegMedia): TelephoneEventSpec | null {
  const te = media.telephoneEvent;
  if (te === undefined) return null;
  return {
    payloadType: te.sendPayloadType,
    clockRate: te.clockRate === 48000 ? 48000 : 8000,
  };
}

/** A WebRTC leg's own side: its ICE credentials (fixed for the leg) and the server's identity. */
export interface LegSecurity {
  ice: IceCredentialsSpec;
  identity: DtlsIdentity;
}

/**
 * Sets a leg to what offer/answer decided (RFC 3264): codecs, remote address, direction,
 * in one command to the leg's worker (each one awaited in turn woke the worker three times
 * per leg); for a WebRTC leg the peer's ICE and DTLS side instead of an address (ICE finds
 * it), sent in the same message right behind.
 */
export async function applyLegMedia(
  leg: Leg,
  media: LegMedia,
  security: LegSecurity | undefined = securities.get(leg),
): Promise<void> {
  negotiatedCodecs.set(leg, media.codec.name);
  const held = media.remote.address === '0.0.0.0' || media.remote.address === '::';
  const applied = leg.applyMedia({
    codecs: legCodecSpecs(media),
    telephoneEvent: legTelephoneEvent(media),
    ...(held || media.webrtc !== undefined
      ? {}
      : {
          remote: {
            address: media.remote.address,
            port: media.remote.port,
            ...(media.remote.rtcp !== undefined ? { rtcpPort: media.remote.rtcp.port } : {}),
            rtcpMux: media.rtcpMux,
          },
        }),
    direction: media.direction,
  });
  if (media.webrtc !== undefined && security !== undefined) {
    const { remote, dtlsRole } = media.webrtc;
    await Promise.all([
      applied,
      leg.secure(
        security.ice,
        { ice: remote.ice, fingerprints: remote.fingerprints, dtlsRole },
        security.identity.certificate,
      ),
    ]);
    return;
  }
  await applied;
}

/** Each leg's codec from its latest offer/answer (applyLegMedia): call quality rates by it. */
const negotiatedCodecs = new WeakMap<Leg, AudioCodecName>();

/** The codec offer/answer last chose for `leg` (undefined before any was applied). */
export function negotiatedCodecOf(leg: Leg): AudioCodecName | undefined {
  return negotiatedCodecs.get(leg);
}

/** Makes `leg` a WebRTC leg (its checks answered from now on); DTLS starts with applyLegMedia. */
export async function makeLegWebRtc(engine: MediaEngine, leg: Leg): Promise<LegSecurity> {
  const known = securities.get(leg);
  if (known !== undefined) return known;
  const security: LegSecurity = { ice: newIceCredentials(), identity: await engine.dtlsIdentity() };
  await leg.secure(security.ice, null, null);
  securities.set(leg, security);
  return security;
}

/** The WebRTC legs' own sides (makeLegWebRtc), so a later offer/answer finds them. */
const securities = new WeakMap<Leg, LegSecurity>();

/** What our SDP toward `leg` says about us when it is a WebRTC leg; undefined otherwise. */
export function webRtcIdentityOf(leg: Leg, advertised: string): WebRtcIdentity | undefined {
  const security = securities.get(leg);
  return security === undefined ? undefined : legWebRtcIdentity(leg, security, advertised);
}

/**
 * What our SDP toward a WebRTC leg says about us: its ICE credentials, our fingerprint,
 * host candidates on `advertised` (the media address in SDP) and on the bind address
 * when it differs, and the SSRC the leg sends with.
 */
export function legWebRtcIdentity(
  leg: Leg,
  security: LegSecurity,
  advertised: string,
): WebRtcIdentity {
  const port = leg.localPort;
  const addresses = [advertised, leg.localAddress].filter(
    (a, i, all) => a !== '0.0.0.0' && a !== '::' && all.indexOf(a) === i,
  );
  return {
    ice: security.ice,
    fingerprint: security.identity.fingerprint,
    candidates: addresses.map((address) => ({ address, port })),
    ssrc: leg.ssrc,
  };
}

/** Whether every contact is a browser's (SIP over WebSocket, RFC 7118 §5: `;transport=ws`/`wss`). */
export { allBrowsers } from './contactKind.js';

export type PartyRole = Exclude<Role, 'supervisor'>;

/**
 * A leg made beside a side's own for a party that has not answered yet, a blind transfer's
 * target (docs/architecture.md §9.3): of its contact's kind, on the call's worker, not in
 * the room. CallMedia.adoptSpare makes it the side's leg, dropSpare closes it; close()
 * closes any left.
 */
export interface SpareLeg {
  readonly anchor: AnchorKind;
  /** The `m=` port of our offer to the party. */
  readonly port: number;
  /** What the offer says about us (WebRTC); undefined for a plain RTP spare. */
  webRtcIdentity(advertised: string): WebRtcIdentity | undefined;
}

export class CallMedia extends TypedEmitter<CallMediaEvents> {
  private closing: Promise<RecordingSummary | null> | undefined;
  private connected = false;
  /** Not connected: both parties are in the room hearing nobody (a prompt plays to them). */
  private parked = false;
  /** The caller's announcement, until it ended and the parties are connected. */
  private announcing: Promise<void> | undefined;
  /** Offer/answer results being applied to the legs (apply()), awaited by announce. */
  private readonly applying = new Set<Promise<void>>();
  /** Settles once the room's first routes are sent to the worker, or the media closes. */
  private markRouted: () => void = () => {};
  private readonly routed = new Promise<void>((resolve) => (this.markRouted = resolve));
  private roles: Record<Side, PartyRole> = { a: 'customer', b: 'agent' };
  /** The side released by a takeover: out of the room. */
  private released: Side | undefined;
  private readonly monitors = new Map<Leg, MonitorMode>();
  /** Serialises room updates so they reach the worker in the order they were made. */
  private updating: Promise<void> = Promise.resolve();
  /** The WebRTC sides (UDP/TLS/RTP/SAVPF): their ICE credentials and our certificate. */
  private readonly security: Partial<Record<Side, LegSecurity>> = {};
  /**
   * Side b's WebRTC candidate (docs/architecture.md §3.2.2): a second leg, WebRTC, beside a
   * plain leg b while a callee's browser and phone contacts ring at once. settle() makes
   * it leg b (a browser's fork answered) or closes it; close() closes it too.
   */
  private candidate: { leg: Leg; security: LegSecurity } | undefined;
  /** The candidate being made: close() waits for it (what it made closes either way). */
  private makingCandidate: Promise<void> | undefined;
  /** Legs settle() let go of, closing: close() waits for them. */
  private readonly retiring = new Set<Promise<void>>();
  /** Spare legs (addSpare) not adopted or dropped yet, with what they are made of. */
  private readonly spares = new Map<SpareLeg, { leg: Leg; security: LegSecurity | undefined }>();
  /** Spares being made: close() waits for them (what they made closes either way). */
  private readonly makingSpares = new Set<Promise<unknown>>();

  private constructor(
    private readonly engine: MediaEngine,
    private readonly legs: Record<Side, Leg>,
    private readonly room: Room,
    private readonly callId: string,
    private readonly codecSpecs: CodecSpec[],
    private readonly logger: Logger,
  ) {
    super((err, event) => logger.error({ err, event }, 'call media listener failed'));
    for (const side of ['a', 'b'] as const) this.wire(side, legs[side]);
  }

  /** `leg` is `side`'s from now on: its events are the side's. */
  private wire(side: Side, leg: Leg): void {
    // A leg settle() let go of speaks for nobody while it closes.
    const current = (): boolean => this.legs[side] === leg;
    // A side released by a takeover is silent by design (its leg waits for the end).
    leg.on('rtpTimeout', (e) => {
      if (current() && side !== this.released) this.emit('timeout', side, e.silentMs);
    });
    leg.on('dtmf', (e) => {
      if (current()) this.emit('dtmf', side, e.digit);
    });
    leg.on('latched', (e) => this.logger.debug({ side, ...e }, 'RTP latched'));
    leg.on('secure', (e) => {
      if (!current()) return;
      if (e.state === 'failed') this.emit('failed', side, e.reason);
      else this.logger.debug({ side }, 'WebRTC leg connected (DTLS-SRTP)');
    });
  }

  /** Two legs for call `callId`, with our codec preference until the answer is known. */
  static async create(
    engine: MediaEngine,
    callId: string,
    codecs: readonly AudioCodecName[],
    logger: Logger,
  ): Promise<CallMedia> {
    const specs = codecs.map((name): CodecSpec => ({
      name,
      payloadType: AUDIO_CODECS[name].payloadType,
    }));
    // Asked together: the engine sends one turn's commands to the call's worker (the
    // group places all three there at once) in one message, where each awaited in turn
    // was a round trip of its own.
    const [a, b, room] = await Promise.allSettled([
      engine.createLeg({ codecs: specs, group: callId, callId }),
      engine.createLeg({ codecs: specs, group: callId, callId }),
      engine.createRoom({ group: callId }),
    ]);
    if (a.status === 'rejected' || b.status === 'rejected' || room.status === 'rejected') {
      await Promise.all(
        [a, b, room].map((made) =>
          made.status === 'fulfilled' ? made.value.close().catch(() => undefined) : undefined,
        ),
      );
      throw [a, b, room].find((made) => made.status === 'rejected')!.reason;
    }
    return new CallMedia(engine, { a: a.value, b: b.value }, room.value, callId, specs, logger);
  }

  /**
   * Makes `side` a WebRTC leg (ICE-lite, DTLS-SRTP, rtcp-mux): a browser's. Its ICE checks
   * are answered from now on; DTLS starts when its SDP is applied. Idempotent.
   */
  async makeWebRtc(side: Side): Promise<void> {
    if (this.security[side] !== undefined) return;
    const security = await makeLegWebRtc(this.engine, this.legs[side]);
    this.security[side] ??= security;
  }

  /** Makes a monitor leg (createMonitorLeg) a WebRTC leg: a browser supervisor's. */
  webRtcMonitorLeg(leg: Leg): Promise<LegSecurity> {
    return makeLegWebRtc(this.engine, leg);
  }

  /**
   * What our SDP toward a WebRTC side says about us (ICE credentials, fingerprint, host
   * candidates on `advertised`, the media address in SDP, and the bind address when it
   * differs); undefined for a plain RTP side.
   */
  webRtcIdentity(side: Side, advertised: string): WebRtcIdentity | undefined {
    const security = this.security[side];
    return security === undefined
      ? undefined
      : legWebRtcIdentity(this.legs[side], security, advertised);
  }

  isWebRtc(side: Side): boolean {
    return this.security[side] !== undefined;
  }

  /**
   * Adds side b's WebRTC candidate beside a plain leg b (the callee has browser and phone
   * contacts): its ICE checks are answered from now on. Nothing when leg b is WebRTC
   * already or a candidate exists. Rejects (with nothing left open) when the engine fails;
   * a later call tries again.
   */
  addWebRtcCandidate(): Promise<void> {
    if (this.security.b !== undefined || this.closing !== undefined) return Promise.resolve();
    if (this.makingCandidate !== undefined) return this.makingCandidate;
    const making = (async () => {
      const leg = await this.engine.createLeg({
        codecs: this.codecSpecs,
        group: this.callId,
        callId: this.callId,
      });
      try {
        const security = await makeLegWebRtc(this.engine, leg);
        if (this.closing !== undefined) {
          await leg.close();
          return;
        }
        this.candidate = { leg, security };
      } catch (err) {
        await leg.close().catch(() => undefined);
        throw err;
      }
    })();
    this.makingCandidate = making;
    making.catch(() => {
      if (this.makingCandidate === making) this.makingCandidate = undefined;
    });
    return making;
  }

  /** What side b's leg is: WebRTC or plain RTP. */
  get anchorOfB(): AnchorKind {
    return this.security.b !== undefined ? 'webrtc' : 'plain';
  }

  /** The anchor a callee contact of `kind` is offered: leg b's, or the WebRTC candidate. */
  anchorFor(kind: ContactKind): AnchorKind {
    return kind === 'browser' && this.candidate !== undefined ? 'webrtc' : this.anchorOfB;
  }

  /**
   * Our side of an offer to the callee anchored on `anchor`: the port of leg b, or of the
   * candidate, and for WebRTC what the SDP says about us.
   */
  offerSide(anchor: AnchorKind, advertised: string): { port: number; webrtc?: WebRtcIdentity } {
    const c = this.candidate;
    if (anchor === 'webrtc' && this.anchorOfB === 'plain' && c !== undefined) {
      return { port: c.leg.localPort, webrtc: legWebRtcIdentity(c.leg, c.security, advertised) };
    }
    const webrtc = this.webRtcIdentity('b', advertised);
    return { port: this.localPort('b'), ...(webrtc !== undefined ? { webrtc } : {}) };
  }

  /**
   * The callee's fork that answered was offered `anchor`: the WebRTC candidate becomes leg
   * b when it was (the plain leg leaves the room, if it was in it, and closes), else the
   * candidate closes. Nothing without a candidate. Synchronous: what is applied to leg b
   * next reaches the leg that stays.
   */
  settle(anchor: AnchorKind): void {
    const c = this.candidate;
    if (c === undefined || this.closing !== undefined) return;
    this.candidate = undefined;
    if (anchor === 'plain') {
      this.retire(c.leg.close());
      return;
    }
    const old = this.legs.b;
    this.legs.b = c.leg;
    this.security.b = c.security;
    this.wire('b', c.leg);
    this.logger.debug({ legId: c.leg.id }, 'WebRTC candidate is leg b now');
    // Early media may have put the plain leg in the room: the routes follow the new leg.
    this.retire(
      this.updateRoom()
        .catch((err: unknown) => this.logger.warn({ err }, 'room update for leg b failed'))
        .then(() => old.close()),
    );
  }

  /**
   * A spare leg of kind `anchor` for a party about to be offered a side (a transfer's
   * target: a browser's needs a WebRTC leg of its own, since one serves a single DTLS
   * peer; a phone's a plain leg). Rejects, with nothing left open, when the engine fails
   * or the media closed meanwhile.
   */
  addSpare(anchor: AnchorKind): Promise<SpareLeg> {
    if (this.closing !== undefined) return Promise.reject(new Error('the call media is closed'));
    const making = (async (): Promise<SpareLeg> => {
      const leg = await this.engine.createLeg({
        codecs: this.codecSpecs,
        group: this.callId,
        callId: this.callId,
      });
      try {
        const security = anchor === 'webrtc' ? await makeLegWebRtc(this.engine, leg) : undefined;
        if (this.closing !== undefined) throw new Error('the call media is closed');
        const spare: SpareLeg = {
          anchor,
          port: leg.localPort,
          webRtcIdentity: (advertised) =>
            security === undefined ? undefined : legWebRtcIdentity(leg, security, advertised),
        };
        this.spares.set(spare, { leg, security });
        return spare;
      } catch (err) {
        await leg.close().catch(() => undefined);
        throw err;
      }
    })();
    this.makingSpares.add(making);
    const forget = (): void => {
      this.makingSpares.delete(making);
    };
    making.then(forget, forget);
    return making;
  }

  /**
   * The party offered `spare` answered: it is `side`'s leg from now on (its kind too); the
   * side's old leg leaves the room and closes. Synchronous: what is applied to the side
   * next reaches the spare. Nothing for a spare dropped already or after close().
   */
  adoptSpare(side: Side, spare: SpareLeg): void {
    const made = this.spares.get(spare);
    if (made === undefined || this.closing !== undefined) return;
    this.spares.delete(spare);
    const old = this.legs[side];
    this.legs[side] = made.leg;
    if (made.security !== undefined) this.security[side] = made.security;
    else delete this.security[side];
    this.wire(side, made.leg);
    this.logger.debug({ side, legId: made.leg.id, anchor: spare.anchor }, 'spare leg adopted');
    this.retire(
      this.updateRoom()
        .catch((err: unknown) =>
          this.logger.warn({ err, side }, 'room update for a new leg failed'),
        )
        .then(() => old.close()),
    );
  }

  /** A spare no party will use: it closes. */
  dropSpare(spare: SpareLeg): void {
    const made = this.spares.get(spare);
    if (made === undefined) return;
    this.spares.delete(spare);
    this.retire(made.leg.close());
  }

  private retire(closing: Promise<void>): void {
    const tracked: Promise<void> = closing
      .catch((err: unknown) => this.logger.warn({ err }, 'closing a leg let go of failed'))
      .finally(() => this.retiring.delete(tracked));
    this.retiring.add(tracked);
  }

  /** Where a party must send its RTP (the `c=` address and `m=` port of our SDP to it). */
  localPort(side: Side): number {
    return this.legs[side].localPort;
  }

  get localAddress(): string {
    return this.legs.a.localAddress;
  }

  /** What offer/answer decided for one leg (RFC 3264): remote address, codec, direction. */
  async apply(side: Side, media: LegMedia): Promise<void> {
    if (this.closing !== undefined) return;
    const applying = applyLegMedia(this.legs[side], media);
    this.applying.add(applying);
    try {
      await applying;
    } finally {
      this.applying.delete(applying);
    }
  }

  /**
   * Puts both parties in the room: each hears the other (idempotent). During an
   * announcement it waits for its end instead (the announcement connects them).
   */
  async connect(): Promise<void> {
    if (this.closing !== undefined || this.connected) return;
    if (this.announcing !== undefined) return this.announcing;
    this.connected = true;
    try {
      await this.updateRoom();
    } finally {
      this.markRouted();
    }
  }

  /**
   * Puts `side` alone in the room before the parties are connected, so tones reach it (a
   * queue's hold audio, docs/architecture.md §9.5). connect() then routes both sides.
   */
  async holdSide(side: Side): Promise<void> {
    if (this.closing !== undefined || this.connected) return;
    const run = async (): Promise<void> => {
      if (this.closing !== undefined || this.connected) return;
      await this.room.setRoutes(roomRoutes([{ id: this.legs[side], role: this.roles[side] }]));
    };
    const next = this.updating.then(run, run);
    this.updating = next.catch(() => undefined);
    return next;
  }

  /**
   * The call was answered: plays `prompt` to the caller before the parties hear each other
   * (parked meanwhile, also when early media had connected them), then connects them,
   * however the prompt ended. Once per call; resolves when they are connected.
   */
  announce(prompt: Prompt): Promise<void> {
    if (this.closing !== undefined) return Promise.resolve();
    this.announcing ??= (async () => {
      this.connected = false;
      await Promise.allSettled([...this.applying]);
      const playback = await this.playPrompt(['a'], prompt).catch((err: unknown) => {
        this.logger.warn({ err }, 'announcement failed; connecting the parties');
        return null;
      });
      if (playback !== null) {
        this.logger.debug({ durationMs: prompt.durationMs }, 'announcement playing');
        await playback.done;
      }
      if (this.closing !== undefined) return;
      this.connected = true;
      try {
        await this.updateRoom();
      } finally {
        this.markRouted();
      }
    })();
    return this.announcing;
  }

  /**
   * Plays `prompt` to the parties (and monitors) named, once or looped (hold audio), into
   * their outbound audio only: never to another leg, never into the recording. Before the
   * parties are connected they are parked (in the room, hearing nobody) first. Null when
   * the call's media is closing; rejects when the engine refuses (a leg not in the room).
   */
  async playPrompt(
    to: Array<Side | Leg>,
    prompt: Prompt,
    options: PlayPromptOptions = {},
  ): Promise<PromptPlayback | null> {
    if (this.closing !== undefined) return null;
    if (!this.connected && !this.parked) {
      this.parked = true;
      await this.updateRoom();
    }
    if (this.closing !== undefined) return null;
    const legs = to.map((t) => (typeof t === 'string' ? this.legs[t] : t)).filter((l) => !l.closed);
    return this.room.playPrompt(legs, prompt, options);
  }

  get isConnected(): boolean {
    return this.connected && this.closing === undefined;
  }

  roleOf(side: Side): PartyRole {
    return this.roles[side];
  }

  /**
   * Which side is the customer and which the agent (before or after connect). The same
   * roles again change no route, so nothing is sent (the recording tap sets them on every
   * answered call, usually to what they were).
   */
  async setRoles(roles: Record<Side, PartyRole>): Promise<void> {
    if (roles.a === this.roles.a && roles.b === this.roles.b) return;
    this.roles = { ...roles };
    if (this.connected) await this.updateRoom();
  }

  /** Starts the recording tap (customer and agent only; never a monitor). */
  async startRecording(recording: RecordingConfig): Promise<RecordingStarted | null> {
    // The call is answered while the answer's codecs are still on their way to the engine
    // and before the parties are in the room: the recording's rate follows the negotiated
    // codecs of the recorded legs (16 kHz for a wideband one), not provisional ones. The
    // answer's applyMedia commands are sent before the routes (apply() sends at once), and
    // the start follows the routes in the same message to the worker, which runs commands
    // in order: no reply needs waiting for (one wake-up of it: docs/architecture.md §7.6).
    await this.routed;
    // An announcement: the recording starts with the conversation (docs/architecture.md §6.9).
    await this.announcing;
    if (this.closing !== undefined) return null;
    return this.room.startRecording(recording);
  }

  /** The codec offer/answer last chose for a side (undefined before the first answer). */
  negotiatedCodec(side: Side): AudioCodecName | undefined {
    return negotiatedCodecOf(this.legs[side]);
  }

  /** The engine's id of a side's leg (its 'legStats' reports carry it: call quality). */
  legId(side: Side): number {
    return this.legs[side].id;
  }

  /** A leg for a monitor of this call, on the call's worker; its DTMF is consumed. */
  async createMonitorLeg(): Promise<Leg> {
    return this.engine.createLeg({
      codecs: this.codecSpecs,
      telephoneEvent: null,
      group: this.callId,
      callId: this.callId,
      forwardDtmf: false,
    });
  }

  /** Adds a monitor leg in `mode`, or changes its mode (applied on the next frame). */
  async setMonitor(leg: Leg, mode: MonitorMode): Promise<void> {
    if (mode === 'takeover') {
      const agent: Side = this.roles.a === 'agent' ? 'a' : 'b';
      this.released = agent;
    }
    this.monitors.set(leg, mode);
    await this.updateRoom();
  }

  /** The monitor leaves the room (its leg is the caller's to close). */
  async removeMonitor(leg: Leg): Promise<void> {
    if (!this.monitors.delete(leg)) return;
    await this.updateRoom();
  }

  /** Plays a tone to the parties (and monitors) named. */
  async playTone(to: Array<Side | Leg>, tone: ToneConfig): Promise<void> {
    if (this.closing !== undefined) return;
    const legs = to.map((t) => (typeof t === 'string' ? this.legs[t] : t)).filter((l) => !l.closed);
    await this.room.playTone(legs, tone);
  }

  /** The side a takeover released, if any. */
  get releasedSide(): Side | undefined {
    return this.released;
  }

  private updateRoom(): Promise<void> {
    const run = async (): Promise<void> => {
      if (this.closing !== undefined) return;
      if (!this.connected) {
        // Parked: in the room (so prompts reach them), hearing nobody, recorded by nobody.
        if (!this.parked) return;
        await this.room.setRoutes({
          members: [
            { leg: this.legs.a, hears: [] },
            { leg: this.legs.b, hears: [] },
          ],
          recordingTracks: [[], []],
        });
        return;
      }
      const participants: Participant<Leg>[] = [];
      for (const side of ['a', 'b'] as const) {
        if (side === this.released) continue;
        participants.push({ id: this.legs[side], role: this.roles[side] });
      }
      for (const [leg, mode] of this.monitors) {
        if (!leg.closed) participants.push({ id: leg, role: 'supervisor', mode });
      }
      const sent = this.room.setRoutes(roomRoutes(participants));
      this.markRouted();
      await sent;
    };
    const next = this.updating.then(run, run);
    this.updating = next.catch(() => undefined);
    return next;
  }

  /**
   * Ends the room (completing the recording), closes both legs (their sockets and ports),
   * a WebRTC candidate (also one still being made), spare legs (also those being made) and
   * legs settle() or adoptSpare() let go of.
   * Idempotent, never rejects; `ended` then has the recording's summary.
   */
  close(): Promise<void> {
    this.markRouted();
    // The room's close and both legs' in one turn, so one message to the worker (and one
    // back) where waiting for the room's answer first made two: the worker runs them in
    // order, and closing the room takes its members out of it before it completes the
    // recording (docs/architecture.md §7.6). A WebRTC candidate leg (§3.2.2) closes once
    // it is made, with any leg let go of before.
    this.closing ??= Promise.all([
      this.room.close(),
      this.legs.a.close(),
      this.legs.b.close(),
      this.closeCandidate(),
      this.closeSpares(),
      ...this.retiring,
    ]).then(([summary]) => {
      this.removeAllListeners();
      return summary;
    });
    return this.closing.then(() => undefined);
  }

  /** Closes the WebRTC candidate leg, waiting for it when it is still being made. */
  private async closeCandidate(): Promise<void> {
    await this.makingCandidate?.catch(() => undefined);
    const candidate = this.candidate;
    this.candidate = undefined;
    await candidate?.leg.close();
  }

  /** Closes the spare legs, waiting for those still being made (they close themselves). */
  private async closeSpares(): Promise<void> {
    await Promise.allSettled([...this.makingSpares]);
    const left = [...this.spares.values()];
    this.spares.clear();
    await Promise.all(left.map((s) => s.leg.close()));
  }

  /** After close(): the recording's summary (null when nothing was recorded). */
  get ended(): Promise<RecordingSummary | null> | undefined {
    return this.closing;
  }
}
