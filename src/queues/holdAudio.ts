/**
 * What a caller waiting in a queue hears (docs/architecture.md §9.5), behind a small
 * interface so another player (a WAV file) plugs in beside the tone. The tone form plays
 * the call's existing tones (CallMedia.playTone) again every cycle on a timer.
 */
import type { Clock, TimerHandle } from '../../sip/clock.js';
import type { ToneConfig } from '../../media/engine/index.js';
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
