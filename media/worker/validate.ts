/**
 * Validation of everything that crosses the worker boundary (protocol.ts), used on both
 * sides: the engine checks a caller's arguments with these before posting (so mistakes
 * surface as MediaError 'ERR_INVALID_ARGUMENT' at the API), and the worker checks every
 * command again on receipt (a stale build or a bug answers with an error instead of
 * corrupting a leg). Each checker returns a fresh object holding only the known fields.
 * Control plane only: allocation is fine here.
 */
import { isIP } from 'node:net';
import { isAbsolute } from 'node:path';
import { CODEC_NAMES, type CodecName } from '../codecs/codec.js';
import { MediaError } from '../engine/errors.js';
import {
  MAX_PROMPT_SECONDS,
  MEDIA_DIRECTIONS,
  RECORDING_FORMATS,
  TELEPHONE_EVENT_CLOCK_RATES,
  type TelephoneEventClockRate,
} from './protocol.js';
import type {
  CodecSpec,
  Command,
  DtlsCertificateSpec,
  IceCredentialsSpec,
  SecureRemoteSpec,
  LegConfig,
  MediaDirection,
  PacketIoChoice,
  PromptRate,
  RecordingConfig,
  RecordingTracks,
  RecordingFormat,
  RemoteAddress,
  RoomHearing,
  RoomRoute,
  TelephoneEventSpec,
  ToneConfig,
  WorkerConfig,
} from './protocol.js';

/** More codecs than the engine has, listed several times over, is a caller bug. */
const MAX_CODECS = 16;
/** Largest timer value accepted (about 24 days: setTimeout's limit). */
const MAX_MS = 0x7fffffff;

function fail(path: string, what: string): never {
  throw new MediaError('ERR_INVALID_ARGUMENT', `${path} ${what}`);
}

function record(x: unknown, path: string): Record<string, unknown> {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) fail(path, 'must be an object');
  return x as Record<string, unknown>;
}

function integer(x: unknown, path: string, min: number, max: number): number {
  if (typeof x !== 'number' || !Number.isInteger(x) || x < min || x > max) {
    fail(path, `must be an integer in ${min}–${max}`);
  }
  return x;
}

function bool(x: unknown, path: string): boolean {
  if (typeof x !== 'boolean') fail(path, 'must be a boolean');
  return x;
}

/** An IPv4 or IPv6 literal. */
export function checkAddress(x: unknown, path: string): string {
  if (typeof x !== 'string' || isIP(x) === 0) fail(path, 'must be an IP address literal');
  return x;
}

/**
 * RFC 5761 §4: with RTCP multiplexed on the RTP port (always accepted here), RTP payload
 * types 64–95 would read as RTCP, so they must not be negotiated.
 */
function payloadType(x: unknown, path: string): number {
  const pt = integer(x, path, 0, 127);
  if (pt >= 64 && pt <= 95) fail(path, 'must not be in 64–95 (RFC 5761 §4: reads as RTCP)');
  return pt;
}

export function checkCodecs(x: unknown, path = 'codecs'): CodecSpec[] {
  if (!Array.isArray(x) || x.length === 0 || x.length > MAX_CODECS) {
    fail(path, `must be an array of 1–${MAX_CODECS} codecs`);
  }
  const seen = new Set<number>();
  return x.map((c: unknown, i) => {
    const o = record(c, `${path}[${i}]`);
    if (!CODEC_NAMES.includes(o.name as CodecName)) {
      fail(`${path}[${i}].name`, `must be one of ${CODEC_NAMES.map((n) => `'${n}'`).join(', ')}`);
    }
    const pt = payloadType(o.payloadType, `${path}[${i}].payloadType`);
    if (seen.has(pt)) fail(`${path}[${i}].payloadType`, `repeats payload type ${pt}`);
    seen.add(pt);
    return { name: o.name as CodecName, payloadType: pt };
  });
}

export function checkTelephoneEvent(
  x: unknown,
  codecs: readonly CodecSpec[],
  path = 'telephoneEvent',
): TelephoneEventSpec | null {
  if (x === null || x === undefined) return null;
  const o = record(x, path);
  const pt = payloadType(o.payloadType, `${path}.payloadType`);
  if (codecs.some((c) => c.payloadType === pt)) {
    fail(`${path}.payloadType`, `${pt} is already a codec's payload type`);
  }
  let clockRate: TelephoneEventClockRate = 8000;
  if (o.clockRate !== undefined) {
    if (!TELEPHONE_EVENT_CLOCK_RATES.includes(o.clockRate as TelephoneEventClockRate)) {
      fail(`${path}.clockRate`, `must be one of ${TELEPHONE_EVENT_CLOCK_RATES.join(', ')}`);
    }
    clockRate = o.clockRate as TelephoneEventClockRate;
  }
  return { payloadType: pt, clockRate };
}

/**
 * `family` (4 or 6, the engine's bind address family) makes a remote of the other family
 * an error: a leg's sockets could not send to it.
 */
export function checkRemote(x: unknown, path = 'remote', family?: 4 | 6): RemoteAddress | null {
  if (x === null || x === undefined) return null;
  const o = record(x, path);
  const address = checkAddress(o.address, `${path}.address`);
  if (family !== undefined && isIP(address) !== family) {
    fail(`${path}.address`, `must be an IPv${family} address, like the engine's`);
  }
  const remote: RemoteAddress = {
    address,
    port: integer(o.port, `${path}.port`, 1, 65535),
  };
  if (o.rtcpPort !== undefined) remote.rtcpPort = integer(o.rtcpPort, `${path}.rtcpPort`, 1, 65535);
  if (o.rtcpMux !== undefined) remote.rtcpMux = bool(o.rtcpMux, `${path}.rtcpMux`);
  return remote;
}

function shortText(x: unknown, path: string, max: number): string {
  if (typeof x !== 'string' || x.length === 0 || x.length > max) {
    fail(path, `must be a string of 1–${max} characters`);
  }
  return x;
}

/** RFC 8839 §5.4: ice-ufrag 4–256, ice-pwd 22–256 ice-chars; we only bound the sizes. */
export function checkIce(x: unknown, path: string): IceCredentialsSpec {
  const o = record(x, path);
  return {
    ufrag: shortText(o.ufrag, `${path}.ufrag`, 256),
    pwd: shortText(o.pwd, `${path}.pwd`, 256),
  };
}

export function checkSecureRemote(x: unknown, path = 'remote'): SecureRemoteSpec {
  const o = record(x, path);
  if (!Array.isArray(o.fingerprints) || o.fingerprints.length === 0 || o.fingerprints.length > 8) {
    fail(`${path}.fingerprints`, 'must list 1–8 fingerprints');
  }
  const fingerprints = o.fingerprints.map((f: unknown, i) => {
    const r = record(f, `${path}.fingerprints[${i}]`);
    return {
      algorithm: shortText(r.algorithm, `${path}.fingerprints[${i}].algorithm`, 16),
      value: shortText(r.value, `${path}.fingerprints[${i}].value`, 256),
    };
  });
  if (o.dtlsRole !== 'server' && o.dtlsRole !== 'client') {
    fail(`${path}.dtlsRole`, 'must be server or client');
  }
  return {
    ice: o.ice === null ? null : checkIce(o.ice, `${path}.ice`),
    fingerprints,
    dtlsRole: o.dtlsRole,
  };
}

export function checkCertificate(x: unknown, path = 'certificate'): DtlsCertificateSpec {
  const o = record(x, path);
  return {
    certPem: shortText(o.certPem, `${path}.certPem`, 16384),
    keyPem: shortText(o.keyPem, `${path}.keyPem`, 16384),
  };
}

export function checkDirection(x: unknown, path = 'direction'): MediaDirection {
  if (!MEDIA_DIRECTIONS.includes(x as MediaDirection)) {
    fail(path, `must be one of ${MEDIA_DIRECTIONS.join(', ')}`);
  }
  return x as MediaDirection;
}

/** A leg id, as the engine assigns them (positive safe integers). */
export function checkLegId(x: unknown, path = 'legId'): number {
  return integer(x, path, 1, Number.MAX_SAFE_INTEGER);
}

/**
 * Sources of one relay listener: distinct leg ids, never the listener itself (nobody
 * hears themselves), at most one (mixing several is a room's job).
 */
export function checkSources(x: unknown, listener: number, path = 'sources'): number[] {
  if (!Array.isArray(x)) fail(path, 'must be an array of leg ids');
  const ids = x.map((s: unknown, i) => checkLegId(s, `${path}[${i}]`));
  if (ids.includes(listener)) fail(path, 'must not include the listener itself');
  if (new Set(ids).size !== ids.length) fail(path, 'must not repeat a leg');
  if (ids.length > 1) {
    throw new MediaError(
      'ERR_MIX_UNSUPPORTED',
      `${path}: a listener with ${ids.length} sources is mixed: put the legs in a room`,
    );
  }
  return ids;
}

/** A room id, as the engine assigns them (positive safe integers). */
export function checkRoomId(x: unknown, path = 'roomId'): number {
  return integer(x, path, 1, Number.MAX_SAFE_INTEGER);
}

/** Legs in one room (the product's default is 3; the engine's own ceiling is this). */
export const MAX_ROOM_PARTICIPANTS = 16;

/** Largest route gain: +12 dB (a louder route is a mistake, and would mostly clip). */
export const MAX_ROUTE_GAIN = 4;

/** A linear gain: finite, 0 < gain ≤ MAX_ROUTE_GAIN (a route at 0 is no route: omit it). */
export function checkGain(x: unknown, path: string): number {
  if (typeof x !== 'number' || !Number.isFinite(x) || x <= 0 || x > MAX_ROUTE_GAIN) {
    fail(path, `must be a finite number with 0 < gain ≤ ${MAX_ROUTE_GAIN}`);
  }
  return x;
}

/**
 * A room's routes: distinct member legs (at most MAX_ROOM_PARTICIPANTS), each hearing
 * other members only (never itself, never a leg outside the room, none twice), and the
 * recording's two tracks, of members only, none twice in a track.
 */
export function checkRoutes(
  members: unknown,
  recordingTracks: unknown,
  path = 'members',
  tracksPath = 'recordingTracks',
): { members: RoomRoute[]; recordingTracks: RecordingTracks } {
  if (!Array.isArray(members) || members.length > MAX_ROOM_PARTICIPANTS) {
    fail(path, `must be an array of at most ${MAX_ROOM_PARTICIPANTS} members`);
  }
  const ids = members.map((m: unknown, i) =>
    checkLegId(record(m, `${path}[${i}]`).legId, `${path}[${i}].legId`),
  );
  ids.forEach((id, i) => {
    if (ids.indexOf(id) !== i) fail(`${path}[${i}].legId`, `repeats leg ${id}`);
  });
  const routes = members.map((m: Record<string, unknown>, i): RoomRoute => {
    const legId = ids[i]!;
    const where = `${path}[${i}].hears`;
    if (!Array.isArray(m.hears) || m.hears.length > MAX_ROOM_PARTICIPANTS) {
      fail(where, `must be an array of at most ${MAX_ROOM_PARTICIPANTS} legs heard`);
    }
    const heard = new Set<number>();
    const hears = m.hears.map((h: unknown, j): RoomHearing => {
      const o = record(h, `${where}[${j}]`);
      const source = checkLegId(o.legId, `${where}[${j}].legId`);
      if (source === legId) fail(`${where}[${j}].legId`, `is leg ${legId} itself`);
      if (!ids.includes(source)) fail(`${where}[${j}].legId`, `${source} is not a member`);
      if (heard.has(source)) fail(`${where}[${j}].legId`, `repeats leg ${source}`);
      heard.add(source);
      return { legId: source, gain: checkGain(o.gain, `${where}[${j}].gain`) };
    });
    return { legId, hears };
  });
  if (!Array.isArray(recordingTracks) || recordingTracks.length !== 2) {
    fail(tracksPath, 'must be an array of two tracks (left, right) of leg ids');
  }
  const tracks = recordingTracks.map((track: unknown, t) => {
    const legIds = checkLegIds(track, `${tracksPath}[${t}]`);
    legIds.forEach((id, j) => {
      if (!ids.includes(id)) fail(`${tracksPath}[${t}][${j}]`, `${id} is not a member`);
    });
    return legIds;
  });
  return { members: routes, recordingTracks: [tracks[0]!, tracks[1]!] };
}

export function checkRecording(x: unknown, path = 'recording'): RecordingConfig {
  const o = record(x, path);
  if (typeof o.path !== 'string' || !isAbsolute(o.path) || o.path.includes('\0')) {
    fail(`${path}.path`, 'must be an absolute file path');
  }
  if (o.channels !== 1 && o.channels !== 2) fail(`${path}.channels`, 'must be 1 or 2');
  const checked: RecordingConfig = { path: o.path, channels: o.channels };
  if (o.format !== undefined) {
    if (!RECORDING_FORMATS.includes(o.format as RecordingFormat)) {
      fail(`${path}.format`, `must be one of ${RECORDING_FORMATS.join(', ')}`);
    }
    checked.format = o.format as RecordingFormat;
  }
  if (o.fileMode !== undefined) {
    checked.fileMode = integer(o.fileMode, `${path}.fileMode`, 0, 0o777);
  }
  return checked;
}

export function checkTone(x: unknown, path = 'tone'): ToneConfig {
  const o = record(x, path);
  const f = o.frequencies;
  if (!Array.isArray(f) || f.length < 1 || f.length > 2) {
    fail(`${path}.frequencies`, 'must be an array of one or two frequencies');
  }
  return {
    frequencies: f.map((hz: unknown, i) => integer(hz, `${path}.frequencies[${i}]`, 50, 3950)),
    levelDbm0: integer(o.levelDbm0, `${path}.levelDbm0`, -60, 3),
    onMs: integer(o.onMs, `${path}.onMs`, 20, 10000),
    offMs: integer(o.offMs, `${path}.offMs`, 0, 10000),
    repeat: integer(o.repeat, `${path}.repeat`, 1, 10),
  };
}

const MAX_PROMPT_SAMPLES = MAX_PROMPT_SECONDS * 16000;

/** A prompt's or playback's id (the engine's counters). */
export function checkPromptId(x: unknown, path: string): number {
  return integer(x, path, 1, Number.MAX_SAFE_INTEGER);
}

/** A prompt's audio: 8000 or 16000 Hz, 1 to 600 s of mono int16 samples. */
export function checkPromptAudio(
  sampleRate: unknown,
  samples: unknown,
  path = 'prompt',
): { sampleRate: PromptRate; samples: Int16Array } {
  if (sampleRate !== 8000 && sampleRate !== 16000)
    fail(`${path}.sampleRate`, 'must be 8000 or 16000');
  if (
    !(samples instanceof Int16Array) ||
    samples.length === 0 ||
    samples.length > MAX_PROMPT_SAMPLES
  ) {
    fail(`${path}.samples`, `must be an Int16Array of 1 to ${MAX_PROMPT_SAMPLES} samples`);
  }
  return { sampleRate, samples };
}

export function checkLegIds(x: unknown, path: string): number[] {
  if (!Array.isArray(x) || x.length > MAX_ROOM_PARTICIPANTS) {
    fail(path, `must be an array of at most ${MAX_ROOM_PARTICIPANTS} leg ids`);
  }
  const ids = x.map((id: unknown, i) => checkLegId(id, `${path}[${i}]`));
  if (new Set(ids).size !== ids.length) fail(path, 'must not repeat a leg');
  return ids;
}

export function checkLegConfig(x: unknown, path = 'leg'): LegConfig {
  const o = record(x, path);
  const codecs = checkCodecs(o.codecs, `${path}.codecs`);
  const port = integer(o.port, `${path}.port`, 2, 65534);
  if (port % 2 !== 0) fail(`${path}.port`, 'must be even (RTCP takes port + 1)');
  if (o.label !== null && typeof o.label !== 'string')
    fail(`${path}.label`, 'must be a string or null');
  return {
    legId: checkLegId(o.legId, `${path}.legId`),
    port,
    codecs,
    telephoneEvent: checkTelephoneEvent(o.telephoneEvent, codecs, `${path}.telephoneEvent`),
    remote: checkRemote(o.remote, `${path}.remote`),
    direction: checkDirection(o.direction, `${path}.direction`),
    forwardDtmf: bool(o.forwardDtmf, `${path}.forwardDtmf`),
    label: o.label,
  };
}

export function checkWorkerConfig(x: unknown, path = 'workerData'): WorkerConfig {
  const o = record(x, path);
  return {
    index: integer(o.index, `${path}.index`, 0, 1023),
    address: checkAddress(o.address, `${path}.address`),
    rtpTimeoutMs: integer(o.rtpTimeoutMs, `${path}.rtpTimeoutMs`, 0, MAX_MS),
    latchWindowMs: integer(o.latchWindowMs, `${path}.latchWindowMs`, 0, MAX_MS),
    statsIntervalMs: integer(o.statsIntervalMs, `${path}.statsIntervalMs`, 0, MAX_MS),
    rtcpIntervalMs: integer(o.rtcpIntervalMs, `${path}.rtcpIntervalMs`, 1, MAX_MS),
    sweepIntervalMs: integer(o.sweepIntervalMs, `${path}.sweepIntervalMs`, 1, 60000),
    jitter: checkJitter(o.jitter, `${path}.jitter`),
    ...(o.io === undefined ? {} : { io: checkIoChoice(o.io, `${path}.io`) }),
    ...(o.minMixRate === undefined
      ? {}
      : { minMixRate: checkMixRate(o.minMixRate, `${path}.minMixRate`) }),
  };
}

/** A room's lowest mix rate: 8000 (narrowband rooms mix at 8 kHz) or 16000. */
function checkMixRate(x: unknown, path: string): 8000 | 16000 {
  if (x === 8000 || x === 16000) return x;
  throw new MediaError('ERR_INVALID_ARGUMENT', `${path} must be 8000 or 16000`);
}

export function checkIoChoice(x: unknown, path = 'io'): PacketIoChoice {
  if (x === undefined || x === 'dgram') return 'dgram';
  if (x === 'native') return 'native';
  throw new MediaError('ERR_INVALID_ARGUMENT', `${path} must be 'native' or 'dgram'`);
}

export function checkJitter(x: unknown, path = 'jitter'): WorkerConfig['jitter'] {
  const o = record(x, path);
  const minDepthMs = integer(o.minDepthMs, `${path}.minDepthMs`, 0, 1000);
  const maxDepthMs = integer(o.maxDepthMs, `${path}.maxDepthMs`, minDepthMs, 1000);
  return { minDepthMs, maxDepthMs };
}

/** A command as received by the worker; throws MediaError 'ERR_INVALID_COMMAND'. */
export function validateCommand(x: unknown): Command {
  try {
    return readCommand(x);
  } catch (error) {
    if (error instanceof MediaError && error.code === 'ERR_INVALID_ARGUMENT') {
      throw new MediaError('ERR_INVALID_COMMAND', error.message);
    }
    throw error;
  }
}

function readCommand(x: unknown): Command {
  const o = record(x, 'command');
  const id = integer(o.id, 'command.id', 0, Number.MAX_SAFE_INTEGER);
  switch (o.type) {
    case 'createLeg':
      return { type: 'createLeg', id, leg: checkLegConfig(o.leg) };
    case 'setRemote':
      return { type: 'setRemote', id, legId: checkLegId(o.legId), remote: checkRemote(o.remote) };
    case 'setCodecs': {
      const codecs = checkCodecs(o.codecs);
      const telephoneEvent = checkTelephoneEvent(o.telephoneEvent, codecs);
      return { type: 'setCodecs', id, legId: checkLegId(o.legId), codecs, telephoneEvent };
    }
    case 'applyMedia': {
      const codecs = checkCodecs(o.codecs);
      return {
        type: 'applyMedia',
        id,
        legId: checkLegId(o.legId),
        codecs,
        telephoneEvent: checkTelephoneEvent(o.telephoneEvent, codecs),
        ...(o.remote === undefined ? {} : { remote: checkRemote(o.remote) }),
        direction: checkDirection(o.direction),
      };
    }
    case 'setSources': {
      const legId = checkLegId(o.legId);
      return { type: 'setSources', id, legId, sources: checkSources(o.sources, legId) };
    }
    case 'setDirection':
      return {
        type: 'setDirection',
        id,
        legId: checkLegId(o.legId),
        direction: checkDirection(o.direction),
      };
    case 'createRoom':
      return { type: 'createRoom', id, roomId: checkRoomId(o.roomId) };
    case 'setRoutes':
      return {
        type: 'setRoutes',
        id,
        roomId: checkRoomId(o.roomId),
        ...checkRoutes(o.members, o.recordingTracks),
      };
    case 'startRecording':
      return {
        type: 'startRecording',
        id,
        roomId: checkRoomId(o.roomId),
        recording: checkRecording(o.recording),
      };
    case 'stopRecording':
      return { type: 'stopRecording', id, roomId: checkRoomId(o.roomId) };
    case 'playTone':
      return {
        type: 'playTone',
        id,
        roomId: checkRoomId(o.roomId),
        legIds: checkLegIds(o.legIds, 'legIds'),
        tone: checkTone(o.tone),
      };
    case 'loadPrompt':
      return {
        type: 'loadPrompt',
        id,
        promptId: checkPromptId(o.promptId, 'promptId'),
        ...checkPromptAudio(o.sampleRate, o.samples),
      };
    case 'playPrompt':
      return {
        type: 'playPrompt',
        id,
        roomId: checkRoomId(o.roomId),
        legIds: checkLegIds(o.legIds, 'legIds'),
        playId: checkPromptId(o.playId, 'playId'),
        promptId: checkPromptId(o.promptId, 'promptId'),
        loop: bool(o.loop, 'loop'),
      };
    case 'stopPrompt':
      return {
        type: 'stopPrompt',
        id,
        roomId: checkRoomId(o.roomId),
        playId: checkPromptId(o.playId, 'playId'),
      };
    case 'closeRoom':
      return { type: 'closeRoom', id, roomId: checkRoomId(o.roomId) };
    case 'getStats':
      return {
        type: 'getStats',
        id,
        legId: o.legId === null ? null : checkLegId(o.legId),
        ...(o.legs === undefined ? {} : { legs: bool(o.legs, 'legs') }),
      };
    case 'closeLeg':
      return { type: 'closeLeg', id, legId: checkLegId(o.legId) };
    case 'secureLeg':
      return {
        type: 'secureLeg',
        id,
        legId: checkLegId(o.legId),
        local: checkIce(o.local, 'local'),
        remote: o.remote === null ? null : checkSecureRemote(o.remote),
        certificate: o.certificate === null ? null : checkCertificate(o.certificate),
      };
    case 'createCertificate':
      return { type: 'createCertificate', id };
    case 'close':
      return { type: 'close', id };
    default:
      return fail('command.type', `is unknown: ${String(o.type)}`);
  }
}
