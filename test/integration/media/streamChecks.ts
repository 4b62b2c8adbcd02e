/**
 * What a phone received, judged like a phone's jitter buffer would: one SSRC, contiguous
 * sequence numbers, timestamps advancing with the media clock; and the audio decoded for
 * tone detection (test/helpers/goertzel.ts).
 */
import { alawDecode, ulawDecode } from '../../../media/codecs/g711.js';
import type { Law, RtpIn } from './fakePhone.js';

/** The sequence-number steps between consecutive packets (mod 2^16): all 1 when contiguous. */
export function seqSteps(packets: readonly RtpIn[]): number[] {
  return packets.slice(1).map((p, i) => (p.seq - packets[i]!.seq) & 0xffff);
}

/** The timestamp steps between consecutive packets (mod 2^32). */
export function tsSteps(packets: readonly RtpIn[]): number[] {
  return packets.slice(1).map((p, i) => (p.ts - packets[i]!.ts) >>> 0);
}

export function ssrcsOf(packets: readonly RtpIn[]): number[] {
  return [...new Set(packets.map((p) => p.ssrc))];
}

/** The payloads decoded to 16-bit PCM, back to back. */
export function decode(packets: readonly RtpIn[], law: Law): Int16Array {
  const samples = new Int16Array(packets.reduce((n, p) => n + p.payload.length, 0));
  const dec = law === 'PCMU' ? ulawDecode : alawDecode;
  let i = 0;
  for (const p of packets) for (const code of p.payload) samples[i++] = dec(code);
  return samples;
}

/** Indices where arrivals are more than `ms` apart (the pauses in a stream). */
export function pauses(packets: readonly RtpIn[], ms: number): number[] {
  const out: number[] = [];
  for (let i = 1; i < packets.length; i++)
    if (packets[i]!.at - packets[i - 1]!.at > ms) out.push(i);
  return out;
}

/**
 * The pauses of `packets` (as `pauses`) during which `reference`, a stream the same
 * test process receives from the same worker on another path, kept arriving: those are
 * the stream's own. Arrival times are taken by the receiving test process, so a moment
 * when it, or the whole machine, did not run shows as a pause in every stream it
 * receives; a stream that stopped on its own shows it alone.
 */
export function ownPauses(
  packets: readonly RtpIn[],
  reference: readonly RtpIn[],
  ms: number,
): Array<{ index: number; fromMs: number; toMs: number }> {
  const slack = 20; // one frame at either end: the two streams' packets interleave
  return pauses(packets, ms)
    .map((i) => ({ index: i, fromMs: packets[i - 1]!.at, toMs: packets[i]!.at }))
    .filter((p) => reference.some((r) => r.at > p.fromMs + slack && r.at < p.toMs - slack));
}
