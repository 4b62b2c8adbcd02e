/**
 * `queues`: call queues (docs/architecture.md §9.5). A bad queue fails the config load,
 * naming the key: a member that is not an extension, an overflow to nowhere, an overflow
 * chain that comes back to a queue it left (a queue loop), WAV hold audio (not yet).
 */
import { describe, expect, it } from '@jest/globals';
import { ConfigError, parseConfig } from '../../../../src/config/load.js';

function problemsOf(document: unknown): string[] {
  try {
    parseConfig(document);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

const extensions = ['1001', '1002', '1003', '1005'].map((number) => ({
  number,
  password: `secret${number}`,
}));

describe('queues config', () => {
  it('fills the defaults of a queue', () => {
    const config = parseConfig({
      extensions,
      queues: [{ number: '600', name: 'Support', members: ['1001', '1002'] }],
    });
    expect(config.queues).toEqual([
      {
        number: '600',
        name: 'Support',
        members: ['1001', '1002'],
        strategy: 'ringall',
        ringTimeSec: 15,
        wrapUpSec: 0,
        maxWaitSec: 300,
        overflow: { hangup: { status: 480, reason: 'Queue Timeout' } },
        holdAudio: {
          tone: { frequencies: [425], levelDbm0: -24, onMs: 400, offMs: 1600, repeat: 1 },
        },
        announcePosition: null,
      },
    ]);
  });

  it('lets a trunk DID target a queue, and a queue overflow to another queue', () => {
    const config = parseConfig({
      extensions,
      trunks: [{ name: 'carrier', host: '127.0.0.1', dids: { '5550200': '600' } }],
      queues: [
        { number: '600', name: 'Support', members: ['1001'], overflow: { extension: '601' } },
        { number: '601', name: 'Second line', members: ['1002'], overflow: { extension: '1005' } },
      ],
    });
    expect(config.trunks[0]?.dids).toEqual({ '5550200': '600' });
    expect(config.queues.map((q) => q.overflow)).toEqual([
      { extension: '601' },
      { extension: '1005' },
    ]);
  });

  it('refuses a queue loop at load, naming the key and the chain', () => {
    expect(
      problemsOf({
        extensions,
        queues: [
          { number: '600', name: 'A', members: ['1001'], overflow: { extension: '601' } },
          { number: '601', name: 'B', members: ['1002'], overflow: { extension: '602' } },
          { number: '602', name: 'C', members: ['1003'], overflow: { extension: '600' } },
        ],
      }),
    ).toEqual([
      'queues[0].overflow.extension: queue loop: 600 → 601 → 602 → 600 overflows back to a queue it left',
      'queues[1].overflow.extension: queue loop: 601 → 602 → 600 → 601 overflows back to a queue it left',
      'queues[2].overflow.extension: queue loop: 602 → 600 → 601 → 602 overflows back to a queue it left',
    ]);
    expect(
      problemsOf({
        extensions,
        queues: [{ number: '600', name: 'A', members: ['1001'], overflow: { extension: '600' } }],
      }),
    ).toEqual([
      'queues[0].overflow.extension: queue loop: 600 → 600 overflows back to a queue it left',
    ]);
  });

  it('refuses members that are not extensions, twice-listed members and odd numbers', () => {
    expect(
      problemsOf({
        extensions,
        queues: [
          { number: '600', name: 'A', members: ['1001', '601', '1001'] },
          { number: '601', name: 'B', members: ['1002'], overflow: { extension: '7777' } },
          { number: '1003', name: 'C', members: ['1002'] },
          { number: '600', name: 'D', members: ['1002'] },
        ],
      }),
    ).toEqual([
      'queues[0].members[1]: 601 is not an extension',
      'queues[0].members[2]: 1001 is listed twice',
      'queues[2].number: 1003 is an extension number; a queue needs its own',
      'queues[3].number: duplicate queue 600',
      'queues[1].overflow.extension: 7777 is neither an extension nor a queue',
    ]);
  });

  it('refuses a DID to nowhere, a bad strategy and a hold audio both tone and file, naming the keys', () => {
    expect(
      problemsOf({
        extensions,
        trunks: [{ name: 'carrier', host: '127.0.0.1', dids: { '5550200': '699' } }],
      }),
    ).toEqual([
      'trunks[0].dids.5550200: DID 5550200 maps to 699, which is neither an extension nor a queue',
    ]);
    const problems = problemsOf({
      extensions,
      queues: [
        {
          number: '600',
          name: 'A',
          members: ['1001'],
          strategy: 'random',
          holdAudio: { file: 'hold.wav', tone: { frequencies: [425], onMs: 400 } },
        },
      ],
    });
    expect(problems).toEqual([
      expect.stringMatching(/^queues\[0\]\.strategy: /),
      expect.stringMatching(/^queues\[0\]\.holdAudio/),
    ]);
    expect(problems[1]).toMatch(/either a tone or a WAV file/);
    expect(
      problemsOf({
        extensions,
        queues: [{ number: '600', name: 'A', members: ['1001'], holdAudio: {} }],
      }),
    ).toEqual([expect.stringMatching(/^queues\[0\]\.holdAudio: give either a tone or a WAV file/)]);
  });

  it('takes a WAV file as hold audio (read at start, not here)', () => {
    const config = parseConfig({
      extensions,
      queues: [{ number: '600', name: 'A', members: ['1001'], holdAudio: { file: 'hold.wav' } }],
    });
    expect(config.queues[0]?.holdAudio).toEqual({ file: 'hold.wav' });
  });

  it('takes position announcements: an intro and a prompt per position, every everySec', () => {
    const queue = { number: '600', name: 'A', members: ['1001'] };
    const config = parseConfig({
      extensions,
      queues: [{ ...queue, announcePosition: { prompts: { intro: 'i.wav', numbers: ['1.wav'] } } }],
    });
    expect(config.queues[0]?.announcePosition).toEqual({
      everySec: 30,
      prompts: { intro: 'i.wav', numbers: ['1.wav'] },
    });
    expect(
      problemsOf({
        extensions,
        queues: [
          { ...queue, announcePosition: { everySec: 1, prompts: { intro: 'i.wav', numbers: [] } } },
        ],
      }),
    ).toEqual([
      expect.stringMatching(/^queues\[0\]\.announcePosition\.everySec: /),
      expect.stringMatching(/^queues\[0\]\.announcePosition\.prompts\.numbers: /),
    ]);
  });

  it('refuses an overflow status that is not a SIP failure code', () => {
    expect(
      problemsOf({
        extensions,
        queues: [
          { number: '600', name: 'A', members: ['1001'], overflow: { hangup: { status: 200 } } },
        ],
      })[0],
    ).toMatch(/^queues\[0\]\.overflow/);
  });
});
