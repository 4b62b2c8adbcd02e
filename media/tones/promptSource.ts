/**
 * A prompt (media/prompts/promptWav.ts: mono 16-bit PCM at 8 or 16 kHz) as a source of
 * 20 ms frames for the mixer clock, like a tone (toneGenerator.ts): the room pulls
 * `next()` once per frame and mixes the frame into the legs the prompt plays to
 * (docs/architecture.md §6.9). Played once (`next()` returns null after the last frame, the
 * last one zero-padded) or looped (the file again from its start, until the room stops
 * pulling).
 *
 * Rate. Frames come at the room's rate: the prompt's own samples when the rates match,
 * else through the mixer's 2x converters (media/dsp/resampler.ts: 8 → 16 kHz up, 16 → 8
 * kHz low-passed before decimation), whose state carries across frames. A room that
 * changes rate carries a playing prompt over with `atRate`, at the same point of the file.
 *
 * Hot path: `next()` writes into preallocated buffers (the same one every call: consume it
 * before the next call), allocates nothing and never throws.
 */
import { Downsampler2x, Upsampler2x } from '../dsp/resampler.js';
import type { PromptAudio } from '../prompts/promptWav.js';

export class PromptSource {
  readonly sampleRate: number;
  readonly frameSamples: number;
  /** Samples of the prompt taken per frame (at the prompt's own rate). */
  private readonly take: number;
  private readonly input: Int16Array;
  private readonly frame: Int16Array;
  private readonly up: Upsampler2x | null;
  private readonly down: Downsampler2x | null;
  /** Next sample of the prompt to take. */
  private pos: number;
  private finished = false;

  /** Throws a RangeError for a rate pair the converters cannot do (only 1:1 and 2x are). */
  constructor(
    private readonly audio: PromptAudio,
    readonly loop: boolean,
    sampleRate = 8000,
    frameSamples = (sampleRate * 20) / 1000,
    startAt = 0,
  ) {
    if (audio.samples.length === 0) throw new RangeError('a prompt has no samples');
    const from = audio.sampleRate;
    if (from !== sampleRate && from * 2 !== sampleRate && from !== sampleRate * 2) {
      throw new RangeError(`cannot play a ${from} Hz prompt at ${sampleRate} Hz`);
    }
    this.sampleRate = sampleRate;
    this.frameSamples = frameSamples;
    this.take = (frameSamples * from) / sampleRate;
    this.input = new Int16Array(this.take);
    this.frame = new Int16Array(frameSamples);
    this.up = from * 2 === sampleRate ? new Upsampler2x(this.take) : null;
    this.down = from === sampleRate * 2 ? new Downsampler2x(this.take) : null;
    this.pos = Math.min(startAt, audio.samples.length);
  }

  /** True once a prompt played once has given its last frame (`next()` returns null). */
  get done(): boolean {
    return this.finished;
  }

  /** Seconds of the prompt played so far (in the current loop). */
  get positionSec(): number {
    return this.pos / this.audio.sampleRate;
  }

  /** The next frame (this source's own buffer, rewritten by every call), or null when done. */
  next(): Int16Array | null {
    if (this.finished) return null;
    const samples = this.audio.samples;
    const total = samples.length;
    const input = this.input;
    for (let i = 0; i < input.length; i++) {
      if (this.pos >= total) {
        if (this.loop) this.pos = 0;
        else {
          input[i] = 0;
          continue;
        }
      }
      input[i] = samples[this.pos++]!;
    }
    if (!this.loop && this.pos >= total) this.finished = true;
    if (this.up !== null) {
      this.up.process(input, input.length, this.frame);
      return this.frame;
    }
    if (this.down !== null) {
      this.down.process(input, input.length, this.frame);
      return this.frame;
    }
    this.frame.set(input);
    return this.frame;
  }

  /**
   * The same prompt at another rate and frame size, from the same point of the file, for a
   * room that changed its mix rate (control plane: allocates).
   */
  atRate(sampleRate: number, frameSamples = (sampleRate * 20) / 1000): PromptSource {
    const s = new PromptSource(this.audio, this.loop, sampleRate, frameSamples, this.pos);
    s.finished = this.finished;
    return s;
  }
}
