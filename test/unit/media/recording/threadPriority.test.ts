/**
 * The writer thread's own nice value (media/recording/writer/threadPriority.ts): the
 * thread id read from /proc/thread-self, and the nice value of the calling thread. Making a
 * thread nicer is checked on the writer thread itself (test/integration/media/
 * recording-writer.test.ts): here it would lower the test process's own main thread.
 */
import { describe, expect, it } from '@jest/globals';
import { getPriority } from 'node:os';
import { kernelThreadId, threadNice } from '../../../../media/recording/writer/threadPriority.js';

describe('threadPriority', () => {
  it('the main thread’s kernel id is the process id, its nice value the process’s', () => {
    expect(kernelThreadId()).toBe(process.pid);
    expect(threadNice()).toBe(getPriority(process.pid));
  });
});
