/**
 * The media engine's handle on the recording writer thread (docs/architecture.md, the
 * recording section): starts it, attaches one MessagePort per client (`channel`: each
 * media worker, the main thread's recording tap), reads its stats and closes it (every
 * file closed, then the thread terminated; idempotent). A thread that exits on its own
 * emits 'died': its clients' ports close with it, so their pending ops reject.
 */
import { MessageChannel, Worker } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { TypedEmitter } from '../../util/typedEmitter.js';
import type { WriterControl, WriterEvent, WriterStats } from './protocol.js';

export type RecordingWriterEvents = {
  died: [Error];
};

/** How long `close` waits for the thread to close its files before terminating it. */
const CLOSE_TIMEOUT_MS = 5000;

export class RecordingWriter extends TypedEmitter<RecordingWriterEvents> {
  private readonly pending = new Map<number, (event: WriterEvent) => void>();
  private nextId = 1;
  private exited = false;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly worker: Worker,
    onListenerError: (error: unknown, event: string) => void,
  ) {
    super(onListenerError);
    worker.on('message', (event: WriterEvent) => {
      if (event.type === 'ready') return;
      const settle = this.pending.get(event.id);
      this.pending.delete(event.id);
      settle?.(event);
    });
    worker.on('error', () => undefined); // the 'exit' that follows reports it
    worker.on('exit', (code) => {
      this.exited = true;
      for (const settle of this.pending.values()) settle({ type: 'closed', id: -1 });
      this.pending.clear();
      if (this.closing === undefined) {
        this.emit('died', new Error(`the recording writer thread exited with code ${code}`));
      }
    });
  }

  /** Spawns the thread and waits for its 'ready' (rejects, thread stopped, if it fails). */
  static start(
    script: string | URL,
    onListenerError: (error: unknown, event: string) => void,
  ): Promise<RecordingWriter> {
    const worker = new Worker(script);
    return new Promise((resolve, reject) => {
      const cleanup = (): void => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      const onMessage = (event: WriterEvent): void => {
        if (event.type !== 'ready') return;
        cleanup();
        resolve(new RecordingWriter(worker, onListenerError));
      };
      const onError = (error: Error): void => {
        cleanup();
        void worker.terminate();
        reject(new Error(`the recording writer failed to start: ${error.message}`));
      };
      const onExit = (code: number): void => {
        cleanup();
        reject(new Error(`the recording writer exited with code ${code} while starting`));
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
    });
  }

  get alive(): boolean {
    return !this.exited && this.closing === undefined;
  }

  /** A new client's port (the other end is attached to the thread); `owner` names it. */
  channel(owner: string): MessagePort {
    const { port1, port2 } = new MessageChannel();
    if (!this.alive) {
      port2.close(); // the client sees its writer gone at once
      return port1;
    }
    const message: WriterControl = { type: 'attach', port: port2, owner };
    this.worker.postMessage(message, [port2]);
    return port1;
  }

  /** The thread's CPU and totals; null when it is not running. */
  async stats(): Promise<WriterStats | null> {
    if (!this.alive) return null;
    const event = await this.request({ type: 'stats', id: this.nextId++ });
    return event.type === 'stats' ? event.stats : null;
  }

  /** Closes every file the thread holds, then the thread. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    if (!this.exited) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.request({ type: 'close', id: this.nextId++ }),
        new Promise((resolve) => (timer = setTimeout(resolve, CLOSE_TIMEOUT_MS))),
      ]);
      clearTimeout(timer);
      await this.worker.terminate();
    }
    this.removeAllListeners();
  }

  private request(message: WriterControl & { id: number }): Promise<WriterEvent> {
    if (this.exited) return Promise.resolve({ type: 'closed', id: message.id });
    return new Promise((resolve) => {
      this.pending.set(message.id, resolve);
      this.worker.postMessage(message);
    });
  }
}
