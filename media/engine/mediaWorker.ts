/**
 * The main thread's handle on one worker thread: starts it, correlates each command with
 * its reply (a request id per command, a timeout per request), and passes the worker's
 * unsolicited events on. The MediaEngine owns these; callers never see them.
 *
 * Life cycle: `start` resolves once the worker said 'ready' with our protocol version.
 * `close` rejects whatever is pending (docs/architecture.md §15.3), asks the worker to
 * close its legs, sockets and timer, then terminates the thread; it is idempotent. A
 * worker that exits on its own (a crash) rejects what is pending and emits 'died'.
 */
import { Worker } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { TypedEmitter } from '../util/typedEmitter.js';
import { InvalidStateError, MediaError } from './errors.js';
import type { MediaLogger } from './logger.js';
import { PROTOCOL_VERSION } from '../worker/protocol.js';
import { Batcher, unbatch } from '../worker/batch.js';
import { PendingRequests } from './pendingRequests.js';
import type { CommandBody, CommandResults, WorkerConfig, WorkerEvent } from '../worker/protocol.js';

/** The worker's events other than 'ready' and replies. */
export type WorkerNotice = Exclude<WorkerEvent, { type: 'ready' } | { type: 'reply' }>;

export type MediaWorkerEvents = {
  notice: [WorkerNotice];
  died: [Error];
};

export class MediaWorker extends TypedEmitter<MediaWorkerEvents> {
  /** Legs the engine placed here (its load-balancing bookkeeping). */
  legCount = 0;

  /** Commands sent and not answered yet, with their one deadline timer (pendingRequests.ts). */
  private readonly pending: PendingRequests;
  private nextId = 1;
  private accepting = true;
  private exited = false;
  private closing: Promise<void> | undefined;
  /** The commands of one event-loop turn go in one postMessage (worker/batch.ts). */
  private readonly outbox: Batcher;

  private constructor(
    readonly index: number,
    private readonly worker: Worker,
    requestTimeoutMs: number,
    private readonly logger: MediaLogger,
  ) {
    super((error, event) => logger.error({ error, event }, 'media worker listener threw'));
    this.pending = new PendingRequests(
      requestTimeoutMs,
      (what) => new MediaError('ERR_TIMEOUT', `media worker ${index}: no answer to ${what}`),
    );
    this.outbox = new Batcher((message) => worker.postMessage(message));
    worker.on('message', (message: unknown) =>
      unbatch(message, (event) => this.onMessage(event as WorkerEvent)),
    );
    worker.on('error', (error) => logger.error({ error }, 'media worker crashed'));
    worker.on('exit', (code) => this.onExit(code));
  }

  /**
   * Spawns the worker and waits for its 'ready'. `writerPort` (transferred to it) is its
   * client port of the recording writer thread.
   */
  static start(
    script: string | URL,
    config: WorkerConfig,
    requestTimeoutMs: number,
    logger: MediaLogger,
    writerPort: MessagePort | null = null,
  ): Promise<MediaWorker> {
    const worker =
      writerPort === null
        ? new Worker(script, { workerData: config })
        : new Worker(script, {
            workerData: { ...config, recordingWriter: writerPort },
            transferList: [writerPort],
          });
    return new Promise((resolve, reject) => {
      const fail = (message: string, code: 'ERR_WORKER' | 'ERR_PROTOCOL_MISMATCH'): void => {
        cleanup();
        void worker.terminate();
        reject(new MediaError(code, `media worker ${config.index}: ${message}`));
      };
      const onMessage = (event: WorkerEvent): void => {
        if (event.type !== 'ready') return;
        if (event.protocol !== PROTOCOL_VERSION) {
          fail(
            `${String(script)} speaks protocol ${event.protocol}, the engine ${PROTOCOL_VERSION}` +
              ' (a stale build? run npm run build)',
            'ERR_PROTOCOL_MISMATCH',
          );
          return;
        }
        cleanup();
        resolve(new MediaWorker(config.index, worker, requestTimeoutMs, logger));
      };
      const onError = (error: Error): void =>
        fail(`failed to start: ${error.message}`, 'ERR_WORKER');
      const onExit = (code: number): void =>
        fail(`exited with code ${code} while starting`, 'ERR_WORKER');
      const cleanup = (): void => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
    });
  }

  /** Whether commands are still accepted (not closing, not dead). */
  get alive(): boolean {
    return this.accepting && !this.exited;
  }

  /** Sends a command; resolves with its result or rejects with the worker's MediaError. */
  request<B extends CommandBody>(body: B): Promise<CommandResults[B['type']]> {
    if (!this.alive) {
      return Promise.reject(new InvalidStateError(`media worker ${this.index} is closed`));
    }
    return this.send(body);
  }

  /** Hands the worker a new recording writer port (the writer was restarted). */
  attachRecordingWriter(port: MessagePort): void {
    if (!this.alive) {
      port.close();
      return;
    }
    this.worker.postMessage({ type: 'recordingWriter', port }, [port]);
  }

  /** Closes the worker's legs, sockets and timer, then the thread. Idempotent. */
  close(): Promise<void> {
    if (this.closing === undefined) {
      this.accepting = false;
      this.rejectAll(new InvalidStateError(`media worker ${this.index} is closed`));
      this.closing = this.shutdown();
    }
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    if (!this.exited) {
      try {
        await this.send({ type: 'close' });
      } catch (error) {
        this.logger.warn({ error, worker: this.index }, 'media worker did not close cleanly');
      }
      await this.worker.terminate();
    }
    this.outbox.close();
    this.removeAllListeners();
  }

  private send<B extends CommandBody>(body: B): Promise<CommandResults[B['type']]> {
    const id = this.nextId++;
    return new Promise<CommandResults[B['type']]>((resolve, reject) => {
      this.pending.add(id, body.type, { resolve: resolve as (result: unknown) => void, reject });
      // Object.assign, not `{ ...body, id }`: a spread followed by a new property takes a
      // slow path on Node 20 (docs/architecture.md §15.6), and a call makes nine commands.
      // Every command goes in this turn's batch, a call's closes too: a leg relays until
      // its close arrives (docs/architecture.md §5.1).
      this.outbox.push(Object.assign({}, body, { id }));
    });
  }

  private onMessage(event: WorkerEvent): void {
    if (event.type === 'reply') {
      const pending = this.pending.take(event.id);
      if (pending === undefined) return; // timed out, or rejected by close
      if (event.ok) pending.resolve(event.result);
      else pending.reject(new MediaError(event.error.code, event.error.message));
      return;
    }
    if (event.type === 'ready') return;
    this.emit('notice', event);
  }

  private onExit(code: number): void {
    this.exited = true;
    this.outbox.close();
    if (this.closing !== undefined) return;
    this.accepting = false;
    const error = new MediaError(
      'ERR_WORKER',
      `media worker ${this.index} exited with code ${code}`,
    );
    this.rejectAll(error);
    this.emit('died', error);
  }

  private rejectAll(error: Error): void {
    this.pending.rejectAll(error);
  }
}
