/**
 * The mixer's arithmetic for one 20 ms frame (docs/architecture.md §6.4; as rtpengine's mix_buffer.c
 * sums wide and saturates, Janus's audiobridge does mix-minus). Two steps:
 *
 * planMix (on every route change; allocates): groups listeners by audible set. A
 * listener hearing no source is silent; one hearing exactly one source is flagged relay
 * (no mixing: the caller may forward that source's packets — or, when it cannot take
 * them as they are, feed it that source's decoded frame); the
 * rest share one mixed frame per distinct set, so listeners with identical sets cost one
 * mix and can share one encode.
 *
 * mixFrame (per frame; allocates nothing): sums 32-bit, clamps to int16 (saturates,
 * never wraps or truncates). Each set is computed the cheaper of two ways: directly as
 * the sum of its k sources (k adds per sample), or as the total of all N sources minus
 * the N − k it must not hear (N − k subtractions, plus the N adds of the total, paid
 * once for all sets that use it). Classic mix-minus — everyone hears all but themselves —
 * is the second way with one subtraction each. The plan picks the total only if it
 * lowers the sum over all sets, Σk vs N + Σ min(k, N − k); a 3-party barge (three sets
 * of 2 out of 3) ties, and ties go direct. A direct set copies its first frame, adds the
 * middle ones and adds the last one while clamping, so a pair (the common whisper or
 * barge case) is a single pass.
 *
 * Sources absent this frame (null: not sending, silence suppression, hold) add nothing.
 *
 * Gains: a listener may hear a source at a linear gain other than 1. A set with any such
 * term is "weighted": always computed directly, in floating point, each term times its
 * gain, rounded to the nearest integer (halves toward +∞, as Math.round) and clamped to
 * int16. Its gains are stored per set and read only for weighted sets, so the unity paths
 * above cost what they did. A listener hearing one source at a gain ≠ 1 is mixed, not
 * relayed (relay copies packets, it cannot scale them). Sets that differ only by gains
 * are distinct sets.
 */

export interface MixPlan {
  readonly sourceCount: number;
  readonly listenerCount: number;
  readonly frameSamples: number;
  /** Per listener: the source it hears when it hears exactly one (relay), else -1. */
  readonly relaySource: Int32Array;
  /** Per listener: its index into `outputs` when it hears two or more sources, else -1. */
  readonly mixSet: Int32Array;
  /** One mixed frame per distinct audible set, rewritten by every mixFrame call. */
  readonly outputs: readonly Int16Array[];
  /** Per set: how many of its sources had a frame in the last mixFrame call. */
  readonly audible: Int32Array;
  // The plan's working parts (read them in tests, never write them).
  /** Per set: computed as the total minus the excluded sources. */
  readonly fromTotal: readonly boolean[];
  /** Per set: the sources added (direct) or subtracted (fromTotal). */
  readonly terms: readonly Int32Array[];
  /** Per set: the gain of each term when the set is weighted (some gain ≠ 1), else null. */
  readonly gains: readonly (Float64Array | null)[];
  readonly usesTotal: boolean;
  readonly total: Int32Array;
  readonly accumulator: Int32Array;
  /** Accumulator of weighted sets. */
  readonly weighted: Float64Array;
}

/**
 * `hears[l]` lists the source indices listener l hears (duplicates ignored: the first
 * one counts); `gains[l]`, when given, the linear gain of each (parallel to hears[l];
 * undefined or missing: 1). Throws a RangeError for an index outside [0, sourceCount) or
 * a gain that is not a finite number > 0.
 */
export function planMix(
  hears: readonly (readonly number[])[],
  sourceCount: number,
  frameSamples = 160,
  gains?: readonly (readonly number[] | undefined)[],
): MixPlan {
  const relaySource = new Int32Array(hears.length).fill(-1);
  const mixSet = new Int32Array(hears.length).fill(-1);
  const sets: number[][] = [];
  const setGains: (number[] | null)[] = [];
  const setIndex = new Map<string, number>();
  hears.forEach((sources, listener) => {
    const gainOf = new Map<number, number>();
    sources.forEach((s, t) => {
      if (!Number.isInteger(s) || s < 0 || s >= sourceCount) {
        throw new RangeError(`listener ${listener} hears unknown source ${s}`);
      }
      const gain = gains?.[listener]?.[t] ?? 1;
      if (!Number.isFinite(gain) || gain <= 0) {
        throw new RangeError(`listener ${listener} hears source ${s} at gain ${gain}`);
      }
      if (!gainOf.has(s)) gainOf.set(s, gain);
    });
    const set = [...gainOf.keys()].sort((a, b) => a - b);
    const weighted = set.some((s) => gainOf.get(s) !== 1);
    if (set.length === 1 && !weighted) relaySource[listener] = set[0]!;
    if (set.length === 0 || (set.length === 1 && !weighted)) return;
    const key = weighted ? set.map((s) => `${s}*${gainOf.get(s)}`).join(',') : set.join(',');
    let index = setIndex.get(key);
    if (index === undefined) {
      index = sets.length;
      setIndex.set(key, index);
      sets.push(set);
      setGains.push(weighted ? set.map((s) => gainOf.get(s)!) : null);
    }
    mixSet[listener] = index;
  });

  const direct = sets.reduce((cost, set) => cost + set.length, 0);
  // Weighted sets are always direct (the total holds every source at unity).
  const viaTotal =
    sourceCount +
    sets.reduce(
      (cost, set, i) =>
        cost + (setGains[i] !== null ? set.length : Math.min(set.length, sourceCount - set.length)),
      0,
    );
  const usesTotal = viaTotal < direct;
  const fromTotal = sets.map(
    (set, i) => usesTotal && setGains[i] === null && sourceCount - set.length < set.length,
  );
  const terms = sets.map((set, i) => {
    if (!fromTotal[i]) return Int32Array.from(set);
    const excluded: number[] = [];
    for (let s = 0; s < sourceCount; s++) if (!set.includes(s)) excluded.push(s);
    return Int32Array.from(excluded);
  });
  // A plan with no set (every listener relayed or silent: an unmonitored call, a room
  // emptied at its close) mixes nothing: no frame-sized buffers for it.
  const samples = sets.length > 0 ? frameSamples : 0;
  return {
    sourceCount,
    listenerCount: hears.length,
    frameSamples,
    relaySource,
    mixSet,
    outputs: sets.map(() => new Int16Array(frameSamples)),
    audible: new Int32Array(sets.length),
    fromTotal,
    terms,
    gains: setGains.map((g) => (g === null ? null : Float64Array.from(g))),
    usesTotal,
    total: new Int32Array(usesTotal ? frameSamples : 0),
    accumulator: new Int32Array(samples),
    weighted: new Float64Array(setGains.some((g) => g !== null) ? frameSamples : 0),
  };
}

/**
 * Mixes one frame: `frames[s]` is source s's decoded frame (at least frameSamples
 * samples) or null when it sent nothing. Fills `plan.outputs` and `plan.audible` and
 * returns the number of sets mixed. Hot path: no allocation.
 */
export function mixFrame(
  plan: MixPlan,
  frames: readonly (Int16Array | null | undefined)[],
): number {
  const n = plan.frameSamples;
  const total = plan.total;
  const acc = plan.accumulator;
  let present = 0;
  for (let s = 0; s < plan.sourceCount; s++) {
    const f = frames[s];
    if (!f) continue;
    if (f.length < n) throw new RangeError(`source ${s} frame shorter than ${n} samples`);
    present++;
  }
  if (plan.usesTotal) {
    total.fill(0);
    for (let s = 0; s < plan.sourceCount; s++) {
      const f = frames[s];
      if (f) for (let i = 0; i < n; i++) total[i] = total[i]! + f[i]!;
    }
  }
  const sets = plan.outputs.length;
  for (let k = 0; k < sets; k++) {
    const terms = plan.terms[k]!;
    const out = plan.outputs[k]!;
    const gains = plan.gains[k]!;
    if (gains !== null) {
      plan.audible[k] = mixWeighted(terms, gains, frames, plan.weighted, out, n);
      continue;
    }
    if (plan.fromTotal[k]!) {
      let heard = present;
      acc.set(total);
      for (let t = 0; t < terms.length; t++) {
        const f = frames[terms[t]!];
        if (!f) continue;
        heard--;
        for (let i = 0; i < n; i++) acc[i] = acc[i]! - f[i]!;
      }
      clampInto(acc, out, n);
      plan.audible[k] = heard;
      continue;
    }
    // Direct: the first frame is copied, the middle ones added, the last one added while
    // clamping into the output — for the common pair (whisper, barge) a single pass.
    let heard = 0;
    let firstT = -1;
    let lastT = -1;
    for (let t = 0; t < terms.length; t++) {
      if (frames[terms[t]!]) {
        heard++;
        if (firstT < 0) firstT = t;
        lastT = t;
      }
    }
    plan.audible[k] = heard;
    if (heard === 0) {
      out.fill(0);
      continue;
    }
    const lastFrame = frames[terms[lastT]!]!;
    if (heard === 1) {
      for (let i = 0; i < n; i++) out[i] = lastFrame[i]!;
      continue;
    }
    const firstFrame = frames[terms[firstT]!]!;
    if (heard === 2) {
      for (let i = 0; i < n; i++) {
        const v = firstFrame[i]! + lastFrame[i]!;
        out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
      }
      continue;
    }
    for (let i = 0; i < n; i++) acc[i] = firstFrame[i]!;
    for (let t = firstT + 1; t < lastT; t++) {
      const f = frames[terms[t]!];
      if (f) for (let i = 0; i < n; i++) acc[i] = acc[i]! + f[i]!;
    }
    for (let i = 0; i < n; i++) {
      const v = acc[i]! + lastFrame[i]!;
      out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
    }
  }
  return sets;
}

/**
 * A weighted set: Σ gain × frame in floating point, rounded (Math.round) and clamped to
 * int16. Returns how many of its sources had a frame. Hot path: no allocation.
 */
function mixWeighted(
  terms: Int32Array,
  gains: Float64Array,
  frames: readonly (Int16Array | null | undefined)[],
  acc: Float64Array,
  out: Int16Array,
  n: number,
): number {
  let heard = 0;
  for (let i = 0; i < n; i++) acc[i] = 0;
  for (let t = 0; t < terms.length; t++) {
    const f = frames[terms[t]!];
    if (!f) continue;
    heard++;
    const g = gains[t]!;
    for (let i = 0; i < n; i++) acc[i] = acc[i]! + f[i]! * g;
  }
  for (let i = 0; i < n; i++) {
    const v = Math.round(acc[i]!);
    out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
  return heard;
}

/** Saturates 32-bit sums to int16 (never wraps: Int16Array assignment alone would). */
function clampInto(acc: Int32Array, out: Int16Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const v = acc[i]!;
    out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
}
