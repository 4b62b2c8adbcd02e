/**
 * Whether a listener can be fed a source by relay (the packet path: each packet
 * forwarded as it arrives, its payload type mapped, transcoded only by an in-place table)
 * rather than from the room's mix. The packet path can do that when every audio codec the
 * source may send is one the listener negotiated (RFC 3264 §5.1: an endpoint accepts
 * every codec it listed) or one with a table into what the listener is sent
 * (`transcodeTable`). Anything else needs decoding and encoding: the mix.
 *
 * Telephone-events relay as they are only between legs whose events share a clock rate.
 *
 * Generic over PayloadMap: it iterates the payload kinds, it names no codec.
 */
import { KIND_NONE, KIND_TELEPHONE_EVENT, transcodeTable } from './payloadMap.js';
import type { PayloadMap } from './payloadMap.js';

export function canRelay(source: PayloadMap, listener: PayloadMap): boolean {
  // RFC 4733 events carry durations in their own clock: between legs whose
  // telephone-events tick at different rates (8000 vs 48000) they must be rescaled,
  // which the mix does (workerRoom.ts forwardEvent) and the packet path does not.
  const from = source.telephoneEventClockRate;
  const to = listener.telephoneEventClockRate;
  if (from > 0 && to > 0 && from !== to) return false;
  const kinds = source.payloadTypeOf.length;
  for (let kind = 0; kind < kinds; kind++) {
    if (kind === KIND_NONE || kind === KIND_TELEPHONE_EVENT) continue;
    if (source.payloadTypeOf[kind]! < 0) continue;
    if ((listener.payloadTypeOf[kind] ?? -1) >= 0) continue;
    if (transcodeTable(kind, listener.sendKind) !== null) continue;
    return false;
  }
  return true;
}
