/**
 * What a caller waiting in a queue hears (docs/architecture.md §9.5), behind a small
 * interface: ToneHoldAudio plays the call's tones (CallMedia.playTone) again every cycle
 * on a timer; PromptHoldAudio loops a WAV file loaded at start (CallMedia.playPrompt with
 * `loop`, docs/architecture.md §6.9), into the caller's outbound audio only.
 */
import type { Clock, TimerHandle } from '../../sip/clock.js';
import type {
  PlayPromptOptions,
  Prompt,
  PromptPlayback,
  ToneConfig,
} from '../../media/engine/index.js';
import type { Side } from '../calls/callMedia.js';
import type { Logger } from '../logging.js';

export interface HoldAudio {
  /** Starts playing to the caller's leg; once (a second start is ignored). */
  start(side: Side): void;
  /** Stops it (idempotent; before start too: then start does nothing). */
  stop(): void;
}

/** The media a tone player needs: CallMedia's playTone. */
export interface TonePlayer {
  playTone(to: Side[], tone: ToneConfig): Promise<void>;
}

/** One tone cycle: the tone's repeats (on + off each). */
export function toneCycleMs(tone: ToneConfig): number {
  return Math.max(tone.repeat * (tone.onMs + tone.offMs), 20);
}

export class ToneHoldAudio implements HoldAudio {
  private timer: TimerHandle | undefined;
  private state: 'new' | 'playing' | 'stopped' = 'new';

  constructor(
    private readonly media: TonePlayer,
    private readonly tone: ToneConfig,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  start(side: Side): void {
    if (this.state !== 'new') return;
    this.state = 'playing';
    const play = (): void => {
      if (this.state !== 'playing') return;
      this.media.playTone([side], this.tone).catch((err: unknown) => {
        this.log.debug({ err }, 'hold tone not played');
      });
      this.timer = this.clock.setTimer(toneCycleMs(this.tone), play);
    };
    play();
  }

  stop(): void {
    this.state = 'stopped';
    this.timer?.cancel();
    this.timer = undefined;
  }
}

/** The media a prompt player needs: CallMedia's playPrompt (null: the media is closing). */
export interface PromptPlayer {
  playPrompt(
    to: Side[],
    prompt: Prompt,
    options?: PlayPromptOptions,
  ): Promise<Pick<PromptPlayback, 'stop'> | null>;
}

export class PromptHoldAudio implements HoldAudio {
  private playback: Pick<PromptPlayback, 'stop'> | undefined;
  private state: 'new' | 'playing' | 'stopped' = 'new';

  constructor(
    private readonly media: PromptPlayer,
    private readonly prompt: Prompt,
    private readonly log: Logger,
  ) {}

  start(side: Side): void {
    if (this.state !== 'new') return;
    this.state = 'playing';
    this.media
      .playPrompt([side], this.prompt, { loop: true })
      .then((playback) => {
        if (playback === null) return;
        // stop() came while the engine was starting it: it is stopped now.
        if (this.state === 'stopped') return playback.stop();
        this.playback = playback;
      })
      .catch((err: unknown) => {
        this.log.debug({ err }, 'hold audio not played');
      });
  }

  stop(): void {
    this.state = 'stopped';
    const playback = this.playback;
    this.playback = undefined;
    if (playback !== undefined) {
      playback.stop().catch((err: unknown) => this.log.debug({ err }, 'hold audio not stopped'));
    }
  }
}
