import { describe, expect, it } from '@jest/globals';
import { inBackground } from '../../../../src/util/background.js';

const flush = () => new Promise<void>((r) => setImmediate(r));

describe('inBackground', () => {
  it('logs a rejection with its context, and nothing is left unhandled', async () => {
    const logged: [Record<string, unknown>, string][] = [];
    const log = { error: (obj: Record<string, unknown>, msg: string) => logged.push([obj, msg]) };
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const err = new Error('BYE lost');
      inBackground(Promise.reject(err), log as never, 'ending the call failed', { callId: 'c1' });
      await flush();
      await flush();
      expect(logged).toEqual([[{ callId: 'c1', err }, 'ending the call failed']]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
  });

  it('logs nothing for work that succeeds', async () => {
    const logged: unknown[] = [];
    inBackground(Promise.resolve(1), { error: (o: unknown) => logged.push(o) } as never, 'x');
    await flush();
    expect(logged).toEqual([]);
  });
});
