/**
 * The input signal of the committed G.722 reference vectors, generated exactly as
 * vectors/g722-spandsp-gen.c generates it (integer arithmetic only, so both agree to the
 * bit): a triangle sweep, LCG noise at rising levels, then full-scale square waves.
 */
export const VECTOR_SAMPLES = 32000;

function lcg(state: { seed: number }): number {
  state.seed = (Math.imul(state.seed, 1103515245) + 12345) >>> 0;
  return state.seed >>> 8;
}

export function makeInput(): Int16Array {
  const pcm = new Int16Array(VECTOR_SAMPLES);
  const state = { seed: 12345 };
  for (let i = 0; i < VECTOR_SAMPLES; i++) {
    if (i < 12000) {
      const period = 4 + Math.trunc(i / 400);
      const ph = i % period;
      const half = Math.trunc(period / 2);
      pcm[i] =
        ph < half
          ? Math.trunc((ph * 2 * 20000) / half) - 20000
          : 20000 - Math.trunc(((ph - half) * 2 * 20000) / (period - half));
    } else if (i < 24000) {
      const level = 1 + Math.trunc((i - 12000) / 1500);
      const v = (lcg(state) & 0xffff) - 32768;
      pcm[i] = Math.trunc((v * level) / 8);
    } else {
      const period = 2 + Math.trunc((i - 24000) / 1000) * 3;
      pcm[i] = Math.trunc(i / period) & 1 ? 32767 : -32768;
    }
  }
  return pcm;
}

/** The arbitrary bytes the reference decoded: LCG from seed 777, low byte of each draw. */
export function makeRandomPayload(): Uint8Array {
  const state = { seed: 777 };
  const bytes = new Uint8Array(VECTOR_SAMPLES / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = lcg(state) & 0xff;
  return bytes;
}
