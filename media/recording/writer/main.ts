/**
 * Entry point of the recording writer thread (compiled to
 * dist/media/recording/writer/main.js, started by the media engine: RecordingWriter). The
 * engine attaches one MessagePort per client (each media worker, the main thread's
 * recording tap); each batch a port brings is run at once (WriterCore) and answered with
 * one message. The thread runs nicer than the rest of the process (threadPriority.ts). A
 * port that closes (its thread died) has its files closed; 'close' from the
 * engine closes every file, then the engine terminates the thread.
 */
import { parentPort } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { threadCpuMs } from '../../worker/threadCpu.js';
import type { WriterControl, WriterEvent } from './protocol.js';
import { WRITER_NICE, niceThisThread, threadNice } from './threadPriority.js';
import { WriterCore, servePort } from './writerCore.js';

const control = parentPort;
if (control === null) {
  throw new Error('media/recording/writer/main.js runs as a worker thread started by the engine');
}
niceThisThread(WRITER_NICE);
const core = new WriterCore();
const ports = new Set<MessagePort>();
const post = (event: WriterEvent): void => control.postMessage(event);

function attach(port: MessagePort): void {
  ports.add(port);
  servePort(core, port, () => ports.delete(port));
}

control.on('message', (message: WriterControl) => {
  switch (message.type) {
    case 'attach':
      attach(message.port);
      return;
    case 'stats':
      post({ type: 'stats', id: message.id, stats: core.stats(threadCpuMs(), threadNice()) });
      return;
    case 'close':
      core.closeAll();
      for (const port of ports) port.close();
      ports.clear();
      post({ type: 'closed', id: message.id });
      return;
  }
});
post({ type: 'ready' });
