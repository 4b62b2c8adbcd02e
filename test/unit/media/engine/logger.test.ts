import { describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { silentLogger } from '../../../../media/engine/logger.js';
import type { MediaLogger } from '../../../../media/engine/logger.js';
import { Counters, COUNTER_KEYS } from '../../../../media/worker/counters.js';

describe('MediaLogger', () => {
  it('is the slice of pino the engine uses: a pino logger fits', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const logger: MediaLogger = pino({ level: 'debug' }, sink).child({ module: 'media' });
    logger.child({ worker: 0 }).warn({ legId: 3 }, 'socket error');
    expect(JSON.parse(lines[0]!)).toMatchObject({
      module: 'media',
      worker: 0,
      legId: 3,
      msg: 'socket error',
    });
  });

  it('the default logger discards everything', () => {
    expect(() => silentLogger.child({}).error({ error: new Error('x') }, 'ignored')).not.toThrow();
  });
});

describe('Counters', () => {
  it('adds up and snapshots every counter of the protocol', () => {
    const a = new Counters();
    a.packetsIn = 3;
    a.dropForeign = 1;
    const b = new Counters();
    b.packetsIn = 4;
    const total = new Counters().add(a).add(b).snapshot();
    expect(total).toMatchObject({ packetsIn: 7, dropForeign: 1, packetsOut: 0 });
    expect(Object.keys(total).sort()).toEqual([...COUNTER_KEYS].sort());
    expect(Object.getPrototypeOf(total)).toBe(Object.prototype);
  });
});
