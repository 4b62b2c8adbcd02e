/**
 * Prompts on the main thread (docs/architecture.md §6.9): a `Prompt` is audio loaded once
 * into every worker (MediaEngine.loadPrompt), a `PromptPlayback` one playing of it in a
 * room (Room.playPrompt) to some of its legs, once or looped.
 *
 *   const prompt = await engine.loadPrompt(loadPromptFile('/etc/callwatch/hold.wav'));
 *   const playback = await room.playPrompt([caller], prompt, { loop: true });
 *   playback.on('ended', (reason) => …);   // 'finished' | 'stopped' | 'left' | 'closed'
 *   await playback.stop();
 *
 * A playback ends exactly once: played to its end ('finished', never for a loop), stopped
 * ('stopped'), every leg it played to left the room or closed ('left'), or the room closed
 * ('closed'; also when the worker died). `done` resolves with the reason.
 */
import { TypedEmitter } from '../util/typedEmitter.js';
import type { PromptEndReason, PromptRate } from '../worker/protocol.js';

/** Audio loaded into the engine's workers, played by id. */
export interface Prompt {
  readonly id: number;
  readonly sampleRate: PromptRate;
  /** Length of one playing. */
  readonly durationMs: number;
}

export type PromptPlaybackEvents = {
  ended: [reason: PromptEndReason];
};

export class PromptPlayback extends TypedEmitter<PromptPlaybackEvents> {
  #reason: PromptEndReason | undefined;
  #resolve: (reason: PromptEndReason) => void = () => {};
  readonly #stop: (playback: PromptPlayback) => Promise<void>;
  /** Resolves with the reason once the playback ended. */
  readonly done: Promise<PromptEndReason>;

  /** @internal created by Room.playPrompt. */
  constructor(
    readonly id: number,
    readonly prompt: Prompt,
    readonly loop: boolean,
    stop: (playback: PromptPlayback) => Promise<void>,
    onListenerError: (error: unknown) => void,
  ) {
    super(onListenerError);
    this.#stop = stop;
    this.done = new Promise((resolve) => (this.#resolve = resolve));
  }

  /** Why it ended; undefined while it plays. */
  get endReason(): PromptEndReason | undefined {
    return this.#reason;
  }

  /** Stops it (reason 'stopped' unless it ended already). Idempotent, never rejects. */
  async stop(): Promise<void> {
    if (this.#reason !== undefined) return;
    await this.#stop(this).catch(() => undefined);
  }

  /** @internal the worker reported its end (or the room closed). */
  finish(reason: PromptEndReason): void {
    if (this.#reason !== undefined) return;
    this.#reason = reason;
    this.#resolve(reason);
    this.emit('ended', reason);
    this.removeAllListeners();
  }
}
