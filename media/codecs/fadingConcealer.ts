/**
 * Loss concealment for codecs without their own (G.711, G.722): the last decoded frame
 * repeated, 6 dB quieter on each repetition, as ITU-T G.711 Appendix I does in spirit
 * (it also pitch-tracks; a mixer that conceals at most a few frames gets most of the
 * benefit from repetition with decay). Allocates once, at construction.
 */
export class FadingConcealer {
  private readonly last: Int16Array;
  private lastLength = 0;
  private repeats = 0;

  constructor(maxSamples: number) {
    this.last = new Int16Array(maxSamples);
  }

  /** Remembers what a decoder just produced (`samples` samples of `pcm`). */
  decoded(pcm: Int16Array, samples: number): void {
    const n = samples > this.last.length ? this.last.length : samples;
    const last = this.last;
    for (let i = 0; i < n; i++) last[i] = pcm[i]!; // no view allocated per packet
    this.lastLength = n;
    this.repeats = 0;
  }

  /** `samples` samples of concealment into `out`; silence once nothing is left to repeat. */
  conceal(out: Int16Array, samples: number): number {
    const n = this.lastLength;
    this.repeats++;
    if (n === 0 || this.repeats > 8) {
      out.fill(0, 0, samples);
      return samples;
    }
    const shift = this.repeats;
    const last = this.last;
    // Whole periods of the last frame, then the part of one that is left.
    for (let start = 0; start < samples; start += n) {
      const end = start + n < samples ? start + n : samples;
      for (let i = start, j = 0; i < end; i++, j++) out[i] = last[j]! >> shift;
    }
    return samples;
  }
}
