/**
 * Entry point of a media worker thread (compiled to dist/media/worker/main.js, started
 * by MediaEngine). Reads its WorkerConfig from `workerData`, announces itself with
 * 'ready' (carrying PROTOCOL_VERSION), then hands every message from the engine to the
 * WorkerCore, whose legs reach their sockets through the packet io the engine chose
 * (media/io/ioChoice.ts: the native addon, or node:dgram). The engine terminates the
 * thread after the core has answered 'close'.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createPacketIo } from '../io/ioChoice.js';
import { PROTOCOL_VERSION } from './protocol.js';
import { checkWorkerConfig } from './validate.js';
import { WorkerCore } from './workerCore.js';

const port = parentPort;
if (port === null) {
  throw new Error('media/worker/main.js runs as a worker thread started by MediaEngine');
}
const config = checkWorkerConfig(workerData);
const core = new WorkerCore(
  config,
  { post: (event) => port.postMessage(event) },
  createPacketIo(config.io ?? 'dgram'),
);
port.on('message', (message: unknown) => core.handle(message));
port.postMessage({ type: 'ready', protocol: PROTOCOL_VERSION, worker: config.index });
