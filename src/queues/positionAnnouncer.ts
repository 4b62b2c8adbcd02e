/**
 * Position announcements for a waiting caller (docs/architecture.md §9.5): every
 * `everyMs` of waiting the caller's hold audio pauses, the caller hears the intro ("you
 * are caller number") then its position's number prompt, and the hold audio resumes
 * (from its start: a new HoldAudio). A caller further back than the number prompts go,
 * or no longer in line (an overflow ringing an extension), hears no announcement then.
 * It is itself a HoldAudio, so the call sees one player.
 */
import type { Clock, TimerHandle } from '../../sip/clock.js';
import type { Prompt } from '../../media/engine/index.js';
import type { Side } from '../calls/callMedia.js';
import type { Logger } from '../logging.js';
import type { HoldAudio } from './holdAudio.js';
import type { PositionPrompts } from './holdPrompts.js';

/** One prompt playing, as the announcer needs it (CallMedia's PromptPlayback). */
export interface AnnouncementPlayback {
  readonly done: Promise<unknown>;
  stop(): Promise<void>;
}

/** The media the announcer needs: CallMedia's playPrompt (null: the media is closing). */
export interface AnnouncementPlayer {
  playPrompt(to: Side[], prompt: Prompt): Promise<AnnouncementPlayback | null>;
}

export class PositionAnnouncingHold implements HoldAudio {
  private state: 'new' | 'holding' | 'announcing' | 'stopped' = 'new';
  private hold: HoldAudio | undefined;
  private timer: TimerHandle | undefined;
  private playback: AnnouncementPlayback | undefined;

  constructor(
    /** A fresh hold player (each resume starts one). */
    private readonly makeHold: () => HoldAudio,
    private readonly media: AnnouncementPlayer,
    private readonly prompts: PositionPrompts,
    private readonly everyMs: number,
    /** The caller's place in line (1: next), undefined when no longer in a queue's line. */
    private readonly position: () => number | undefined,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  start(side: Side): void {
    if (this.state !== 'new') return;
    this.resume(side);
  }

  stop(): void {
    this.state = 'stopped';
    this.timer?.cancel();
    this.timer = undefined;
    this.hold?.stop();
    this.hold = undefined;
    const playback = this.playback;
    this.playback = undefined;
    playback?.stop().catch((err: unknown) => this.log.debug({ err }, 'announcement not stopped'));
  }

  private resume(side: Side): void {
    this.state = 'holding';
    this.hold = this.makeHold();
    this.hold.start(side);
    this.schedule(side);
  }

  private schedule(side: Side): void {
    this.timer = this.clock.setTimer(this.everyMs, () => {
      this.timer = undefined;
      this.announce(side).catch((err: unknown) => {
        this.log.debug({ err }, 'position announcement not played');
      });
    });
  }

  private async announce(side: Side): Promise<void> {
    if (this.state !== 'holding') return;
    const position = this.position();
    const number = position === undefined ? undefined : this.prompts.numbers[position - 1];
    if (number === undefined) {
      this.schedule(side); // nothing to say: the hold audio goes on
      return;
    }
    this.state = 'announcing';
    this.hold?.stop();
    this.hold = undefined;
    try {
      for (const prompt of [this.prompts.intro, number]) {
        if (this.state !== 'announcing') return;
        const playback = await this.media.playPrompt([side], prompt);
        if (playback === null) return;
        if (this.state !== 'announcing') {
          await playback.stop();
          return;
        }
        this.playback = playback;
        await playback.done;
        this.playback = undefined;
      }
    } finally {
      if (this.state === 'announcing') this.resume(side);
    }
  }
}
