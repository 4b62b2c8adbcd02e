/**
 * PositionAnnouncingHold (src/queues/positionAnnouncer.ts): every everyMs the hold audio
 * stops, the intro and the position's number play, then a new hold audio starts; a
 * position without a number prompt leaves the hold audio playing; stop() ends all.
 */
import { describe, expect, it } from '@jest/globals';
import pino from 'pino';
import type { Prompt } from '../../../../media/engine/index.js';
import type { HoldAudio } from '../../../../src/queues/holdAudio.js';
import {
  PositionAnnouncingHold,
  type AnnouncementPlayer,
} from '../../../../src/queues/positionAnnouncer.js';
import { FakeClock } from '../../sip/transaction/fakeClock.js';

const prompt = (id: number): Prompt => ({ id, sampleRate: 8000, durationMs: 1000 });
const INTRO = prompt(1);
const NUMBERS = [prompt(11), prompt(12)];

const tick = () => new Promise((r) => setImmediate(r));

/** What the caller hears, in order: 'hold#n' starts/stops and prompts by id. */
function scene(position: { value: number | undefined }) {
  const clock = new FakeClock();
  const heard: string[] = [];
  let holds = 0;
  const ends: Array<() => void> = [];
  const makeHold = (): HoldAudio => {
    const n = ++holds;
    return {
      start: () => heard.push(`hold${n} start`),
      stop: () => heard.push(`hold${n} stop`),
    };
  };
  const media: AnnouncementPlayer = {
    playPrompt: async (to, p) => {
      expect(to).toEqual(['a']);
      heard.push(`prompt ${p.id}`);
      let end: () => void = () => {};
      const done = new Promise<void>((r) => (end = r));
      ends.push(end);
      return {
        done,
        stop: async () => {
          heard.push(`prompt ${p.id} stopped`);
          end();
        },
      };
    },
  };
  const hold = new PositionAnnouncingHold(
    makeHold,
    media,
    { intro: INTRO, numbers: NUMBERS },
    30_000,
    () => position.value,
    clock,
    pino({ level: 'silent' }),
  );
  /** The prompt playing now reaches its end. */
  const finish = async () => {
    ends.shift()?.();
    await tick();
  };
  return { clock, heard, hold, finish };
}

describe('PositionAnnouncingHold', () => {
  it('pauses the hold audio for the intro and the number, then resumes it', async () => {
    const position = { value: 2 as number | undefined };
    const { clock, heard, hold, finish } = scene(position);
    hold.start('a');
    hold.start('a'); // once
    expect(heard).toEqual(['hold1 start']);
    clock.advance(29_999);
    expect(heard).toEqual(['hold1 start']);
    clock.advance(1);
    await tick();
    expect(heard).toEqual(['hold1 start', 'hold1 stop', 'prompt 1']);
    await finish();
    expect(heard.slice(3)).toEqual(['prompt 12']);
    await finish();
    expect(heard.slice(4)).toEqual(['hold2 start']);
    // The next one comes everyMs after the hold audio resumed; now first in line.
    position.value = 1;
    clock.advance(30_000);
    await tick();
    await finish();
    await finish();
    expect(heard.slice(5)).toEqual(['hold2 stop', 'prompt 1', 'prompt 11', 'hold3 start']);
    hold.stop();
    expect(heard.slice(9)).toEqual(['hold3 stop']);
    expect(clock.pending).toBe(0);
  });

  it('says nothing for a position beyond the numbers, or none: the hold audio goes on', async () => {
    const position = { value: 3 as number | undefined };
    const { clock, heard, hold } = scene(position);
    hold.start('a');
    clock.advance(30_000);
    await tick();
    position.value = undefined;
    clock.advance(30_000);
    await tick();
    expect(heard).toEqual(['hold1 start']);
    expect(clock.pending).toBe(1);
    hold.stop();
    expect(heard).toEqual(['hold1 start', 'hold1 stop']);
    expect(clock.pending).toBe(0);
  });

  it('stop() during an announcement stops the prompt and resumes nothing', async () => {
    const { clock, heard, hold } = scene({ value: 1 });
    hold.start('a');
    clock.advance(30_000);
    await tick();
    hold.stop();
    await tick();
    expect(heard).toEqual(['hold1 start', 'hold1 stop', 'prompt 1', 'prompt 1 stopped']);
    expect(clock.pending).toBe(0);
  });

  it('stop() before it started: nothing plays', () => {
    const { clock, heard, hold } = scene({ value: 1 });
    hold.stop();
    hold.start('a');
    expect(heard).toEqual([]);
    expect(clock.pending).toBe(0);
  });
});
