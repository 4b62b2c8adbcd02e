/**
 * Hold audio (src/queues/holdAudio.ts): ToneHoldAudio plays the tone again every cycle
 * until stopped; PromptHoldAudio loops a WAV prompt and stops it, also when stop() comes
 * before the engine's play resolved.
 */
import { describe, expect, it } from '@jest/globals';
import pino from 'pino';
import type { PlayPromptOptions, Prompt, ToneConfig } from '../../../../media/engine/index.js';
import type { Side } from '../../../../src/calls/callMedia.js';
import {
  PromptHoldAudio,
  ToneHoldAudio,
  toneCycleMs,
  type PromptPlayer,
} from '../../../../src/queues/holdAudio.js';
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

const PROMPT: Prompt = { id: 7, sampleRate: 8000, durationMs: 3000 };
const silent = pino({ level: 'silent' });

/** A fake media: records each play; its plays resolve when the test says so. */
function fakeMedia(result: 'playback' | 'closing' | 'refused' = 'playback') {
  const plays: Array<{ to: Side[]; prompt: Prompt; options?: PlayPromptOptions }> = [];
  let stops = 0;
  const resolvers: Array<() => void> = [];
  const media: PromptPlayer = {
    playPrompt: (to, prompt, options) => {
      plays.push({ to, prompt, ...(options !== undefined ? { options } : {}) });
      return new Promise((resolve, reject) =>
        resolvers.push(() => {
          if (result === 'refused') reject(new Error('leg not in the room'));
          else
            resolve(
              result === 'closing'
                ? null
                : {
                    stop: async () => {
                      stops++;
                    },
                  },
            );
        }),
      );
    },
  };
  return {
    media,
    plays,
    stops: () => stops,
    /** Lets the engine's answer to every play so far arrive. */
    resolve: async () => {
      for (const r of resolvers.splice(0)) r();
      await new Promise((r) => setImmediate(r));
    },
  };
}

describe('PromptHoldAudio', () => {
  it('loops the prompt to the caller once, and stops that playback', async () => {
    const fake = fakeMedia();
    const hold = new PromptHoldAudio(fake.media, PROMPT, silent);
    hold.start('a');
    hold.start('a'); // once
    await fake.resolve();
    expect(fake.plays).toEqual([{ to: ['a'], prompt: PROMPT, options: { loop: true } }]);
    expect(fake.stops()).toBe(0);
    hold.stop();
    await fake.resolve();
    expect(fake.stops()).toBe(1);
    hold.stop(); // idempotent
    expect(fake.stops()).toBe(1);
  });

  it('stops a playback whose play resolved after stop()', async () => {
    const fake = fakeMedia();
    const hold = new PromptHoldAudio(fake.media, PROMPT, silent);
    hold.start('a');
    hold.stop(); // the member answered while the engine was starting the prompt
    expect(fake.stops()).toBe(0);
    await fake.resolve();
    expect(fake.stops()).toBe(1);
  });

  it('plays nothing when stopped before it started', async () => {
    const fake = fakeMedia();
    const hold = new PromptHoldAudio(fake.media, PROMPT, silent);
    hold.stop();
    hold.start('a');
    await fake.resolve();
    expect(fake.plays).toEqual([]);
  });

  it('a closing media (null) or a refused play is only logged', async () => {
    for (const result of ['closing', 'refused'] as const) {
      const fake = fakeMedia(result);
      const hold = new PromptHoldAudio(fake.media, PROMPT, silent);
      hold.start('a');
      await fake.resolve();
      hold.stop();
      await fake.resolve();
      expect(fake.plays).toHaveLength(1);
      expect(fake.stops()).toBe(0);
    }
  });
});
