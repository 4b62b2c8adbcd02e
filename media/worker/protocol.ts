/**
 * The media worker's message protocol: every type that crosses the worker boundary, in
 * one file (docs/architecture.md §5: the mediasoup model — a typed control API on the main thread, a message
 * loop in the worker). Messages are structured-cloned plain objects.
 *
 *   main → worker   Command: `{ type, id, … }`, answered by exactly one Reply with that id
 *   worker → main   WorkerEvent: 'ready' once, then replies and unsolicited events
 *                   (latched, rtpTimeout, dtmf, stats, log)
 *
 * After 'ready', the messages of one event-loop turn travel together, in order, as one
 * `{ type: 'batch', messages }` envelope (media/worker/batch.ts) in both directions.
 *
 * The worker's start-up configuration travels as `workerData` (WorkerConfig). Legs are
 * named by numeric ids the engine assigns (unique per engine), so the worker's hot path
 * keys on numbers. Both sides validate with media/worker/validate.ts; a change to any
 * shape here bumps PROTOCOL_VERSION, which the worker announces in 'ready' so an engine
 * running against a stale `dist/` build fails loudly instead of misbehaving.
 */
import type { CodecName } from '../codecs/codec.js';
import type { MediaErrorCode } from '../engine/errors.js';
import type { PacketIoCounters } from '../io/packetIo.js';
import type { SecureCounters } from '../secure/securePair.js';

export type { CodecName } from '../codecs/codec.js';

export const PROTOCOL_VERSION = 8;

// ---------------------------------------------------------------------------------------
// Shared value types

/** A negotiated audio codec (media/codecs/codec.ts names: PCMU, PCMA, G722, opus). */
export interface CodecSpec {
  name: CodecName;
  /** 0–127 as negotiated in the SDP (static 0 / 8 / 9, dynamic for Opus; any mapping is
   *  honoured: we send what the peer numbered, RFC 3264 §6.1). */
  payloadType: number;
}

/** The RTP clock rates telephone-event is negotiated at: those of the codecs. */
export type TelephoneEventClockRate = 8000 | 48000;

export const TELEPHONE_EVENT_CLOCK_RATES: readonly TelephoneEventClockRate[] = [8000, 48000];

/** RFC 4733 telephone-event, with its negotiated dynamic payload type. */
export interface TelephoneEventSpec {
  payloadType: number;
  /** Its RTP clock, that of the audio codec it goes with (RFC 4733 §2.1): 8000 beside
   *  G.711 and G.722, 48000 beside Opus. Absent: 8000 (validation fills it in). */
  clockRate?: TelephoneEventClockRate;
}

/** Where the endpoint said (in its SDP) it receives media. */
export interface RemoteAddress {
  /** An IP literal of the engine's address family (no host names). */
  address: string;
  /** RTP port, 1–65535. */
  port: number;
  /** RTCP port from `a=rtcp` (RFC 3605); default `port + 1`. */
  rtcpPort?: number;
  /** `a=rtcp-mux` negotiated (RFC 5761): RTCP is sent to the RTP port. */
  rtcpMux?: boolean;
}

/** ICE credentials (RFC 8445 §5.3): `a=ice-ufrag` and `a=ice-pwd`. */
export interface IceCredentialsSpec {
  ufrag: string;
  pwd: string;
}

/** A DTLS certificate and its key, PEM (one per server start, docs/architecture.md §3.2.2). */
export interface DtlsCertificateSpec {
  certPem: string;
  keyPem: string;
}

/** A certificate and its SHA-256 fingerprint as `a=fingerprint` writes it. */
export interface DtlsIdentitySpec {
  certificate: DtlsCertificateSpec;
  fingerprint: { algorithm: 'sha-256'; value: string };
}

/** The WebRTC peer's side of a secure leg, from its SDP. */
export interface SecureRemoteSpec {
  /** null until its SDP is known (its checks are still answered: our password decides). */
  ice: IceCredentialsSpec | null;
  /** `a=fingerprint` values (RFC 8122): algorithm (`sha-256`) and colon-separated hex. */
  fingerprints: Array<{ algorithm: string; value: string }>;
  /** Our DTLS role from `a=setup` (RFC 5763 §5): server when we are passive. */
  dtlsRole: 'server' | 'client';
}

/**
 * A leg's media direction from the ENGINE's point of view toward that leg's endpoint —
 * the attribute the engine's SDP carries for that leg (RFC 3264 §5.1, §6.1, §8.4):
 * - sendrecv: the engine sends to the endpoint and accepts what it sends;
 * - sendonly: the engine sends, and drops what the endpoint sends;
 * - recvonly: the engine accepts, and sends nothing to the endpoint;
 * - inactive: neither (RTCP keeps flowing, §5.1).
 * A phone that offers `a=sendonly` (it holds the other party) is answered `a=recvonly`:
 * that leg's direction is 'recvonly'.
 */
export type MediaDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

export const MEDIA_DIRECTIONS: readonly MediaDirection[] = [
  'sendrecv',
  'sendonly',
  'recvonly',
  'inactive',
];

/** Start-up configuration of one worker (`workerData`). */
export interface WorkerConfig {
  /** The worker's index in the engine, for logs and stats. */
  index: number;
  /** Local bind address of every leg's sockets (an IP literal). */
  address: string;
  /** No RTP for this long raises rtpTimeout (0: never). */
  rtpTimeoutMs: number;
  /** How long after a leg starts (or its remote changes) it latches onto any source. */
  latchWindowMs: number;
  /** Period of the 'stats' event (0: only on request). */
  statsIntervalMs: number;
  /** Mean period of each leg's RTCP report (RFC 3550 §6.2: 5 s), randomised ×0.5–1.5. */
  rtcpIntervalMs: number;
  /** Period of the worker's one timer: media timeouts, DTMF expiry, RTCP, stats. */
  sweepIntervalMs: number;
  /** Per-source jitter buffers of the mixer (the recording tap has none: it reads packets). */
  jitter: { minDepthMs: number; maxDepthMs: number };
  /** Lowest mix rate in Hz (default 8000: wideband only with a wideband member; 16000: always). */
  minMixRate?: number;
  /**
   * Longest slice (ms) of the rooms' frames or recording drains before the packet path
   * gets a turn (default ROOM_SLICE_MS in workerCore.ts; 0: every room in one turn).
   */
  roomSliceMs?: number;
  /** Which packet io the worker's legs use (absent: dgram). 'native' falls back to dgram
   *  in a worker where the addon does not load (its stats name the io that runs). */
  io?: PacketIoChoice;
}

/** The packet io implementations (media/io/): the native addon, or node:dgram. */
export type PacketIoChoice = 'native' | 'dgram';

/** One leg as the worker creates it. */
export interface LegConfig {
  legId: number;
  /** Even RTP port; RTCP is bound on port + 1. */
  port: number;
  /** Negotiated audio codecs, preferred first: the first is what the leg is sent when
   *  a source's codec is not among them (transcoded). At least one. */
  codecs: CodecSpec[];
  telephoneEvent: TelephoneEventSpec | null;
  remote: RemoteAddress | null;
  direction: MediaDirection;
  /** Relay this leg's RFC 4733 events to its listeners (false: consume, e.g. a
   *  supervisor's steering digits). They are reported as 'dtmf' events either way. */
  forwardDtmf: boolean;
  /** For logs only (e.g. the SIP Call-ID). */
  label: string | null;
}

// ---------------------------------------------------------------------------------------
// Rooms (the per-call mixer, docs/architecture.md §6)

/** One leg a room member hears, at a linear gain (1 = unity; finite, 0 < gain ≤ 4). */
export interface RoomHearing {
  legId: number;
  gain: number;
}

/**
 * One member of a room and what it hears: other members only (never itself). The worker
 * knows no roles: a member hearing exactly one leg at gain 1 whose codecs it takes is
 * relayed on the packet path; anything else is fed from the room's clocked mix.
 */
export interface RoomRoute {
  legId: number;
  hears: RoomHearing[];
}

/**
 * The recording's tracks: the member legIds summed into track 0 (left) and track 1
 * (right). A mono recording sums both tracks.
 */
export type RecordingTracks = [number[], number[]];

/**
 * File formats of the recording tap (media/recording/): 16-bit PCM WAV, G.711 WAV (µ-law
 * or A-law, the call's law, its payloads written as received), Ogg Opus (RFC 7845).
 */
export type RecordingFormat = 'wav' | 'wav-g711' | 'ogg-opus';
export const RECORDING_FORMATS = [
  'wav',
  'wav-g711',
  'ogg-opus',
] as const satisfies readonly RecordingFormat[];

/** The recording tap: a file written from the call's packets while it runs. */
export interface RecordingConfig {
  /** Absolute path of the file to create (it must not exist). */
  path: string;
  /** 2: track 0 left, track 1 right (RecordingTracks); 1: both summed. */
  channels: 1 | 2;
  /** Default 'wav'. */
  format?: RecordingFormat;
  /** Permissions of the file (default 0640), applied whatever the umask. */
  fileMode?: number;
}

/** What a recording was started as (its rate follows the recorded legs' codecs). */
export interface RecordingStarted {
  format: RecordingFormat;
  /** 8000, or 16000 when a recorded leg's codec is wideband. */
  sampleRate: number;
  /** How samples are stored: pcm16, mulaw, alaw or opus. */
  encoding: 'pcm16' | 'mulaw' | 'alaw' | 'opus';
  /**
   * Wall-clock ms (the worker's Date.now()) of the file's first sample: when the worker
   * started the recording, before its file was created (docs/architecture.md §7.6).
   */
  startedAt?: number;
}

export interface RecordingSummary {
  path: string;
  /** Bytes of the file (WAV: the audio after the header; Ogg: the whole file). */
  bytes: number;
  frames: number;
  /** An I/O error that stopped the recording early, if any. */
  error: string | null;
  format: RecordingFormat;
  sampleRate: number;
}

/** A tone played into some legs' outbound audio (media/tones/toneGenerator.ts). */
export interface ToneConfig {
  /** One or two frequencies in Hz, summed. */
  frequencies: number[];
  levelDbm0: number;
  onMs: number;
  offMs: number;
  repeat: number;
}

/** Why a prompt stopped playing: its end, stopPrompt, every leg it played to left, room closed. */
export type PromptEndReason = 'finished' | 'stopped' | 'left' | 'closed';

/** The rates a prompt's samples may have (the mixer's, docs/architecture.md §6.3). */
export type PromptRate = 8000 | 16000;
/** The longest prompt (s): hold audio loops, so minutes are plenty; bounds a worker's copy. */
export const MAX_PROMPT_SECONDS = 600;

// ---------------------------------------------------------------------------------------
// Statistics

/** Monotonic counters of one leg (or a worker's total, closed legs included). */
export interface MediaCounters {
  /** Datagrams received on the leg's RTP and RTCP ports, valid or not. */
  packetsIn: number;
  bytesIn: number;
  /** RTP packets accepted (valid, from the latched source, negotiated payload type). */
  rtpIn: number;
  /** RTP packets sent to the endpoint. */
  packetsOut: number;
  bytesOut: number;
  rtcpIn: number;
  rtcpOut: number;
  /** Too short, version ≠ 2, lengths that don't add up (RTP or RTCP). */
  dropMalformed: number;
  /** From an address other than the latched one (RFC 4961 symmetric RTP), or before
   *  latching from anywhere but the signalled address once the latch window has passed. */
  dropForeign: number;
  /** RTCP that came before the leg could tell its endpoint's address: not latched, not
   *  from the signalled address, within the latch window (where RTP from that address
   *  would latch). Unverified rather than foreign; RTCP never latches a leg. */
  dropEarlyRtcp: number;
  /** A payload type the leg did not negotiate. */
  dropPayloadType: number;
  /** Not accepted from, or not sent to, the endpoint because of the leg's direction. */
  dropDirection: number;
  /** Telephone-events not relayed: the listener has no telephone-event, or the source's
   *  DTMF is consumed (forwardDtmf false). */
  dropDtmf: number;
  /** Not sent to the endpoint because it has no address yet (no remote, not latched). */
  dropNoDestination: number;
  /** Late packets of a previous segment (OutboundStream: stale after a source switch). */
  dropStale: number;
  /** Not relayed to a listener that did not negotiate the source's codec and cannot be
   *  given it by a table (G.711 µ-law ↔ A-law is; G.722 or Opus is not): never forward
   *  a payload the listener did not negotiate (RFC 3264 §5.1). */
  dropCodec: number;
  /** Exceptions caught on the packet path (a bug: logged, never fatal). */
  internalErrors: number;
}

export interface InboundStats {
  /** SSRC of the stream the endpoint sends. */
  ssrc: number;
  /** RFC 3550 A.3 on what we received from the endpoint. */
  received: number;
  expected: number;
  lost: number;
  /** Interarrival jitter (A.8) in milliseconds. */
  jitterMs: number;
}

/** What the endpoint's own RTCP reports say about the stream we send it. */
export interface RemoteReport {
  /** Fraction lost in the endpoint's last interval, 0–1. */
  fractionLost: number;
  cumulativeLost: number;
  jitterMs: number;
  /** Round-trip time (§6.4.1), null until the endpoint echoes one of our SRs. */
  rttMs: number | null;
  /** How long ago the report arrived. */
  ageMs: number;
}

export interface LegStats {
  legId: number;
  direction: MediaDirection;
  latched: { address: string; port: number } | null;
  counters: MediaCounters;
  inbound: InboundStats | null;
  remoteReport: RemoteReport | null;
  /** Time since the last accepted RTP packet; null if none yet. */
  lastRtpAgoMs: number | null;
  /** A WebRTC leg's transport (media/secure/securePair.ts); absent for a plain RTP leg. */
  secure?: SecureLegStats;
}

/** A WebRTC leg's state and what its demultiplexer dropped, and why (monotonic counts). */
export interface SecureLegStats extends SecureCounters {
  state: 'new' | 'connecting' | 'connected' | 'failed' | 'closed';
}

export interface WorkerStats {
  worker: number;
  legs: number;
  /** Totals over the worker's life, closed legs included. */
  counters: MediaCounters;
  /** CPU time of the worker thread since it started (Linux schedstat) plus that of its
   *  packet io's own threads (the native io's event thread), null elsewhere. */
  cpuMs: number | null;
  /** Event-loop utilisation since the previous stats report, 0–1. */
  eventLoopUtilization: number;
  /** Lateness of the worker's sweep timer since the previous report (event-loop lag). */
  loopDelayMs: { mean: number; max: number };
  /** Which packet I/O the worker's legs use (media/io/packetIo.ts PacketIo.name). */
  io: string;
  /** That io's counters: datagrams of all the worker's ports, closed ones included. */
  ioCounters: PacketIoCounters;
  /** Live werift objects of WebRTC legs in the worker (a leak shows here). */
  secureLive?: { pairs: number; dtls: number; srtp: number };
  /**
   * The io's relay fast path (docs/architecture.md §3.2.1): routes live now, and RTP
   * packets it relayed without JavaScript over the worker's life (as far as counted).
   */
  fastRelay?: { routes: number; packets: number };
}

/** The mixer's side of a worker (rooms, the frame clock, jitter buffers, recordings). */
export interface MixerStats {
  rooms: number;
  /** Rooms whose frame work runs on the clock (someone mixes, or a tone; a recording does not). */
  clockedRooms: number;
  /** Monotonic totals over the worker's life. */
  ticks: number;
  ticksSkipped: number;
  /** Mixed frames sent to listeners (one per listener per frame). */
  framesMixed: number;
  /** Source frames filled by loss concealment. */
  framesConcealed: number;
  /** Source payloads a decoder found corrupt (concealed instead). */
  framesCorrupt: number;
  packetsLate: number;
  /** Tick lateness histogram since the worker started: `le` bucket bounds in ms. */
  lateness: { le: readonly number[]; counts: number[]; sum: number; count: number };
  /** Mean target depth of the live jitter buffers (ms), null when there are none. */
  jitterDepthMs: number | null;
  recordingsActive: number;
  /**
   * Of those, the ones the native io keeps, placing their packets as its event thread
   * relays (docs/architecture.md §3.7); the others are placed by the worker's sweep.
   */
  recordingsKeptByIo: number;
  /** Audio bytes written to recordings over the worker's life (monotonic). */
  recordingBytes: number;
  /**
   * Recordings an error cut short (I/O, disk backlog, size limit) over the worker's life
   * (monotonic), counted from the moment the error happens, not when the call ends.
   */
  recordingErrors: number;
  /**
   * Payloads a recording's decoder found corrupt (written as concealment) over the worker's
   * life (monotonic). Counted apart from `framesCorrupt`: a mixed and recorded leg's bad
   * payload is decoded, and found corrupt, once by each.
   */
  recordingFramesCorrupt: number;
}

export interface StatsReport {
  worker: WorkerStats;
  mixer: MixerStats;
  legs: LegStats[];
}

// ---------------------------------------------------------------------------------------
// Commands (main → worker)

export type Command =
  | { type: 'createLeg'; id: number; leg: LegConfig }
  | { type: 'setRemote'; id: number; legId: number; remote: RemoteAddress | null }
  | {
      type: 'setCodecs';
      id: number;
      legId: number;
      codecs: CodecSpec[];
      telephoneEvent: TelephoneEventSpec | null;
    }
  /**
   * What one offer/answer decided for a leg (RFC 3264), in one command: its codecs and
   * telephone-event, then its remote (absent: unchanged, e.g. a hold to 0.0.0.0), then its
   * direction, applied in that order as setCodecs, setRemote and setDirection would be.
   */
  | {
      type: 'applyMedia';
      id: number;
      legId: number;
      codecs: CodecSpec[];
      telephoneEvent: TelephoneEventSpec | null;
      remote?: RemoteAddress | null;
      direction: MediaDirection;
    }
  /** Who the leg's outbound stream is fed from: [] silence, [x] relay x (≥2: the mixer). */
  | { type: 'setSources'; id: number; legId: number; sources: number[] }
  | { type: 'setDirection'; id: number; legId: number; direction: MediaDirection }
  | { type: 'createRoom'; id: number; roomId: number }
  /** The room's whole membership and routes, applied atomically before the next frame. */
  | {
      type: 'setRoutes';
      id: number;
      roomId: number;
      members: RoomRoute[];
      recordingTracks: RecordingTracks;
    }
  | { type: 'startRecording'; id: number; roomId: number; recording: RecordingConfig }
  | { type: 'stopRecording'; id: number; roomId: number }
  | { type: 'playTone'; id: number; roomId: number; legIds: number[]; tone: ToneConfig }
  /** A prompt's audio (mono 16-bit PCM), kept by the worker under `promptId` until it closes. */
  | {
      type: 'loadPrompt';
      id: number;
      promptId: number;
      sampleRate: PromptRate;
      samples: Int16Array;
    }
  /**
   * Plays a loaded prompt into some members' outbound audio, once or looped, as playback
   * `playId` (unique per room); 'promptEnded' reports its end, whatever the reason.
   */
  | {
      type: 'playPrompt';
      id: number;
      roomId: number;
      legIds: number[];
      playId: number;
      promptId: number;
      loop: boolean;
    }
  /** Stops playback `playId` (nothing when it already ended). */
  | { type: 'stopPrompt'; id: number; roomId: number; playId: number }
  /** Stops the room's recording and tones; its legs stay open, unrouted. */
  | { type: 'closeRoom'; id: number; roomId: number }
  /** legId null: the worker and all its legs. */
  /** `legs: false`: the totals only, without every leg's report (legId null). */
  | { type: 'getStats'; id: number; legId: number | null; legs?: boolean }
  | { type: 'closeLeg'; id: number; legId: number }
  /**
   * Makes the leg a WebRTC leg (ICE-lite, DTLS-SRTP, rtcp-mux; media/secure/) with our ICE
   * credentials, and, once the peer's SDP is known, its side and our certificate (which
   * start DTLS). Sent again with `remote` when the first call had none.
   */
  | {
      type: 'secureLeg';
      id: number;
      legId: number;
      local: IceCredentialsSpec;
      remote: SecureRemoteSpec | null;
      certificate: DtlsCertificateSpec | null;
    }
  /**
   * Makes the server's DTLS certificate (docs/architecture.md §3.2.2) here, so the main
   * thread never loads werift (its evaluation would stall SIP for a moment).
   */
  | { type: 'createCertificate'; id: number }
  /** Close every leg, socket and timer; the engine then terminates the thread. */
  | { type: 'close'; id: number };

export type CommandType = Command['type'];

/** A command without its request id (what callers of MediaWorker.request pass). */
export type CommandBody<T extends CommandType = CommandType> = T extends CommandType
  ? Omit<Extract<Command, { type: T }>, 'id'>
  : never;

export interface CommandResults {
  createLeg: { ssrc: number };
  setRemote: null;
  setCodecs: null;
  applyMedia: null;
  setSources: null;
  setDirection: null;
  createRoom: null;
  setRoutes: null;
  startRecording: RecordingStarted;
  stopRecording: RecordingSummary | null;
  playTone: null;
  loadPrompt: null;
  playPrompt: null;
  stopPrompt: null;
  closeRoom: RecordingSummary | null;
  getStats: StatsReport;
  closeLeg: null;
  secureLeg: null;
  createCertificate: DtlsIdentitySpec;
  close: null;
}

// ---------------------------------------------------------------------------------------
// Events (worker → main)

export type Reply =
  | { type: 'reply'; id: number; ok: true; result: CommandResults[CommandType] }
  | { type: 'reply'; id: number; ok: false; error: { code: MediaErrorCode; message: string } };

/** 'no-media': nothing ever arrived since the leg was armed; 'media-stopped': it stopped. */
export type RtpTimeoutReason = 'no-media' | 'media-stopped';

export interface DtmfEvent {
  legId: number;
  /** '0'–'9', '*', '#', 'A'–'D'. */
  digit: string;
  /** RFC 4733 event code. */
  event: number;
  /** Duration of the event as the sender reported it, in milliseconds. */
  durationMs: number;
  /** 0–63 as −dBm0. */
  volume: number;
  /** How the end was known: an E-bit packet, the next event, or silence (DtmfReceiver). */
  ended: 'end' | 'next-event' | 'timeout';
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type WorkerEvent =
  | { type: 'ready'; protocol: number; worker: number }
  | Reply
  | { type: 'latched'; legId: number; address: string; port: number; signalled: boolean }
  | { type: 'rtpTimeout'; legId: number; reason: RtpTimeoutReason; silentMs: number }
  | ({ type: 'dtmf' } & DtmfEvent)
  /** A WebRTC leg's transport: DTLS done (media flows), or failed (its media is over). */
  | { type: 'secure'; legId: number; state: 'connected' | 'failed'; reason: string }
  /** Periodic totals, once per statsIntervalMs (its `legs` is empty: they come as legStats). */
  | { type: 'stats'; report: StatsReport }
  /** Periodic per-leg reports: each leg once per statsIntervalMs, a slice per sweep. */
  | { type: 'legStats'; legs: LegStats[] }
  /** A prompt's playback ended (played once to its end, stopped, its legs left, room closed). */
  | { type: 'promptEnded'; roomId: number; playId: number; reason: PromptEndReason }
  | { type: 'log'; level: LogLevel; msg: string; fields: Record<string, unknown> };
