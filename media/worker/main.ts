/**
 * Entry point of a media worker thread (compiled to dist/media/worker/main.js, started
 * by MediaEngine). Reads its WorkerConfig from `workerData`, announces itself with
 * 'ready' (carrying PROTOCOL_VERSION), then hands every message from the engine to the
 * WorkerCore, whose legs reach their sockets through the packet io the engine chose
 * (media/io/ioChoice.ts: the native addon, or node:dgram) and whose recordings their files
 * through the recording writer thread (the MessagePort `recordingWriter` of workerData).
 * The engine terminates the thread after the core has answered 'close'.
 */
import { MessagePort, parentPort, workerData } from 'node:worker_threads';
import { opusBackend } from '../codecs/opusBinding.js';
import { createPacketIo } from '../io/ioChoice.js';
import { WORKER_WRITER_BATCH_MS, WriterClient } from '../recording/writer/client.js';
import { Batcher, DEFERRED_REPLIES, unbatch } from './batch.js';
import { PROTOCOL_VERSION } from './protocol.js';
import { checkWorkerConfig } from './validate.js';
import { WorkerCore } from './workerCore.js';

const port = parentPort;
if (port === null) {
  throw new Error('media/worker/main.js runs as a worker thread started by MediaEngine');
}
const config = checkWorkerConfig(workerData);
const writerPort = (workerData as { recordingWriter?: unknown }).recordingWriter;
let writer =
  writerPort instanceof MessagePort ? new WriterClient(writerPort, WORKER_WRITER_BATCH_MS) : null;
// Replies and events of one turn travel in one message (batch.ts); the replies to a call's
// closes travel deferred, like the closes did.
const outbox = new Batcher((message) => port.postMessage(message));
const deferredIds = new Set<number>();
const core = new WorkerCore(
  config,
  {
    post: (event) => {
      if (event.type === 'reply' && deferredIds.delete(event.id)) outbox.defer(event);
      else outbox.push(event);
    },
  },
  createPacketIo(config.io ?? 'dgram'),
  // `open`: the create and the header write behind it go to the writer as one batch.
  writer === null ? undefined : (path, mode) => Promise.resolve(writer!.open(path, mode)),
);
port.on('message', (message: unknown) => {
  // A new writer port (the engine restarted the writer thread; sent on its own, never in a
  // batch, since it carries a transferred port): later files use it.
  const m = message as { type?: unknown; port?: unknown } | null;
  if (m?.type === 'recordingWriter' && m.port instanceof MessagePort) {
    if (writer !== null) writer = new WriterClient(m.port, WORKER_WRITER_BATCH_MS);
    else m.port.close();
    return;
  }
  unbatch(message, (command) => {
    const c = command as { type?: unknown; id?: unknown } | null;
    if (typeof c?.type === 'string' && DEFERRED_REPLIES.has(c.type) && typeof c.id === 'number') {
      deferredIds.add(c.id);
    }
    core.handle(command);
  });
});
// The Opus backend (docs/codecs.md) loads before this worker says it is ready, not on the
// first call that lists Opus (calls.codecs does by default): loading the addon takes this
// thread 0.2-0.5 s, which stalled that call's set-up and every command and packet behind
// it (also when it was loaded just after 'ready': the first calls met the stall).
opusBackend();
port.postMessage({ type: 'ready', protocol: PROTOCOL_VERSION, worker: config.index });
