/**
 * A recorded call for recording tests: each party sends PCMU (20 ms) on a drift-free
 * schedule from the moment the test says, silence until its tone starts at a known time,
 * and a per-packet plan may drop or hold back (reorder) packets. The parties send from
 * another process (media/pacedPhones.ts), so their timing is a phone's, not this test
 * runner's. The recording is read back and judged by length and tone onsets.
 */
import { encodeUlawInto } from '../../../media/codecs/g711.js';
import { rtp } from '../../unit/media/rtpFixture.js';
import { Tone } from './fakePhone.js';
import type { ScheduledPacket } from './pacedPhones.js';

/** What happens to packet `i` (0-based) of a party's stream. */
export type PacketFate = 'send' | 'drop' | { holdFor: number };

const SILENCE = (() => {
  const out = Buffer.alloc(160);
  encodeUlawInto(new Int16Array(160), out);
  return out;
})();

/**
 * One party's stream as a schedule for media/pacedPhones.ts, sent from that process's
 * socket `socket`: `packets` PCMU frames due 20 ms apart (frame i at i × 20 ms), silence,
 * then the tone from `toneAtMs`. `fate` may drop a packet (lost in the network: its
 * sequence number and timestamp are skipped) or hold it back to go out right after packet
 * i + holdFor (reordered).
 */
export function partySchedule(
  socket: number,
  hz: number,
  toneAtMs: number,
  packets: number,
  fate?: (i: number) => PacketFate,
): ScheduledPacket[] {
  const tone = new Tone('PCMU', hz);
  const ssrc = 0x5eed0000 + socket;
  const out: ScheduledPacket[] = [];
  const held: { after: number; packet: Buffer }[] = [];
  for (let i = 0; i < packets; i++) {
    const payload = i * 20 >= toneAtMs ? tone.frame() : SILENCE;
    const packet = rtp({ pt: 0, marker: i === 0, seq: i, ts: i * 160, ssrc, payload });
    const what = fate?.(i) ?? 'send';
    if (what === 'send') out.push({ at: i * 20, socket, packet });
    else if (what !== 'drop') held.push({ after: i + what.holdFor, packet });
    for (let k = 0; k < held.length;) {
      if (held[k]!.after <= i)
        out.push({ at: i * 20, socket, packet: held.splice(k, 1)[0]!.packet });
      else k++;
    }
  }
  return out;
}

/** Position (s) of the first sample louder than `threshold` at or after `fromSec`, or -1. */
export function onsetSec(
  samples: Int16Array,
  sampleRate: number,
  threshold = 3000,
  fromSec = 0,
): number {
  for (let i = Math.floor(fromSec * sampleRate); i < samples.length; i++) {
    const v = samples[i]!;
    if (v > threshold || v < -threshold) return i / sampleRate;
  }
  return -1;
}

/** RMS of `samples` over [fromSec, toSec). */
export function rms(
  samples: Int16Array,
  sampleRate: number,
  fromSec: number,
  toSec: number,
): number {
  const a = Math.max(0, Math.floor(fromSec * sampleRate));
  const b = Math.min(samples.length, Math.floor(toSec * sampleRate));
  let sum = 0;
  for (let i = a; i < b; i++) sum += samples[i]! * samples[i]!;
  return b > a ? Math.sqrt(sum / (b - a)) : 0;
}
