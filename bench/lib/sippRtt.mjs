/**
 * SIPp's response times (`-trace_rtt`, rtt.csv: `date_ms;response_time_ms;rtd_no`, the
 * date counted from SIPp's start): the samples of one response-time definition, and
 * percentiles of them over a window of the run.
 */

/** [{ atMs, ms }] of response-time definition `rtd` ('1', '2', …), in file order. */
export function rttSamples(csv, rtd) {
  const out = [];
  for (const line of csv.split('\n').slice(1)) {
    const [date, ms, no] = line.split(';');
    if (no === rtd) out.push({ atMs: Number(date), ms: Number(ms) });
  }
  return out;
}

/** The p-th percentile (0-100) of ascending `sorted` (nearest rank below); NaN if empty. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** The p-th percentile of the samples that ended at or after `fromMs` of the run. */
export function percentileFrom(samples, fromMs, p) {
  const v = samples.filter((s) => s.atMs >= fromMs).map((s) => s.ms);
  v.sort((a, b) => a - b);
  return percentile(v, p);
}
