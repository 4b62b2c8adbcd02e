/**
 * MediaEngine.create's options, their defaults and their validation (a bad option throws
 * MediaError 'ERR_INVALID_ARGUMENT' naming it, before any thread starts).
 */
import { availableParallelism } from 'node:os';
import { MediaError } from './errors.js';
import type { MediaLogger } from './logger.js';
import { silentLogger } from './logger.js';
import type { PacketIoChoice } from '../worker/protocol.js';
import { checkAddress, checkIoChoice } from '../worker/validate.js';

export interface MediaEngineOptions {
  /** Local address every leg's sockets bind to (an IP literal; may be a wildcard). */
  address: string;
  /** The address to put in SDP (`c=`) when it differs from `address` (wildcard, NAT). */
  advertisedAddress?: string;
  /** RTP ports are the even ports of this range, each with RTCP on port + 1. */
  portRange: { min: number; max: number };
  /** A leg with no RTP for this long raises rtpTimeout (0: never). See workerCore.ts. */
  rtpTimeoutMs: number;
  /** After a leg starts or its remote changes, it latches onto the first source for this
   *  long even if that is not the signalled address (NAT). See workerLeg.ts. */
  latchWindowMs: number;
  /** Worker threads (default: os.availableParallelism()). */
  workers?: number;
  /** The compiled worker entry (default: ../worker/main.js next to this file's build).
   *  Jest runs TypeScript sources, so tests point this at dist/media/worker/main.js. */
  workerScript?: string | URL;
  /** The compiled recording writer entry (default: ../recording/writer/main.js next to
   *  this file's build). Jest runs TypeScript sources, so tests point this at
   *  dist/media/recording/writer/main.js. */
  recordingWriterScript?: string | URL;
  logger?: MediaLogger;
  /** Period of the 'stats' events (default 5000; 0: only engine.getStats()). */
  statsIntervalMs?: number;
  /** Mean period of each leg's RTCP report (default 5000, RFC 3550 §6.2). */
  rtcpIntervalMs?: number;
  /** Period of each worker's sweep timer (default 100): the resolution of rtpTimeout. */
  sweepIntervalMs?: number;
  /** A worker that doesn't answer a command in this long fails it (default 10000). */
  requestTimeoutMs?: number;
  /** Playout delay bounds of the mixer's jitter buffers (default 20–200 ms). */
  jitter?: { minDepthMs?: number; maxDepthMs?: number };
  /**
   * Lowest mix rate: 8000 (default) mixes a room at 16 kHz only when a member's codec is
   * wideband; 16000 mixes every room at 16 kHz (tests, or to keep one rate).
   */
  minMixRate?: 8000 | 16000;
  /**
   * The packet io of the workers' sockets (default 'native': the addon in native/, on
   * epoll + recvmmsg; 'dgram': node:dgram). When the addon does not load, the engine logs
   * one warning and the workers use dgram.
   */
  io?: PacketIoChoice;
}

export interface ResolvedEngineOptions {
  address: string;
  advertisedAddress: string;
  portMin: number;
  portMax: number;
  rtpTimeoutMs: number;
  latchWindowMs: number;
  workers: number;
  workerScript: string | URL;
  recordingWriterScript: string | URL;
  logger: MediaLogger;
  statsIntervalMs: number;
  rtcpIntervalMs: number;
  sweepIntervalMs: number;
  requestTimeoutMs: number;
  jitter: { minDepthMs: number; maxDepthMs: number };
  minMixRate: 8000 | 16000;
  io: PacketIoChoice;
}

const MAX_MS = 0x7fffffff;
const MAX_WORKERS = 256;

function int(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new MediaError('ERR_INVALID_ARGUMENT', `${name} must be an integer in ${min}–${max}`);
  }
  return value;
}

export function resolveEngineOptions(options: MediaEngineOptions): ResolvedEngineOptions {
  if (typeof options !== 'object' || options === null) {
    throw new MediaError('ERR_INVALID_ARGUMENT', 'options must be an object');
  }
  const address = checkAddress(options.address, 'address');
  const range = options.portRange as { min?: unknown; max?: unknown } | undefined;
  const portMin = int(range?.min, 'portRange.min', 1, 65534);
  const portMax = int(range?.max, 'portRange.max', portMin, 65535);
  if (portMax < portMin + (portMin % 2) + 1) {
    throw new MediaError(
      'ERR_INVALID_ARGUMENT',
      `portRange ${portMin}–${portMax} holds no even RTP port with its RTCP port (+1)`,
    );
  }
  const script = options.workerScript ?? new URL('../worker/main.js', import.meta.url);
  if (typeof script !== 'string' && !(script instanceof URL)) {
    throw new MediaError('ERR_INVALID_ARGUMENT', 'workerScript must be a path or a file: URL');
  }
  return {
    address,
    advertisedAddress:
      options.advertisedAddress === undefined
        ? address
        : checkAddress(options.advertisedAddress, 'advertisedAddress'),
    portMin,
    portMax,
    rtpTimeoutMs: int(options.rtpTimeoutMs, 'rtpTimeoutMs', 0, MAX_MS),
    latchWindowMs: int(options.latchWindowMs, 'latchWindowMs', 0, MAX_MS),
    workers: int(options.workers ?? availableParallelism(), 'workers', 1, MAX_WORKERS),
    workerScript: script,
    recordingWriterScript: writerScript(options.recordingWriterScript),
    logger: options.logger ?? silentLogger,
    statsIntervalMs: int(options.statsIntervalMs ?? 5000, 'statsIntervalMs', 0, MAX_MS),
    rtcpIntervalMs: int(options.rtcpIntervalMs ?? 5000, 'rtcpIntervalMs', 1, MAX_MS),
    sweepIntervalMs: int(options.sweepIntervalMs ?? 100, 'sweepIntervalMs', 1, 60000),
    requestTimeoutMs: int(options.requestTimeoutMs ?? 10000, 'requestTimeoutMs', 1, MAX_MS),
    jitter: resolveJitter(options.jitter),
    minMixRate: resolveMixRate(options.minMixRate),
    io: options.io === undefined ? 'native' : checkIoChoice(options.io, 'io'),
  };
}

function resolveMixRate(rate: unknown): 8000 | 16000 {
  if (rate === undefined || rate === 8000 || rate === 16000) return rate ?? 8000;
  throw new MediaError('ERR_INVALID_ARGUMENT', 'minMixRate must be 8000 or 16000');
}

function resolveJitter(jitter: MediaEngineOptions['jitter']): ResolvedEngineOptions['jitter'] {
  if (jitter !== undefined && (typeof jitter !== 'object' || jitter === null)) {
    throw new MediaError('ERR_INVALID_ARGUMENT', 'jitter must be an object');
  }
  const minDepthMs = int(jitter?.minDepthMs ?? 20, 'jitter.minDepthMs', 0, 1000);
  const maxDepthMs = int(jitter?.maxDepthMs ?? 200, 'jitter.maxDepthMs', minDepthMs, 1000);
  return { minDepthMs, maxDepthMs };
}

/** The writer's entry: as given, else the one of this build. */
function writerScript(given: unknown): string | URL {
  if (given === undefined) return new URL('../recording/writer/main.js', import.meta.url);
  if (typeof given !== 'string' && !(given instanceof URL)) {
    throw new MediaError(
      'ERR_INVALID_ARGUMENT',
      'recordingWriterScript must be a path or a file: URL',
    );
  }
  return given;
}
