/**
 * Entry point of a media worker thread (compiled to dist/media/worker/main.js, started
 * by MediaEngine). Reads its WorkerConfig from `workerData`, announces itself with
 * 'ready' (carrying PROTOCOL_VERSION), then hands every message from the engine to the
 * WorkerCore, whose legs reach their sockets through node:dgram
 * (media/io/dgramPacketIo.ts) and whose recordings their files through the recording
 * writer thread (the MessagePort `recordingWriter` of workerData). The engine terminates
 * the thread after the core has answered 'close'.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { MessagePort } from 'node:worker_threads';
import { DgramPacketIo } from '../io/dgramPacketIo.js';
import { WriterClient } from '../recording/writer/client.js';
import { PROTOCOL_VERSION } from './protocol.js';
import { checkWorkerConfig } from './validate.js';
import { WorkerCore } from './workerCore.js';

const port = parentPort;
if (port === null) {
  throw new Error('media/worker/main.js runs as a worker thread started by MediaEngine');
}
const config = checkWorkerConfig(workerData);
const writerPort = (workerData as { recordingWriter?: unknown }).recordingWriter;
let writer = writerPort instanceof MessagePort ? new WriterClient(writerPort) : null;
const core = new WorkerCore(
  config,
  { post: (event) => port.postMessage(event) },
  new DgramPacketIo(),
  writer === null ? undefined : (path, mode) => writer!.create(path, mode),
);
port.on('message', (message: unknown) => {
  // A new writer port (the engine restarted the writer thread): later files use it.
  const m = message as { type?: unknown; port?: unknown } | null;
  if (m?.type === 'recordingWriter' && m.port instanceof MessagePort) {
    if (writer !== null) writer = new WriterClient(m.port);
    else m.port.close();
    return;
  }
  core.handle(message);
});
port.postMessage({ type: 'ready', protocol: PROTOCOL_VERSION, worker: config.index });
