/**
 * One call leg's media, as the main thread sees it: a pair of local ports anchoring one
 * endpoint's RTP and RTCP inside a worker. Created by MediaEngine.createLeg, never by a
 * constructor call (docs/architecture.md §15.2).
 *
 * Routes: `setSources([...])` says which legs this leg's outbound stream is fed from —
 * none (silence), one (relay: rewritten for continuity, transcoded only if the codecs
 * differ), or, once the mixer exists, several (mixed). A two-party call is A ← B and
 * B ← A (MediaEngine.connect). Whatever feeds it, the leg sends one continuous stream:
 * one SSRC (`ssrc`), contiguous sequence numbers, timestamps on the media clock.
 *
 * Events: 'latched' (symmetric RTP found the endpoint), 'rtpTimeout' (workerCore.ts has
 * the policy), 'dtmf' (one per RFC 4733 event), 'stats' (periodic), 'close' with the
 * reason: 'closed' (close() called), 'engine-closed', 'worker-died'.
 *
 * Close is idempotent; every method after it rejects with InvalidStateError.
 */
import { TypedEmitter } from '../util/typedEmitter.js';
import { InvalidStateError, MediaError } from './errors.js';
import type { MediaLogger } from './logger.js';
import type { MediaWorker } from './mediaWorker.js';
import type {
  CodecSpec,
  Command,
  DtlsCertificateSpec,
  DtmfEvent,
  IceCredentialsSpec,
  SecureRemoteSpec,
  LegStats,
  MediaDirection,
  RemoteAddress,
  RtpTimeoutReason,
  TelephoneEventSpec,
} from '../worker/protocol.js';
import {
  checkCodecs,
  checkDirection,
  checkRemote,
  checkSources,
  checkTelephoneEvent,
  validateCommand,
} from '../worker/validate.js';

/** Leg.applyMedia's argument: one offer/answer's result for the leg. */
export interface LegMediaSpec {
  /** Negotiated codecs, preferred first. */
  codecs: CodecSpec[];
  telephoneEvent?: TelephoneEventSpec | null;
  /** The endpoint's address; absent: the leg keeps the one it has. */
  remote?: RemoteAddress | null;
  direction: MediaDirection;
}

export type LegCloseReason = 'closed' | 'engine-closed' | 'worker-died';

export interface LatchedEvent {
  address: string;
  port: number;
  /** True when it is the address the SDP signalled, false for a NAT-rewritten one. */
  signalled: boolean;
}

export interface RtpTimeoutEvent {
  reason: RtpTimeoutReason;
  /** How long the leg has been without RTP. */
  silentMs: number;
}

export interface SecureEvent {
  state: 'connected' | 'failed';
  reason: string;
}

export type LegEvents = {
  latched: [LatchedEvent];
  rtpTimeout: [RtpTimeoutEvent];
  dtmf: [DtmfEvent];
  stats: [LegStats];
  close: [LegCloseReason];
  /** A WebRTC leg's DTLS: done (media flows) or failed (its media is over). */
  secure: [SecureEvent];
};

/** What a leg is created with (MediaEngine's side; not part of the public API). */
export interface LegInit {
  id: number;
  localAddress: string;
  localPort: number;
  ssrc: number;
  group: string | undefined;
  callId: string | undefined;
  direction: MediaDirection;
  remote: RemoteAddress | null;
  worker: MediaWorker;
  /** The engine's address family: remotes must match it. */
  family: 4 | 6;
  logger: MediaLogger;
  /** The engine's part of close(): tell the worker, then free the ports. */
  closeLeg(leg: Leg): Promise<void>;
}

export class Leg extends TypedEmitter<LegEvents> {
  /** Unique within the engine. */
  readonly id: number;
  /** The address and RTP port to put in SDP (`c=`, `m=`); RTCP is `rtcpPort`. */
  readonly localAddress: string;
  readonly localPort: number;
  readonly rtcpPort: number;
  /** The SSRC of everything this leg sends. */
  readonly ssrc: number;
  readonly group: string | undefined;
  readonly callId: string | undefined;
  /** The index of the worker thread that anchors this leg (legs of a group share it). */
  readonly workerIndex: number;
  /** @internal the worker that anchors this leg. */
  readonly worker: MediaWorker;

  #closed = false;
  #closing: Promise<void> | undefined;
  #direction: MediaDirection;
  #remote: RemoteAddress | null;
  #sources: Leg[] = [];
  readonly #listeners = new Set<Leg>();
  readonly #closeLeg: (leg: Leg) => Promise<void>;
  readonly #family: 4 | 6;

  /** @internal created by MediaEngine.createLeg. */
  constructor(init: LegInit) {
    super((error, event) =>
      init.logger.error(
        { error, event, legId: init.id, callId: init.callId },
        'leg listener threw',
      ),
    );
    this.id = init.id;
    this.localAddress = init.localAddress;
    this.localPort = init.localPort;
    this.rtcpPort = init.localPort + 1;
    this.ssrc = init.ssrc;
    this.group = init.group;
    this.callId = init.callId;
    this.worker = init.worker;
    this.workerIndex = init.worker.index;
    this.#direction = init.direction;
    this.#remote = init.remote;
    this.#closeLeg = init.closeLeg;
    this.#family = init.family;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get direction(): MediaDirection {
    return this.#direction;
  }

  get remote(): RemoteAddress | null {
    return this.#remote;
  }

  /** The legs this one's outbound stream is fed from. */
  get sources(): readonly Leg[] {
    return this.#sources;
  }

  /** The endpoint's address from its SDP (null: not known yet). A new address unlatches. */
  async setRemote(remote: RemoteAddress | null): Promise<void> {
    this.assertOpen();
    const checked = checkRemote(remote, 'remote', this.#family);
    await this.worker.request({ type: 'setRemote', legId: this.id, remote: checked });
    this.#remote = checked;
  }

  /**
   * Makes this a WebRTC leg (ICE-lite, DTLS-SRTP, rtcp-mux; docs/architecture.md §3.2.2)
   * with our ICE credentials; with `remote` and `certificate` (once the peer's SDP is
   * known) DTLS starts. Call again with them when the first call had none.
   */
  async secure(
    local: IceCredentialsSpec,
    remote: SecureRemoteSpec | null,
    certificate: DtlsCertificateSpec | null,
  ): Promise<void> {
    this.assertOpen();
    const command = validateCommand({
      type: 'secureLeg',
      id: 0,
      legId: this.id,
      local,
      remote,
      certificate,
    }) as Extract<Command, { type: 'secureLeg' }>;
    const { id: _id, ...body } = command;
    await this.worker.request(body);
  }

  /** New negotiated codecs (a re-INVITE's answer), preferred first. */
  async setCodecs(
    codecs: CodecSpec[],
    telephoneEvent: TelephoneEventSpec | null = null,
  ): Promise<void> {
    this.assertOpen();
    const checked = checkCodecs(codecs);
    const te = checkTelephoneEvent(telephoneEvent, checked);
    await this.worker.request({
      type: 'setCodecs',
      legId: this.id,
      codecs: checked,
      telephoneEvent: te,
    });
  }

  /**
   * What one offer/answer decided (RFC 3264), in one command to the worker: the
   * negotiated codecs and telephone-event, the endpoint's address (absent: unchanged, as
   * for a hold to 0.0.0.0) and the direction, applied in that order, as setCodecs,
   * setRemote and setDirection would (docs/architecture.md §5.2).
   */
  async applyMedia(media: LegMediaSpec): Promise<void> {
    this.assertOpen();
    const codecs = checkCodecs(media.codecs);
    const telephoneEvent = checkTelephoneEvent(media.telephoneEvent ?? null, codecs);
    const hasRemote = media.remote !== undefined;
    const remote = hasRemote ? checkRemote(media.remote, 'remote', this.#family) : null;
    const direction = checkDirection(media.direction);
    await this.worker.request({
      type: 'applyMedia',
      legId: this.id,
      codecs,
      telephoneEvent,
      ...(hasRemote ? { remote } : {}),
      direction,
    });
    if (hasRemote) this.#remote = remote;
    this.#direction = direction;
  }

  /**
   * Feeds this leg from `sources` (legs of the same engine and worker: create a call's
   * legs with one `group`). [] sends nothing; two or more need the mixer (not built yet:
   * MediaError 'ERR_MIX_UNSUPPORTED').
   */
  async setSources(sources: readonly Leg[]): Promise<void> {
    this.assertOpen();
    for (const source of sources) {
      if (!(source instanceof Leg)) {
        throw new MediaError('ERR_INVALID_ARGUMENT', 'sources must be legs');
      }
      if (source.#closed) throw new InvalidStateError(`source leg ${source.id} is closed`);
      if (source.worker !== this.worker) {
        throw new MediaError(
          'ERR_CROSS_WORKER',
          `legs ${this.id} and ${source.id} live in different workers (give them one group)`,
        );
      }
    }
    const list = [...sources];
    const ids = checkSources(
      list.map((leg) => leg.id),
      this.id,
    );
    await this.worker.request({ type: 'setSources', legId: this.id, sources: ids });
    if (this.#closed) return;
    for (const old of this.#sources) old.#listeners.delete(this);
    this.#sources = list.filter((leg) => !leg.#closed);
    for (const source of this.#sources) source.#listeners.add(this);
  }

  /** Hold and resume (RFC 3264 §8.4); see MediaDirection for whose point of view. */
  async setDirection(direction: MediaDirection): Promise<void> {
    this.assertOpen();
    const checked = checkDirection(direction);
    await this.worker.request({ type: 'setDirection', legId: this.id, direction: checked });
    this.#direction = checked;
  }

  async getStats(): Promise<LegStats> {
    this.assertOpen();
    const report = await this.worker.request({ type: 'getStats', legId: this.id });
    return report.legs[0]!;
  }

  /** Closes the leg's sockets and frees its ports. Idempotent; never rejects. */
  close(): Promise<void> {
    if (this.#closing === undefined) {
      this.markClosed('closed');
      this.#closing = this.#closeLeg(this);
    }
    return this.#closing;
  }

  /** @internal the engine closed or the worker died: no command is sent. */
  parentClosed(reason: Exclude<LegCloseReason, 'closed'>): void {
    if (this.#closing !== undefined) return;
    this.#closing = Promise.resolve();
    this.markClosed(reason);
  }

  private markClosed(reason: LegCloseReason): void {
    this.#closed = true;
    for (const source of this.#sources) source.#listeners.delete(this);
    for (const listener of this.#listeners) {
      listener.#sources = listener.#sources.filter((leg) => leg !== this);
    }
    this.#sources = [];
    this.#listeners.clear();
    this.emit('close', reason);
  }

  private assertOpen(): void {
    if (this.#closed) throw new InvalidStateError(`leg ${this.id} is closed`);
  }
}
