/**
 * The media engine: anchors call audio in worker threads (docs/architecture.md §5, the mediasoup
 * model). It owns the workers, the port range and the legs; callers get Leg objects from
 * `createLeg` and never construct anything. Each leg lives in one worker, which binds its
 * sockets and relays its packets without the main thread; routes connect legs of one
 * worker, so a call's legs share a `group` (e.g. the call id) and land on the same worker.
 * Legs without a group, and a group's first leg, go to the worker with the fewest legs.
 *
 *   const engine = await MediaEngine.create({ address: '127.0.0.1',
 *     portRange: { min: 20000, max: 29999 }, rtpTimeoutMs: 30000, latchWindowMs: 2000 });
 *   const a = await engine.createLeg({ codecs: [{ name: 'PCMU', payloadType: 0 }],
 *     telephoneEvent: { payloadType: 101 }, remote: { address, port }, group: callId });
 *   const b = await engine.createLeg({ codecs: [{ name: 'PCMA', payloadType: 8 }], group: callId });
 *   await engine.connect(a, b);   // a ← b and b ← a
 *   await b.setRemote({ address, port });   // the callee's answer
 *   …
 *   await engine.close();         // every worker, socket and timer
 *
 * Events: 'stats' (each worker's totals, per statsIntervalMs; legs get theirs), and
 * 'workerDied' (a crashed worker's legs are closed with reason 'worker-died'; there is
 * no respawn yet). Close is idempotent; afterwards every method rejects with
 * InvalidStateError, and so does anything still pending.
 *
 * Recording files are written by one more thread, the recording writer (started before
 * the workers, closed after them): each worker gets its own client port, and the main
 * thread one (`recordingFiles`, for the recording sidecars). A writer thread that dies
 * is started again (its pending ops reject: those recordings fail, calls go on).
 */
import { isIP } from 'node:net';
import { chooseIo } from '../io/ioChoice.js';
import { TypedEmitter } from '../util/typedEmitter.js';
import { resolveEngineOptions } from './engineOptions.js';
import type { MediaEngineOptions, ResolvedEngineOptions } from './engineOptions.js';
import { InvalidStateError, MediaError } from './errors.js';
import { Leg } from './leg.js';
import type { MediaLogger } from './logger.js';
import { MediaWorker } from './mediaWorker.js';
import type { WorkerNotice } from './mediaWorker.js';
import { PortAllocator } from './portAllocator.js';
import { RecordingWriter } from '../recording/writer/recordingWriter.js';
import { WriterClient } from '../recording/writer/client.js';
import type { WriterStats } from '../recording/writer/protocol.js';
import { Room } from './room.js';
import type { Prompt } from './prompt.js';
import type { PromptAudio } from '../prompts/promptWav.js';
import type { DtlsIdentity } from '../secure/certificate.js';
import type {
  CodecSpec,
  MediaDirection,
  MixerStats,
  RecordingSummary,
  RemoteAddress,
  StatsReport,
  TelephoneEventSpec,
  LegStats,
  WorkerStats,
} from '../worker/protocol.js';
import {
  checkCodecs,
  checkDirection,
  checkPromptAudio,
  checkRemote,
  checkTelephoneEvent,
} from '../worker/validate.js';

export interface CreateLegOptions {
  /** Negotiated audio codecs, preferred first. */
  codecs: CodecSpec[];
  telephoneEvent?: TelephoneEventSpec | null;
  /** The endpoint's address from its SDP, if known yet (else Leg.setRemote later). */
  remote?: RemoteAddress | null;
  /** Default 'sendrecv'. */
  direction?: MediaDirection;
  /** Relay this leg's DTMF to its listeners (default true; false consumes it). */
  forwardDtmf?: boolean;
  /** Worker affinity key: legs with the same group share a worker (use the call id). */
  group?: string;
  /** For logs. */
  callId?: string;
}

export interface CreateRoomOptions {
  /** Worker affinity key: the group of the call's legs (the call id). */
  group?: string;
}

export type MediaEngineEvents = {
  stats: [WorkerStats];
  /** Each worker's mixer totals, with its 'stats'. */
  mixerStats: [{ worker: number; mixer: MixerStats }];
  /** Every leg's periodic report, for observers (metrics) that watch all legs. */
  legStats: [LegStats];
  /** A leg latched onto its source (signalled: the SDP address; else NAT). */
  legLatched: [{ legId: number; signalled: boolean }];
  /** A leg closed (by its owner or with its worker), for observers keeping per-leg state. */
  legClosed: [legId: number];
  workerDied: [{ worker: number; error: Error }];
};

/**
 * How long the main thread's recording-writer ops (the sidecars, docs/architecture.md
 * §7.5) wait to be sent with those that follow: several calls' sidecars per message to the
 * writer thread instead of one message (and one answer, two thread wake-ups) each. With
 * 10 ms, a message carried about one call's at 100 set-ups per second (measured: 1 of the
 * 2 writer batches per recorded call came from here); 50 ms gathers about five.
 */
const SIDECAR_BATCH_MS = 50;

/** Ports tried per createLeg when binding fails with EADDRINUSE (someone else's port). */
const MAX_BIND_ATTEMPTS = 16;

export class MediaEngine extends TypedEmitter<MediaEngineEvents> {
  private readonly legs = new Map<number, Leg>();
  private readonly rooms = new Map<number, Room>();
  private nextRoomId = 1;
  private nextPromptId = 1;
  /** Group → its worker and how many legs (created or being created) it holds there. */
  private readonly groups = new Map<string, { worker: MediaWorker; legs: number }>();
  private readonly ports: PortAllocator;
  private readonly logger: MediaLogger;
  private readonly family: 4 | 6;
  private nextLegId = 1;
  private closing: Promise<void> | undefined;
  /** The main thread's client of the recording writer (the sidecars). */
  private writerClient: WriterClient;
  /** Starts of the writer thread after it died, in the last minute (a crash loop stops). */
  private writerRestarts: number[] = [];
  private restartingWriter: Promise<void> | null = null;
  /** Our DTLS certificate for WebRTC legs: made once, on first use (dtlsIdentity). */
  private identity: Promise<DtlsIdentity> | undefined;

  private constructor(
    private readonly options: ResolvedEngineOptions,
    private readonly workers: readonly MediaWorker[],
    private writer: RecordingWriter,
    logger: MediaLogger,
  ) {
    super((error, event) => logger.error({ error, event }, 'media engine listener threw'));
    this.logger = logger;
    this.ports = new PortAllocator(options.portMin, options.portMax);
    this.family = isIP(options.address) === 6 ? 6 : 4;
    for (const worker of workers) {
      worker.on('notice', (notice) => this.onNotice(worker, notice));
      worker.on('died', (error) => this.onWorkerDied(worker, error));
    }
    this.writerClient = new WriterClient(writer.channel('main'), SIDECAR_BATCH_MS);
    writer.on('died', (error) => this.onWriterDied(error));
  }

  /** Validates the options, starts the recording writer and the workers (all, or none). */
  static async create(options: MediaEngineOptions): Promise<MediaEngine> {
    const o = resolveEngineOptions(options);
    const logger = o.logger.child({ module: 'media' });
    const io = chooseIo(o.io, logger);
    const writer = await RecordingWriter.start(o.recordingWriterScript, (error, event) =>
      logger.error({ error, event }, 'recording writer listener threw'),
    );
    const started = await Promise.allSettled(
      Array.from({ length: o.workers }, (_, index) =>
        MediaWorker.start(
          o.workerScript,
          {
            index,
            address: o.address,
            rtpTimeoutMs: o.rtpTimeoutMs,
            latchWindowMs: o.latchWindowMs,
            statsIntervalMs: o.statsIntervalMs,
            rtcpIntervalMs: o.rtcpIntervalMs,
            sweepIntervalMs: o.sweepIntervalMs,
            jitter: o.jitter,
            minMixRate: o.minMixRate,
            io,
          },
          o.requestTimeoutMs,
          logger.child({ worker: index }),
          writer.channel(`worker ${index}`),
        ),
      ),
    );
    const workers = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failure = started.find((r) => r.status === 'rejected');
    if (failure !== undefined) {
      await Promise.all(workers.map((w) => w.close()));
      await writer.close();
      throw failure.reason;
    }
    logger.info({ workers: workers.length, address: o.address }, 'media engine started');
    return new MediaEngine(o, workers, writer, logger);
  }

  /**
   * The server's DTLS certificate and its fingerprint (docs/architecture.md §3.2.2): one
   * ECDSA P-256 certificate per engine, made on the first call by a media worker (werift
   * loads there, never on this thread), handed to every WebRTC leg with Leg.secure. A
   * failure is not kept: the next call tries again.
   */
  dtlsIdentity(): Promise<DtlsIdentity> {
    this.assertOpen();
    if (this.identity === undefined) {
      const worker = this.workers.find((w) => w.alive);
      const made =
        worker === undefined
          ? Promise.reject(new MediaError('ERR_WORKER', 'no media worker is running'))
          : worker.request({ type: 'createCertificate' });
      this.identity = made;
      made.catch(() => {
        if (this.identity === made) this.identity = undefined;
      });
    }
    return this.identity;
  }

  get closed(): boolean {
    return this.closing !== undefined;
  }

  /** Open legs. */
  get legCount(): number {
    return this.legs.size;
  }

  get workerCount(): number {
    return this.workers.length;
  }

  /** A leg with its own RTP/RTCP port pair, on its group's worker. */
  async createLeg(options: CreateLegOptions): Promise<Leg> {
    this.assertOpen();
    if (typeof options !== 'object' || options === null) {
      throw new MediaError('ERR_INVALID_ARGUMENT', 'options must be an object');
    }
    const codecs = checkCodecs(options.codecs);
    const telephoneEvent = checkTelephoneEvent(options.telephoneEvent, codecs);
    const remote = checkRemote(options.remote, 'remote', this.family);
    const direction = checkDirection(options.direction ?? 'sendrecv');
    const forwardDtmf = options.forwardDtmf ?? true;
    if (typeof forwardDtmf !== 'boolean') {
      throw new MediaError('ERR_INVALID_ARGUMENT', 'forwardDtmf must be a boolean');
    }
    const { group, callId } = options;
    const worker = this.joinGroup(group);
    // Counted now, not when the worker answers: legs created at the same moment must
    // see each other's load, or they all land on the same worker.
    worker.legCount++;
    try {
      for (let attempt = 1; ; attempt++) {
        const port = this.ports.allocate();
        if (port === undefined) {
          throw new MediaError('ERR_NO_PORTS', `all ${this.ports.capacity} port pairs are in use`);
        }
        const id = this.nextLegId++;
        let ssrc: number;
        try {
          ({ ssrc } = await worker.request({
            type: 'createLeg',
            leg: {
              legId: id,
              port,
              codecs,
              telephoneEvent,
              remote,
              direction,
              forwardDtmf,
              label: callId ?? null,
            },
          }));
        } catch (error) {
          // After a timeout the worker may still bind the pair: keep it reserved.
          const timedOut = error instanceof MediaError && error.code === 'ERR_TIMEOUT';
          if (!this.closed && !timedOut) this.ports.release(port);
          const retry = error instanceof MediaError && error.code === 'ERR_PORT_IN_USE';
          if (!retry || attempt >= Math.min(MAX_BIND_ATTEMPTS, this.ports.capacity)) throw error;
          this.logger.warn(
            { port, callId },
            'RTP port pair in use by another process, trying another',
          );
          continue;
        }
        // Closed while the worker was binding: its close takes the sockets with it.
        if (this.closed) throw new InvalidStateError('the media engine is closed');
        const leg = new Leg({
          id,
          localAddress: this.options.advertisedAddress,
          localPort: port,
          ssrc,
          group,
          callId,
          direction,
          remote,
          worker,
          family: this.family,
          logger: this.logger,
          closeLeg: (l) => this.closeLeg(l),
        });
        this.legs.set(id, leg);
        return leg;
      }
    } catch (error) {
      worker.legCount--;
      this.leaveGroup(group);
      throw error;
    }
  }

  /**
   * A room (a call's mixer, recording tap and tones) on the worker of `group` — create
   * the call's legs with the same group first, so the room lands where they are.
   */
  async createRoom(options: CreateRoomOptions = {}): Promise<Room> {
    this.assertOpen();
    const { group } = options;
    const worker = this.joinGroup(group);
    const id = this.nextRoomId++;
    try {
      await worker.request({ type: 'createRoom', roomId: id });
    } catch (error) {
      this.leaveGroup(group);
      throw error;
    }
    if (this.closed) throw new InvalidStateError('the media engine is closed');
    const room = new Room({
      id,
      worker,
      group,
      closeRoom: (r) => this.closeRoom(r),
      onListenerError: (error) => this.logger.error({ error }, 'prompt listener threw'),
    });
    this.rooms.set(id, room);
    return room;
  }

  /**
   * Loads a prompt (mono 16-bit PCM at 8 or 16 kHz: media/prompts/promptWav.ts) into every
   * worker, once; rooms then play it by id (Room.playPrompt). Each worker keeps its copy
   * until the engine closes.
   */
  async loadPrompt(audio: PromptAudio): Promise<Prompt> {
    this.assertOpen();
    const { sampleRate, samples } = checkPromptAudio(audio?.sampleRate, audio?.samples);
    const id = this.nextPromptId++;
    const live = this.workers.filter((w) => w.alive);
    await Promise.all(
      live.map((w) => w.request({ type: 'loadPrompt', promptId: id, sampleRate, samples })),
    );
    return { id, sampleRate, durationMs: (samples.length * 1000) / sampleRate };
  }

  /** A two-party relay: each leg hears the other. */
  async connect(a: Leg, b: Leg): Promise<void> {
    this.assertOpen();
    await Promise.all([a.setSources([b]), b.setSources([a])]);
  }

  /**
   * Every worker's totals and legs, now. `legs: false` leaves the legs' reports out (each
   * worker's report of hundreds of legs is a task of several milliseconds, §5.3).
   */
  async getStats(options: { legs?: boolean } = {}): Promise<StatsReport[]> {
    this.assertOpen();
    const live = this.workers.filter((w) => w.alive);
    const legs = options.legs ?? true;
    return Promise.all(live.map((w) => w.request({ type: 'getStats', legId: null, legs })));
  }

  /**
   * The recording writer thread's CPU and totals (null while it is not running): its CPU
   * is part of what recording costs, next to the workers' (getStats).
   */
  async getRecordingWriterStats(): Promise<WriterStats | null> {
    this.assertOpen();
    return this.writer.stats();
  }

  /**
   * Writes a small file (a recording's sidecar) whole, on the recording writer thread:
   * `path`.tmp created with `mode` (whatever the umask), then renamed over `path`. Rejects
   * with the Node error (its `code`: ENOENT, ENOSPC…).
   */
  writeSmallFile(path: string, text: string, mode: number): Promise<void> {
    if (this.closing !== undefined) {
      return Promise.reject(new InvalidStateError('the media engine is closed'));
    }
    return this.writerClient.writeSmallFile(path, text, mode);
  }

  /**
   * Rewrites a small file `writeSmallFile` wrote (a sidecar at the call's end), on the
   * writer thread: in place by one write of at most a page, nothing created or deleted;
   * else (no file, a longer text) as `writeSmallFile` (media/recording/writer/writerCore.ts).
   */
  updateSmallFile(path: string, text: string, mode: number): Promise<void> {
    if (this.closing !== undefined) {
      return Promise.reject(new InvalidStateError('the media engine is closed'));
    }
    return this.writerClient.updateSmallFile(path, text, mode);
  }

  /** Closes every leg, socket, timer and worker thread, then the recording writer. Idempotent. */
  close(): Promise<void> {
    if (this.closing === undefined) {
      for (const leg of this.legs.values()) leg.parentClosed('engine-closed');
      for (const room of this.rooms.values()) room.parentClosed();
      this.legs.clear();
      this.rooms.clear();
      this.groups.clear();
      // The workers first: closing their rooms completes their recordings' files.
      this.closing = Promise.all(this.workers.map((w) => w.close()))
        .then(() => this.restartingWriter)
        .then(() => this.writer.close())
        .then(() => {
          this.logger.info({}, 'media engine closed');
          this.removeAllListeners();
        });
    }
    return this.closing;
  }

  /**
   * The writer thread died: its clients' pending ops have rejected (those recordings fail
   * and are counted; calls go on). A new one is started and every live worker, and the
   * main thread, get a port of it; more than 5 restarts in a minute stop trying (every
   * recording then fails to start, with ERR_RECORDING_WRITER_GONE).
   */
  private onWriterDied(error: Error): void {
    this.logger.error({ error }, 'recording writer died; open recordings fail');
    if (this.closing !== undefined) return;
    const now = Date.now();
    this.writerRestarts = this.writerRestarts.filter((t) => now - t < 60_000);
    if (this.writerRestarts.length >= 5) {
      this.logger.error({}, 'recording writer died 5 times in a minute; not restarted');
      return;
    }
    this.writerRestarts.push(now);
    this.restartingWriter = RecordingWriter.start(this.options.recordingWriterScript, (e, event) =>
      this.logger.error({ error: e, event }, 'recording writer listener threw'),
    ).then(
      (writer) => {
        this.restartingWriter = null;
        this.writer = writer;
        writer.on('died', (e) => this.onWriterDied(e));
        if (this.closing !== undefined) return; // close() waits for this, then closes it
        this.writerClient = new WriterClient(writer.channel('main'), SIDECAR_BATCH_MS);
        for (const worker of this.workers) {
          if (worker.alive) worker.attachRecordingWriter(writer.channel(`worker ${worker.index}`));
        }
        this.logger.info({}, 'recording writer restarted');
      },
      (e: unknown) => {
        this.restartingWriter = null;
        this.logger.error({ error: e }, 'recording writer could not be restarted');
      },
    );
  }

  private async closeLeg(leg: Leg): Promise<void> {
    if (this.legs.get(leg.id) !== leg) return; // the engine closed first
    this.legs.delete(leg.id);
    this.emit('legClosed', leg.id);
    leg.worker.legCount--;
    this.leaveGroup(leg.group);
    try {
      await leg.worker.request({ type: 'closeLeg', legId: leg.id });
      if (!this.closed) this.ports.release(leg.localPort);
    } catch (error) {
      // Closing engine or dead worker: its sockets are gone anyway. A timeout: the
      // sockets may still be bound, so the ports stay reserved rather than reused.
      if (error instanceof MediaError && error.code === 'ERR_TIMEOUT') {
        this.logger.error({ legId: leg.id, callId: leg.callId }, 'leg close timed out');
      }
    }
  }

  private async closeRoom(room: Room): Promise<RecordingSummary | null> {
    if (this.rooms.get(room.id) !== room) return null; // the engine closed first
    this.rooms.delete(room.id);
    this.leaveGroup(room.group);
    try {
      return await room.worker.request({ type: 'closeRoom', roomId: room.id });
    } catch (error) {
      // A worker that is closing (the engine's close) or dead took the room with it: its
      // close completes the room's recording (docs/architecture.md §7). Anything else is
      // a failure to tell.
      if (!(error instanceof InvalidStateError)) {
        this.logger.error({ roomId: room.id, error }, 'room close failed');
      }
      return null;
    }
  }

  private joinGroup(group: string | undefined): MediaWorker {
    if (group !== undefined) {
      const entry = this.groups.get(group);
      if (entry !== undefined && entry.worker.alive) {
        entry.legs++;
        return entry.worker;
      }
    }
    let best: MediaWorker | undefined;
    for (const w of this.workers) {
      if (w.alive && (best === undefined || w.legCount < best.legCount)) best = w;
    }
    if (best === undefined) throw new MediaError('ERR_WORKER', 'no media worker is running');
    if (group !== undefined) this.groups.set(group, { worker: best, legs: 1 });
    return best;
  }

  private leaveGroup(group: string | undefined): void {
    if (group === undefined) return;
    const entry = this.groups.get(group);
    if (entry !== undefined && --entry.legs <= 0) this.groups.delete(group);
  }

  private onNotice(worker: MediaWorker, notice: WorkerNotice): void {
    switch (notice.type) {
      case 'latched': {
        const { address, port, signalled } = notice;
        this.legs.get(notice.legId)?.emit('latched', { address, port, signalled });
        this.emit('legLatched', { legId: notice.legId, signalled });
        return;
      }
      case 'secure':
        this.legs.get(notice.legId)?.emit('secure', { state: notice.state, reason: notice.reason });
        return;
      case 'rtpTimeout':
        this.legs.get(notice.legId)?.emit('rtpTimeout', {
          reason: notice.reason,
          silentMs: notice.silentMs,
        });
        return;
      case 'dtmf': {
        const { type: _type, ...event } = notice;
        this.legs.get(notice.legId)?.emit('dtmf', event);
        return;
      }
      case 'stats':
        this.emit('stats', notice.report.worker);
        this.emit('mixerStats', { worker: worker.index, mixer: notice.report.mixer });
        this.onLegStats(notice.report.legs);
        return;
      case 'legStats':
        this.onLegStats(notice.legs);
        return;
      case 'promptEnded':
        this.rooms.get(notice.roomId)?.promptEnded(notice.playId, notice.reason);
        return;
      case 'log':
        this.logger[notice.level]({ worker: worker.index, ...notice.fields }, notice.msg);
        return;
    }
  }

  private onLegStats(reports: readonly LegStats[]): void {
    for (const stats of reports) {
      this.legs.get(stats.legId)?.emit('stats', stats);
      this.emit('legStats', stats);
    }
  }

  private onWorkerDied(worker: MediaWorker, error: Error): void {
    this.logger.error({ worker: worker.index, error }, 'media worker died; its legs are closed');
    for (const leg of [...this.legs.values()]) {
      if (leg.worker !== worker) continue;
      this.legs.delete(leg.id);
      this.emit('legClosed', leg.id);
      this.leaveGroup(leg.group);
      this.ports.release(leg.localPort); // the thread's sockets closed with it
      leg.parentClosed('worker-died');
    }
    for (const room of [...this.rooms.values()]) {
      if (room.worker !== worker) continue;
      this.rooms.delete(room.id);
      this.leaveGroup(room.group);
      room.parentClosed();
    }
    worker.legCount = 0;
    this.emit('workerDied', { worker: worker.index, error });
  }

  private assertOpen(): void {
    if (this.closing !== undefined) throw new InvalidStateError('the media engine is closed');
  }
}
