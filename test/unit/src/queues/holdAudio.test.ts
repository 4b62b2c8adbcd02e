/** ToneHoldAudio (src/queues/holdAudio.ts): the tone again every cycle until stopped. */
import { describe, expect, it } from '@jest/globals';
import pino from 'pino';
import type { ToneConfig } from '../../../../media/engine/index.js';
import { ToneHoldAudio, toneCycleMs } from '../../../../src/queues/holdAudio.js';
import { FakeClock } from '../../sip/transaction/fakeClock.js';

const TONE: ToneConfig = { frequencies: [425], levelDbm0: -24, onMs: 400, offMs: 1600, repeat: 1 };

describe('ToneHoldAudio', () => {
  it('plays the tone at once and every repeat × (on + off), until stopped', () => {
    const clock = new FakeClock();
    const played: number[] = [];
    const hold = new ToneHoldAudio(
      {
        playTone: async (to) => {
          expect(to).toEqual(['a']);
          played.push(clock.now());
        },
      },
      TONE,
      clock,
      pino({ level: 'silent' }),
    );
    expect(toneCycleMs(TONE)).toBe(2000);
    expect(toneCycleMs({ ...TONE, repeat: 3 })).toBe(6000);
    hold.start('a');
    hold.start('a'); // once
    clock.advance(6000);
    expect(played).toEqual([0, 2000, 4000, 6000]);
    hold.stop();
    clock.advance(10_000);
    expect(played).toHaveLength(4);
    expect(clock.pending).toBe(0);
  });

  it('does nothing when stopped before it started; a failed play is only logged', async () => {
    const clock = new FakeClock();
    let plays = 0;
    const hold = new ToneHoldAudio(
      {
        playTone: async () => {
          plays++;
          throw new Error('leg closed');
        },
      },
      TONE,
      clock,
      pino({ level: 'silent' }),
    );
    hold.stop();
    hold.start('a');
    expect(plays).toBe(0);
    const other = new ToneHoldAudio(
      {
        playTone: async () => {
          plays++;
          throw new Error('leg closed');
        },
      },
      TONE,
      clock,
      pino({ level: 'silent' }),
    );
    other.start('a');
    await Promise.resolve();
    expect(plays).toBe(1);
    other.stop();
  });
});
