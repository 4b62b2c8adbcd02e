/**
 * The worker's state and command loop: it owns the legs (their ports bound here, in the
 * worker thread, through the packet I/O seam media/io/packetIo.ts, so their packets never
 * touch the main thread), keeps the routes between them, and runs the worker's ONE timer — a periodic sweep for media timeouts, DTMF
 * events whose end was lost, RTCP reports and the periodic stats. main.ts connects it to
 * the parent port; I/O toward the engine goes through `host.post`.
 *
 * Media timeout policy (rtpTimeoutMs > 0): a leg is armed once it is in a route (as a
 * listener or a source) AND knows its endpoint's address — for a B2BUA, once the call is
 * answered (or has early media) — or when its first RTP packet arrives; never at
 * creation, because a leg waits through ringing with no media. Once armed, rtpTimeout
 * fires when no RTP has been accepted for rtpTimeoutMs: reason 'no-media' if nothing
 * ever arrived, else 'media-stopped'. It fires once per silence; RTP that resumes re-arms
 * it. While the leg's direction refuses its endpoint's media (hold: sendonly/inactive)
 * the clock is stopped, and it restarts from zero when the leg accepts media again.
 */
import { performance } from 'node:perf_hooks';
import type { EventLoopUtilization } from 'node:perf_hooks';
import type { DtmfDigit } from '../dtmf/dtmfReceiver.js';
import { opusBackend } from '../codecs/opusBinding.js';
import { MediaError } from '../engine/errors.js';
import { CHANNEL_RTP } from '../io/packetIo.js';
import type { PacketIo, PairReceiver, PortPair } from '../io/packetIo.js';
import { FrameClock } from '../mixer/frameClock.js';
import type { JitterBuffer } from '../mixer/jitterBuffer.js';
import type { CreateRecordingFile } from '../recording/recordingFile.js';
import { Counters } from './counters.js';
import { PayloadMap } from './payloadMap.js';
import type {
  CodecSpec,
  Command,
  CommandResults,
  CommandType,
  LegConfig,
  LegStats,
  LogLevel,
  MediaDirection,
  MixerStats,
  RemoteAddress,
  RecordingTracks,
  RoomRoute,
  StatsReport,
  TelephoneEventSpec,
  WorkerConfig,
  WorkerEvent,
} from './protocol.js';
import { receiveRtp } from './relay.js';
import { FastRelay } from './fastRelay.js';
import type { PacketEvents } from './relay.js';
import { receiveRtcp, sendReport } from './rtcpSession.js';
import { addIoCpu, threadCpuMs } from './threadCpu.js';
import { validateCommand } from './validate.js';
import { WorkerLeg } from './workerLeg.js';

/**
 * CALLWATCH_IO_RECORDINGS=0: recordings stay in the worker even on the native io (A/B
 * benches; docs/architecture.md §3.7).
 */
const IO_RECORDINGS = process.env.CALLWATCH_IO_RECORDINGS !== '0';
import { SecurePair, secureLive } from '../secure/securePair.js';
import { loadWerift } from '../secure/werift.js';
import { createDtlsCertificate } from '../secure/certificate.js';
import { WorkerRoom } from './workerRoom.js';
import { StatsSpread } from './statsSpread.js';
import { SlicedRun, setImmediateHost } from './slicedRun.js';
import type { PromptAudio } from '../prompts/promptWav.js';
import type { RoomHost } from './workerRoom.js';

export interface WorkerHost {
  post(event: WorkerEvent): void;
}

type Result = CommandResults[CommandType];

/**
 * Arms the media timeout of a leg that is in a route and knows its endpoint (see above);
 * a WebRTC leg knows it once the peer's SDP is applied (ICE finds the address later, or
 * never: then the timeout ends the call).
 */
function arm(leg: WorkerLeg, now: number): void {
  if (leg.armedMs >= 0) return;
  if (leg.remote === null && !(leg.pair instanceof SecurePair && leg.pair.state !== 'new')) {
    return;
  }
  if (leg.sources.length > 0 || leg.listeners.length > 0) leg.armedMs = now;
}

/**
 * The longest slice (ms) of the rooms' frames or recording drains before the packet path
 * gets a turn (slicedRun.ts, docs/architecture.md §3.5); 1 keeps it well under the 4 ms a
 * half of the native io's arena holds at 30 000 datagrams/s per worker. Off (0: one turn)
 * by default until a measurement shows slicing pays (see §3.5).
 */
export const ROOM_SLICE_MS = sliceFromEnv(process.env.CALLWATCH_ROOM_SLICE_MS) ?? 0;

/** `CALLWATCH_ROOM_SLICE_MS` (A/B measurements): ms, `0` for no slicing (one turn). */
function sliceFromEnv(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const ms = Number(value);
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}

/** Upper bounds (ms) of the mixer's tick-lateness histogram buckets (the last is +Inf). */
const LATENESS_BUCKETS = [0.5, 1, 2, 5, 10, 20, 50, 100];

function remove<T>(list: T[], item: T): void {
  const i = list.indexOf(item);
  if (i >= 0) list.splice(i, 1);
}

export class WorkerCore {
  private readonly legs = new Map<number, WorkerLeg>();
  /** Open legs by their pair: whose routes' counts the io's relay fast path hands over. */
  private readonly legOfPair = new Map<PortPair, WorkerLeg>();
  /** The relay fast path's routes (a no-op on an io without one). */
  private readonly fast: FastRelay;
  private readonly rooms = new Map<number, WorkerRoom>();
  /** Prompts loaded by the engine (loadPrompt), kept until the worker closes. */
  private readonly prompts = new Map<number, PromptAudio>();
  /** Rooms removed by closeRoom whose recording is still closing (counted in stats). */
  private readonly closingRooms = new Set<WorkerRoom>();
  private readonly clock: FrameClock;
  private readonly roomHost: RoomHost;
  /** Mixer totals of closed rooms and discarded jitter buffers (stats stay monotonic). */
  private retiredFramesMixed = 0;
  private retiredFramesCorrupt = 0;
  private retiredConcealed = 0;
  private retiredLate = 0;
  private retiredRecordingBytes = 0;
  private retiredRecordingCorrupt = 0;
  private retiredRecordingErrors = 0;
  private readonly lateness = {
    le: LATENESS_BUCKETS,
    counts: new Array<number>(LATENESS_BUCKETS.length + 1).fill(0),
    sum: 0,
    count: 0,
  };
  /** Counters of closed legs (worker totals = these + the live legs'). */
  private readonly retired = new Counters();
  private readonly timer: NodeJS.Timeout;
  private readonly events: PacketEvents;
  private closing: Promise<void> | undefined;
  /** The Opus backend was logged (on the first leg that negotiated Opus). */
  private opusReported = false;
  private nextStatsMs: number;
  /** The legs still to report in this stats interval (statsSpread.ts). */
  private readonly legStats: StatsSpread<WorkerLeg>;
  private lastSweepMs: number;
  private lagSum = 0;
  private lagMax = 0;
  private lagCount = 0;
  private elu: EventLoopUtilization = performance.eventLoopUtilization();
  /** The rooms' frames of the current tick, in slices (slicedRun.ts). */
  private readonly roomFrames: SlicedRun<WorkerRoom>;
  /** The frame the queued rooms run (every room of one tick runs the same frame). */
  private frameIndex = 0;
  /** The rooms' recordings to write, queued by the sweep, in slices. */
  private readonly recordingDrains: SlicedRun<WorkerRoom>;

  /**
   * `io` gives the legs their ports; the core owns it from here on (closes it in close).
   * `createRecordingFile` gives recordings their files (the recording writer thread's
   * client; node:fs on this thread when absent).
   */
  constructor(
    private readonly config: WorkerConfig,
    private readonly host: WorkerHost,
    private readonly io: PacketIo,
    createRecordingFile?: CreateRecordingFile,
  ) {
    const now = performance.now();
    this.fast = new FastRelay(io, this.legOfPair);
    this.lastSweepMs = now;
    this.nextStatsMs = now + config.statsIntervalMs;
    this.legStats = new StatsSpread(config.statsIntervalMs / config.sweepIntervalMs);
    this.timer = setInterval(() => this.sweep(), config.sweepIntervalMs);
    const slices = setImmediateHost(() => performance.now());
    const sliceMs = config.roomSliceMs ?? ROOM_SLICE_MS; // 0: one turn (no slicing)
    const budgetMs = sliceMs > 0 ? sliceMs : Infinity;
    this.roomFrames = new SlicedRun(slices, budgetMs, (room, nowMs) => this.roomFrame(room, nowMs));
    this.recordingDrains = new SlicedRun(slices, budgetMs, (room, nowMs) =>
      this.drainRecording(room, nowMs),
    );
    this.events = {
      latched: (leg, signalled) => {
        this.fast.releaseAround(leg); // a route to or from it used the old address
        this.host.post({
          type: 'latched',
          legId: leg.id,
          address: leg.latchedAddress,
          port: leg.latchedPort,
          signalled,
        });
      },
      dtmf: (leg, digit) => this.postDtmf(leg, digit),
      eventToMix: (leg, msg, length, nowMs) =>
        this.rooms.get(leg.roomId)?.forwardEvent(leg, msg, length, nowMs),
    };
    this.clock = new FrameClock(
      {
        now: () => performance.now(),
        setTimeout,
        clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
      },
      (index, dueMs, nowMs) => this.frame(index, dueMs, nowMs),
      (error) => this.log('error', 'mixer frame failed', { error: String(error) }),
    );
    this.roomHost = {
      relay: (listener, sources) => this.feed(listener, sources, performance.now()),
      jitterOptions: config.jitter,
      retireJitter: (buffer) => this.retireJitter(buffer),
      minMixRate: config.minMixRate ?? 8000,
      retireRecording: (bytes, failed, corrupt) => {
        this.retiredRecordingBytes += bytes;
        this.retiredRecordingCorrupt += corrupt;
        if (failed) this.retiredRecordingErrors++;
      },
      ...(createRecordingFile !== undefined ? { createRecordingFile } : {}),
      promptEnded: (roomId, playId, reason) =>
        this.host.post({ type: 'promptEnded', roomId, playId, reason }),
      releaseRoutes: (members) => {
        for (const member of members) this.fast.releaseAround(member.leg);
      },
      ...(io.recorders !== undefined && IO_RECORDINGS ? { ioRecorders: io.recorders } : {}),
    };
  }

  /** One message from the engine: validated, run, answered with one reply. */
  handle(message: unknown): void {
    let command: Command;
    try {
      command = validateCommand(message);
    } catch (error) {
      const id = (message as { id?: unknown } | null)?.id;
      if (typeof id === 'number') this.replyError(id, error);
      else this.log('error', 'unreadable command', { error: String(error) });
      return;
    }
    this.run(command).then(
      (result) => this.host.post({ type: 'reply', id: command.id, ok: true, result }),
      (error: unknown) => this.replyError(command.id, error),
    );
  }

  /** Closes every leg, the packet io and the timer. Idempotent. */
  close(): Promise<void> {
    if (this.closing === undefined) {
      clearInterval(this.timer);
      this.clock.stop();
      this.roomFrames.close();
      this.recordingDrains.close();
      const rooms = [...this.rooms.values()];
      this.rooms.clear();
      this.closing = Promise.all([
        ...rooms.map((room) => room.close()),
        ...[...this.legs.values()].map((leg) => this.closeLeg(leg)),
      ]).then(() => this.io.close());
    }
    return this.closing;
  }

  private async run(command: Command): Promise<Result> {
    if (this.closing !== undefined && command.type !== 'close') {
      throw new MediaError('ERR_WORKER', 'the worker is closing');
    }
    const now = performance.now();
    this.releaseRoutes(command);
    switch (command.type) {
      case 'createLeg':
        return this.createLeg(command.leg);
      case 'setRemote':
        this.applyRemote(this.leg(command.legId), command.remote, now);
        return null;
      case 'setCodecs':
        this.applyCodecs(this.leg(command.legId), command.codecs, command.telephoneEvent);
        return null;
      case 'applyMedia': {
        // One offer/answer's result in one command (docs/architecture.md §5.2), in the
        // order the three single commands were sent.
        const leg = this.leg(command.legId);
        this.applyCodecs(leg, command.codecs, command.telephoneEvent);
        if (command.remote !== undefined) this.applyRemote(leg, command.remote, now);
        this.applyDirection(leg, command.direction, now);
        return null;
      }
      case 'setSources': {
        const leg = this.leg(command.legId);
        if (leg.roomId !== 0) {
          throw new MediaError('ERR_IN_ROOM', `leg ${leg.id} is routed by room ${leg.roomId}`);
        }
        this.setSources(leg, command.sources, now);
        return null;
      }
      case 'createRoom':
        if (this.rooms.has(command.roomId)) {
          throw new MediaError('ERR_INVALID_COMMAND', `room ${command.roomId} exists`);
        }
        this.rooms.set(command.roomId, new WorkerRoom(command.roomId, this.roomHost));
        return null;
      case 'setRoutes':
        this.setRoutes(this.room(command.roomId), command.members, command.recordingTracks);
        this.updateClock(this.rooms.get(command.roomId));
        return null;
      case 'startRecording': {
        const room = this.room(command.roomId);
        try {
          return await room.startRecording(command.recording);
        } catch (error) {
          throw new MediaError(
            'ERR_RECORDING',
            error instanceof Error ? error.message : String(error),
          );
        }
      }
      case 'stopRecording': {
        const room = this.room(command.roomId);
        const summary = await room.stopRecording();
        this.updateClock(room);
        return summary;
      }
      case 'playTone': {
        const room = this.room(command.roomId);
        const legs = command.legIds.map((id) => this.leg(id));
        try {
          room.playTone(legs, command.tone);
        } catch (error) {
          throw new MediaError('ERR_ROOM', error instanceof Error ? error.message : String(error));
        }
        this.updateClock(room);
        return null;
      }
      case 'loadPrompt':
        this.prompts.set(command.promptId, {
          sampleRate: command.sampleRate,
          samples: command.samples,
        });
        return null;
      case 'playPrompt': {
        const room = this.room(command.roomId);
        const legs = command.legIds.map((id) => this.leg(id));
        const audio = this.prompts.get(command.promptId);
        if (audio === undefined) {
          throw new MediaError('ERR_INVALID_COMMAND', `no prompt ${command.promptId} loaded`);
        }
        try {
          room.playPrompt(legs, audio, command.loop, command.playId);
        } catch (error) {
          throw new MediaError('ERR_ROOM', error instanceof Error ? error.message : String(error));
        }
        this.updateClock(room);
        return null;
      }
      case 'stopPrompt': {
        const room = this.rooms.get(command.roomId);
        room?.stopPrompt(command.playId);
        this.updateClock(room);
        return null;
      }
      case 'closeRoom': {
        const room = this.rooms.get(command.roomId);
        if (room === undefined) return null;
        this.rooms.delete(command.roomId);
        this.retiredFramesMixed += room.counters.framesMixed;
        this.retiredFramesCorrupt += room.counters.framesCorrupt;
        this.closingRooms.add(room);
        try {
          return await room.close();
        } finally {
          this.closingRooms.delete(room);
          this.updateClock(room);
        }
      }
      case 'setDirection':
        this.applyDirection(this.leg(command.legId), command.direction, now);
        return null;
      case 'getStats':
        this.fast.takeCounts();
        return command.legId === null
          ? this.report(null, command.legs ?? true)
          : this.report(this.leg(command.legId));
      case 'closeLeg': {
        const leg = this.legs.get(command.legId);
        if (leg !== undefined) await this.closeLeg(leg);
        return null;
      }
      case 'secureLeg':
        await this.secureLeg(command);
        return null;
      case 'createCertificate':
        return createDtlsCertificate();
      case 'close':
        await this.close();
        return null;
    }
  }

  /** The endpoint's address from SDP: a new one unlatches (workerLeg.ts) and re-arms. */
  private applyRemote(leg: WorkerLeg, remote: RemoteAddress | null, now: number): void {
    const { destAddress, destPort } = leg;
    leg.setRemote(remote, now);
    if (leg.destPort !== destPort || leg.destAddress !== destAddress) leg.outbound.interrupt();
    arm(leg, now);
  }

  /** Negotiated codecs; a leg in a room reroutes it (relay may become mix). */
  private applyCodecs(
    leg: WorkerLeg,
    codecs: CodecSpec[],
    telephoneEvent: TelephoneEventSpec | null,
  ): void {
    leg.setPayloads(PayloadMap.of(codecs, telephoneEvent));
    // Whether its listeners (and it) can be relayed depends on the codecs.
    if (leg.roomId !== 0) {
      const room = this.rooms.get(leg.roomId);
      room?.reroute();
      this.updateClock(room);
    }
  }

  /** Hold and resume (RFC 3264 §8.4) from the engine's side. */
  private applyDirection(leg: WorkerLeg, direction: MediaDirection, now: number): void {
    const wasReceiving = leg.receiving;
    leg.setDirection(direction);
    // Gaps we cause are pauses, not loss: both streams touched restart a segment.
    leg.outbound.interrupt();
    for (const listener of leg.listeners) listener.outbound.interrupt();
    if (leg.receiving && !wasReceiving && leg.armedMs >= 0) leg.armedMs = now;
  }

  /**
   * Makes a leg a WebRTC leg: its pair is wrapped in a SecurePair (ICE-lite, DTLS, SRTP;
   * docs/architecture.md §3.2.2), once; later calls only bring the peer's side.
   */
  private async secureLeg(command: Extract<Command, { type: 'secureLeg' }>): Promise<void> {
    let leg = this.leg(command.legId);
    let pair = leg.pair;
    if (!(pair instanceof SecurePair)) {
      const w = await loadWerift();
      leg = this.leg(command.legId); // it may have closed while werift loaded
      if (leg.pair instanceof SecurePair) {
        pair = leg.pair;
      } else {
        const target = leg;
        const inner = leg.pair;
        this.fast.releaseAround(leg);
        const secure = new SecurePair(inner, w, command.local, {
          peer: (address, port) => {
            if (target.closed) return;
            target.setRemote({ address, port, rtcpMux: true }, performance.now());
            target.outbound.interrupt();
            arm(target, performance.now());
          },
          connected: () => {
            if (target.closed) return;
            this.host.post({ type: 'secure', legId: target.id, state: 'connected', reason: '' });
          },
          failed: (reason) => {
            if (target.closed) return;
            this.log('warn', 'WebRTC leg failed', { legId: target.id, reason });
            this.host.post({ type: 'secure', legId: target.id, state: 'failed', reason });
          },
        });
        secure.receive(this.receiverOf(leg));
        this.legOfPair.delete(inner);
        this.legOfPair.set(secure, leg);
        leg.pair = secure;
        pair = secure;
      }
    }
    if (command.remote !== null && command.certificate !== null) {
      (pair as SecurePair).setRemote(command.remote, command.certificate);
      arm(leg, performance.now());
    }
  }

  /**
   * Takes back the relay fast path's routes a command may change (fastRelay.ts): those of
   * the legs it names and of the rooms it names. They come back on the next packet the
   * packet path relays.
   */
  private releaseRoutes(command: Command): void {
    if (command.type === 'getStats' || command.type === 'createLeg') return;
    if ('legId' in command) {
      const leg = this.legs.get(command.legId);
      if (leg !== undefined) this.fast.releaseAround(leg);
    }
    if (command.type === 'setSources') {
      for (const id of command.sources) {
        const leg = this.legs.get(id);
        if (leg !== undefined) this.fast.releaseAround(leg);
      }
    }
    if ('legIds' in command) {
      for (const id of command.legIds) {
        const leg = this.legs.get(id);
        if (leg !== undefined) this.fast.releaseAround(leg);
      }
    }
    if (command.type === 'setRoutes') {
      for (const member of command.members) {
        const leg = this.legs.get(member.legId);
        if (leg !== undefined) this.fast.releaseAround(leg);
      }
    }
    // A room command (recording, routes, close) may change any member's path.
    if ('roomId' in command && command.type !== 'createRoom') {
      const room = this.rooms.get(command.roomId);
      if (room !== undefined)
        for (const member of room.members) this.fast.releaseAround(member.leg);
    }
    if (command.type === 'close') for (const leg of this.legs.values()) this.fast.release(leg);
  }

  private leg(id: number): WorkerLeg {
    const leg = this.legs.get(id);
    if (leg === undefined) throw new MediaError('ERR_UNKNOWN_LEG', `no leg ${id} in this worker`);
    return leg;
  }

  private async createLeg(config: LegConfig): Promise<{ ssrc: number }> {
    if (this.legs.has(config.legId)) {
      throw new MediaError('ERR_INVALID_COMMAND', `leg ${config.legId} exists`);
    }
    if (!this.opusReported && config.codecs.some((c) => c.name === 'opus')) {
      // Once per worker, when Opus is first negotiated: which libopus build it runs on
      // (native, else WASM: slower, see docs/codecs.md) and why native is not in use.
      this.opusReported = true;
      const { backend, nativeError } = opusBackend();
      this.log(nativeError === undefined ? 'info' : 'warn', 'opus backend', {
        backend: backend.name,
        ...(nativeError !== undefined ? { nativeError } : {}),
      });
    }
    // Rejects with ERR_PORT_IN_USE / ERR_BIND, nothing bound (the engine tries another pair).
    const pair = await this.io.bindPair(this.config.address, config.port);
    let leg: WorkerLeg;
    try {
      if (this.closing !== undefined) {
        throw new MediaError('ERR_WORKER', 'the worker is closing');
      }
      leg = new WorkerLeg(config, pair, performance.now(), this.config.latchWindowMs);
    } catch (error) {
      await pair.close();
      throw error;
    }
    // RFC 3550 §6.2: the first report after half an interval, all of them randomised.
    leg.nextRtcpMs = performance.now() + this.rtcpDelay() / 2;
    pair.receive(this.receiverOf(leg));
    this.legs.set(leg.id, leg);
    this.legOfPair.set(pair, leg);
    return { ssrc: leg.outbound.ssrc };
  }

  /** The packet path's entry: each datagram of `leg`'s pair, a bug caught per datagram. */
  private receiverOf(leg: WorkerLeg): PairReceiver {
    const events = this.events;
    const fast = this.fast;
    return {
      rtp: (batch) => {
        const { buffers, lengths, addresses, ports, arrivalMs } = batch;
        for (let i = 0; i < batch.count; i++) {
          try {
            // The io left it to us: the listener's stream continues here, from its state.
            if (leg.fastTo !== null) fast.release(leg);
            receiveRtp(
              leg,
              buffers[i]!,
              lengths[i]!,
              addresses[i]!,
              ports[i]!,
              arrivalMs[i]!,
              events,
            );
          } catch (error) {
            this.internalError(leg, error);
          }
        }
        if (leg.fastTo === null && leg.listeners.length === 1) {
          fast.installSoon(leg);
        }
      },
      rtcp: (batch) => {
        const { buffers, lengths, addresses, ports, arrivalMs } = batch;
        for (let i = 0; i < batch.count; i++) {
          try {
            receiveRtcp(
              leg,
              buffers[i]!,
              lengths[i]!,
              addresses[i]!,
              ports[i]!,
              false,
              arrivalMs[i]!,
            );
          } catch (error) {
            this.internalError(leg, error);
          }
        }
      },
      error: (error, channel) =>
        this.log('warn', 'socket error', {
          legId: leg.id,
          label: leg.label,
          port: channel === CHANNEL_RTP ? leg.port : leg.port + 1,
          error: error.message,
        }),
    };
  }

  private room(id: number): WorkerRoom {
    const room = this.rooms.get(id);
    if (room === undefined)
      throw new MediaError('ERR_UNKNOWN_ROOM', `no room ${id} in this worker`);
    return room;
  }

  private setRoutes(room: WorkerRoom, routes: RoomRoute[], tracks: RecordingTracks): void {
    const legs = new Map(
      routes.map((r) => {
        const leg = this.leg(r.legId);
        if (leg.roomId !== 0 && leg.roomId !== room.id) {
          throw new MediaError('ERR_IN_ROOM', `leg ${leg.id} is in room ${leg.roomId}`);
        }
        return [r.legId, leg] as const;
      }),
    );
    // Validated: every leg heard or recorded is a member.
    const member = (id: number): WorkerLeg => legs.get(id)!;
    const members = routes.map((r) => ({
      leg: member(r.legId),
      hears: r.hears.map((h) => ({ leg: member(h.legId), gain: h.gain })),
    }));
    try {
      room.setMembers(members, [tracks[0].map(member), tracks[1].map(member)]);
    } catch (error) {
      throw new MediaError('ERR_ROOM', error instanceof Error ? error.message : String(error));
    }
  }

  /**
   * Runs the frame clock while any room has per-frame work, and only then; called after
   * `room` changed. A stopped clock means no room had work (`frame` stops it then), so
   * only this room can have gained some; a running one stops when none has any left —
   * a scan of the rooms only while some call is mixed or hears a tone or prompt, not on
   * every command of every unmonitored call.
   */
  private updateClock(room: WorkerRoom | undefined): void {
    if (room !== undefined && room.clocked && this.rooms.get(room.id) === room) {
      this.clock.start();
      return;
    }
    if (!this.clock.started) return;
    for (const r of this.rooms.values()) if (r.clocked) return;
    this.clock.stop();
  }

  private frame(index: number, dueMs: number, nowMs: number): void {
    const late = nowMs - dueMs;
    const h = this.lateness;
    let b = 0;
    while (b < LATENESS_BUCKETS.length && late > LATENESS_BUCKETS[b]!) b++;
    h.counts[b]!++;
    h.sum += late;
    h.count++;
    // The last frame's rooms still queued run first: a room's frames run in order.
    this.roomFrames.finish();
    // What the fast path relayed of mixed sources since the last frame, into their jitter
    // buffers (fastRelay.ts).
    this.fast.takeForFrame();
    this.frameIndex = index;
    let clocked = false;
    for (const room of this.rooms.values()) {
      if (!room.clocked) continue;
      clocked = true;
      this.roomFrames.push(room);
    }
    if (!clocked) {
      this.clock.stop();
      return;
    }
    this.roomFrames.start(nowMs);
  }

  /** One room's part of the frame queued by `frame` (skipped if it closed meanwhile). */
  private roomFrame(room: WorkerRoom, nowMs: number): void {
    if (this.rooms.get(room.id) !== room || !room.clocked) return;
    try {
      room.frame(this.frameIndex, nowMs);
    } catch (error) {
      this.log('error', 'room frame failed', {
        roomId: room.id,
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      });
    }
  }

  private drainRecording(room: WorkerRoom, nowMs: number): void {
    try {
      room.drainRecording(nowMs);
    } catch (error) {
      this.log('error', 'recording drain failed', { roomId: room.id, error: String(error) });
    }
  }

  private retireJitter(buffer: JitterBuffer): void {
    this.retiredConcealed += buffer.stats.concealed;
    this.retiredLate += buffer.stats.late;
  }

  private mixerStats(): MixerStats {
    let clockedRooms = 0;
    let framesMixed = this.retiredFramesMixed;
    let framesCorrupt = this.retiredFramesCorrupt;
    let concealed = this.retiredConcealed;
    let late = this.retiredLate;
    let depthSum = 0;
    let depthCount = 0;
    let recordingsActive = 0;
    let recordingsKeptByIo = 0;
    let recordingBytes = this.retiredRecordingBytes;
    let recordingErrors = this.retiredRecordingErrors;
    let recordingFramesCorrupt = this.retiredRecordingCorrupt;
    for (const room of this.rooms.values()) {
      if (room.clocked) clockedRooms++;
      framesMixed += room.counters.framesMixed;
      framesCorrupt += room.counters.framesCorrupt;
      for (const jitter of room.jitterBuffers()) {
        const stats = jitter.stats;
        concealed += stats.concealed;
        late += stats.late;
        depthSum += stats.depthMs;
        depthCount++;
      }
      if (room.recording) recordingsActive++;
      if (room.recordingKeptByIo) recordingsKeptByIo++;
      recordingBytes += room.recordingBytes;
      recordingErrors += room.recordingErrors;
      recordingFramesCorrupt += room.recordingCorrupt;
    }
    for (const room of this.closingRooms) {
      recordingBytes += room.recordingBytes;
      recordingErrors += room.recordingErrors;
      recordingFramesCorrupt += room.recordingCorrupt;
    }
    return {
      rooms: this.rooms.size,
      clockedRooms,
      ticks: this.clock.frames,
      ticksSkipped: this.clock.skipped,
      framesMixed,
      framesConcealed: concealed,
      framesCorrupt,
      packetsLate: late,
      lateness: { ...this.lateness, counts: [...this.lateness.counts] },
      jitterDepthMs: depthCount === 0 ? null : depthSum / depthCount,
      recordingsActive,
      recordingsKeptByIo,
      recordingBytes,
      recordingErrors,
      recordingFramesCorrupt,
    };
  }

  /** Feeds `listener` from `sources` (already validated: ≤1, not itself). */
  private setSources(listener: WorkerLeg, ids: readonly number[], now: number): void {
    this.feed(
      listener,
      ids.map((id) => this.leg(id)),
      now,
    );
  }

  /** The packet path's routes: `listener` relays `sources` (≤ 1). */
  private feed(listener: WorkerLeg, sources: WorkerLeg[], now: number): void {
    for (const old of listener.sources) if (old.fastTo === listener) this.fast.release(old);
    for (const old of listener.sources) remove(old.listeners, listener);
    listener.sources = sources;
    for (const source of sources) {
      source.listeners.push(listener);
      arm(source, now);
    }
    arm(listener, now);
    listener.outbound.interrupt();
  }

  private async closeLeg(leg: WorkerLeg): Promise<void> {
    if (leg.closed) return;
    this.fast.releaseAround(leg);
    leg.closed = true;
    this.legs.delete(leg.id);
    this.legOfPair.delete(leg.pair);
    if (leg.roomId !== 0) {
      const room = this.rooms.get(leg.roomId);
      try {
        room?.removeLeg(leg);
      } catch (error) {
        this.internalError(leg, error);
      }
      this.updateClock(room);
    }
    for (const source of leg.sources) remove(source.listeners, leg);
    for (const listener of leg.listeners) {
      remove(listener.sources, leg);
      listener.outbound.interrupt();
    }
    leg.sources = [];
    leg.listeners = [];
    // RFC 3550 §6.3.7: a BYE when leaving, but none from a participant that never sent
    // an RTP or RTCP packet (a short call's leg that relayed nothing: no report, no send).
    if (leg.counters.packetsOut > 0 || leg.counters.rtcpOut > 0) {
      try {
        sendReport(leg, performance.now(), true);
      } catch (error) {
        this.internalError(leg, error);
      }
    }
    this.retired.add(leg.counters);
    await leg.pair.close();
  }

  private sweep(): void {
    const now = performance.now();
    const lag = now - this.lastSweepMs - this.config.sweepIntervalMs;
    this.lastSweepMs = now;
    if (lag > 0) {
      this.lagSum += lag;
      if (lag > this.lagMax) this.lagMax = lag;
    }
    this.lagCount++;
    this.fast.takeCounts(); // what the io relayed, before the legs' times and counts are read
    const timeout = this.config.rtpTimeoutMs;
    for (const leg of this.legs.values()) {
      try {
        if (timeout > 0 && leg.receiving && leg.armedMs >= 0) this.checkTimeout(leg, now, timeout);
        const digits = leg.dtmf.expire(now);
        for (const digit of digits) this.postDtmf(leg, digit);
        if (now >= leg.nextRtcpMs) {
          // The SR's RTP timestamp extrapolates from the last one sent: take it back.
          const feed = leg.sources[0];
          if (feed !== undefined && feed.fastTo === leg) this.fast.release(feed);
          sendReport(leg, now, false);
          leg.nextRtcpMs = now + this.rtcpDelay();
        }
      } catch (error) {
        this.internalError(leg, error);
      }
    }
    // Recordings are written here, off the packet path, from the packets queued since,
    // in slices between which the packet path runs (slicedRun.ts).
    this.recordingDrains.finish();
    for (const room of this.rooms.values()) this.recordingDrains.push(room);
    this.recordingDrains.start(now);
    if (this.config.statsIntervalMs > 0 && now >= this.nextStatsMs) {
      this.nextStatsMs = now + this.config.statsIntervalMs;
      this.host.post({ type: 'stats', report: this.report(null, false) });
      this.legStats.start(this.statsGroups());
    }
    const slice = this.legStats.take().filter((leg) => !leg.closed);
    if (slice.length > 0) this.host.post({ type: 'legStats', legs: this.legReports(slice, now) });
  }

  private checkTimeout(leg: WorkerLeg, now: number, timeout: number): void {
    const since = leg.lastRtpMs > leg.armedMs ? leg.lastRtpMs : leg.armedMs;
    if (now - since < timeout || leg.timeoutRaisedFor === since) return;
    leg.timeoutRaisedFor = since;
    this.host.post({
      type: 'rtpTimeout',
      legId: leg.id,
      reason: leg.lastRtpMs < 0 ? 'no-media' : 'media-stopped',
      silentMs: Math.round(now - since),
    });
  }

  private rtcpDelay(): number {
    return this.config.rtcpIntervalMs * (0.5 + Math.random());
  }

  /**
   * Worker totals and leg stats (`only`'s, or every leg's when `withLegs`); starts a new
   * window for utilisation and loop delay.
   */
  private report(only: WorkerLeg | null, withLegs = true): StatsReport {
    const now = performance.now();
    const totals = new Counters().add(this.retired);
    for (const leg of this.legs.values()) totals.add(leg.counters);
    const elu = performance.eventLoopUtilization(this.elu);
    this.elu = performance.eventLoopUtilization();
    const loopDelayMs = {
      mean: this.lagCount === 0 ? 0 : this.lagSum / this.lagCount,
      max: this.lagMax,
    };
    this.lagSum = 0;
    this.lagMax = 0;
    this.lagCount = 0;
    const legs = only !== null ? [only] : withLegs ? [...this.legs.values()] : [];
    return {
      mixer: this.mixerStats(),
      worker: {
        worker: this.config.index,
        legs: this.legs.size,
        counters: totals.snapshot(),
        cpuMs: addIoCpu(threadCpuMs(), this.io),
        io: this.io.name,
        ioCounters: this.io.counters(),
        eventLoopUtilization: elu.utilization,
        loopDelayMs,
        secureLive: { ...secureLive },
        fastRelay: { routes: this.fast.installed - this.fast.released, packets: this.fast.packets },
      },
      legs: this.legReports(legs, now),
    };
  }

  /**
   * The legs in groups reported together (statsSpread.ts): a room's members, and legs
   * relayed to each other, transitively (one call's legs).
   */
  private statsGroups(): WorkerLeg[][] {
    const seen = new Set<WorkerLeg>();
    const roomsSeen = new Set<number>();
    const groups: WorkerLeg[][] = [];
    const visit = (leg: WorkerLeg, group: WorkerLeg[]): void => {
      if (seen.has(leg) || leg.closed) return;
      seen.add(leg);
      group.push(leg);
    };
    for (const first of this.legs.values()) {
      if (seen.has(first)) continue;
      const group: WorkerLeg[] = [];
      visit(first, group);
      for (let i = 0; i < group.length; i++) {
        const leg = group[i]!;
        if (leg.roomId !== 0 && !roomsSeen.has(leg.roomId)) {
          roomsSeen.add(leg.roomId);
          for (const member of this.rooms.get(leg.roomId)?.members ?? []) visit(member.leg, group);
        }
        for (const other of leg.sources) visit(other, group);
        for (const other of leg.listeners) visit(other, group);
      }
      if (group.length > 0) groups.push(group);
    }
    return groups;
  }

  private legReports(legs: readonly WorkerLeg[], now: number): LegStats[] {
    return legs.map((leg) => {
      const stats = leg.stats(now);
      if (leg.pair instanceof SecurePair) {
        stats.secure = { state: leg.pair.state, ...leg.pair.secure };
      }
      return stats;
    });
  }

  private postDtmf(leg: WorkerLeg, digit: DtmfDigit): void {
    this.host.post({
      type: 'dtmf',
      legId: leg.id,
      digit: digit.digit,
      event: digit.event,
      durationMs: digit.duration / ((leg.payloads.telephoneEventClockRate || 8000) / 1000),
      volume: digit.volume,
      ended: digit.ended,
    });
  }

  /** A bug on the packet path: counted, logged at 1, 2, 4, 8… occurrences per leg. */
  private internalError(leg: WorkerLeg, error: unknown): void {
    const n = ++leg.counters.internalErrors;
    if ((n & (n - 1)) === 0) {
      this.log('error', 'packet path error', {
        legId: leg.id,
        label: leg.label,
        count: n,
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      });
    }
  }

  private replyError(id: number, error: unknown): void {
    if (error instanceof MediaError) {
      this.host.post({
        type: 'reply',
        id,
        ok: false,
        error: { code: error.code, message: error.message },
      });
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    this.log('error', 'command failed', { id, error: message });
    this.host.post({ type: 'reply', id, ok: false, error: { code: 'ERR_WORKER', message } });
  }

  private log(level: LogLevel, msg: string, fields: Record<string, unknown>): void {
    this.host.post({ type: 'log', level, msg, fields: { worker: this.config.index, ...fields } });
  }
}
