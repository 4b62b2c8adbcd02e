/** Signal helpers for the codec tests: tones, SNR against a delayed reference, heap growth. */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// A real collection before and after each measurement (without it the heap figure is
// noise): V8's gc function, exposed at run time without a command-line flag.
setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;
export function tone(
  frequency: number,
  sampleRate: number,
  samples: number,
  amplitude = 8000,
  phase = 0,
): Int16Array {
  const pcm = new Int16Array(samples);
  for (let i = 0; i < samples; i++) {
    pcm[i] = Math.round(amplitude * Math.sin((2 * Math.PI * frequency * (i + phase)) / sampleRate));
  }
  return pcm;
}

/**
 * SNR in dB of `decoded` against the best-fitting delayed and scaled copy of `reference`
 * (codecs delay and may change the gain slightly), over `decoded`'s samples from `skip`.
 */
export function snrDb(
  reference: Int16Array,
  decoded: Int16Array,
  skip: number,
  maxDelay = 200,
): number {
  let best = -Infinity;
  for (let delay = 0; delay <= maxDelay; delay++) {
    let cross = 0;
    let refPower = 0;
    let outPower = 0;
    for (let i = skip; i < decoded.length; i++) {
      const r = reference[i - delay] ?? 0;
      cross += r * decoded[i]!;
      refPower += r * r;
      outPower += decoded[i]! * decoded[i]!;
    }
    if (refPower === 0 || outPower === 0) continue;
    const gain = cross / refPower;
    const noise = outPower - 2 * gain * cross + gain * gain * refPower;
    const signal = gain * gain * refPower;
    const snr = 10 * Math.log10(signal / Math.max(noise, 1e-9));
    if (snr > best) best = snr;
  }
  return best;
}

/** Runs `step` `rounds` times after a warm-up and returns the heap growth in bytes. */
export function heapGrowth(step: () => void, rounds: number): number {
  for (let i = 0; i < 2000; i++) step();
  collect();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < rounds; i++) step();
  collect();
  return process.memoryUsage().heapUsed - before;
}
