/**
 * Call-progress and notification tones (ringback, busy, a supervisor's "barge" beep) as a
 * pure source of 20 ms frames for the mixer clock: one or two sine waves summed, switched
 * on and off in a cadence. No timers: the clock pulls `next()` once per frame.
 *
 * Level. `levelDbm0` is the level of EACH frequency in dBm0 (ITU-T G.711: the digital
 * milliwatt, a 0 dBm0 sine, peaks 3.17 dB below the codec's full-scale sine; A-law says
 * 3.14, we use 3.17 for both). So a tone's peak amplitude is
 *   A = 32768 · 10^((levelDbm0 − 3.17) / 20)
 * (−13 dBm0, the default, is A ≈ 5093; its RMS level is levelDbm0 − 6.18 dBFS). Two
 * frequencies each get the level, as call-progress specifications state them (e.g. ITU-T
 * E.180 / North American precise tones "350+440 Hz at −13 dBm0 each"), so the pair is 3 dB
 * louder in total. The sum is clamped to int16: a single tone reaches full scale above
 * +3.17 dBm0, a pair above −2.85 dBm0 each.
 *
 * Cadence: `repeat` cycles of `onMs` of tone then `offMs` of silence (the last cycle's
 * silence included), then the tone is done and `next()` returns null. With `offMs` 0 the
 * cycles join into one continuous burst (no dip between them). `repeat` Infinity (or 0,
 * for configs that travel as JSON) repeats until the caller stops pulling. Durations round
 * to whole samples; the last frame is zero-padded when the cadence does not fill it.
 *
 * Edges: each burst starts at phase 0 (identical bursts, deterministic output), the phase
 * is continuous across the frames of a burst, and a raised-cosine gain ramp of `RAMP_MS`
 * (2 ms; shorter for bursts under 4 ms) shapes its start and end, so switching never
 * clicks (a step to or from a non-zero sample is a broadband click).
 *
 * Rate: the mixer's (8000 or 16000 Hz, `frameSamples` its 20 ms frame); a room that
 * changes rate carries a playing tone over with `atRate`, at the same point of its cadence.
 *
 * Hot path: `next()` writes into one preallocated Int16Array (the same one every call:
 * consume it before the next call), allocates nothing and never throws.
 */

export interface ToneSpec {
  /** One or two frequencies in Hz, summed (e.g. [440] or [350, 440]). */
  frequencies: number[];
  /** Level of each frequency in dBm0 (default −13). */
  levelDbm0?: number;
  /** Tone duration of one cycle (ms). */
  onMs: number;
  /** Silence after the tone in each cycle (ms, default 0). */
  offMs?: number;
  /** Cycles (default 1); Infinity or 0: until stopped. */
  repeat?: number;
}

/** Raised-cosine ramp at each burst edge (ms). */
export const RAMP_MS = 2;
/** Peak of a 0 dBm0 sine below the full-scale sine (dB, ITU-T G.711 µ-law). */
export const DBM0_BELOW_FULL_SCALE = 3.17;

/** Peak amplitude (int16 scale) of one sine at `levelDbm0`. */
export function toneAmplitude(levelDbm0: number): number {
  return 32768 * 10 ** ((levelDbm0 - DBM0_BELOW_FULL_SCALE) / 20);
}

export class ToneGenerator {
  readonly sampleRate: number;
  readonly frameSamples: number;
  /** Samples of tone per burst (Infinity: continuous), of silence after it, and cycles. */
  readonly burstSamples: number;
  readonly gapSamples: number;
  readonly cycles: number;

  private readonly frame: Int16Array;
  private readonly amplitudes: Float64Array;
  /** Phase advance per sample (radians) of each frequency. */
  private readonly steps: Float64Array;
  private readonly phases: Float64Array;
  /** Gain of the first ramp.length samples of a burst (reversed at its end). */
  private readonly ramp: Float64Array;

  private cycle = 0;
  /** Position in the current cycle (samples). */
  private pos = 0;
  private finished = false;

  /** Throws a RangeError for a spec it cannot play. */
  constructor(
    private readonly spec: ToneSpec,
    sampleRate = 8000,
    frameSamples = 160,
  ) {
    const freqs = spec.frequencies;
    const level = spec.levelDbm0 ?? -13;
    const offMs = spec.offMs ?? 0;
    const repeat = spec.repeat ?? 1;
    if (!Number.isInteger(sampleRate) || sampleRate <= 0) {
      throw new RangeError('sampleRate must be a positive integer');
    }
    if (!Number.isInteger(frameSamples) || frameSamples <= 0) {
      throw new RangeError('frameSamples must be a positive integer');
    }
    if (!Array.isArray(freqs) || freqs.length < 1 || freqs.length > 2) {
      throw new RangeError('a tone has one or two frequencies');
    }
    for (const f of freqs) {
      if (!(f > 0 && f < sampleRate / 2)) {
        throw new RangeError(`tone frequency ${f} outside (0, ${sampleRate / 2}) Hz`);
      }
    }
    if (!Number.isFinite(level)) throw new RangeError('levelDbm0 must be a finite number');
    if (!(spec.onMs > 0 && Number.isFinite(spec.onMs))) {
      throw new RangeError('onMs must be positive');
    }
    if (!(offMs >= 0 && Number.isFinite(offMs))) throw new RangeError('offMs must be ≥ 0');
    if (!(repeat === Infinity || (Number.isInteger(repeat) && repeat >= 0))) {
      throw new RangeError('repeat must be a non-negative integer or Infinity');
    }
    const forever = repeat === 0 || repeat === Infinity;
    const on = Math.max(1, Math.round((spec.onMs * sampleRate) / 1000));
    const off = Math.round((offMs * sampleRate) / 1000);

    this.sampleRate = sampleRate;
    this.frameSamples = frameSamples;
    if (off === 0) {
      this.burstSamples = forever ? Infinity : on * repeat;
      this.gapSamples = 0;
      this.cycles = 1;
    } else {
      this.burstSamples = on;
      this.gapSamples = off;
      this.cycles = forever ? Infinity : repeat;
    }
    this.frame = new Int16Array(frameSamples);
    this.amplitudes = Float64Array.from(freqs, () => toneAmplitude(level));
    this.steps = Float64Array.from(freqs, (f) => (2 * Math.PI * f) / sampleRate);
    this.phases = new Float64Array(freqs.length);
    const rampSamples = Math.min(
      Math.round((RAMP_MS * sampleRate) / 1000),
      Math.floor(this.burstSamples / 2),
    );
    this.ramp = Float64Array.from(
      { length: rampSamples },
      (_, i) => 0.5 - 0.5 * Math.cos((Math.PI * (i + 0.5)) / rampSamples),
    );
  }

  /** True once every cycle has been played (`next()` returns null). */
  get done(): boolean {
    return this.finished;
  }

  /**
   * The next frame (the generator's own buffer, rewritten by every call), or null when the
   * tone is finished.
   */
  next(): Int16Array | null {
    if (this.finished) return null;
    const out = this.frame;
    const burst = this.burstSamples;
    const cycleLength = burst + this.gapSamples;
    const ramp = this.ramp;
    const r = ramp.length;
    const tones = this.steps.length;
    for (let i = 0; i < out.length; i++) {
      if (this.cycle >= this.cycles) {
        out[i] = 0;
        continue;
      }
      const pos = this.pos;
      let v = 0;
      if (pos < burst) {
        for (let k = 0; k < tones; k++) {
          const phase = this.phases[k]!;
          v += this.amplitudes[k]! * Math.sin(phase);
          const nextPhase = phase + this.steps[k]!;
          this.phases[k] = nextPhase >= 2 * Math.PI ? nextPhase - 2 * Math.PI : nextPhase;
        }
        if (pos < r) v *= ramp[pos]!;
        else if (burst - 1 - pos < r) v *= ramp[burst - 1 - pos]!;
        v = Math.round(v);
      }
      out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
      if (pos + 1 >= cycleLength) {
        this.pos = 0;
        this.cycle++;
        this.phases.fill(0);
      } else {
        this.pos = pos + 1;
      }
    }
    if (this.cycle >= this.cycles) this.finished = true;
    return out;
  }

  /**
   * The same tone at another rate and frame size, at the same point of its cadence (same
   * cycle, same time into it, same phases), for a room that changed its mix rate (control
   * plane: allocates). Throws a RangeError when a frequency does not fit the new rate.
   */
  atRate(sampleRate: number, frameSamples = (sampleRate * 20) / 1000): ToneGenerator {
    const g = new ToneGenerator(this.spec, sampleRate, frameSamples);
    const cycleLength = g.burstSamples + g.gapSamples;
    const pos = Math.min(Math.round((this.pos * sampleRate) / this.sampleRate), cycleLength - 1);
    g.cycle = this.cycle;
    g.pos = pos;
    g.finished = this.finished;
    if (pos < g.burstSamples) {
      for (let k = 0; k < g.steps.length; k++) g.phases[k] = (g.steps[k]! * pos) % (2 * Math.PI);
    }
    return g;
  }

  /** Restarts the tone from its beginning. */
  reset(): void {
    this.cycle = 0;
    this.pos = 0;
    this.finished = false;
    this.phases.fill(0);
  }
}
