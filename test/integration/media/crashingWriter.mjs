/**
 * The recording writer thread (the built one) that crashes on cue: when the file
 * `callwatch-crash-writer-<pid>` appears in the temp folder, it removes it and exits the
 * thread with code 3, as a fatal error would. (A file, not an environment variable: Jest
 * gives a test its own copy of process.env.) For recording-writer.test.ts only.
 */
import { existsSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setInterval } from 'node:timers';

await import('../../../dist/media/recording/writer/main.js');
const trigger = join(tmpdir(), `callwatch-crash-writer-${process.pid}`);
setInterval(() => {
  if (!existsSync(trigger)) return;
  unlinkSync(trigger);
  process.exit(3);
}, 20).unref();
